//! Drives one job through its phases: products (bulk query, wait, download), orders (the same),
//! applying, done. Every step starts from what the job row says, so a job picked up after a
//! restart carries on from its last committed progress.

use std::time::Duration;

use serde_json::json;
use sqlx::PgPool;
use tokio::sync::{broadcast, watch};

use super::download::{self, DownloadError};
use super::error::StepError;
use super::jobs::{self, Job, Phase};
use super::lease::Lease;
use super::queries::{self, Operation, RunData, StatusData};
use super::{apply, staging};
use crate::config::BackfillSettings;
use crate::ingest::ApplierHandle;
use crate::shop_api::{Connected, ShopApi};
use crate::store::ShopId;

/// What every job of a server shares.
pub struct Runner {
    pub pool: PgPool,
    pub shop_api: ShopApi,
    pub settings: BackfillSettings,
    /// For result downloads (no Admin API token goes to that URL).
    pub http: reqwest::Client,
    pub applier: ApplierHandle,
    /// Shop ids whose job should look at its operation now (`bulk_operations/finish`).
    pub wake: broadcast::Sender<i64>,
}

impl Runner {
    /// Runs the job until it is done, failed, or `stop` turns true, unless another server
    /// holds its lease (then that server runs it).
    pub async fn drive(&self, shop: ShopId, job_id: i64, mut stop: watch::Receiver<bool>) {
        let paused = |e: sqlx::Error| {
            tracing::warn!(error = %e, shop.id = shop.0, job.id = job_id, "backfill paused: the database is unavailable; it resumes when picked up again");
        };
        let lease = match Lease::take(&self.pool, job_id).await {
            Ok(Some(lease)) => lease,
            Ok(None) => return,
            Err(e) => return paused(e),
        };
        if let Err(e) = self.drive_inner(shop, job_id, &mut stop).await {
            paused(e);
        }
        lease.release().await;
    }

    async fn drive_inner(
        &self,
        shop: ShopId,
        job_id: i64,
        stop: &mut watch::Receiver<bool>,
    ) -> sqlx::Result<()> {
        let mut wake = self.wake.subscribe();
        jobs::mark_running(&self.pool, shop, job_id).await?;
        loop {
            let Some(job) = jobs::get(&self.pool, shop, job_id).await? else {
                return Ok(());
            };
            if !job.is_active() || *stop.borrow() {
                return Ok(());
            }
            let step = match job.phase {
                Phase::Products => self
                    .fetch(&job, "products", &mut wake, stop)
                    .await
                    .map(|()| Phase::Orders),
                Phase::Orders => self
                    .fetch(&job, "orders", &mut wake, stop)
                    .await
                    .map(|()| Phase::Applying),
                Phase::Applying => apply::run(self, &job, stop).await.map(|()| Phase::Done),
                Phase::Done => Ok(Phase::Done),
            };
            match step {
                Ok(Phase::Done) => {
                    jobs::finish(&self.pool, shop, job_id).await?;
                    tracing::info!(shop.id = shop.0, job.id = job_id, "backfill done");
                    return Ok(());
                }
                Ok(next) => jobs::enter_phase(&self.pool, shop, job_id, next).await?,
                Err(StepError::Stopped) => return Ok(()),
                Err(StepError::Fatal(message)) => {
                    tracing::warn!(shop.id = shop.0, job.id = job_id, error = %message, "backfill failed");
                    jobs::fail(&self.pool, shop, job_id, &message).await?;
                    return Ok(());
                }
                Err(StepError::Transient(message)) => {
                    let attempts =
                        jobs::record_attempt_error(&self.pool, shop, job_id, &message).await?;
                    if attempts >= self.settings.max_attempts as i32 {
                        let message = format!("gave up after {attempts} attempts: {message}");
                        jobs::fail(&self.pool, shop, job_id, &message).await?;
                        return Ok(());
                    }
                    tracing::info!(shop.id = shop.0, job.id = job_id, error = %message, attempts, "backfill step failed; trying again");
                    let pause = Duration::from_secs_f64(self.settings.retry_after_secs);
                    tokio::select! {
                        _ = tokio::time::sleep(pause) => {}
                        _ = stop.changed() => return Ok(()),
                    }
                }
            }
        }
    }

