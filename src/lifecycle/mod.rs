//! Lifecycle segments and engagement against the store: keeps every customer's segment
//! current (on each order and by a periodic sweep), records history, sends segment-change
//! events to the outbox, takes the daily engagement snapshot, and rebuilds history from the
//! orders. The rules themselves are pure, in `crate::segments`.

mod activity;
mod members;
mod policy;
mod rebuild;
mod runner;
mod snapshot;
mod sync;

pub use activity::record_browsing;
pub use members::{member, write_csv, Member, Selection};
pub use policy::{current_policy, policy_for_reading};
pub use rebuild::{rebuild_history, RebuildStats};
pub use runner::SweepClock;
pub use snapshot::{snapshot_day, SnapshotStats};
pub use sync::{sweep_shop, sync_customers, SyncStats};

use chrono::{DateTime, Utc};

use crate::config::Settings;
use crate::segments::{EngagementInputs, Facts, PolicySettings, Weights};
use crate::store::segments::CustomerFacts;

/// The settings lifecycle work needs.
#[derive(Debug, Clone)]
pub struct LifecycleConfig {
    pub policy: PolicySettings,
    pub weights: Weights,
    pub notify_within_hours: i64,
    pub rebuild_history_days: i64,
}

impl LifecycleConfig {
    pub fn from_settings(s: &Settings) -> Self {
        Self {
            policy: s.segments.clone(),
            weights: s.engagement.clone(),
            notify_within_hours: s.lifecycle.notify_within_hours,
            rebuild_history_days: s.lifecycle.rebuild_history_days,
        }
    }
}

/// What classification needs from a stored customer.
pub fn facts_of(c: &CustomerFacts) -> Facts {
    Facts {
        orders: c.orders_count.max(0) as u32,
        last_order_at: c.last_order_at,
        median_gap_days: c.median_gap_days,
        known_since: known_since(c),
    }
}

fn known_since(c: &CustomerFacts) -> Option<DateTime<Utc>> {
    [c.created_at, c.first_order_at, c.last_seen_at]
        .into_iter()
        .flatten()
        .filter(|t| t.timestamp() > 0)
        .min()
}

/// What the engagement score needs from a stored customer.
pub fn engagement_of(c: &CustomerFacts) -> EngagementInputs {
    EngagementInputs {
        orders: c.orders_count.max(0) as u32,
        last_order_at: c.last_order_at,
        net_spent: c.total_spent,
        activity: c.activity,
        activity_at: c.activity_at,
    }
}

/// Serialises lifecycle writes per shop (the applier's sync and the sweep), for the rest of
/// the transaction.
async fn lock_shop(conn: &mut sqlx::PgConnection, shop: crate::store::ShopId) -> sqlx::Result<()> {
    sqlx::query("select pg_advisory_xact_lock(7461, $1::int4)")
        .bind((shop.0 % i64::from(i32::MAX)) as i32)
        .execute(conn)
        .await?;
    Ok(())
}
