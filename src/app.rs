//! `Application`: the router, its listener and background tasks, built the same way by
//! `shoprecs serve` and by the tests.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::{Secrets, Settings};
use crate::http::pixel::PixelLimiter;
use crate::ingest::{Applier, ApplierHandle};
use crate::recs::Models;
use crate::store::inbox;
use crate::store::shop_cache::ShopCache;

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState(Arc<AppInner>);

pub struct AppInner {
    pub pool: PgPool,
    pub settings: Settings,
    pub secrets: Secrets,
    pub applier: ApplierHandle,
    pub shops: ShopCache,
    pub pixel_limiter: Arc<PixelLimiter>,
    /// Admin login attempts per shop.
    pub admin_login: Arc<crate::admin::auth::LoginLimiter>,
    pub models: Arc<Models>,
    pub inbox_writer: crate::ingest::writer::InboxWriter,
    pub widget_cache: crate::http::proxy::cache::WidgetCache,
    /// Signs the recommendation token of every list served.
    pub tokens: crate::http::proxy::token::Signer,
    pub clock: Clock,
    pub lifecycle: crate::lifecycle::LifecycleConfig,
    pub sweeps: crate::lifecycle::SweepClock,
    /// Shops' own settings from the dashboard.
    pub shop_settings: crate::store::shop_settings::SettingsCache,
    /// Wakes the outgoing-event delivery worker after `outbox::enqueue` commits.
    pub outbox: crate::outbox::DeliveryHandle,
    /// Calls to shops' Admin API with their stored tokens.
    pub shop_api: crate::shop_api::ShopApi,
    /// Token exchanges in flight or recently failed, per shop (`crate::install::exchange`).
    pub installs: crate::install::Installs,
}

impl std::ops::Deref for AppState {
    type Target = AppInner;
    fn deref(&self) -> &AppInner {
        &self.0
    }
}

/// The time source: the system clock, or a fixed one in tests.
pub type Clock = Arc<dyn Fn() -> chrono::DateTime<chrono::Utc> + Send + Sync>;

impl AppInner {
    /// Now, by the application's clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        (self.clock)()
    }

    /// The secrets a webhook may be signed with: current first, then the previous one.
    pub fn webhook_secrets(&self) -> impl Iterator<Item = &SecretString> {
        std::iter::once(&self.secrets.api_secret).chain(self.secrets.api_secret_previous.iter())
    }
}

pub struct Application {
    listener: TcpListener,
    state: AppState,
    applier: Applier,
    /// Where this server starts reading what other servers applied.
    log_cursor: crate::recs::follow::Cursor,
    extra: Option<axum::Router>,
}

impl Application {
    /// Binds the listener (port 0 picks a free one) and wires the state. The database must be
    /// migrated already.
    pub async fn build(settings: Settings, secrets: Secrets, pool: PgPool) -> anyhow::Result<Self> {
        Self::build_with_clock(settings, secrets, pool, Arc::new(chrono::Utc::now)).await
    }