    /// One fetch phase: the bulk query run (or the one already running adopted), waited for,
    /// and its result staged.
    async fn fetch(
        &self,
        job: &Job,
        kind: &str,
        wake: &mut broadcast::Receiver<i64>,
        stop: &mut watch::Receiver<bool>,
    ) -> Result<(), StepError> {
        let shop = self.shop_api.connect(job.shop).await?;
        let mut job = job.clone();
        let mut reruns = 0;
        loop {
            let id = match &job.operation_id {
                Some(id) => id.clone(),
                None => self.run_query(&shop, &job, kind).await?,
            };
            let op = self.wait(&shop, &job, &id, wake, stop).await?;
            let Some(url) = op.url else {
                // Nothing matched the query: Shopify gives no file.
                return Ok(());
            };
            let download = download::stage(
                &self.pool,
                &self.http,
                &job,
                kind,
                &url,
                self.settings.batch_size,
            );
            let result = tokio::select! {
                r = download => r,
                _ = stop.changed() => return Err(StepError::Stopped),
            };
            match result {
                Ok(()) => return Ok(()),
                Err(DownloadError::Expired(_)) if reruns == 0 => {
                    tracing::info!(
                        shop.id = job.shop.0,
                        kind,
                        "bulk result expired; running the query again"
                    );
                    reruns += 1;
                    staging::clear(&self.pool, job.shop, job.job_id, kind).await?;
                    jobs::forget_operation(&self.pool, job.shop, job.job_id).await?;
                    job = jobs::get(&self.pool, job.shop, job.job_id)
                        .await?
                        .ok_or(StepError::Stopped)?;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    async fn run_query(
        &self,
        shop: &Connected,
        job: &Job,
        kind: &str,
    ) -> Result<String, StepError> {
        let query = match kind {
            "orders" => queries::orders(job.orders_since),
            _ => queries::PRODUCTS.to_owned(),
        };
        let data: RunData = shop
            .graphql(queries::RUN, json!({ "query": query }))
            .await?;
        if let Some(error) = data.run.user_errors.first() {
            let message = format!("Shopify refused the {kind} bulk query: {}", error.message);
            // Another bulk query of this app holds the shop's single slot: wait for it.
            return Err(if error.message.contains("already in progress") {
                StepError::Transient(message)
            } else {
                StepError::Fatal(message)
            });
        }
        let op = data.run.operation.ok_or_else(|| {
            StepError::Transient(format!(
                "Shopify started no {kind} bulk query and said nothing"
            ))
        })?;
        jobs::record_operation(
            &self.pool, job.shop, job.job_id, &op.id, &op.status, None, None,
        )
        .await?;
        tracing::info!(shop.id = job.shop.0, kind, operation = %op.id, "bulk query started");
        Ok(op.id)
    }

    /// Reads the operation's status until it has ended: every `poll_interval_secs`, or at once
    /// when `bulk_operations/finish` arrives for the shop.
    async fn wait(
        &self,
        shop: &Connected,
        job: &Job,
        id: &str,
        wake: &mut broadcast::Receiver<i64>,
        stop: &mut watch::Receiver<bool>,
    ) -> Result<Operation, StepError> {
        let poll = Duration::from_secs_f64(self.settings.poll_interval_secs);
        loop {
            let data: StatusData = shop.graphql(queries::STATUS, json!({ "id": id })).await?;
            let op = data.node.ok_or_else(|| {
                StepError::Fatal(format!("Shopify does not know the bulk operation {id}"))
            })?;
            jobs::record_operation(
                &self.pool,
                job.shop,
                job.job_id,
                &op.id,
                &op.status,
                op.error_code.as_deref(),
                op.object_count,
            )
            .await?;
            match op.status.as_str() {
                "COMPLETED" => return Ok(op),
                "CREATED" | "RUNNING" | "CANCELING" => {}
                ended => {
                    let code = op.error_code.as_deref().unwrap_or("no error code");
                    return Err(StepError::Fatal(format!(
                        "Shopify's bulk operation {id} ended {ended} ({code})"
                    )));
                }
            }
            let woken = async {
                loop {
                    match wake.recv().await {
                        Ok(s) if s == job.shop.0 => return,
                        Ok(_) => {}
                        Err(broadcast::error::RecvError::Lagged(_)) => return,
                        Err(broadcast::error::RecvError::Closed) => std::future::pending().await,
                    }
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(poll) => {}
                _ = woken => {}
                _ = stop.changed() => return Err(StepError::Stopped),
            }
        }
    }
}
