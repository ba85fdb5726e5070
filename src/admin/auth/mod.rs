//! Placeholder of the access layer's contract (replaced by the real one).

use crate::store::ShopId;

/// The shop an admin request proved it belongs to.
pub struct AdminShop {
    pub shop: ShopId,
    pub domain: String,
    pub csrf: String,
    pub embedded: bool,
}

/// Placeholder: the real check compares the form's token with the session's.
pub fn verify_csrf(_shop: &AdminShop, _token: &str) -> Result<(), axum::response::Response> {
    Ok(())
}

impl axum::extract::FromRequestParts<crate::app::AppState> for AdminShop {
    type Rejection = axum::response::Response;

    async fn from_request_parts(
        _parts: &mut axum::http::request::Parts,
        _state: &crate::app::AppState,
    ) -> Result<Self, Self::Rejection> {
        use axum::response::IntoResponse;
        Err(axum::http::StatusCode::UNAUTHORIZED.into_response())
    }
}
