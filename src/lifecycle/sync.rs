//! Bringing customers' segments up to date: the changes since their stored segment, dated
//! when they happened, their history, and an outgoing event for each recent change.

use chrono::{DateTime, Duration, Utc};
use sqlx::{PgConnection, PgPool};

use super::{engagement_of, facts_of, lock_shop, LifecycleConfig};
use crate::outbox::{self, topic, NewEvent};
use crate::segments::{score, transitions, Policy, Segment};
use crate::store::segments::{self, Change, CustomerFacts, SegmentUpdate};
use crate::store::ShopId;

/// What a sync or sweep changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SyncStats {
    pub customers: usize,
    pub changed: usize,
    pub events: usize,
}

const PAGE: i64 = 5_000;

/// Updates these customers (after their orders changed).
pub async fn sync_customers(
    pool: &PgPool,
    shop: ShopId,
    ids: &[i64],
    config: &LifecycleConfig,
    now: DateTime<Utc>,
) -> sqlx::Result<SyncStats> {
    if ids.is_empty() {
        return Ok(SyncStats::default());
    }
    let mut tx = pool.begin().await?;
    lock_shop(&mut tx, shop).await?;
    let policy = super::current_policy(&mut tx, shop, config, now, false).await?;
    let rows = segments::facts(&mut tx, shop, Some(ids), i64::MIN, ids.len() as i64).await?;
    let stats = reconcile(&mut tx, shop, &rows, &policy, config, now).await?;
    tx.commit().await?;
    Ok(stats)
}

/// Updates every customer of the shop (thresholds pass with time), a page per transaction,
/// with the shop's values learned afresh.
pub async fn sweep_shop(
    pool: &PgPool,
    shop: ShopId,
    config: &LifecycleConfig,
    now: DateTime<Utc>,
) -> sqlx::Result<SyncStats> {
    // The sweep learns the shop's values afresh (per-order syncs reuse them in between), so
    // thresholds learned from a shop's first few orders do not linger.
    let policy = {
        let mut tx = pool.begin().await?;
        lock_shop(&mut tx, shop).await?;
        let policy = super::current_policy(&mut tx, shop, config, now, true).await?;
        tx.commit().await?;
        policy
    };
    let mut total = SyncStats::default();
    let mut after = i64::MIN;
    loop {
        let mut tx = pool.begin().await?;
        lock_shop(&mut tx, shop).await?;
        let rows = segments::facts(&mut tx, shop, None, after, PAGE).await?;
        let Some(last) = rows.last().map(|r| r.customer_id) else {
            tx.commit().await?;
            return Ok(total);
        };
        let stats = reconcile(&mut tx, shop, &rows, &policy, config, now).await?;
        tx.commit().await?;
        total.customers += stats.customers;
        total.changed += stats.changed;
        total.events += stats.events;
        after = last;
    }
}

async fn reconcile(
    conn: &mut PgConnection,
    shop: ShopId,
    rows: &[CustomerFacts],
    policy: &Policy,
    config: &LifecycleConfig,
    now: DateTime<Utc>,
) -> sqlx::Result<SyncStats> {
    let mut updates = Vec::new();
    let mut events = Vec::new();
    let recent = now - Duration::hours(config.notify_within_hours.max(0));
    for row in rows {
        let facts = facts_of(row);
        let stored_segment = row.segment.as_deref().and_then(Segment::parse);
        let stored = stored_segment.zip(row.segment_since);
        let vip = facts.orders > 0 && policy.is_vip(row.total_spent);
        let steps = transitions(stored, &facts, policy, now);
        if steps.is_empty() && vip == row.vip {
            continue;
        }
        let mut changes: Vec<Change> = steps.iter().map(|t| Change::of(t, vip)).collect();
        let (segment, since) = match (steps.last(), stored) {
            (Some(t), _) => (t.to, t.at),
            (None, Some(s)) => s,
            (None, None) => continue,
        };
        if steps.is_empty() {
            // Only the VIP flag moved.
            changes.push(Change {
                from: Some(segment.to_string()),
                to: segment.to_string(),
                vip,
                at: now,
            });
        }
        let changed_at = changes.last().map_or(now, |c| c.at);
        if changed_at >= recent {
            let engagement = score(
                &engagement_of(row),
                &config.weights,
                policy.median_spent,
                now,
            );
            events.push(NewEvent {
                topic: topic::SEGMENT_CHANGED,
                occurred_at: changed_at,
                data: serde_json::json!({
                    "customer_id": row.customer_id,
                    "customer_gid": format!("gid://shopify/Customer/{}", row.customer_id),
                    "from": stored_segment,
                    "to": segment,
                    "vip": vip,
                    "vip_changed": vip != row.vip,
                    "changed_at": changed_at,
                    "engagement_score": engagement,
                    "orders_count": row.orders_count,
                    "last_order_at": row.last_order_at,
                    "accepts_email_marketing": row.accepts_email_marketing,
                    "accepts_sms_marketing": row.accepts_sms_marketing,
                }),
            });
        }
        updates.push(SegmentUpdate {
            customer_id: row.customer_id,
            segment: segment.to_string(),
            since,
            vip,
            changes,
        });
    }
    segments::apply_updates(conn, shop, &updates).await?;
    let mut sent = 0;
    for event in &events {
        if outbox::enqueue(conn, shop, event, now).await?.is_some() {
            sent += 1;
        }
    }
    Ok(SyncStats {
        customers: rows.len(),
        changed: updates.len(),
        events: sent,
    })
}
