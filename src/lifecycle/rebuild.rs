//! Rebuilding a shop's segment history and engagement series from its orders (after an
//! import or a backfill): every change dated when it happened, and a score per customer for
//! each of the last days as it was that day.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sqlx::PgPool;

use super::{engagement_of, known_since, lock_shop, LifecycleConfig};
use crate::segments::{history_from_orders, score, EngagementInputs, Segment, Transition};
use crate::store::segments::{self, Change, SegmentUpdate};
use crate::store::ShopId;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RebuildStats {
    pub customers: usize,
    pub changes: usize,
    pub days: usize,
}

/// Replaces the shop's segment history with the one its orders imply, and the engagement
/// snapshots of the last `days` days. Sends no events: this is the past.
pub async fn rebuild_history(
    pool: &PgPool,
    shop: ShopId,
    config: &LifecycleConfig,
    now: DateTime<Utc>,
    days: i64,
) -> sqlx::Result<RebuildStats> {
    let mut tx = pool.begin().await?;
    lock_shop(&mut tx, shop).await?;
    let policy = super::current_policy(&mut tx, shop, config, now, true).await?;
    let mut orders: BTreeMap<i64, Vec<(DateTime<Utc>, f64)>> = BTreeMap::new();
    for (customer, at, amount) in segments::order_times(&mut tx, shop).await? {
        orders.entry(customer).or_default().push((at, amount));
    }
    let customers = segments::facts(&mut tx, shop, None, i64::MIN, i64::MAX).await?;
    segments::clear_history(&mut tx, shop).await?;
    let mut histories: Vec<(usize, Vec<Transition>)> = Vec::with_capacity(customers.len());
    let mut updates = Vec::with_capacity(customers.len());
    let mut changes = 0;
    for (i, c) in customers.iter().enumerate() {
        let times: Vec<DateTime<Utc>> = orders
            .get(&c.customer_id)
            .map(|o| o.iter().map(|(t, _)| *t).collect())
            .unwrap_or_default();
        let history = history_from_orders(&times, known_since(c), &policy, now);
        let Some(last) = history.last() else {
            continue;
        };
        let vip = !times.is_empty() && policy.is_vip(c.total_spent);
        changes += history.len();
        updates.push(SegmentUpdate {
            customer_id: c.customer_id,
            segment: last.to.to_string(),
            since: last.at,
            vip,
            changes: history.iter().map(|t| Change::of(t, vip)).collect(),
        });
        histories.push((i, history));
    }
    for chunk in updates.chunks(5_000) {
        segments::apply_updates(&mut tx, shop, chunk).await?;
    }
    tx.commit().await?;

    let today = now.date_naive();
    let days = days.max(0);
    for back in (0..days).rev() {
        let day = today - Duration::days(back);
        let end = if back == 0 { now } else { end_of(day) };
        let mut tx = pool.begin().await?;
        let (mut ids, mut scores, mut names) = (Vec::new(), Vec::new(), Vec::new());
        let mut groups: BTreeMap<String, (Vec<f64>, i32)> = BTreeMap::new();
        for (i, history) in &histories {
            let c = &customers[*i];
            let Some(segment) = segment_on(history, end) else {
                continue;
            };
            let inputs = if back == 0 {
                engagement_of(c)
            } else {
                let past: Vec<&(DateTime<Utc>, f64)> = orders
                    .get(&c.customer_id)
                    .map(|o| o.iter().filter(|(t, _)| *t <= end).collect())
                    .unwrap_or_default();
                EngagementInputs {
                    orders: past.len() as u32,
                    last_order_at: past.iter().map(|(t, _)| *t).max(),
                    net_spent: past.iter().map(|(_, a)| *a).sum(),
                    activity: 0.0,
                    activity_at: None,
                }
            };
            let value = score(&inputs, &config.weights, policy.median_spent, end);
            let group = groups.entry(segment.to_string()).or_default();
            group.0.push(value);
            // VIP that day: spent, by then, at least what makes a VIP now.
            group.1 += i32::from(inputs.orders > 0 && policy.is_vip(inputs.net_spent));
            ids.push(c.customer_id);
            scores.push(value as f32);
            names.push(segment.to_string());
        }
        segments::write_snapshot(&mut tx, shop, day, &ids, &scores, &names).await?;
        let daily = super::snapshot::daily_rows(day, groups);
        segments::write_daily(&mut tx, shop, &daily).await?;
        tx.commit().await?;
    }
    Ok(RebuildStats {
        customers: updates.len(),
        changes,
        days: days as usize,
    })
}

fn end_of(day: NaiveDate) -> DateTime<Utc> {
    (day + Duration::days(1))
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc() - Duration::seconds(1))
        .unwrap_or_default()
}

/// The segment at `t` by a history (none before the customer was known).
fn segment_on(history: &[Transition], t: DateTime<Utc>) -> Option<Segment> {
    history.iter().rev().find(|h| h.at <= t).map(|h| h.to)
}
