//! Who drives a job: with several servers on one database (replicas), each sees every
//! unfinished job, but Shopify runs one bulk query per shop at a time, so only the holder of the
//! job's lease runs it. The lease is a session-level advisory lock, tried on a pooled connection
//! (a server without the lease gives it straight back) and held on that connection taken out of
//! the pool (a long backfill would otherwise keep one of the pool's for hours), for as long as
//! the job is driven: a crashed server's lease ends with its connection, and another server
//! picks the job up on its next scan.

use sqlx::{Connection, PgConnection, PgPool};

/// The advisory-lock class of backfill jobs (lifecycle sweeps use 7461).
const CLASS: i32 = 7462;

/// Dropping it closes the connection, which ends the lock.
pub struct Lease(PgConnection);

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
        Ok(got.then(|| Self(conn.detach())))
    }

    /// Gives the lease up, so another server may drive the job at once.
    pub async fn release(self) {
        let _ = self.0.close().await;
    }
}
