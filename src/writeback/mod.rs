//! Writing back to Shopify through the Admin API, for shops that connected it:
//!
//! - **Segment tags** (opt-in per shop, dashboard → Settings; needs `write_customers`): each
//!   customer with a segment carries `<prefix>new|returning|at-risk|lapsed` and, for VIPs,
//!   `<prefix>vip`, so Shopify Email, Flow and Klaviyo segments can use them. Only customers
//!   whose segment changed since their tags were set are sent, in batches of
//!   `writeback.tag_batch` customers per request (their `tagsAdd`/`tagsRemove` mutations
//!   aliased in one GraphQL call). Only tags shoprecs set are removed; switching the option
//!   off removes them all.
//! - **Bundle discount codes** (shops that granted `write_discounts`): an abandoned checkout's
//!   offer gets a single-use percentage code limited to the bundle's products
//!   (`discountCodeBasicCreate`), valid `writeback.discount_valid_hours`; its
//!   `checkout.abandoned` event is sent when the code exists, carrying it (and the e-mail
//!   block shows it). The code is derived from the checkout with a key, so a retried creation
//!   meets "code taken" and reuses the first discount instead of making another.
//!
//! A round runs every `writeback.interval_secs`; a shop that cannot be called is skipped (its
//! pending offers go out without codes).

mod codes;
pub mod discounts;
mod tag_sync;
pub mod tags;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use secrecy::ExposeSecret;
use sha2::Sha256;
use tokio::sync::watch;

use crate::app::AppState;
use crate::store::{abandoned, shop_settings, shops, ShopId};

pub use codes::CodeReport;
pub use tag_sync::TagReport;

/// What a round did, over all shops.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RoundReport {
    pub tags: TagReport,
    pub codes: CodeReport,
    /// Shops with work that could not be called (no token, re-auth needed, missing scope).
    pub skipped_shops: u64,
}

/// The key bundle codes are derived with (from the app secret, never stored).
fn code_key(state: &AppState) -> Vec<u8> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(state.secrets.api_secret.expose_secret().as_bytes())
            .unwrap_or_else(|_| unreachable!());
    mac.update(b"shoprecs bundle discount codes");
    mac.finalize().into_bytes().to_vec()
}

/// One round over every installed shop.
pub async fn run_round(state: &AppState, now: DateTime<Utc>) -> anyhow::Result<RoundReport> {
    let mut report = RoundReport::default();
    for shop in shops::installed(&state.pool).await? {
        if let Err(e) = run_shop(state, shop, now, &mut report).await {
            tracing::warn!(shop.id = shop.0, error = %e, "writing back to Shopify failed");
            report.skipped_shops += 1;
        }
    }
    Ok(report)
}

async fn run_shop(
    state: &AppState,
    shop: ShopId,
    now: DateTime<Utc>,
    report: &mut RoundReport,
) -> anyhow::Result<()> {
    let pool = &state.pool;
    let settings = &state.settings.writeback;
    let tagging = shop_settings::get(pool, shop)
        .await?
        .sync_segment_tags
        .unwrap_or(false);
    let tag_work = if tagging {
        !crate::store::tag_sync::due(pool, shop, 1).await?.is_empty()
    } else {
        !crate::store::tag_sync::to_untag(pool, shop, 1)
            .await?
            .is_empty()
    };
    let code_work = abandoned::has_pending_codes(pool, shop).await?;
    if !tag_work && !code_work {
        return Ok(());
    }
    let connected = match state.shop_api.connect(shop).await {
        Ok(connected) => connected,
        Err(e) => {
            report.skipped_shops += 1;
            if code_work {
                codes::give_up_all(pool, shop, &e.to_string(), now).await?;
            }
            return Ok(());
        }
    };
    if tag_work {
        if connected.has_scope("write_customers") {
            let r = tag_sync::sync_shop(pool, &connected, settings, tagging).await?;
            report.tags.customers += r.customers;
            report.tags.requests += r.requests;
            report.tags.errors += r.errors;
        } else {
            report.skipped_shops += 1;
        }
    }
    if code_work {
        let r = codes::issue_pending(pool, &connected, &code_key(state), settings, now).await?;
        report.codes.created += r.created;
        report.codes.failed += r.failed;
        report.codes.retrying += r.retrying;
        state.outbox.wake();
    }
    Ok(())
}

/// Runs a round every `writeback.interval_secs` until `stop`.
pub fn spawn(state: AppState, mut stop: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let every = std::time::Duration::from_secs_f64(state.settings.writeback.interval_secs);
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    if let Err(e) = run_round(&state, state.now()).await {
                        tracing::warn!(error = %e, "write-back round failed");
                    }
                }
                _ = stop.changed() => return,
            }
        }
    })
}
