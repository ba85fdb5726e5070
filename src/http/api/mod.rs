//! `/api/v1`: the JSON API for email/SMS tools and headless storefronts. Every request proves
//! its shop with a per-shop API key (`Authorization: Bearer srk_…`); the shop comes only from
//! the key.

mod abandoned;
mod backfill;
mod customers;
mod engagement;
mod events;
mod openapi;
pub use openapi::ApiDoc;
mod recommendations;
pub(crate) use recommendations::parse_ids;
mod rules;
mod segments;
mod stats;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::routing::{delete, get, post, put};
use axum::Router;

use super::error::AppError;
use crate::app::AppState;
use crate::store::{api_keys, ShopId};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/products/{product_id}/recommendations",
            get(recommendations::for_product),
        )
        .route(
            "/api/v1/cart/recommendations",
            get(recommendations::for_cart),
        )
        .route(
            "/api/v1/customers/{customer_id}/recommendations",
            get(recommendations::for_customer),
        )
        .route("/api/v1/bestsellers", get(recommendations::bestsellers))
        .route("/api/v1/trending", get(recommendations::trending))
        .route("/api/v1/rules", get(rules::list).post(rules::create))
        .route("/api/v1/rules/{rule_id}", delete(rules::delete))
        .route("/api/v1/stats/widgets", get(stats::widgets))
        .route("/api/v1/segments", get(segments::list))
        .route("/api/v1/segments/policy", put(segments::set_policy))
        .route("/api/v1/segments/{name}/customers", get(segments::members))
        .route("/api/v1/customers/{customer_id}", get(customers::show))
        .route(
            "/api/v1/customers/{customer_id}/email-block",
            get(customers::email_block),
        )
        .route("/api/v1/engagement", get(engagement::series))
        .route("/api/v1/abandoned-checkouts", get(abandoned::list))
        .route(
            "/api/v1/event-endpoints",
            get(events::list_endpoints).post(events::create_endpoint),
        )
        .route("/api/v1/event-endpoints/test", post(events::send_test))
        .route(
            "/api/v1/event-endpoints/{endpoint_id}",
            delete(events::delete_endpoint),
        )
        .route("/api/v1/events", get(events::list_events))
        .route("/api/v1/backfill", get(backfill::progress))
        // Without a key: the document describes the API, not a shop.
        .route("/api/v1/openapi.json", get(openapi::document))
}

/// The shop an API key belongs to. A handler that takes it can only see that shop.
pub struct ApiShop(pub ShopId);

impl FromRequestParts<AppState> for ApiShop {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let key = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(|| {
                AppError::Unauthorized("missing `Authorization: Bearer <API key>`".into())
            })?;
        match api_keys::lookup(&state.pool, key).await? {
            Some((shop, true)) => Ok(Self(shop)),
            Some((_, false)) => Err(AppError::Forbidden(
                "the shop of this API key has uninstalled the app".into(),
            )),
            None => Err(AppError::Unauthorized("unknown or revoked API key".into())),
        }
    }
}
