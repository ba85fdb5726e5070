//! Backfill: a shop's products and its last `backfill.order_days` of orders, fetched with
//! Shopify bulk operations (SHOPIFY.md §7) and put through the same ingest path as webhooks.
//!
//! A job (one row in `backfill_job`, at most one unfinished per shop) runs products, then
//! orders: `bulkOperationRunQuery`, then the operation's status read every
//! `backfill.poll_interval_secs` or at once when the `bulk_operations/finish` webhook arrives,
//! then the JSONL result streamed into `backfill_line` batch by batch. Once both are staged,
//! each product and order is assembled with its children (`__parentId`, in any order), turned
//! into the webhook body the applier reads, stored in the inbox under a hash of its content and
//! applied. Newest `updated_at` wins in the applier, so webhooks arriving meanwhile are kept.
//!
//! Everything is resumable: the server picks unfinished jobs up at start, a download resumes
//! after the last staged line, an expired result runs its query again. A FAILED operation, or
//! a step that keeps failing, marks the job failed with the reason; [`retry`] queues it again.

mod apply;
pub(crate) mod convert;
mod download;
mod error;
pub mod jobs;
mod jsonl;
mod lease;
mod progress;
mod queries;
mod runner;
mod staging;
pub mod worker;

pub use jobs::Job;
pub use progress::Progress;

use chrono::{Duration, NaiveDate};
use sqlx::{PgExecutor, PgPool};

use crate::config::BackfillSettings;
use crate::store::ShopId;

/// Postgres channel that wakes the backfill worker; the payload is the shop id.
pub const CHANNEL: &str = "shoprecs_backfill";

/// Asks the server's backfill worker (in whichever process) to look at the shop's job now.
pub async fn notify(executor: impl PgExecutor<'_>, shop: ShopId) -> sqlx::Result<()> {
    sqlx::query("select pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(shop.0.to_string())
        .execute(executor)
        .await?;
    Ok(())
}

/// Starts a backfill of the shop unless one is unfinished; either way returns the shop's
/// current job. Idempotent: calling it again while a job runs changes nothing.
pub async fn start(
    pool: &PgPool,
    settings: &BackfillSettings,
    shop: ShopId,
    today: NaiveDate,
) -> sqlx::Result<Job> {
    let since = today - Duration::days(settings.order_days);
    if jobs::create(pool, shop, since).await?.is_some() {
        tracing::info!(shop.id = shop.0, %since, "backfill queued");
    }
    notify(pool, shop).await?;
    jobs::latest(pool, shop)
        .await?
        .ok_or(sqlx::Error::RowNotFound)
}

/// Queues the shop's failed job again, from where it stopped. False when its latest job has
/// not failed.
pub async fn retry(pool: &PgPool, shop: ShopId) -> sqlx::Result<bool> {
    let Some(job) = jobs::latest(pool, shop).await? else {
        return Ok(false);
    };
    let requeued = jobs::requeue(pool, shop, job.job_id).await?;
    if requeued {
        notify(pool, shop).await?;
    }
    Ok(requeued)
}
