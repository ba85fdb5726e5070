//! Keeping segment tags on customers in Shopify, in batches, only for customers whose
//! segment changed since their tags were last set.

use serde_json::Value;
use sqlx::PgPool;

use super::tags::{self, TagChange};
use crate::config::WritebackSettings;
use crate::shop_api::{ConnectError, Connected};
use crate::store::tag_sync::{self, Synced};

/// Batches per round at most, so one shop cannot hold the worker for long.
const MAX_BATCHES: usize = 100;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TagReport {
    pub customers: u64,
    pub requests: u64,
    pub errors: u64,
}

/// Brings the shop's tags in line with its segments (or, with `enabled` false, removes every
/// tag shoprecs set).
pub async fn sync_shop(
    pool: &PgPool,
    shop: &Connected,
    settings: &WritebackSettings,
    enabled: bool,
) -> Result<TagReport, ConnectError> {
    let mut report = TagReport::default();
    let prefix = &settings.tag_prefix;
    let batch = settings.tag_batch as i64;
    for _ in 0..MAX_BATCHES {
        let due = if enabled {
            tag_sync::due(pool, shop.shop, batch).await?
        } else {
            tag_sync::to_untag(pool, shop.shop, batch).await?
        };
        if due.is_empty() {
            break;
        }
        let changes: Vec<TagChange> = due
            .iter()
            .map(|d| {
                let had = tags::tags_for(prefix, d.synced_segment.as_deref(), d.synced_vip);
                let wants = tags::tags_for(prefix, d.segment.as_deref(), d.vip);
                TagChange::between(d.customer_id, &had, &wants)
            })
            .collect();
        // Positions (in `due`) of the customers whose tags change, in the order sent.
        let sent: Vec<usize> = (0..changes.len())
            .filter(|&i| !changes[i].is_empty())
            .collect();
        let mut errors = vec![None; due.len()];
        if !sent.is_empty() {
            let batch: Vec<TagChange> = sent.iter().map(|&i| changes[i].clone()).collect();
            let (query, variables) = tags::mutation(&batch);
            let data: Value = shop.graphql(&query, variables).await?;
            report.requests += 1;
            for (n, &at) in sent.iter().enumerate() {
                let found = tags::errors_for(&data, n);
                if !found.is_empty() {
                    report.errors += 1;
                    errors[at] = Some(found.join("; "));
                }
            }
        }
        report.customers += due.len() as u64;
        if enabled {
            let synced: Vec<Synced<'_>> = due
                .iter()
                .zip(errors)
                .map(|(d, error)| Synced {
                    customer_id: d.customer_id,
                    segment: d.segment.as_deref(),
                    vip: d.vip,
                    error,
                })
                .collect();
            tag_sync::record(pool, shop.shop, &synced).await?;
        } else {
            let ids: Vec<i64> = due.iter().map(|d| d.customer_id).collect();
            tag_sync::forget(pool, shop.shop, &ids).await?;
        }
        if (due.len() as i64) < batch {
            break;
        }
    }
    Ok(report)
}
