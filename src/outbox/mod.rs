//! Outgoing events for e-mail and SMS flows, through a durable outbox in Postgres.
//!
//! Whatever reports a change (a segment change, an abandoned or recovered checkout) calls
//! [`enqueue`] inside the transaction that makes the change, so the event exists exactly when
//! the change does. Delivery happens later, with retries, from the outbox.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::store::ShopId;

mod backoff;
pub mod deliver;
pub mod endpoint;
pub mod sign;

pub use deliver::DeliveryHandle;

/// Topics of outgoing events.
pub mod topic {
    pub const SEGMENT_CHANGED: &str = "customer.segment_changed";
    pub const CHECKOUT_ABANDONED: &str = "checkout.abandoned";
    pub const CHECKOUT_RECOVERED: &str = "checkout.recovered";
    pub const TEST: &str = "shoprecs.test";
}

/// One event to send: its topic, when it happened and its data.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub topic: &'static str,
    pub occurred_at: DateTime<Utc>,
    pub data: serde_json::Value,
}

/// Writes the event to the outbox once for every active endpoint of the shop that wants its
/// topic. Returns the event id (the same for every endpoint), or `None` when no endpoint wants
/// it. Call it in the transaction that makes the change the event reports.
pub async fn enqueue(
    conn: &mut PgConnection,
    shop: ShopId,
    event: &NewEvent,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<Uuid>> {
    let event_id = Uuid::new_v4();
    let rows = sqlx::query_scalar!(
        "insert into event_outbox (shop_id, event_id, endpoint_id, topic, payload, created_at,
                                   next_attempt_at)
         select e.shop_id, $2, e.endpoint_id, $3,
                jsonb_build_object('id', $2::uuid, 'topic', $3::text, 'shop', s.domain,
                                   'occurred_at', $4::timestamptz, 'data', $5::jsonb),
                $6, $6
           from event_endpoint e join shop s using (shop_id)
          where e.shop_id = $1 and e.active and (cardinality(e.topics) = 0 or $3 = any(e.topics))
         returning outbox_id",
        shop.0,
        event_id,
        event.topic,
        event.occurred_at,
        event.data,
        now
    )
    .fetch_all(conn)
    .await?;
    Ok((!rows.is_empty()).then_some(event_id))
}

/// Enqueues a `shoprecs.test` event for every endpoint of the shop that takes it ("send test
/// event"), in its own transaction. Returns its id, or `None` when no endpoint takes it. Wake
/// the worker afterwards (`AppInner::outbox`) when running in the server.
pub async fn send_test(
    pool: &sqlx::PgPool,
    shop: ShopId,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<Uuid>> {
    let mut tx = pool.begin().await?;
    let event = NewEvent {
        topic: topic::TEST,
        occurred_at: now,
        data: serde_json::json!({ "message": "A test event from shoprecs." }),
    };
    let id = enqueue(&mut tx, shop, &event, now).await?;
    tx.commit().await?;
    Ok(id)
}
