//! The daily engagement snapshot: every customer's score and segment for the day, and the
//! shop's summary per segment.

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgPool;

use super::{engagement_of, facts_of, LifecycleConfig};
use crate::segments::{score, segment_at, summarise};
use crate::store::segments::{self, DailyRow};
use crate::store::ShopId;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SnapshotStats {
    pub customers: usize,
    pub elapsed_ms: u128,
}

const PAGE: i64 = 20_000;

/// Scores every customer at `now` and stores them as the snapshot of `day` (replacing one
/// taken earlier that day), in one transaction.
pub async fn snapshot_day(
    pool: &PgPool,
    shop: ShopId,
    day: NaiveDate,
    config: &LifecycleConfig,
    now: DateTime<Utc>,
) -> sqlx::Result<SnapshotStats> {
    let started = Instant::now();
    let mut tx = pool.begin().await?;
    let policy = super::current_policy(&mut tx, shop, config, now, false).await?;
    let mut groups: BTreeMap<String, (Vec<f64>, i32)> = BTreeMap::new();
    let mut after = i64::MIN;
    let mut customers = 0;
    loop {
        let rows = segments::facts(&mut tx, shop, None, after, PAGE).await?;
        let Some(last) = rows.last().map(|r| r.customer_id) else {
            break;
        };
        let mut ids = Vec::with_capacity(rows.len());
        let mut scores = Vec::with_capacity(rows.len());
        let mut names = Vec::with_capacity(rows.len());
        for row in &rows {
            let value = score(
                &engagement_of(row),
                &config.weights,
                policy.median_spent,
                now,
            );
            let segment = segment_at(&facts_of(row), &policy, now).to_string();
            let group = groups.entry(segment.clone()).or_default();
            group.0.push(value);
            group.1 += i32::from(row.vip);
            ids.push(row.customer_id);
            scores.push(value as f32);
            names.push(segment);
        }
        segments::write_snapshot(&mut tx, shop, day, &ids, &scores, &names).await?;
        customers += rows.len();
        after = last;
    }
    let daily = daily_rows(day, groups);
    segments::write_daily(&mut tx, shop, &daily).await?;
    tx.commit().await?;
    Ok(SnapshotStats {
        customers,
        elapsed_ms: started.elapsed().as_millis(),
    })
}

/// The day's summary rows: one per segment (scores, VIP count) and one `all`.
pub(super) fn daily_rows(
    day: NaiveDate,
    groups: BTreeMap<String, (Vec<f64>, i32)>,
) -> Vec<DailyRow> {
    let all: Vec<f64> = groups
        .values()
        .flat_map(|(v, _)| v.iter().copied())
        .collect();
    let all_vip = groups.values().map(|(_, n)| n).sum();
    groups
        .into_iter()
        .chain(std::iter::once(("all".to_string(), (all, all_vip))))
        .map(|(segment, (scores, vip))| {
            let s = summarise(&scores);
            DailyRow {
                day,
                segment,
                customers: s.customers as i32,
                vip,
                mean_score: s.mean as f32,
                median_score: s.median as f32,
                histogram: s.histogram.iter().map(|n| *n as i32).collect(),
            }
        })
        .collect()
}
