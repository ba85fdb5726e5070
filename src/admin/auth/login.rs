//! Self-hosted login: a per-shop admin token opens a session cookie; logout ends it.

use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use rand::RngCore;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::pages::{self, Login};
use super::{cookie, csrf, next, AdminShop, LOGIN_PATH};
use crate::app::AppState;
use crate::config::AdminSettings;
use crate::http::error::AppError;
use crate::http::extract::Query;
use crate::shopify::ShopDomain;
use crate::store::{admin, shops, ShopId};

/// Login attempts per shop (as typed), so nobody can try tokens at speed.
pub struct LoginLimiter {
    limiter: DefaultKeyedRateLimiter<String>,
}

impl LoginLimiter {
    pub fn new(settings: &AdminSettings) -> Arc<Self> {
        let per_minute =
            NonZeroU32::new(settings.login_attempts_per_minute).unwrap_or(NonZeroU32::MIN);
        Arc::new(Self {
            limiter: RateLimiter::keyed(Quota::per_minute(per_minute)),
        })
    }

    fn allow(&self, shop: &str) -> bool {
        let key: String = shop.trim().to_ascii_lowercase().chars().take(120).collect();
        self.limiter.check_key(&key).is_ok()
    }

    /// Forgets buckets that are full again (housekeeping).
    pub fn prune(&self) {
        self.limiter.retain_recent();
    }
}

#[derive(Deserialize)]
pub(super) struct LoginQuery {
    #[serde(default)]
    next: String,
    #[serde(default)]
    shop: String,
}

pub(super) async fn form(Query(q): Query<LoginQuery>) -> Response {
    let page = Login {
        error: None,
        shop: &q.shop,
        next: next::safe_next(&q.next),
    };
    pages::render(StatusCode::OK, &page)
}

#[derive(Deserialize)]
pub(super) struct LoginForm {
    #[serde(default)]
    shop: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    next: String,
}

pub(super) async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, AppError> {
    let next = next::safe_next(&form.next);
    if !same_origin(&headers) {
        // Login CSRF: another site must not log a merchant into someone else's shop.
        return Ok(pages::denied(
            StatusCode::FORBIDDEN,
            "Log in from this site",
            "The login form was sent from another site. Open the shoprecs login page and log in there.",
        ));
    }
    if !state.admin_login.allow(&form.shop) {
        tracing::warn!("admin login attempts for one shop exceed the rate limit");
        let page = Login {
            error: Some("Too many attempts. Wait a minute and try again."),
            shop: &form.shop,
            next,
        };
        return Ok(pages::render(StatusCode::TOO_MANY_REQUESTS, &page));
    }
    let Some((shop, token_id)) = check_token(&state, &form.shop, &form.token).await? else {
        tracing::info!("admin login refused");
        let page = Login {
            error: Some("That shop domain and admin token do not match. Check both and try again."),
            shop: &form.shop,
            next,
        };
        return Ok(pages::render(StatusCode::UNAUTHORIZED, &page));
    };
    let cookie = open_session(&state, shop, Some(token_id)).await?;
    tracing::info!(shop.id = shop.0, "admin logged in");
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to(next)).into_response())
}

/// Opens a dashboard session for the shop (after a login with `token_id`, or a verified OAuth
/// install with none) and returns its `Set-Cookie`.
pub async fn open_session(
    state: &AppState,
    shop: ShopId,
    token_id: Option<i64>,
) -> sqlx::Result<HeaderValue> {
    let secret = random_hex();
    let now = state.now();
    let hours = state.settings.admin.session_hours;
    let expires = now + chrono::Duration::hours(hours);
    admin::create_session(
        &state.pool,
        shop,
        token_id,
        &admin::hash(&secret),
        &random_hex(),
        now,
        expires,
    )
    .await?;
    Ok(cookie::set(
        shop,
        &secret,
        hours * 3600,
        state.settings.admin.secure_cookie,
    ))
}

/// The token id if `token` is an active admin token of the installed shop `shop`. Every
/// stored hash is compared in constant time.
async fn check_token(
    state: &AppState,
    shop: &str,
    token: &str,
) -> Result<Option<(ShopId, i64)>, AppError> {
    let Ok(domain) = ShopDomain::parse(shop) else {
        return Ok(None);
    };
    if token.is_empty() || token.len() > 200 {
        return Ok(None);
    }
    let Some(shop) = shops::find_installed(&state.pool, &domain).await? else {
        return Ok(None);
    };
    let hash = admin::hash(token.trim());
    let mut found = None;
    for (token_id, stored) in admin::active_tokens(&state.pool, shop).await? {
        if bool::from(stored.ct_eq(&hash)) {
            found = Some(token_id);
        }
    }
    Ok(found.map(|id| (shop, id)))
}

/// False when the browser says the form came from another origin than this host.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true; // Not a browser, or an old one: nothing to compare.
    };
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let origin_host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    origin_host == Some(host)
}

fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

#[derive(Deserialize)]
pub(super) struct LogoutForm {
    #[serde(default)]
    csrf: String,
}

/// Ends the session (CSRF-checked) and goes back to the login page.
pub(super) async fn logout(
    State(state): State<AppState>,
    shop: AdminShop,
    headers: HeaderMap,
    Form(form): Form<LogoutForm>,
) -> Result<Response, Response> {
    let posted = match csrf::csrf_header(&headers) {
        Some(token) if form.csrf.is_empty() => token,
        _ => form.csrf.as_str(),
    };
    csrf::verify_csrf(&shop, posted)?;
    if let Some((cookie_shop, secret)) = cookie::read(&headers) {
        if cookie_shop == shop.shop && !shop.embedded {
            admin::delete_session(&state.pool, shop.shop, &admin::hash(&secret))
                .await
                .map_err(|e| AppError::from(e).into_response())?;
            tracing::info!(shop.id = shop.shop.0, "admin logged out");
        }
    }
    let clear = cookie::clear(state.settings.admin.secure_cookie);
    Ok(([(header::SET_COOKIE, clear)], Redirect::to(LOGIN_PATH)).into_response())
}
