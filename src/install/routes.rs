//! `GET /auth` and `GET /auth/callback`: the authorization-code grant (SHOPIFY.md §6).
//!
//! `/auth?shop=<name>.myshopify.com` sets a signed state cookie and redirects the merchant to
//! Shopify's approval page with `shopify.scopes` and `<app_url>/auth/callback`. The callback
//! is checked in this order, each refusal a short page naming the reason: the query's `hmac`
//! (401), its `timestamp` within 90 s of now (401), the shop domain (400), the state nonce
//! against the cookie: same shop, same nonce, not expired, never used before (403). Then the
//! code is exchanged for an offline token, which is sealed and stored, the post-install steps
//! run, and the merchant gets a dashboard session and lands on the data health page (a small
//! page that navigates there, so the new SameSite=Strict cookie is sent).

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::state_cookie::{self, StateError};
use super::{app_url, pages, post_install_within_budget};
use crate::admin_api::AdminApiError;
use crate::app::AppState;
use crate::shopify::oauth_query::{self, QueryError};
use crate::shopify::ShopDomain;
use crate::store::{install, shops, ShopId};

/// Seconds a callback's `timestamp` may be away from now (Shopify's libraries use 90).
const MAX_SKEW_SECS: i64 = 90;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth", get(start))
        .route("/auth/callback", get(callback))
}

fn param(query: &str, key: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// `GET /auth?shop=…`: starts an install.
pub async fn start(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let raw = param(query.as_deref().unwrap_or(""), "shop").unwrap_or_default();
    let shop = match ShopDomain::parse(&raw) {
        Ok(shop) => shop,
        Err(e) => {
            return pages::refused(
                StatusCode::BAD_REQUEST,
                "Not a shop",
                &format!("{e}. Open /auth?shop=<your-store>.myshopify.com."),
                None,
            )
        }
    };
    if state.settings.shopify.api_key.is_empty() {
        return pages::refused(
            StatusCode::SERVICE_UNAVAILABLE,
            "Not configured",
            "This server has no Shopify API key: set SHOPRECS_SHOPIFY__API_KEY to the app's client id.",
            None,
        );
    }
    let base = app_url(&state, &headers);
    let (nonce, cookie) = state_cookie::issue(&state.secrets.api_secret, &shop, state.now());
    let authorize = state.shop_api.api.authorize_url(
        &shop,
        &state.settings.shopify.scopes,
        &format!("{base}/auth/callback"),
        &nonce,
    );
    tracing::info!(shop = shop.as_str(), "install started");
    let redirect = (StatusCode::FOUND, [(header::LOCATION, authorize)]).into_response();
    with_cookie(
        redirect,
        &state_cookie::set_cookie(&cookie, state.settings.admin.secure_cookie),
    )
}

/// Why a callback was refused.
enum Refusal {
    Signature(QueryError),
    Shop(String),
    State(StateError),
    Reused,
    NoCode,
    Exchange(AdminApiError),
    Internal(anyhow::Error),
}

impl Refusal {
    fn into_response(self, shop: Option<&ShopDomain>) -> Response {
        let retry = shop.map(ShopDomain::as_str);
        let (status, title, message) = match self {
            Self::Signature(e) => (
                StatusCode::UNAUTHORIZED,
                "Request not from Shopify",
                format!("This install callback could not be verified: {e}."),
            ),
            Self::Shop(reason) => (StatusCode::BAD_REQUEST, "Not a shop", reason),
            Self::State(e) => (StatusCode::FORBIDDEN, "Install not recognised", format!("{e}.")),
            Self::Reused => (
                StatusCode::FORBIDDEN,
                "Install link already used",
                "This install callback was used before; start the install again.".to_owned(),
            ),
            Self::NoCode => (
                StatusCode::BAD_REQUEST,
                "No authorization code",
                "Shopify sent no authorization code; start the install again.".to_owned(),
            ),
            Self::Exchange(AdminApiError::Refused { status, .. }) => (
                StatusCode::BAD_REQUEST,
                "Shopify refused the install",
                format!("Shopify did not accept the authorization code (HTTP {status}); start the install again."),
            ),
            Self::Exchange(e) => {
                tracing::warn!(error = %e, "code exchange failed");
                (
                    StatusCode::BAD_GATEWAY,
                    "Shopify did not answer",
                    "Shopify could not be reached to finish the install; try again in a moment.".to_owned(),
                )
            }
            Self::Internal(e) => {
                tracing::error!(error = format!("{e:#}"), "install callback failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Install failed",
                    "Something went wrong on our side; start the install again in a moment.".to_owned(),
                )
            }
        };
        pages::refused(status, title, &message, retry)
    }
}

/// `GET /auth/callback`: finishes an install and opens a dashboard session (Shopify just
/// proved the merchant), landing on the data health page.
pub async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let query = query.unwrap_or_default();
    let secure = state.settings.admin.secure_cookie;
    let shop = param(&query, "shop").and_then(|s| ShopDomain::parse(&s).ok());
    let response = match finish(&state, &headers, &query).await {
        Ok((shop, domain)) => match crate::admin::auth::open_session(&state, shop, None).await {
            Ok(cookie) => pages::installed(domain.as_str(), cookie),
            Err(e) => Refusal::Internal(e.into()).into_response(Some(&domain)),
        },
        Err(refusal) => {
            let known = match &refusal {
                Refusal::Signature(_) | Refusal::Shop(_) => None,
                _ => shop.as_ref(),
            };
            refusal.into_response(known)
        }
    };
    with_cookie(response, &state_cookie::clear_cookie(secure))
}

async fn finish(
    state: &AppState,
    headers: &HeaderMap,
    query: &str,
) -> Result<(ShopId, ShopDomain), Refusal> {
    let now = state.now();
    let verified = oauth_query::verify(
        state.webhook_secrets(),
        query,
        now.timestamp(),
        MAX_SKEW_SECS,
    )
    .map_err(Refusal::Signature)?;
    let shop = ShopDomain::parse(verified.get("shop").unwrap_or(""))
        .map_err(|e| Refusal::Shop(e.to_string()))?;
    let cookie = state_cookie::read(headers);
    let checked = state_cookie::check(
        cookie.as_deref(),
        verified.get("state").unwrap_or(""),
        &shop,
        state.webhook_secrets(),
        now,
    )
    .map_err(Refusal::State)?;
    let code = verified
        .get("code")
        .filter(|c| !c.is_empty())
        .ok_or(Refusal::NoCode)?;
    let internal = |e: sqlx::Error| Refusal::Internal(e.into());
    let shop_id = shops::resolve_or_create(&state.pool, &shop)
        .await
        .map_err(internal)?;
    let fresh = install::spend_state(
        &state.pool,
        shop_id,
        &checked.nonce_hash,
        checked.expires_at,
        now,
    )
    .await
    .map_err(internal)?;
    if !fresh {
        return Err(Refusal::Reused);
    }
    let token = state
        .shop_api
        .api
        .exchange_code(&shop, code)
        .await
        .map_err(Refusal::Exchange)?;
    state
        .shop_api
        .store_token(shop_id, &token)
        .await
        .map_err(|e| Refusal::Internal(e.into()))?;
    tracing::info!(shop = shop.as_str(), scopes = %token.scope, "installed: access token stored");
    post_install_within_budget(state, shop_id, app_url(state, headers)).await;
    Ok((shop_id, shop))
}
