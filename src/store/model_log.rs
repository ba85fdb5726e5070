//! The model log (`model_log`): what each server changed in the in-memory models, read by the
//! others (`recs::follow`). Sequence numbers are taken at insert and rows become visible at
//! commit, so a row can appear after a higher one; readers settle a sequence number only once
//! every transaction that was running when they saw it has ended (snapshot `xmin`/`xmax`).

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// Notified (with no payload) when a row that wants prompt reading commits.
pub const CHANNEL: &str = "shoprecs_model_log";

/// Writes a row in the caller's transaction (`conn` must be inside one). The transaction's id
/// is taken before the row's sequence number, which is what lets readers settle exactly.
pub async fn append(
    conn: &mut PgConnection,
    origin: Uuid,
    change: &serde_json::Value,
    notify: bool,
) -> sqlx::Result<()> {
    sqlx::query!("select pg_current_xact_id()::text")
        .fetch_one(&mut *conn)
        .await?;
    sqlx::query!(
        "insert into model_log (origin, change) values ($1, $2)",
        origin,
        change
    )
    .execute(&mut *conn)
    .await?;
    if notify {
        sqlx::query!("select pg_notify($1, '')", CHANNEL)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// A visible row (ids only).
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub seq: i64,
    pub origin: Uuid,
}

/// What one read saw: the rows, and the snapshot it saw them in.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Read {
    pub entries: Vec<Entry>,
    /// The oldest transaction still running at the read.
    pub xmin: i64,
    /// The first transaction id not yet assigned at the read.
    pub xmax: i64,
}

/// Every visible row after `after`, in order, with the snapshot of the read.
pub async fn after(pool: &PgPool, after: i64) -> sqlx::Result<Read> {
    let rows = sqlx::query!(
        r#"select s.xmin as "xmin!", s.xmax as "xmax!", l.seq as "seq?", l.origin as "origin?"
             from (select pg_snapshot_xmin(pg_current_snapshot())::text::int8 as xmin,
                          pg_snapshot_xmax(pg_current_snapshot())::text::int8 as xmax) s
             left join model_log l on l.seq > $1
            order by l.seq"#,
        after
    )
    .fetch_all(pool)
    .await?;
    let (xmin, xmax) = rows.first().map_or((0, 0), |r| (r.xmin, r.xmax));
    Ok(Read {
        entries: rows
            .into_iter()
            .filter_map(|r| {
                Some(Entry {
                    seq: r.seq?,
                    origin: r.origin?,
                })
            })
            .collect(),
        xmin,
        xmax,
    })
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
