//! Installing shoprecs on a shop (SHOPIFY.md §6): the authorization-code grant (`GET /auth` →
//! Shopify → `GET /auth/callback`), token exchange for the embedded dashboard, and the
//! post-install steps that make a fresh install useful at once.
//!
//! Post-install is idempotent; it runs after every new token (install, re-install, token
//! exchange after a revoked token) and only creates what is missing:
//! - [`webhooks`]: API webhook subscriptions for every topic of `shopify.app.toml` (for shops
//!   not covered by the app configuration, e.g. a custom app), pointing at `<app_url>/webhooks`;
//! - [`pixel`]: the web pixel, created or updated with `<app_url>` and the shop;
//! - [`start_backfill`]: asks for the history to be imported.
//!
//! Each step's outcome is recorded (`store::install`) for the dashboard's health page. A step
//! whose scope was not granted is skipped with a message saying which.

pub mod exchange;
mod pages;
pub mod pixel;
mod routes;
mod state_cookie;
pub mod status;
pub mod webhooks;

use std::time::Duration;

use axum::http::HeaderMap;

use crate::app::AppState;
use crate::shop_api::{ConnectError, Connected};
use crate::store::install::{record_step, StepStatus};
use crate::store::ShopId;

pub use exchange::Installs;
pub use routes::routes;

/// How long a request (the OAuth callback, a first dashboard load) waits for the post-install
/// steps before answering; whatever is left goes on in the background.
const POST_INSTALL_BUDGET: Duration = Duration::from_secs(5);

/// How one step ended, with a sentence for the health page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepOutcome {
    Done(String),
    Skipped(String),
    Failed(String),
}

impl StepOutcome {
    fn status(&self) -> (StepStatus, &str) {
        match self {
            Self::Done(m) => (StepStatus::Ok, m),
            Self::Skipped(m) => (StepStatus::Skipped, m),
            Self::Failed(m) => (StepStatus::Failed, m),
        }
    }
}

/// Why a call failed, as a merchant can act on it (never the token).
fn failure(error: &ConnectError) -> String {
    match error {
        ConnectError::ReauthRequired => {
            "Shopify refused the access token: open the app from Shopify admin, or install again at /auth".into()
        }
        other => other.to_string(),
    }
}

/// The server's public base URL: `shopify.app_url`, or else the scheme and host the request
/// came in with (`X-Forwarded-Proto` from a TLS-terminating proxy, else http).
pub fn app_url(state: &AppState, headers: &HeaderMap) -> String {
    let configured = state.settings.shopify.app_url.trim().trim_end_matches('/');
    if !configured.is_empty() {
        return configured.to_owned();
    }
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let scheme = match header("x-forwarded-proto") {
        Some("https") => "https",
        _ => "http",
    };
    let host = header("host").unwrap_or("localhost");
    format!("{scheme}://{host}")
}

/// The one place a backfill is started from (install, re-install): queues a job for the
/// backfill worker (`crate::backfill`), unless one is still running. Products need
/// `read_products`; orders older than 60 days need `read_all_orders` too (the backfill then
/// reports what Shopify refused).
pub async fn start_backfill(state: &AppState, shop: ShopId) -> StepOutcome {
    let today = state.now().date_naive();
    match crate::backfill::start(&state.pool, &state.settings.backfill, shop, today).await {
        Ok(job) => StepOutcome::Done(format!(
            "history import {} (orders since {})",
            if job.is_active() {
                "queued"
            } else {
                "finished"
            },
            job.orders_since
        )),
        Err(e) => StepOutcome::Failed(format!("could not queue the history import: {e}")),
    }
}

/// Runs every post-install step once and records how each ended. Safe to run any number of
/// times: nothing that exists is created again.
pub async fn post_install(state: &AppState, shop: ShopId, app_url: &str) {
    let record = |step: &'static str, outcome: StepOutcome| async move {
        let (status, message) = outcome.status();
        if status == StepStatus::Failed {
            tracing::warn!(
                shop = shop.0,
                step,
                reason = message,
                "post-install step failed"
            );
        }
        if let Err(e) = record_step(&state.pool, shop, step, status, message, state.now()).await {
            tracing::error!(shop = shop.0, step, error = %e, "could not record a post-install step");
        }
    };
    match state.shop_api.connect(shop).await {
        Ok(connected) => {
            record("webhooks", webhooks::ensure(&connected, app_url).await).await;
            record("pixel", pixel::ensure(&connected, app_url).await).await;
        }
        Err(e) => {
            let reason = failure(&e);
            record("webhooks", StepOutcome::Failed(reason.clone())).await;
            record("pixel", StepOutcome::Failed(reason)).await;
        }
    }
    record("backfill", start_backfill(state, shop).await).await;
}

/// Post-install for a request that just stored a token: waits up to [`POST_INSTALL_BUDGET`],
/// then lets the rest finish in the background (the answer does not depend on it).
pub async fn post_install_within_budget(state: &AppState, shop: ShopId, app_url: String) {
    let task = {
        let state = state.clone();
        tokio::spawn(async move { post_install(&state, shop, &app_url).await })
    };
    if tokio::time::timeout(POST_INSTALL_BUDGET, task)
        .await
        .is_err()
    {
        tracing::info!(shop = shop.0, "post-install goes on in the background");
    }
}

/// Whether `connected` was granted every scope in `scopes`; otherwise the message to show.
fn missing_scopes(connected: &Connected, scopes: &[&str]) -> Option<String> {
    let missing: Vec<&str> = scopes
        .iter()
        .copied()
        .filter(|s| !connected.has_scope(s))
        .collect();
    (!missing.is_empty()).then(|| {
        format!(
            "skipped: the scope {} was not granted (add it to shopify.scopes and install again at /auth?shop={})",
            missing.join(", "),
            connected.domain
        )
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use figment::providers::Format;

    use serde::Deserialize;

    #[derive(Deserialize)]
    struct AppToml {
        access_scopes: AccessScopes,
        auth: Auth,
    }

    #[derive(Deserialize)]
    struct AccessScopes {
        scopes: String,
        use_legacy_install_flow: bool,
    }

    #[derive(Deserialize)]
    struct Auth {
        redirect_urls: Vec<String>,
    }

    fn set(scopes: &str) -> BTreeSet<&str> {
        scopes.split(',').map(str::trim).collect()
    }

    #[test]
    fn shopify_app_toml_asks_for_the_configured_scopes_and_redirects_to_the_callback() {
        let toml: AppToml = figment::Figment::from(figment::providers::Toml::string(include_str!(
            "../../shopify.app.toml"
        )))
        .extract()
        .expect("shopify.app.toml parses");
        let settings = crate::config::Settings::defaults().expect("defaults");
        assert_eq!(
            set(&toml.access_scopes.scopes),
            set(&settings.shopify.scopes)
        );
        assert!(!toml.access_scopes.use_legacy_install_flow);
        assert!(!toml.auth.redirect_urls.is_empty());
        assert!(toml
            .auth
            .redirect_urls
            .iter()
            .all(|u| u.starts_with("https://") && u.ends_with("/auth/callback")));
    }
}
