//! The model log (`model_log`): what each server changed in the in-memory models, read by the
//! others (`recs::follow`). Sequence numbers are taken at insert and rows become visible at
//! commit, so a row can appear after a higher one: readers re-read the last
//! `SETTLE_SECS` of rows and only then consider a sequence number settled.

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// Rows written longer ago than this are assumed committed or rolled back (the transactions
/// that write them commit right after the insert).
pub const SETTLE_SECS: f64 = 10.0;

/// Notified (with no payload) when a row commits.
pub const CHANNEL: &str = "shoprecs_model_log";

pub async fn append(
    conn: &mut PgConnection,
    origin: Uuid,
    change: &serde_json::Value,
) -> sqlx::Result<()> {
    // One statement, so a caller outside a transaction commits once.
    sqlx::query!(
        "with written as (insert into model_log (origin, change) values ($1, $2) returning seq)
         select pg_notify($3, '') from written",
        origin,
        change,
        CHANNEL
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A row after the reader's settled mark.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub seq: i64,
    pub origin: Uuid,
    /// Written more than `SETTLE_SECS` ago.
    pub settled: bool,
}

/// Every visible row after `after`, in order (ids only).
pub async fn after(pool: &PgPool, after: i64) -> sqlx::Result<Vec<Entry>> {
    let rows = sqlx::query!(
        r#"select seq, origin,
                  written_at < clock_timestamp() - make_interval(secs => $2) as "settled!"
             from model_log where seq > $1 order by seq"#,
        after,
        SETTLE_SECS
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Entry {
            seq: r.seq,
            origin: r.origin,
            settled: r.settled,
        })
        .collect())
}

/// The changes of these rows.
pub async fn changes(pool: &PgPool, seqs: &[i64]) -> sqlx::Result<Vec<(i64, serde_json::Value)>> {
    let rows = sqlx::query!(
        "select seq, change from model_log where seq = any($1) order by seq",
        seqs
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.seq, r.change)).collect())
}

/// The highest settled sequence number (0 for an empty log): where a server that has just
/// built its models from the tables starts reading.
pub async fn settled_head(pool: &PgPool) -> sqlx::Result<i64> {
    let head = sqlx::query_scalar!(
        r#"select coalesce(max(seq), 0) as "head!" from model_log
            where written_at < clock_timestamp() - make_interval(secs => $1)"#,
        SETTLE_SECS
    )
    .fetch_one(pool)
    .await?;
    Ok(head)
}

/// Deletes rows older than `minutes`.
pub async fn prune(pool: &PgPool, minutes: i64) -> sqlx::Result<u64> {
    let done = sqlx::query!(
        "delete from model_log where written_at < now() - make_interval(mins => $1)",
        minutes as i32
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}
