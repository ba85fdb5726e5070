//! When the periodic sweep and the daily snapshot are due, per shop.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use sqlx::PgPool;

use super::LifecycleConfig;
use crate::store::{segments, ShopId};

/// Remembers when each shop was last swept (in this process; a restart sweeps at once).
#[derive(Default)]
pub struct SweepClock {
    last: Mutex<HashMap<ShopId, DateTime<Utc>>>,
}

impl SweepClock {
    /// Sweeps every shop whose sweep is due and takes the day's snapshot where it is missing.
    pub async fn run_due(
        &self,
        pool: &PgPool,
        shops: &[ShopId],
        config: &LifecycleConfig,
        interval: Duration,
        now: DateTime<Utc>,
    ) -> sqlx::Result<()> {
        for &shop in shops {
            let due = self
                .last
                .lock()
                .map(|m| {
                    m.get(&shop)
                        .is_none_or(|t| now - *t >= interval || *t > now)
                })
                .unwrap_or(true);
            if !due {
                continue;
            }
            let stats = super::sweep_shop(pool, shop, config, now).await?;
            if stats.changed > 0 {
                tracing::info!(
                    shop.id = shop.0,
                    changed = stats.changed,
                    events = stats.events,
                    "segments swept"
                );
            }
            let today = now.date_naive();
            let mut conn = pool.acquire().await?;
            if !segments::has_daily(&mut conn, shop, today).await? {
                drop(conn);
                let snap = super::snapshot_day(pool, shop, today, config, now).await?;
                tracing::info!(
                    shop.id = shop.0,
                    customers = snap.customers,
                    elapsed_ms = snap.elapsed_ms as u64,
                    "engagement snapshot taken"
                );
            }
            if let Ok(mut m) = self.last.lock() {
                m.insert(shop, now);
            }
        }
        Ok(())
    }
}
