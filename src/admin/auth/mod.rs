//! Who may see the merchant dashboard: every `/admin` handler takes an [`AdminShop`], which
//! only exists for a request that proved its shop, and shows that shop only.
//!
//! **Embedded in Shopify admin.** The first document load carries `id_token` (with `shop`,
//! `host`, `hmac`, `timestamp`) in the query; later fetches carry `Authorization: Bearer
//! <session token>`. Either is verified as SHOPIFY.md §6 says: HS256 with the app secret (or the
//! previous one during a rotation), `aud` = `shopify.api_key`, `exp`/`nbf` with
//! `admin.session_token_leeway_secs` of leeway, the shop from `dest` (`iss` must agree). When
//! shoprecs holds no working access token for that shop (a managed install, a re-install, a
//! revoked token), the session token is exchanged for one (`crate::install::exchange`); an
//! unknown shop whose exchange fails is refused with a page saying how to install. The token
//! is the proof, so the query's `hmac` is not checked again. An invalid token on a document load redirects to the bounce page
//! (`/admin/auth/session-token?…&shopify-reload=<url>`), which loads App Bridge to reload the
//! page with a fresh token; on a fetch (an `Authorization` header, `Accept: application/json`
//! or `X-Requested-With`) it is a 401 with `X-Shopify-Retry-Invalid-Session-Request: 1`.
//! Embedded pages must load App Bridge first in `<head>`: include `admin/app_bridge.html` with
//! `app_bridge_key: AdminShop::app_bridge_key(&settings)`.
//!
//! **Self-hosted (and the demo).** `shoprecs admin-token --shop S` prints a per-shop token once
//! (only its hash is kept). `POST /admin/login` with shop and token opens a session: a random
//! secret, stored hashed, for `admin.session_hours`, in the cookie `shoprecs_admin` (`HttpOnly;
//! SameSite=Strict; Path=/admin`, `Secure` unless `admin.secure_cookie = false`; browsers keep
//! Secure cookies on http://localhost and http://127.0.0.1, so the demo needs no change). A
//! document request without a valid session is redirected to `/admin/login?next=<path>`; after
//! login only local `/admin…` paths are followed. `POST /admin/logout` ends the session.
//! Logins are rate-limited per shop (`admin.login_attempts_per_minute`), tokens compared in
//! constant time, and a login form posted from another origin is refused (login CSRF).
//!
//! **CSRF.** Every form post must carry the session's token, `AdminShop::csrf`, in the `csrf`
//! field (or the `X-CSRF-Token` header); the handler calls [`verify_csrf`] before changing
//! anything, and a mismatch is a 403 page. Self-hosted, the token is random per session and
//! stored with it (synchronizer token); SameSite=Strict is a second line. Embedded requests
//! authenticated by a bearer session token cannot be forged cross-site (a browser attaches no
//! such header by itself), but forms still carry the field: its value is an HMAC of shop and
//! the token's `sid` with the app secret, so it needs no storage.
//!
//! **Framing.** The [`frame_policy`] middleware wraps every `/admin` route and sends
//! `Content-Security-Policy: frame-ancestors https://<shop> https://admin.shopify.com;` when the
//! request was verified as embedded (or is the bounce page), and `frame-ancestors 'none';`
//! otherwise; it also sends `Cache-Control: no-store` unless the handler set a cache policy.

mod bounce;
mod cookie;
mod csrf;
mod extract;
mod frame;
mod login;
mod next;
pub(crate) mod pages;
pub mod session_token;

use axum::routing::{get, post};
use axum::Router;

use crate::app::AppState;

pub use cookie::COOKIE;
pub use csrf::{csrf_header, verify_csrf, CSRF_HEADER};
pub use extract::{AdminShop, RETRY_HEADER};
pub use frame::{frame_ancestors, frame_policy};
pub use login::{open_session, LoginLimiter};
pub use next::safe_next;

/// The login page.
pub const LOGIN_PATH: &str = "/admin/login";
/// The page that makes App Bridge reload a document with a fresh session token.
pub const BOUNCE_PATH: &str = "/admin/auth/session-token";

/// The access routes: login, logout, the bounce page and `whoami`. Wrap the whole `/admin`
/// router (these and the pages) in [`frame_policy`].
pub fn admin_routes() -> Router<AppState> {
    Router::new()
        .route(LOGIN_PATH, get(login::form).post(login::login))
        .route("/admin/logout", post(login::logout))
        .route(BOUNCE_PATH, get(bounce::bounce))
        .route("/admin/auth/whoami", get(bounce::whoami))
}
