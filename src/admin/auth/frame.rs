//! Who may frame an admin response: Shopify admin of the verified shop when the request came
//! from the embedded app, nobody otherwise (`Content-Security-Policy: frame-ancestors`).

use std::sync::{Arc, Mutex};

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

use crate::shopify::ShopDomain;

/// Filled by the `AdminShop` extractor (or the bounce page) with the shop whose Shopify admin
/// may frame the response; read by [`frame_policy`] once the handler has answered.
#[derive(Clone, Default)]
pub(super) struct FrameSlot(Arc<Mutex<Option<ShopDomain>>>);

impl FrameSlot {
    pub(super) fn allow(&self, shop: &ShopDomain) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(shop.clone());
        }
    }

    fn shop(&self) -> Option<ShopDomain> {
        self.0.lock().ok().and_then(|slot| slot.clone())
    }
}

/// The `frame-ancestors` directive for an embedded response of `shop`, or for none.
pub fn frame_ancestors(shop: Option<&ShopDomain>) -> String {
    match shop {
        Some(shop) => format!("frame-ancestors https://{shop} https://admin.shopify.com;"),
        None => "frame-ancestors 'none';".to_owned(),
    }
}

/// Middleware for every `/admin` route: adds the `frame-ancestors` policy (appended to a
/// `Content-Security-Policy` the handler set itself), `Cache-Control: no-store` unless the
/// handler chose a cache policy, and `X-Content-Type-Options: nosniff`.
pub async fn frame_policy(mut request: Request, next: Next) -> Response {
    let slot = FrameSlot::default();
    request.extensions_mut().insert(slot.clone());
    let mut response = next.run(request).await;
    let directive = frame_ancestors(slot.shop().as_ref());
    let headers = response.headers_mut();
    let policy = match headers
        .get(header::CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
    {
        Some(own) if !own.contains("frame-ancestors") => {
            format!("{}; {directive}", own.trim_end().trim_end_matches(';'))
        }
        Some(own) => own.to_owned(),
        None => directive,
    };
    if let Ok(value) = HeaderValue::from_str(&policy) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}
