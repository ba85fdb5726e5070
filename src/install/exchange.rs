//! Token exchange for the embedded dashboard (SHOPIFY.md §6): a verified session token for a
//! shop shoprecs holds no usable token for (unknown, uninstalled, never given a token, or
//! whose token Shopify refused) becomes an offline token without a redirect. This is how a
//! managed install (`shopify.app.toml`, `use_legacy_install_flow = false`) gets its token.
//!
//! - An unknown or uninstalled shop waits for the exchange: the page needs the shop.
//! - An installed shop (known from its webhooks) is served at once; the exchange runs in the
//!   background.
//! - One exchange per shop at a time, and after a failure none for [`RETRY_AFTER`], so a
//!   dashboard's burst of requests cannot become a burst of calls to Shopify.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::app::AppState;
use crate::shopify::ShopDomain;
use crate::store::install::token_state;
use crate::store::{shops, ShopId};

/// How long a failed exchange is remembered before a request may try again.
const RETRY_AFTER: Duration = Duration::from_secs(60);
/// The longest a request waits for an exchange (Shopify's answer, storing the token).
const EXCHANGE_BUDGET: Duration = Duration::from_secs(6);

/// Per-shop exchange state of this process (one per application).
#[derive(Default)]
pub struct Installs {
    shops: Mutex<HashMap<ShopDomain, Arc<tokio::sync::Mutex<Option<Failed>>>>>,
}

#[derive(Clone)]
struct Failed {
    at: Instant,
    reason: String,
}

impl Installs {
    fn slot(&self, shop: &ShopDomain) -> Arc<tokio::sync::Mutex<Option<Failed>>> {
        let mut shops = self.shops.lock().unwrap_or_else(|e| e.into_inner());
        if shops.len() > 10_000 {
            shops.retain(|_, slot| Arc::strong_count(slot) > 1);
        }
        shops.entry(shop.clone()).or_default().clone()
    }
}

/// Why the embedded dashboard cannot be served to a shop.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    #[error("Shopify did not issue an access token: {0}")]
    Refused(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// The shop a verified session token may see, exchanging the token for an access token when
/// shoprecs holds none that works. `app_url` is this server's base URL (post-install).
pub async fn embedded_shop(
    state: &AppState,
    domain: &ShopDomain,
    session_token: &str,
    app_url: String,
) -> Result<ShopId, ExchangeError> {
    let known = token_state(&state.pool, domain).await?;
    if let Some(known) = known {
        if known.usable() {
            return Ok(known.shop);
        }
        if known.installed {
            background(state, domain, session_token, app_url);
            return Ok(known.shop);
        }
    }
    let slot = state.installs.slot(domain);
    let mut last = tokio::time::timeout(EXCHANGE_BUDGET, slot.lock_owned())
        .await
        .map_err(|_| {
            ExchangeError::Refused("another connection attempt is still running".into())
        })?;
    // Another request may have connected the shop while this one waited.
    if let Some(now) = token_state(&state.pool, domain).await? {
        if now.usable() {
            return Ok(now.shop);
        }
    }
    if let Some(failed) = last.as_ref().filter(|f| f.at.elapsed() < RETRY_AFTER) {
        return Err(ExchangeError::Refused(failed.reason.clone()));
    }
    let outcome = tokio::time::timeout(
        EXCHANGE_BUDGET,
        exchange(state, domain, session_token, app_url),
    )
    .await
    .unwrap_or_else(|_| Err("Shopify did not answer in time".into()));
    match outcome {
        Ok(shop) => {
            *last = None;
            Ok(shop)
        }
        Err(reason) => {
            *last = Some(Failed {
                at: Instant::now(),
                reason: reason.clone(),
            });
            Err(ExchangeError::Refused(reason))
        }
    }
}

/// Starts an exchange for an installed shop unless one is running or failed recently.
fn background(state: &AppState, domain: &ShopDomain, session_token: &str, app_url: String) {
    let slot = state.installs.slot(domain);
    let Ok(mut last) = slot.try_lock_owned() else {
        return;
    };
    if last.as_ref().is_some_and(|f| f.at.elapsed() < RETRY_AFTER) {
        return;
    }
    let (state, domain, token) = (state.clone(), domain.clone(), session_token.to_owned());
    tokio::spawn(async move {
        let outcome = exchange(&state, &domain, &token, app_url).await;
        *last = outcome.err().map(|reason| Failed {
            at: Instant::now(),
            reason,
        });
    });
}

/// Exchanges, stores the token and runs post-install. The reason on failure is for the page
/// and the log (never the token).
async fn exchange(
    state: &AppState,
    domain: &ShopDomain,
    session_token: &str,
    app_url: String,
) -> Result<ShopId, String> {
    let token = state
        .shop_api
        .api
        .token_exchange(domain, session_token)
        .await
        .map_err(|e| {
            tracing::warn!(shop = domain.as_str(), error = %e, "token exchange failed");
            e.to_string()
        })?;
    let stored = async {
        let shop = shops::resolve_or_create(&state.pool, domain).await?;
        state.shop_api.store_token(shop, &token).await?;
        anyhow::Ok(shop)
    }
    .await;
    let shop = stored.map_err(|e| {
        tracing::error!(
            shop = domain.as_str(),
            error = format!("{e:#}"),
            "storing an exchanged token failed"
        );
        "the access token could not be stored".to_owned()
    })?;
    tracing::info!(shop = domain.as_str(), scopes = %token.scope, "access token obtained by token exchange");
    super::post_install_within_budget(state, shop, app_url).await;
    Ok(shop)
}
