//! The applier: a background task that applies stored webhooks in inbox order.
//!
//! The webhook handler only commits the inbox row and wakes the applier, so Shopify gets its
//! 200 as soon as the event is durable. Rows are claimed with `FOR UPDATE SKIP LOCKED`, so
//! several processes can share one database; each webhook is applied in its own savepoint so one
//! bad payload cannot hold up the queue. Rows left unapplied by a crash are applied at start-up.

use std::sync::Arc;
use std::time::Duration;

use sqlx::{Connection, PgPool};
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

use super::apply::{apply, ApplyError};
use crate::http::error::is_unavailable;
use crate::recs::{Models, Touched};
use crate::store::inbox::{self, Outcome};

/// Wakes the applier after a webhook is stored.
#[derive(Clone, Default)]
pub struct ApplierHandle {
    notify: Arc<Notify>,
}

impl ApplierHandle {
    pub fn wake(&self) {
        self.notify.notify_one();
    }
}

pub struct Applier {
    pool: PgPool,
    batch: i64,
    handle: ApplierHandle,
    models: Arc<Models>,
}

impl Applier {
    pub fn new(pool: PgPool, batch: i64, models: Arc<Models>) -> Self {
        Self {
            pool,
            batch,
            handle: ApplierHandle::default(),
            models,
        }
    }

    pub fn handle(&self) -> ApplierHandle {
        self.handle.clone()
    }

    /// Runs until `stop` turns true, then applies whatever is still pending and returns.
    pub fn spawn(self, mut stop: watch::Receiver<bool>) -> JoinHandle<()> {
        tokio::spawn(async move {
            let mut failures = 0u32;
            loop {
                let stopping = *stop.borrow();
                match self.apply_batch().await {
                    Ok(0) if stopping => return,
                    Ok(0) => {
                        failures = 0;
                        tokio::select! {
                            _ = self.handle.notify.notified() => {}
                            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                            _ = stop.changed() => {}
                        }
                    }
                    Ok(_) => failures = 0,
                    Err(e) => {
                        failures += 1;
                        if stopping && failures > 3 {
                            tracing::warn!(error = %e, "stopping with webhooks still pending; they are applied at the next start");
                            return;
                        }
                        let backoff = Duration::from_millis(200 * 2u64.pow(failures.min(6)));
                        tracing::warn!(error = %e, ?backoff, "applying webhooks failed; retrying");
                        tokio::time::sleep(backoff).await;
                    }
                }
            }
        })
    }

    /// Applies up to one batch in one transaction. Returns how many webhooks it handled.
    pub async fn apply_batch(&self) -> Result<usize, sqlx::Error> {
        apply_batch(&self.pool, self.batch, &self.models).await
    }
}

/// Applies up to `limit` pending webhooks in one transaction, then brings the models up to
/// date with what they changed.
pub async fn apply_batch(pool: &PgPool, limit: i64, models: &Models) -> Result<usize, sqlx::Error> {
    let mut touched = Touched::default();
    let mut tx = pool.begin().await?;
    let hooks = inbox::claim(&mut tx, limit).await?;
    for hook in &hooks {
        let mut savepoint = (*tx).begin().await?;
        let result = apply(&mut savepoint, hook, &mut touched).await;
        let (outcome, error) = match result {
            Ok(outcome) => {
                savepoint.commit().await?;
                (outcome, None)
            }
            Err(ApplyError::Invalid(message)) => {
                savepoint.rollback().await?;
                (Outcome::Failed, Some(message))
            }
            Err(ApplyError::Database(e)) if is_transient(&e) => return Err(e),
            Err(ApplyError::Database(e)) => {
                savepoint.rollback().await?;
                tracing::error!(error = %e, topic = %hook.topic, inbox.id = hook.inbox_id, "webhook could not be applied");
                (Outcome::Failed, Some(format!("database error: {e}")))
            }
        };
        if let Some(message) = &error {
            tracing::warn!(topic = %hook.topic, inbox.id = hook.inbox_id, shop.id = hook.shop_id.0, error = %message, "webhook stored as failed");
        }
        inbox::finish(
            &mut tx,
            hook.shop_id,
            hook.inbox_id,
            outcome,
            error.as_deref(),
        )
        .await?;
        metrics::counter!("shoprecs_webhooks_applied_total", "topic" => hook.topic.clone(), "outcome" => outcome.as_str())
            .increment(1);
    }
    tx.commit().await?;
    if !touched.is_empty() {
        // The store is the truth and is committed; a failed refresh is healed by the next
        // rebuild, so it is logged rather than retried (which would re-apply nothing).
        if let Err(e) = models.refresh(pool, &touched).await {
            tracing::error!(error = ?e, "updating the recommendation models failed");
        }
    }
    Ok(hooks.len())
}

/// Errors worth retrying the whole batch for: the database is away, or a serialization
/// failure / deadlock (SQLSTATE class 40).
fn is_transient(e: &sqlx::Error) -> bool {
    is_unavailable(e)
        || matches!(e, sqlx::Error::Database(db) if db.code().is_some_and(|c| c.starts_with("40")))
}
