//! `/proxy/*`: what the theme app extension fetches through Shopify's app proxy
//! (`/apps/recs/*` on the storefront). Every request must carry a valid, fresh app-proxy
//! signature; the shop and the logged-in customer are taken only from the verified query.

pub mod cache;
pub mod money;
pub mod token;
mod track;
mod widget;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::routing::{get, post};
use axum::Router;

use super::error::AppError;
use crate::app::AppState;
use crate::shopify::app_proxy::{self, ProxyError, VerifiedQuery};
use crate::shopify::ShopDomain;
use crate::store::ShopId;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/proxy/widget", get(widget::render))
        .route("/proxy/track", post(track::record))
}

/// A storefront request Shopify signed: the shop, the logged-in customer (if any) and the
/// shopper's own parameters, all from the verified query.
pub struct ProxyRequest {
    pub shop: ShopId,
    pub domain: ShopDomain,
    pub customer_id: Option<i64>,
    pub path_prefix: String,
    pub query: VerifiedQuery,
}

impl FromRequestParts<AppState> for ProxyRequest {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let raw = parts.uri.query().unwrap_or("");
        let now = state.now().timestamp();
        let max_age = state.settings.storefront.proxy_max_age_secs;
        let query =
            app_proxy::verify(state.webhook_secrets(), raw, now, max_age).map_err(|e| match e {
                ProxyError::Stale(..) => {
                    AppError::Unauthorized(format!("stale app-proxy request: {e}"))
                }
                other => AppError::Unauthorized(other.to_string()),
            })?;
        let domain = ShopDomain::parse(query.get("shop").unwrap_or(""))
            .map_err(|e| AppError::Unauthorized(e.to_string()))?;
        let shop = state
            .shops
            .installed(&state.pool, &domain)
            .await?
            .ok_or_else(|| {
                AppError::NotFound(format!("shop {domain} does not have shoprecs installed"))
            })?;
        let customer_id = query
            .get("logged_in_customer_id")
            .and_then(|c| c.parse::<i64>().ok())
            .filter(|c| *c > 0);
        let path_prefix = query.get("path_prefix").unwrap_or("/apps/recs").to_owned();
        Ok(Self {
            shop,
            domain,
            customer_id,
            path_prefix,
            query,
        })
    }
}
