//! The applier: a background task that applies stored webhooks in inbox order.
//!
//! The webhook handler only commits the inbox row and wakes the applier, so Shopify gets its
//! 200 as soon as the event is durable. Rows are claimed with `FOR UPDATE SKIP LOCKED`, so
//! several processes can share one database; each webhook is applied in its own savepoint so one
//! bad payload cannot hold up the queue. Rows left unapplied by a crash are applied at start-up.
//!
//! Acknowledgement comes first under overload: while webhooks are being committed faster than
//! `webhooks.defer_apply_above_per_sec`, the applier applies one batch per
//! `webhooks.deferred_apply_interval_ms` and leaves the CPU to the requests Shopify is waiting
//! on (it times out after 5 s and eventually drops subscriptions that keep failing); once the
//! burst is over it catches up at full speed.

use std::sync::Arc;
use std::time::Duration;

use std::collections::BTreeMap;

use sqlx::{Connection, PgConnection, PgPool};
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

use super::apply::{apply, order_state, ApplyError};
use super::orders::{store_orders, OrderState};
use crate::app::Clock;
use crate::http::error::is_unavailable;
use crate::ingest::writer::AcceptCounter;
use crate::lifecycle::{self, LifecycleConfig};
use crate::outbox::DeliveryHandle;
use crate::recs::{Models, Touched};
use crate::store::inbox::{self, Finished, Outcome, PendingWebhook};
use crate::store::{model_log, segments, ShopId};

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
    lifecycle: LifecycleConfig,
    clock: Clock,
    outbox: Option<DeliveryHandle>,
    deferral: Option<Deferral>,
}

/// When to hold back during a burst of incoming webhooks.
#[derive(Clone)]
pub struct Deferral {
    pub accepted: AcceptCounter,
    pub above_per_sec: f64,
    pub interval: Duration,
}

/// Whether `accepted` webhooks committed over `elapsed` is a burst above `above_per_sec`.
fn is_burst(accepted: u64, elapsed: Duration, above_per_sec: f64) -> bool {
    above_per_sec > 0.0
        && !elapsed.is_zero()
        && accepted as f64 / elapsed.as_secs_f64() > above_per_sec
}

impl Applier {
    pub fn new(
        pool: PgPool,
        batch: i64,
        models: Arc<Models>,
        lifecycle: LifecycleConfig,
        clock: Clock,
    ) -> Self {
        Self {
            pool,
            batch,
            handle: ApplierHandle::default(),
            models,
            lifecycle,
            clock,
            outbox: None,
            deferral: None,
        }
    }

    /// Holds back during bursts of incoming webhooks (see the module docs).
    pub fn deferring_to(mut self, deferral: Deferral) -> Self {
        self.deferral = Some(deferral);
        self
    }

    /// Wakes this delivery worker when segment changes produce outgoing events.
    pub fn waking(mut self, outbox: DeliveryHandle) -> Self {
        self.outbox = Some(outbox);
        self
    }

    pub fn handle(&self) -> ApplierHandle {
        self.handle.clone()
    }

