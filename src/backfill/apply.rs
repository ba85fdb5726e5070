//! The applying phase: staged objects assembled with their children, converted to webhook
//! bodies and stored in the inbox like webhooks, a page per statement (keyed by a hash of the body, so a retried
//! phase stores nothing twice), then applied by the applier. The applier keeps the state with
//! the newest `updated_at`, so webhooks that arrived meanwhile are never overwritten by older
//! backfilled state, and the backfill overwrites older webhook state.

use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::sync::watch;

use super::convert::{order_webhook, product_webhook};
use super::error::StepError;
use super::jobs::{self, Job};
use super::runner::Runner;
use super::staging;
use crate::store::dashboard;
use crate::store::inbox::{self, PendingRow};
use crate::store::ShopId;

pub(super) async fn run(
    runner: &Runner,
    job: &Job,
    stop: &mut watch::Receiver<bool>,
) -> Result<(), StepError> {
    let pool = &runner.pool;
    let total = staging::roots(pool, job.shop, job.job_id).await?;
    let mut applied = 0;
    jobs::record_applied(pool, job.shop, job.job_id, applied, total).await?;
    // Products first, so orders' lines meet a catalogue that knows them.
    for (kind, topic) in [
        ("products", "products/update"),
        ("orders", "orders/updated"),
    ] {
        let mut after = 0;
        loop {
            let page = staging::page(
                pool,
                job.shop,
                job.job_id,
                kind,
                after,
                runner.settings.batch_size as i64,
            )
            .await?;
            let Some(last) = page.last() else {
                break;
            };
            after = last.line_no;
            let rows = page
                .iter()
                .map(|object| {
                    let body = match kind {
                        "orders" => order_webhook(&object.body, &object.children),
                        _ => product_webhook(&object.body, &object.children),
                    };
                    let bytes = serde_json::to_vec(&body).map_err(|e| {
                        StepError::Fatal(format!("cannot encode a {kind} body: {e}"))
                    })?;
                    Ok(PendingRow {
                        shop: job.shop,
                        dedupe_key: format!(
                            "backfill:{topic}:{}",
                            hex::encode(Sha256::digest(&bytes))
                        ),
                        topic: topic.to_owned(),
                        webhook_id: None,
                        api_version: Some("backfill".to_owned()),
                        triggered_at: None,
                        body: bytes,
                    })
                })
                .collect::<Result<Vec<_>, StepError>>()?;
            inbox::insert_many(pool, &rows.iter().collect::<Vec<_>>()).await?;
            runner.applier.wake();
            applied_all(runner, job.shop, stop).await?;
            applied += page.len() as i64;
            jobs::record_applied(pool, job.shop, job.job_id, applied, total).await?;
        }
    }
    Ok(())
}

/// Waits until the applier has handled every stored webhook of the shop (ours, and any that
/// arrived meanwhile), so progress counts applied objects, not queued ones.
async fn applied_all(
    runner: &Runner,
    shop: ShopId,
    stop: &mut watch::Receiver<bool>,
) -> Result<(), StepError> {
    loop {
        let pending = dashboard::backlog(&runner.pool, shop).await?;
        if pending == 0 {
            return Ok(());
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(50)) => runner.applier.wake(),
            _ = stop.changed() => return Err(StepError::Stopped),
        }
    }
}
