//! The server's backfill task: picks up unfinished jobs at start (so a restart resumes them)
//! and whenever asked (`NOTIFY shoprecs_backfill, '<shop id>'`, sent by `backfill::start`, a
//! retry, or an arriving `bulk_operations/finish` webhook), running one job per shop at a time.
//! Several servers on one database each see every job; the one holding its lease
//! (`backfill::lease`) runs it, and the others try again at their next scan.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;

use super::runner::Runner;
use super::{jobs, CHANNEL};
use crate::app::AppState;
use crate::store::ShopId;

const RESCAN: Duration = Duration::from_secs(2);

pub fn spawn(state: AppState, mut stop: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let runner = match runner(&state) {
            Ok(r) => Arc::new(r),
            Err(e) => {
                tracing::error!(error = %e, "backfills cannot run");
                return;
            }
        };
        let mut listener = listen(&state).await;
        let mut running: HashMap<ShopId, JoinHandle<()>> = HashMap::new();
        // Notifications can be missed (sent before this listened, or while reconnecting):
        // look for queued jobs every few seconds too.
        let mut tick = tokio::time::interval(RESCAN);
        loop {
            pick_up(&runner, &mut running, &stop).await;
            let notified = async {
                match listener.as_mut() {
                    Some(l) => l
                        .recv()
                        .await
                        .ok()
                        .and_then(|n| n.payload().parse::<i64>().ok()),
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                shop = notified => {
                    if let Some(shop) = shop {
                        let _ = runner.wake.send(shop);
                    } else {
                        // The connection dropped; PgListener reconnects on the next recv.
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
                _ = tick.tick() => {}
                _ = stop.changed() => break,
            }
        }
        for (_, job) in running {
            let _ = job.await;
        }
    })
}

fn runner(state: &AppState) -> anyhow::Result<Runner> {
    let settings = state.settings.backfill.clone();
    let http = reqwest::Client::builder()
        .read_timeout(Duration::from_secs_f64(settings.download_read_timeout_secs))
        .connect_timeout(Duration::from_secs(30))
        .build()?;
    Ok(Runner {
        pool: state.pool.clone(),
        shop_api: state.shop_api.clone(),
        settings,
        http,
        applier: state.applier.clone(),
        wake: broadcast::channel(64).0,
    })
}

async fn listen(state: &AppState) -> Option<PgListener> {
    let mut listener = match PgListener::connect_with(&state.pool).await {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for backfill requests; polling only");
            return None;
        }
    };
    match listener.listen(CHANNEL).await {
        Ok(()) => Some(listener),
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for backfill requests; polling only");
            None
        }
    }
}

/// Starts a task for every unfinished job whose shop has none running.
async fn pick_up(
    runner: &Arc<Runner>,
    running: &mut HashMap<ShopId, JoinHandle<()>>,
    stop: &watch::Receiver<bool>,
) {
    running.retain(|_, job| !job.is_finished());
    let unfinished = match jobs::unfinished(&runner.pool).await {
        Ok(list) => list,
        Err(e) => {
            tracing::warn!(error = %e, "looking for backfills to run failed");
            return;
        }
    };
    for (shop, job_id) in unfinished {
        if running.contains_key(&shop) {
            continue;
        }
        let runner = runner.clone();
        let stop = stop.clone();
        running.insert(
            shop,
            tokio::spawn(async move { runner.drive(shop, job_id, stop).await }),
        );
    }
}
