//! Who drives a job: with several servers on one database (replicas), each sees every
//! unfinished job, but Shopify runs one bulk query per shop at a time, so only the holder of the
//! job's lease runs it. The lease is a session-level advisory lock held by one connection for as
//! long as the job is driven: a crashed server's lease ends with its connection, and another
//! server picks the job up on its next scan.

use sqlx::pool::PoolConnection;
use sqlx::{PgPool, Postgres};

/// The advisory-lock class of backfill jobs (lifecycle sweeps use 7461).
const CLASS: i32 = 7462;

pub struct Lease {
    conn: Option<PoolConnection<Postgres>>,
    job_id: i64,
}

impl Lease {
    /// The job's lease, or `None` when another server holds it.
    pub async fn take(pool: &PgPool, job_id: i64) -> sqlx::Result<Option<Self>> {
        let mut conn = pool.acquire().await?;
        let got = sqlx::query_scalar!(
            r#"select pg_try_advisory_lock($1::int4, ($2::int8 % 2147483647)::int4) as "got!""#,
            CLASS,
            job_id
        )
        .fetch_one(&mut *conn)
        .await?;
        Ok(got.then_some(Self {
            conn: Some(conn),
            job_id,
        }))
    }

    /// Gives the lease up, so another server may drive the job at once.
    pub async fn release(mut self) {
        let Some(mut conn) = self.conn.take() else {
            return;
        };
        let unlocked = sqlx::query_scalar!(
            r#"select pg_advisory_unlock($1::int4, ($2::int8 % 2147483647)::int4) as "unlocked!""#,
            CLASS,
            self.job_id
        )
        .fetch_one(&mut *conn)
        .await;
        if !matches!(unlocked, Ok(true)) {
            // Never hand the pool a connection that may still hold the lock.
            let _ = conn.close().await;
        }
    }
}

impl Drop for Lease {
    /// Dropped without `release` (the task was cancelled): closing the connection ends the
    /// lock; returned to the pool, the connection would keep it.
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            drop(conn.detach());
        }
    }
}