    /// Runs until `stop` turns true, then applies whatever is still pending and returns.
    pub fn spawn(self, mut stop: watch::Receiver<bool>) -> JoinHandle<()> {
        tokio::spawn(async move {
            let mut failures = 0u32;
            // When and at which count the last full batch started (`None`: no backlog).
            let mut seen: Option<(std::time::Instant, u64)> = None;
            loop {
                let stopping = *stop.borrow();
                // A full batch means a backlog; with webhooks still pouring in, wait.
                if let (Some(d), Some((at, count)), false) = (&self.deferral, seen, stopping) {
                    if is_burst(d.accepted.total() - count, at.elapsed(), d.above_per_sec) {
                        metrics::counter!("shoprecs_applier_deferrals_total").increment(1);
                        tokio::select! {
                            _ = tokio::time::sleep(d.interval) => {}
                            _ = stop.changed() => {}
                        }
                    }
                }
                seen = self
                    .deferral
                    .as_ref()
                    .map(|d| (std::time::Instant::now(), d.accepted.total()));
                match self.apply_batch().await {
                    Ok(0) if stopping => return,
                    Ok(0) => {
                        failures = 0;
                        seen = None;
                        tokio::select! {
                            _ = self.handle.notify.notified() => {}
                            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                            _ = stop.changed() => {}
                        }
                    }
                    Ok(applied) => {
                        failures = 0;
                        if (applied as i64) < self.batch {
                            // No backlog: the next batch is not held back.
                            seen = None;
                        }
                    }
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

    /// Applies up to one batch in one transaction, then brings the segments of the customers
    /// whose orders changed up to date. Returns how many webhooks it handled.
    pub async fn apply_batch(&self) -> Result<usize, sqlx::Error> {
        let applied = apply_batch_inner(&self.pool, self.batch, Some(&self.models)).await?;
        for (shop, order_ids) in &applied.orders {
            // Committed already; a failure here is healed by the next sweep, with the same dates.
            if let Err(e) = self.sync_segments(*shop, order_ids).await {
                tracing::warn!(error = %e, shop.id = shop.0, "updating segments after orders failed");
            }
        }
        // Only now is everything this batch changed visible to readers.
        if let Some(last) = applied.last_inbox_id {
            self.models.mark_reflected(last);
        }
        Ok(applied.count)
    }

    async fn sync_segments(&self, shop: ShopId, order_ids: &[i64]) -> sqlx::Result<()> {
        let mut conn = self.pool.acquire().await?;
        let customers = segments::customers_of_orders(&mut conn, shop, order_ids).await?;
        drop(conn);
        let stats = lifecycle::sync_customers(
            &self.pool,
            shop,
            &customers,
            &self.lifecycle,
            (self.clock)(),
        )
        .await?;
        if let (true, Some(outbox)) = (stats.events > 0, &self.outbox) {
            outbox.wake();
        }
        Ok(())
    }
}

/// Applies up to `limit` pending webhooks in one transaction, then brings the models up to
/// date with what they changed (when this process serves models). Orders (the bulk of the traffic) are stored together with one
/// statement per step; if that fails for a reason other than the database being away, the
/// batch is applied again one webhook at a time, each in a savepoint, so one bad payload is
/// marked failed instead of holding up the queue.
pub async fn apply_batch(
    pool: &PgPool,
    limit: i64,
    models: Option<&Models>,
) -> Result<usize, sqlx::Error> {
    let applied = apply_batch_inner(pool, limit, models).await?;
    if let (Some(models), Some(last)) = (models, applied.last_inbox_id) {
        models.mark_reflected(last);
    }
    Ok(applied.count)
}

/// What one batch did.
struct Applied {
    count: usize,
    /// The orders it stored, per shop.
    orders: Vec<(ShopId, Vec<i64>)>,
    last_inbox_id: Option<i64>,
}

/// As `apply_batch`, without marking the batch reflected (the caller does, when all that
/// follows from it is done).
async fn apply_batch_inner(
    pool: &PgPool,
    limit: i64,
    models: Option<&Models>,
) -> Result<Applied, sqlx::Error> {
    let mut touched = Touched::default();
    let mut tx = pool.begin().await?;
    let hooks = inbox::claim(&mut tx, limit).await?;
    if hooks.is_empty() {
        return Ok(Applied {
            count: 0,
            orders: Vec::new(),
            last_inbox_id: None,
        });
    }
    let finished = match apply_together(&mut tx, &hooks, &mut touched).await {
        Ok(finished) => finished,
        Err(e) if is_transient(&e) => return Err(e),
        Err(e) => {
            tracing::warn!(error = %e, "batch failed as a whole; applying its webhooks one by one");
            tx.rollback().await?;
            touched = Touched::default();
            tx = pool.begin().await?;
            let hooks = inbox::claim(&mut tx, limit).await?;
            let mut finished = Vec::with_capacity(hooks.len());
            for hook in &hooks {
                finished.push(apply_in_savepoint(&mut tx, hook, &mut touched).await?);
            }
            finished
        }
    };
    inbox::finish_many(&mut tx, &finished).await?;
    if !touched.is_empty() {
        // Other servers on this database reload the same from the tables (`recs::follow`).
        let origin = models.map_or_else(uuid::Uuid::new_v4, Models::origin);
        let change = crate::recs::follow::Change::Touched(touched.clone());
        model_log::append(&mut tx, origin, &change.to_json(), true).await?;
    }
    tx.commit().await?;
    for f in &finished {
        if let Some(message) = &f.error {
            tracing::warn!(topic = %f.topic, inbox.id = f.inbox_id, shop.id = f.shop_id.0, error = %message, "webhook stored as failed");
        }
        metrics::counter!("shoprecs_webhooks_applied_total", "topic" => f.topic.clone(), "outcome" => f.outcome.as_str())
            .increment(1);
    }
    if let Some(models) = models.filter(|_| !touched.is_empty()) {
        // The store is the truth and is committed; a failed refresh is healed by the next
        // rebuild, so it is logged rather than retried (which would re-apply nothing).
        if let Err(e) = models.refresh(pool, &touched).await {
            tracing::error!(error = ?e, "updating the recommendation models failed");
        }
    }
    let orders: Vec<(ShopId, Vec<i64>)> = touched
        .shops()
        .into_iter()
        .map(|shop| (shop, touched.order_ids(shop)))
        .filter(|(_, ids)| !ids.is_empty())
        .collect();
    for (shop, ids) in &orders {
        // The dashboard's totals of those days are computed again; until then pages compute
        // them live. Committed already, so a failure only delays that.
        if let Err(e) = crate::store::rollups::invalidate_orders(pool, *shop, ids).await {
            tracing::warn!(error = %e, shop.id = shop.0, "marking daily totals stale failed");
        }
    }
    Ok(Applied {
        count: finished.len(),
        orders,
        last_inbox_id: finished.iter().map(|f| f.inbox_id).max(),
    })
}

fn finished(hook: &PendingWebhook, outcome: Outcome, error: Option<String>) -> Finished {
    Finished {
        shop_id: hook.shop_id,
        inbox_id: hook.inbox_id,
        topic: hook.topic.clone(),
        outcome,
        error,
    }
}

/// Other topics one by one in inbox order, then every order of the batch together per shop.
async fn apply_together(
    tx: &mut PgConnection,
    hooks: &[PendingWebhook],
    touched: &mut Touched,
) -> Result<Vec<Finished>, sqlx::Error> {
    let mut done = Vec::with_capacity(hooks.len());
    let mut orders: BTreeMap<ShopId, Vec<(usize, OrderState)>> = BTreeMap::new();
    for hook in hooks {
        match order_state(hook) {
            Some(Ok(state)) => {
                orders
                    .entry(hook.shop_id)
                    .or_default()
                    .push((done.len(), state));
                done.push(finished(hook, Outcome::Applied, None));
            }
            Some(Err(e)) => done.push(finished(hook, Outcome::Failed, Some(e.to_string()))),
            None => done.push(apply_in_savepoint(tx, hook, touched).await?),
        }
    }
    for (shop, states) in orders {
        if touched.dropped_shops.contains(&shop) {
            for (i, _) in &states {
                done[*i].outcome = Outcome::Ignored;
            }
            continue;
        }
        let states = states.into_iter().map(|(_, s)| s).collect();
        for id in store_orders(tx, shop, states).await? {
            touched.orders.insert((shop, id));
        }
    }
    Ok(done)
}

/// Applies one webhook in its own savepoint: a payload that cannot be used, or that the
/// database refuses, is marked failed without undoing the rest of the batch.
async fn apply_in_savepoint(
    tx: &mut PgConnection,
    hook: &PendingWebhook,
    touched: &mut Touched,
) -> Result<Finished, sqlx::Error> {
    let mut savepoint = tx.begin().await?;
    match apply(&mut savepoint, hook, touched).await {
        Ok(outcome) => {
            savepoint.commit().await?;
            Ok(finished(hook, outcome, None))
        }
        Err(ApplyError::Invalid(message)) => {
            savepoint.rollback().await?;
            Ok(finished(hook, Outcome::Failed, Some(message)))
        }
        Err(ApplyError::Database(e)) if is_transient(&e) => Err(e),
        Err(ApplyError::Database(e)) => {
            savepoint.rollback().await?;
            tracing::error!(error = %e, topic = %hook.topic, inbox.id = hook.inbox_id, "webhook could not be applied");
            Ok(finished(
                hook,
                Outcome::Failed,
                Some(format!("database error: {e}")),
            ))
        }
    }
}

/// Errors worth retrying the whole batch for: the database is away, or a serialization
/// failure / deadlock (SQLSTATE class 40).
fn is_transient(e: &sqlx::Error) -> bool {
    is_unavailable(e)
        || matches!(e, sqlx::Error::Database(db) if db.code().is_some_and(|c| c.starts_with("40")))
}

#[cfg(test)]
mod deferral_tests {
    use super::*;

    #[test]
    fn a_burst_is_a_commit_rate_above_the_threshold() {
        let second = Duration::from_secs(1);
        assert!(is_burst(2_500, second, 2_000.0));
        assert!(!is_burst(1_500, second, 2_000.0));
        assert!(is_burst(300, Duration::from_millis(100), 2_000.0));
        assert!(!is_burst(10_000, second, 0.0), "0 switches deferral off");
        assert!(!is_burst(10, Duration::ZERO, 2_000.0));
    }
}