    /// As `build`, with the time source given (tests pin it).
    pub async fn build_with_clock(
        settings: Settings,
        secrets: Secrets,
        pool: PgPool,
        clock: Clock,
    ) -> anyhow::Result<Self> {
        let addr = SocketAddr::new(settings.server.host, settings.server.port);
        let listener = TcpListener::bind(addr).await.map_err(|e| {
            anyhow::anyhow!("cannot listen on {addr}: {e} (set --port or SHOPRECS_PORT)")
        })?;
        crate::http::metrics::handle();
        let models = Arc::new(Models::new(settings.engine.engine_config()));
        let started = std::time::Instant::now();
        // Read before the build: whatever other servers log from here on is applied on top.
        let log_cursor = crate::recs::follow::start(&pool).await?;
        models.rebuild_all(&pool).await?;
        tracing::info!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            "recommendation models built"
        );
        let lifecycle = crate::lifecycle::LifecycleConfig::from_settings(&settings);
        let outbox = crate::outbox::DeliveryHandle::default();
        let inbox_writer = crate::ingest::writer::InboxWriter::start(pool.clone());
        let applier = Applier::new(
            pool.clone(),
            settings.webhooks.apply_batch,
            models.clone(),
            lifecycle.clone(),
            clock.clone(),
        )
        .waking(outbox.clone())
        .deferring_to(crate::ingest::worker::Deferral {
            accepted: inbox_writer.accepted(),
            above_per_sec: settings.webhooks.defer_apply_above_per_sec,
            interval: Duration::from_millis(settings.webhooks.deferred_apply_interval_ms),
        });
        let shop_api = crate::shop_api::ShopApi::new(&settings, &secrets, pool.clone())?;
        let state = AppState(Arc::new(AppInner {
            shop_api,
            installs: Default::default(),
            pixel_limiter: PixelLimiter::new(&settings.pixel),
            admin_login: crate::admin::auth::LoginLimiter::new(&settings.admin),
            applier: applier.handle(),
            shops: ShopCache::default(),
            inbox_writer,
            widget_cache: Default::default(),
            tokens: crate::http::proxy::token::Signer::new(&secrets.api_secret),
            sweeps: Default::default(),
            shop_settings: Default::default(),
            lifecycle,
            models,
            clock,
            outbox,
            pool,
            settings,
            secrets,
        }));
        Ok(Self {
            listener,
            state,
            applier,
            log_cursor,
            extra: None,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    pub fn port(&self) -> u16 {
        self.local_addr().port()
    }

    pub fn state(&self) -> AppState {
        self.state.clone()
    }

    /// Serves these routes too (the demo storefront).
    pub fn with_routes(mut self, routes: axum::Router) -> Self {
        self.extra = Some(routes);
        self
    }

    /// Serves until `shutdown` completes, then stops accepting, lets in-flight requests finish
    /// (up to the grace period), and applies whatever is still in the inbox.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let applier = self.applier.spawn(stop_rx.clone());
        let housekeeping = spawn_housekeeping(self.state.clone(), stop_rx.clone());
        let delivery = crate::outbox::deliver::spawn(self.state.clone(), stop_rx.clone());
        let writeback = crate::writeback::spawn(self.state.clone(), stop_rx.clone());
        let backfills = crate::backfill::worker::spawn(self.state.clone(), stop_rx.clone());
        let follower = crate::recs::follow::spawn(
            self.state.pool.clone(),
            self.state.models.clone(),
            self.log_cursor,
            Duration::from_millis(self.state.settings.replicas.follow_interval_ms),
            Duration::from_secs(self.state.settings.replicas.log_retention_minutes as u64 * 60),
            stop_rx,
        );
        let mut router = crate::http::router(self.state.clone());
        if let Some(extra) = self.extra {
            router = router.merge(extra);
        }
        let grace = Duration::from_secs(self.state.settings.server.shutdown_grace_secs);
        let (drained_tx, drained_rx) = tokio::sync::oneshot::channel::<()>();
        let server = axum::serve(self.listener, router).with_graceful_shutdown(async move {
            shutdown.await;
            tracing::info!("shutting down: no new connections; finishing requests in flight");
            let _ = drained_tx.send(());
        });
        let served = tokio::spawn(async move { server.await });
        // Once shutdown starts, in-flight requests get the grace period, no more.
        let result = tokio::select! {
            r = served => r.map_err(anyhow::Error::from).and_then(|r| r.map_err(anyhow::Error::from)),
            _ = async { let _ = drained_rx.await; tokio::time::sleep(grace).await; } => {
                tracing::warn!("in-flight requests did not finish within the grace period");
                Ok(())
            }
        };
        let _ = stop_tx.send(true);
        let _ = applier.await;
        let _ = housekeeping.await;
        let _ = follower.await;
        let _ = backfills.await;
        let _ = delivery.await;
        let _ = writeback.await;
        tracing::info!("inbox applied; stopped");
        result
    }
}

/// Periodic chores: prune idle rate-limit buckets, purge old failed webhook bodies and sweep
/// lifecycle segments (every minute, each shop's sweep when due), and sweep abandoned checkouts
/// (every `checkouts.sweep_interval_secs`, first one interval after start).
fn spawn_housekeeping(
    state: AppState,
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        let every = Duration::from_secs(state.settings.checkouts.sweep_interval_secs);
        let mut sweep = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => chores(&state).await,
                _ = sweep.tick() => sweep_checkouts(&state).await,
                _ = stop.changed() => return,
            }
        }
    })
}

async fn chores(state: &AppState) {
    state.pixel_limiter.prune();
    state.admin_login.prune();
    let days = state.settings.webhooks.failed_body_retention_days;
    if let Err(e) = inbox::purge_failed_bodies(&state.pool, days).await {
        tracing::warn!(error = %e, "purging old failed webhook bodies failed");
    }
    let minutes = state.settings.replicas.log_retention_minutes;
    if let Err(e) = crate::store::model_log::prune(&state.pool, minutes).await {
        tracing::warn!(error = %e, "pruning the model log failed");
    }
    if let Err(e) = sweep_segments(state).await {
        tracing::warn!(error = %e, "sweeping lifecycle segments failed");
    }
    if let Err(e) = refresh_rollups(state).await {
        tracing::warn!(error = %e, "refreshing the dashboard's daily totals failed");
    }
    // Whatever the sweeps enqueued goes out now rather than at the next poll.
    state.outbox.wake();
}

async fn sweep_checkouts(state: &AppState) {
    let settings = &state.settings.checkouts;
    // A shop's failure is logged inside; the next sweep tries again.
    if let Err(e) = crate::abandoned::sweep(&state.pool, &state.models, settings, state.now()).await
    {
        tracing::warn!(error = ?e, "checkout sweep failed");
    }
    state.outbox.wake();
}

/// Computes the dashboard's daily totals for days not yet computed or still changing.
async fn refresh_rollups(state: &AppState) -> sqlx::Result<()> {
    let window = state.settings.storefront.attribution_window_hours;
    for shop in crate::store::shops::installed(&state.pool).await? {
        crate::store::rollups::refresh_stale(&state.pool, shop, window, state.now(), 31).await?;
    }
    Ok(())
}

/// Moves customers whose thresholds passed and takes the day's engagement snapshot, per shop,
/// when due.
async fn sweep_segments(state: &AppState) -> sqlx::Result<()> {
    let shops = crate::store::shops::installed(&state.pool).await?;
    let minutes = state.settings.lifecycle.sweep_interval_minutes as i64;
    state
        .sweeps
        .run_due(
            &state.pool,
            &shops,
            &state.lifecycle,
            chrono::Duration::minutes(minutes),
            state.now(),
        )
        .await
}
