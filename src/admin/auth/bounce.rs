//! The bounce page and `whoami`.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use serde_json::{json, Value};

use super::frame::FrameSlot;
use super::pages::{self, Bounce};
use super::AdminShop;
use crate::app::AppState;
use crate::shopify::ShopDomain;

/// `GET /admin/auth/session-token?shop=…&shopify-reload=<url>`: a page that only loads App
/// Bridge, which fetches a fresh session token and reloads `shopify-reload` with it. Shows no
/// data, so the `shop` it may be framed by is taken from the query as Shopify's libraries do.
pub(super) async fn bounce(State(state): State<AppState>, request: Request) -> Response {
    let pairs: Vec<(String, String)> =
        form_urlencoded::parse(request.uri().query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let get = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    if let (Some(shop), Some(slot)) = (
        get("shop").and_then(|s| ShopDomain::parse(s).ok()),
        request.extensions().get::<FrameSlot>(),
    ) {
        slot.allow(&shop);
    }
    let reload = super::next::safe_next(get("shopify-reload").unwrap_or("/admin"));
    let page = Bounce {
        app_bridge_key: Some(&state.settings.shopify.api_key),
        reload,
    };
    pages::render(StatusCode::OK, &page)
}

/// `GET /admin/auth/whoami`: `{"shop": "<domain>", "embedded": bool}` for the caller.
pub(super) async fn whoami(shop: AdminShop) -> Json<Value> {
    Json(json!({ "shop": shop.domain, "embedded": shop.embedded }))
}
