//! CSRF protection of every form post (see the module doc of `admin::auth`).

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use subtle::ConstantTimeEq;

use super::AdminShop;

/// The header a script may send the CSRF token in instead of the `csrf` form field.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Checks a posted CSRF token (the form's `csrf` field, or the `X-CSRF-Token` header via
/// [`csrf_header`]) against the session's, in constant time. A mismatch is answered with a 403
/// page that tells the merchant to reload and try again.
#[expect(
    clippy::result_large_err,
    reason = "handlers return the rejection with `?`; it is built once per refused post"
)]
pub fn verify_csrf(shop: &AdminShop, form_token: &str) -> Result<(), Response> {
    let expected = shop.csrf.as_bytes();
    if !expected.is_empty() && bool::from(expected.ct_eq(form_token.as_bytes())) {
        return Ok(());
    }
    tracing::info!(shop.domain = %shop.domain, "admin form refused: CSRF token missing or wrong");
    Err(super::pages::denied(
        StatusCode::FORBIDDEN,
        "This form has expired",
        "The form was not sent from an open shoprecs page, or your session changed since it \
         was loaded. Nothing was changed. Go back, reload the page and try again.",
    ))
}

/// The `X-CSRF-Token` header, for posts sent by scripts rather than forms.
pub fn csrf_header(headers: &HeaderMap) -> Option<&str> {
    headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok())
}
