//! The webhook inbox: every verified webhook is committed here before it is acknowledged, then
//! applied in order by the applier.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use super::ShopId;

/// A verified webhook about to be stored.
pub struct NewWebhook<'a> {
    pub dedupe_key: &'a str,
    pub topic: &'a str,
    pub webhook_id: Option<&'a str>,
    pub api_version: Option<&'a str>,
    pub triggered_at: Option<DateTime<Utc>>,
    pub body: &'a [u8],
}

/// Stores the webhook durably. Returns false when it is a duplicate (same dedupe key).
pub async fn insert(pool: &PgPool, shop: ShopId, hook: &NewWebhook<'_>) -> sqlx::Result<bool> {
    let id = sqlx::query_scalar!(
        "insert into webhook_inbox (shop_id, dedupe_key, topic, webhook_id, api_version, triggered_at, body)
         values ($1, $2, $3, $4, $5, $6, $7)
         on conflict (shop_id, dedupe_key) do nothing
         returning inbox_id",
        shop.0,
        hook.dedupe_key,
        hook.topic,
        hook.webhook_id,
        hook.api_version,
        hook.triggered_at,
        hook.body
    )
    .fetch_optional(pool)
    .await?;
    Ok(id.is_some())
}

/// An inbox row waiting to be written (by the webhook writer, or a backfill page at once).
pub struct PendingRow {
    pub shop: ShopId,
    pub dedupe_key: String,
    pub topic: String,
    pub webhook_id: Option<String>,
    pub api_version: Option<String>,
    pub triggered_at: Option<DateTime<Utc>>,
    pub body: Vec<u8>,
}

/// Inserts the rows in one statement; for each row, whether it was new. A key repeated within
/// the batch is new only the first time.
pub async fn insert_many(pool: &PgPool, rows: &[&PendingRow]) -> sqlx::Result<Vec<bool>> {
    let shops: Vec<i64> = rows.iter().map(|r| r.shop.0).collect();
    // Borrowed columns: no copy of the bodies on the ingest path.
    let keys: Vec<&str> = rows.iter().map(|r| r.dedupe_key.as_str()).collect();
    let topics: Vec<&str> = rows.iter().map(|r| r.topic.as_str()).collect();
    let webhook_ids: Vec<Option<&str>> = rows.iter().map(|r| r.webhook_id.as_deref()).collect();
    let versions: Vec<Option<&str>> = rows.iter().map(|r| r.api_version.as_deref()).collect();
    let triggered: Vec<Option<DateTime<Utc>>> = rows.iter().map(|r| r.triggered_at).collect();
    let bodies: Vec<&[u8]> = rows.iter().map(|r| r.body.as_slice()).collect();
    let inserted = sqlx::query!(
        r#"insert into webhook_inbox (shop_id, dedupe_key, topic, webhook_id, api_version, triggered_at, body)
           select * from unnest($1::int8[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::bytea[])
           on conflict (shop_id, dedupe_key) do nothing
           returning shop_id, dedupe_key"#,
        &shops,
        &keys as &[&str],
        &topics as &[&str],
        &webhook_ids as &[Option<&str>],
        &versions as &[Option<&str>],
        &triggered as &[Option<DateTime<Utc>>],
        &bodies as &[&[u8]]
    )
    .fetch_all(pool)
    .await?;
    let mut fresh: std::collections::HashSet<(i64, String)> = inserted
        .into_iter()
        .map(|r| (r.shop_id, r.dedupe_key))
        .collect();
    Ok(rows
        .iter()
        .map(|r| fresh.remove(&(r.shop.0, r.dedupe_key.clone())))
        .collect())
}

/// A stored webhook waiting to be applied.
pub struct PendingWebhook {
    pub shop_id: ShopId,
    pub inbox_id: i64,
    pub topic: String,
    pub body: Vec<u8>,
    pub triggered_at: Option<DateTime<Utc>>,
    pub received_at: DateTime<Utc>,
}

/// Locks up to `limit` pending webhooks, oldest first, skipping rows another applier holds.
pub async fn claim(conn: &mut PgConnection, limit: i64) -> sqlx::Result<Vec<PendingWebhook>> {
    let rows = sqlx::query!(
        r#"select shop_id, inbox_id, topic, coalesce(body, ''::bytea) as "body!", triggered_at, received_at
             from webhook_inbox
            where status = 'pending'
            order by inbox_id
            limit $1
              for update skip locked"#,
        limit
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| PendingWebhook {
            shop_id: ShopId(r.shop_id),
            inbox_id: r.inbox_id,
            topic: r.topic,
            body: r.body,
            triggered_at: r.triggered_at,
            received_at: r.received_at,
        })
        .collect())
}

/// How applying a webhook ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Applied,
    /// A topic shoprecs does not use; stored and ignored.
    Ignored,
    /// Correctly signed but unusable (e.g. malformed JSON); kept for diagnosis.
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::Ignored => "ignored",
            Self::Failed => "failed",
        }
    }
}

/// How one webhook of a batch ended.
#[derive(Debug, Clone)]
pub struct Finished {
    pub shop_id: ShopId,
    pub inbox_id: i64,
    pub topic: String,
    pub outcome: Outcome,
    pub error: Option<String>,
}

/// Records the outcomes of a batch. Applied and ignored webhooks drop their body: it carries
/// personal data we do not keep. Failed ones keep it (for a limited time) so the error can be
/// diagnosed.
pub async fn finish_many(conn: &mut PgConnection, finished: &[Finished]) -> sqlx::Result<()> {
    if finished.is_empty() {
        return Ok(());
    }
    let shops: Vec<i64> = finished.iter().map(|f| f.shop_id.0).collect();
    let ids: Vec<i64> = finished.iter().map(|f| f.inbox_id).collect();
    let statuses: Vec<String> = finished
        .iter()
        .map(|f| f.outcome.as_str().to_owned())
        .collect();
    let errors: Vec<Option<String>> = finished.iter().map(|f| f.error.clone()).collect();
    sqlx::query!(
        "update webhook_inbox w
            set status = v.status, applied_at = now(), error = v.error,
                body = case when v.status = 'failed' then w.body end
           from unnest($1::int8[], $2::int8[], $3::text[], $4::text[]) as v(shop_id, inbox_id, status, error)
          where w.shop_id = v.shop_id and w.inbox_id = v.inbox_id",
        &shops,
        &ids,
        &statuses,
        &errors as &[Option<String>]
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Drops the bodies of failed webhooks older than the retention period.
pub async fn purge_failed_bodies(pool: &PgPool, retention_days: i64) -> sqlx::Result<u64> {
    let done = sqlx::query!(
        "update webhook_inbox set body = null
          where status = 'failed' and body is not null
            and received_at < now() - make_interval(days => $1::int)",
        retention_days as i32
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

/// Number of webhooks not yet applied (all shops: an operator metric).
pub async fn backlog(pool: &PgPool) -> sqlx::Result<i64> {
    sqlx::query_scalar!(r#"select count(*) as "n!" from webhook_inbox where status = 'pending'"#)
        .fetch_one(pool)
        .await
}
