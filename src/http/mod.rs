//! The HTTP surfaces, assembled in one router with middleware added once at the root.

pub mod api;
pub mod error;
pub mod extract;
pub mod health;
pub mod metrics;
pub mod pixel;
pub mod proxy;
pub mod webhooks;

use std::time::Duration;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{HeaderName, Method, StatusCode};
use axum::routing::{get, post};
use axum::Router;
use tower_http::cors::{Any, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::app::AppState;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub fn router(state: AppState) -> Router {
    let settings = &state.settings;
    let webhooks = Router::new()
        .route("/webhooks", post(webhooks::receive))
        .layer(DefaultBodyLimit::max(settings.webhooks.max_body_bytes));
    // Any storefront origin may post; text/plain bodies need no preflight at all.
    let pixel = Router::new()
        .route("/pixel/events", post(pixel::receive))
        .layer(DefaultBodyLimit::max(settings.pixel.max_body_bytes))
        .layer(
            CorsLayer::new()
                .allow_origin(Any)
                .allow_methods([Method::POST, Method::OPTIONS])
                .allow_headers([axum::http::header::CONTENT_TYPE])
                .max_age(Duration::from_secs(86_400)),
        );
    // The merchant dashboard: access routes (and, later, the pages), all behind one framing
    // policy.
    let admin = Router::new()
        .merge(crate::admin::auth::admin_routes())
        .merge(crate::admin::pages::routes())
        .layer(axum::middleware::from_fn(crate::admin::auth::frame_policy));
    let timeout = Duration::from_secs(settings.server.request_timeout_secs);
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::render))
        .merge(webhooks)
        .merge(pixel)
        .merge(api::router())
        .merge(proxy::router())
        .merge(admin)
        .merge(crate::install::routes())
        .with_state(state)
        .layer(axum::middleware::from_fn(metrics::track))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            timeout,
        ))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let route = req
                .extensions()
                .get::<MatchedPath>()
                .map(MatchedPath::as_str)
                .unwrap_or("unmatched");
            let request_id = req
                .headers()
                .get(&REQUEST_ID)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            // The path only, never the query string (it can carry customer ids and signatures).
            tracing::info_span!("request", method = %req.method(), route, request_id)
        }))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}
