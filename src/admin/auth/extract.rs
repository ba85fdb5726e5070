//! `AdminShop`: the shop an admin request proved it belongs to, from a Shopify session token
//! (embedded) or a login session cookie (self-hosted).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use super::frame::FrameSlot;
use super::session_token::{self, VerifiedToken};
use super::{cookie, next, BOUNCE_PATH, LOGIN_PATH};
use crate::app::AppState;
use crate::config::Settings;
use crate::http::error::AppError;
use crate::install::exchange::ExchangeError;
use crate::store::{admin, ShopId};

/// The header Shopify's libraries send with a 401 to make App Bridge fetch a fresh session
/// token and retry the request once.
pub const RETRY_HEADER: HeaderName =
    HeaderName::from_static("x-shopify-retry-invalid-session-request");

/// The shop an admin request proved it belongs to.
#[derive(Clone)]
pub struct AdminShop {
    pub shop: ShopId,
    /// The shop's `*.myshopify.com` domain.
    pub domain: String,
    /// The CSRF token every form of this session must post back (field `csrf`).
    pub csrf: String,
    /// Whether the request came from the app embedded in Shopify admin (a session token).
    pub embedded: bool,
}

impl std::fmt::Debug for AdminShop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminShop")
            .field("shop", &self.shop)
            .field("domain", &self.domain)
            .field("csrf", &"[redacted]")
            .field("embedded", &self.embedded)
            .finish()
    }
}

impl AdminShop {
    /// The API key for `templates/admin/app_bridge.html`: `Some` on embedded requests, which
    /// must load App Bridge, and `None` otherwise.
    pub fn app_bridge_key<'a>(&self, settings: &'a Settings) -> Option<&'a str> {
        self.embedded.then_some(settings.shopify.api_key.as_str())
    }

    /// The `Content-Security-Policy` directive this response gets (added by the `/admin`
    /// middleware; here for pages that build their own policy).
    pub fn frame_ancestors(&self) -> String {
        let shop = self
            .embedded
            .then(|| crate::shopify::ShopDomain::parse(&self.domain).ok())
            .flatten();
        super::frame::frame_ancestors(shop.as_ref())
    }
}

impl FromRequestParts<AppState> for AdminShop {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let fetch = is_fetch(&parts.headers);
        if let Some(token) = bearer(&parts.headers) {
            return embedded(state, parts, &token)
                .await
                .map_err(|refusal| refusal.into_response(parts, true));
        }
        if let Some(token) = query_value(parts, "id_token") {
            return embedded(state, parts, &token)
                .await
                .map_err(|refusal| refusal.into_response(parts, fetch));
        }
        if let Some((shop, secret)) = cookie::read(&parts.headers) {
            let hash = admin::hash(&secret);
            let found = admin::find_session(&state.pool, shop, &hash, state.now())
                .await
                .map_err(|e| AppError::from(e).into_response())?;
            if let Some(session) = found {
                return Ok(AdminShop {
                    shop,
                    domain: session.domain,
                    csrf: session.csrf,
                    embedded: false,
                });
            }
        }
        // No credentials, or an expired session.
        if fetch {
            return Err(
                AppError::Unauthorized("log in to the shoprecs admin first".into()).into_response(),
            );
        }
        if query_value(parts, "embedded").as_deref() == Some("1") {
            // A load inside Shopify admin without a token: App Bridge can supply one.
            return Err(Refusal::Invalid.into_response(parts, false));
        }
        // Only a page can be gone back to; a refused post starts again from the dashboard.
        let wanted = if parts.method == axum::http::Method::GET {
            next::path_and_query(&parts.uri)
        } else {
            "/admin".to_owned()
        };
        let to = format!("{LOGIN_PATH}?{}", next::query(&[("next", &wanted)]));
        Err(Redirect::to(&to).into_response())
    }
}

/// Why an embedded request was refused.
enum Refusal {
    /// The session token did not verify: get a fresh one.
    Invalid,
    /// The token is good but shoprecs holds no access token for the shop and Shopify did not
    /// issue one by token exchange (the reason says why).
    NotInstalled {
        shop: String,
        reason: String,
    },
    Internal(AppError),
}

