//! Outgoing events: each shop's endpoints, its outbox rows, and the delivery worker's queue.
//!
//! Endpoint and listing functions take the `ShopId`. The worker's queue functions
//! (`claim_due`, `next_due`, `backlog`) span shops like the webhook inbox does: they serve one
//! queue; marking a row done is again per shop.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::ShopId;

/// An endpoint that receives a shop's events.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct EndpointRow {
    pub endpoint_id: i64,
    pub url: String,
    /// Topics it receives; empty = every topic.
    pub topics: Vec<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

/// Adds an endpoint, or updates the topics of the shop's endpoint with this URL (and
/// reactivates it).
pub async fn add_endpoint(
    pool: &PgPool,
    shop: ShopId,
    url: &str,
    topics: &[String],
) -> sqlx::Result<EndpointRow> {
    sqlx::query_as!(
        EndpointRow,
        "insert into event_endpoint (shop_id, url, topics) values ($1, $2, $3)
         on conflict (shop_id, url) do update set topics = excluded.topics, active = true
         returning endpoint_id, url, topics, active, created_at",
        shop.0,
        url,
        topics
    )
    .fetch_one(pool)
    .await
}

/// The shop's endpoints, oldest first.
pub async fn list_endpoints(pool: &PgPool, shop: ShopId) -> sqlx::Result<Vec<EndpointRow>> {
    sqlx::query_as!(
        EndpointRow,
        "select endpoint_id, url, topics, active, created_at
           from event_endpoint where shop_id = $1 order by endpoint_id",
        shop.0
    )
    .fetch_all(pool)
    .await
}

/// Removes an endpoint and its undelivered events; false when the shop has no such endpoint.
pub async fn remove_endpoint(pool: &PgPool, shop: ShopId, endpoint_id: i64) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "delete from event_endpoint where shop_id = $1 and endpoint_id = $2",
        shop.0,
        endpoint_id
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// The delivery state of an outbox row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum EventStatus {
    /// Not delivered yet; will be tried (again).
    Pending,
    Delivered,
    /// Given up after the configured number of attempts.
    Dead,
}

impl EventStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Dead => "dead",
        }
    }
}

/// One event for one endpoint, as the API lists it (never its payload).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct EventRow {
    /// The row's id (seek pagination key).
    pub outbox_id: i64,
    /// The event's id: the same for every endpoint and every attempt (receivers dedupe on it).
    pub event_id: Uuid,
    pub endpoint_id: i64,
    pub topic: String,
    /// `pending`, `delivered` or `dead`.
    pub status: String,
    pub attempts: i32,
    /// Why the last attempt failed (an HTTP status or an error kind).
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub next_attempt_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// The shop's events, newest first, optionally of one status, before the given row id.
pub async fn list_events(
    pool: &PgPool,
    shop: ShopId,
    status: Option<EventStatus>,
    before: Option<i64>,
    limit: i64,
) -> sqlx::Result<Vec<EventRow>> {
    sqlx::query_as!(
        EventRow,
        r#"select outbox_id, event_id, endpoint_id, topic, status as "status!", attempts,
                  last_error, created_at, next_attempt_at, delivered_at
             from (select *, case when delivered_at is not null then 'delivered'
                                  when dead then 'dead' else 'pending' end as status
                     from event_outbox where shop_id = $1) o
            where ($2::text is null or status = $2) and ($3::bigint is null or outbox_id < $3)
            order by outbox_id desc
            limit $4"#,
        shop.0,
        status.map(EventStatus::as_str),
        before,
        limit
    )
    .fetch_all(pool)
    .await
}

/// An event the worker holds (leased) and is about to post.
#[derive(Debug, Clone)]
pub struct DueEvent {
    pub shop_id: ShopId,
    pub outbox_id: i64,
    pub event_id: Uuid,
    pub endpoint_id: i64,
    pub topic: String,
    pub payload: serde_json::Value,
    /// Attempts made before this one.
    pub attempts: i32,
    pub url: String,
    pub shop_domain: String,
}

