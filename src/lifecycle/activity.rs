//! Logged-in shoppers' storefront events raise their browsing activity (engagement) and make
//! first-time visitors known as prospects.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::segments::{activity_weight, decay_activity};
use crate::store::events::BrowseEventRow;
use crate::store::{privacy, segments, ShopId};

/// Adds the events' weights to their customers' activity (redacted customers are skipped).
pub async fn record_browsing(
    pool: &PgPool,
    shop: ShopId,
    events: &[BrowseEventRow],
    half_life_days: f64,
) -> sqlx::Result<()> {
    let mut per_customer: BTreeMap<i64, Vec<(f64, DateTime<Utc>)>> = BTreeMap::new();
    for e in events {
        let (Some(customer), w) = (e.customer_id, activity_weight(&e.name)) else {
            continue;
        };
        if w > 0.0 {
            per_customer
                .entry(customer)
                .or_default()
                .push((w, e.occurred_at));
        }
    }
    if per_customer.is_empty() {
        return Ok(());
    }
    let mut conn = pool.acquire().await?;
    let ids: Vec<i64> = per_customer.keys().copied().collect();
    let redacted = privacy::redacted_among(&mut conn, shop, &ids).await?;
    let items: Vec<(i64, f64, DateTime<Utc>)> = per_customer
        .into_iter()
        .filter(|(id, _)| !redacted.contains(id))
        .filter_map(|(id, events)| {
            let at = events.iter().map(|(_, t)| *t).max()?;
            let sum = events
                .iter()
                .map(|(w, t)| decay_activity(*w, *t, at, half_life_days))
                .sum();
            Some((id, sum, at))
        })
        .collect();
    segments::record_activity(&mut conn, shop, &items, half_life_days).await
}