impl Refusal {
    /// Answers as Shopify's libraries do: a fetch gets 401 with the retry header, a document
    /// the bounce page (which makes App Bridge reload it with a fresh token).
    fn into_response(self, parts: &Parts, fetch: bool) -> Response {
        match (self, fetch) {
            (Refusal::Internal(e), _) => e.into_response(),
            (Refusal::NotInstalled { shop, reason }, true) => AppError::Forbidden(format!(
                "shoprecs is not installed on this shop: {reason}; install it at /auth?shop={shop}"
            ))
            .into_response(),
            (Refusal::NotInstalled { shop, reason }, false) => super::pages::denied(
                StatusCode::FORBIDDEN,
                "shoprecs is not installed",
                &format!(
                    "shoprecs could not connect to this shop ({reason}). Install the app from \
                     Shopify admin and open it again, or install it at /auth?shop={shop}."
                ),
            ),
            (Refusal::Invalid, true) => {
                let mut response =
                    AppError::Unauthorized("invalid session token".into()).into_response();
                response
                    .headers_mut()
                    .insert(RETRY_HEADER, HeaderValue::from_static("1"));
                response
            }
            (Refusal::Invalid, false) => Redirect::to(&bounce_url(parts)).into_response(),
        }
    }
}

/// Verifies a session token and that shoprecs can work for its shop, exchanging the session
/// token for an access token when it holds none that works (a managed install, a re-install,
/// a revoked token); on success the response may be framed by that shop's admin. The shop is
/// always the token's own: nothing else can name it.
async fn embedded(state: &AppState, parts: &Parts, token: &str) -> Result<AdminShop, Refusal> {
    let verified = session_token::verify(
        token,
        state.webhook_secrets(),
        &state.settings.shopify.api_key,
        state.settings.admin.session_token_leeway_secs,
        state.now(),
    );
    let VerifiedToken {
        shop: domain,
        session,
    } = verified.map_err(|reason| {
        tracing::info!(%reason, "admin session token refused");
        Refusal::Invalid
    })?;
    let app_url = crate::install::app_url(state, &parts.headers);
    let shop = crate::install::exchange::embedded_shop(state, &domain, token, app_url)
        .await
        .map_err(|e| match e {
            ExchangeError::Refused(reason) => Refusal::NotInstalled {
                shop: domain.to_string(),
                reason,
            },
            ExchangeError::Database(e) => Refusal::Internal(e.into()),
        })?;
    if let Some(slot) = parts.extensions.get::<FrameSlot>() {
        slot.allow(&domain);
    }
    let csrf = session_token::embedded_csrf(&state.secrets.api_secret, &domain, &session);
    Ok(AdminShop {
        shop,
        domain: domain.to_string(),
        csrf,
        embedded: true,
    })
}

/// `/admin/auth/session-token?<the request's query without id_token>&shopify-reload=<url>`.
fn bounce_url(parts: &Parts) -> String {
    let kept: Vec<(String, String)> = query_pairs(parts)
        .filter(|(k, _)| k != "id_token" && k != "shopify-reload")
        .collect();
    let kept_refs: Vec<(&str, &str)> = kept.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let own = next::query(&kept_refs);
    let reload = if own.is_empty() {
        parts.uri.path().to_owned()
    } else {
        format!("{}?{own}", parts.uri.path())
    };
    let mut all = kept_refs;
    all.push(("shopify-reload", &reload));
    format!("{BOUNCE_PATH}?{}", next::query(&all))
}

/// A fetch (answered with status codes) rather than a document load (answered with pages).
fn is_fetch(headers: &HeaderMap) -> bool {
    headers.contains_key(header::AUTHORIZATION)
        || headers.contains_key("x-requested-with")
        || headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("application/json"))
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

fn query_pairs(parts: &Parts) -> impl Iterator<Item = (String, String)> + '_ {
    form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes()).into_owned()
}

fn query_value(parts: &Parts, key: &str) -> Option<String> {
    query_pairs(parts).find(|(k, _)| k == key).map(|(_, v)| v)
}