/// Leases up to `limit` due events (undelivered, not dead, due by `now`, not leased by a live
/// worker) until `lease_until`, earliest due first, skipping rows another worker is claiming.
/// One statement: no transaction stays open while the events are posted, and a worker that dies
/// mid-post leaves rows that fall due again when the lease ends.
pub async fn claim_due(
    pool: &PgPool,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Vec<DueEvent>> {
    let rows = sqlx::query!(
        r#"with due as (
             select o.shop_id, o.outbox_id
               from event_outbox o
               join event_endpoint e on e.shop_id = o.shop_id and e.endpoint_id = o.endpoint_id
              where o.delivered_at is null and not o.dead and o.next_attempt_at <= $1
                and (o.leased_until is null or o.leased_until < $1) and e.active
              order by o.next_attempt_at
              limit $3
                for update of o skip locked
           )
           update event_outbox o set leased_until = $2
             from due, event_endpoint e, shop s
            where o.shop_id = due.shop_id and o.outbox_id = due.outbox_id
              and e.shop_id = o.shop_id and e.endpoint_id = o.endpoint_id and s.shop_id = o.shop_id
           returning o.shop_id as "shop_id!", o.outbox_id as "outbox_id!", o.event_id as "event_id!",
                     o.endpoint_id as "endpoint_id!", o.topic as "topic!", o.payload as "payload!", o.attempts as "attempts!",
                     e.url as "url!", s.domain as "domain!""#,
        now,
        lease_until,
        limit
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| DueEvent {
            shop_id: ShopId(r.shop_id),
            outbox_id: r.outbox_id,
            event_id: r.event_id,
            endpoint_id: r.endpoint_id,
            topic: r.topic,
            payload: r.payload,
            attempts: r.attempts,
            url: r.url,
            shop_domain: r.domain,
        })
        .collect())
}

/// Records a successful delivery.
pub async fn mark_delivered(
    pool: &PgPool,
    shop: ShopId,
    outbox_id: i64,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update event_outbox
            set attempts = attempts + 1, delivered_at = $3, leased_until = null, last_error = null
          where shop_id = $1 and outbox_id = $2",
        shop.0,
        outbox_id,
        now
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Records a failed attempt: retried at `retry_at`, or dead once `max_attempts` are spent.
/// Returns whether the event is now dead.
pub async fn mark_failed(
    pool: &PgPool,
    shop: ShopId,
    outbox_id: i64,
    error: &str,
    retry_at: DateTime<Utc>,
    max_attempts: i32,
) -> sqlx::Result<bool> {
    let dead = sqlx::query_scalar!(
        "update event_outbox
            set attempts = attempts + 1, last_error = $3, next_attempt_at = $4,
                leased_until = null, dead = attempts + 1 >= $5
          where shop_id = $1 and outbox_id = $2
          returning dead",
        shop.0,
        outbox_id,
        error,
        retry_at,
        max_attempts
    )
    .fetch_optional(pool)
    .await?;
    Ok(dead.unwrap_or(false))
}

/// When the next deliverable event falls due (its retry time, or the end of its lease).
pub async fn next_due(pool: &PgPool) -> sqlx::Result<Option<DateTime<Utc>>> {
    sqlx::query_scalar!(
        "select min(greatest(o.next_attempt_at, coalesce(o.leased_until, o.next_attempt_at)))
           from event_outbox o
           join event_endpoint e on e.shop_id = o.shop_id and e.endpoint_id = o.endpoint_id
          where o.delivered_at is null and not o.dead and e.active"
    )
    .fetch_one(pool)
    .await
}

/// Events waiting for delivery, over every shop (the metrics gauge).
pub async fn backlog(pool: &PgPool) -> sqlx::Result<i64> {
    let n = sqlx::query_scalar!(
        r#"select count(*) as "n!" from event_outbox where delivered_at is null and not dead"#
    )
    .fetch_one(pool)
    .await?;
    Ok(n)
}
