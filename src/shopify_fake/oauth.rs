//! The fake's OAuth: the authorize redirect and the token endpoint (code grant and token
//! exchange).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::Sha256;

use super::graphql::apply_fault;
use super::state::World;

/// Approves at once: redirects to `redirect_uri` with a signed callback query.
pub async fn authorize(
    State(world): State<Arc<Mutex<World>>>,
    Path(shop): Path<String>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Response {
    let mut w = world.lock().unwrap_or_else(|e| e.into_inner());
    if query.get("client_id") != Some(&w.client_id) {
        return (
            StatusCode::BAD_REQUEST,
            "Oauth error invalid_request: The client id is wrong",
        )
            .into_response();
    }
    let (Some(redirect_uri), Some(state)) = (query.get("redirect_uri"), query.get("state")) else {
        return (
            StatusCode::BAD_REQUEST,
            "Oauth error invalid_request: redirect_uri and state are required",
        )
            .into_response();
    };
    let code = format!("{:032x}", rand::random::<u128>());
    w.codes.insert(code.clone(), shop.clone());
    w.granted_scopes = query.get("scope").cloned().unwrap_or_default();
    let host = base64::engine::general_purpose::STANDARD_NO_PAD.encode(format!("{shop}/admin"));
    let timestamp = chrono::Utc::now().timestamp().to_string();
    let mut params = BTreeMap::from([
        ("code", code.as_str()),
        ("host", host.as_str()),
        ("shop", shop.as_str()),
        ("state", state.as_str()),
        ("timestamp", timestamp.as_str()),
    ]);
    let hmac = sign_query(&w.client_secret, &params);
    params.insert("hmac", &hmac);
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    let separator = if redirect_uri.contains('?') { '&' } else { '?' };
    (
        StatusCode::FOUND,
        [(
            header::LOCATION,
            format!("{redirect_uri}{separator}{query}"),
        )],
    )
        .into_response()
}

/// Shopify's admin-query signature: sorted `k=v` joined by `&`, spaces as `%20`, hex HMAC.
pub fn sign_query(secret: &str, params: &BTreeMap<&str, &str>) -> String {
    let encode = |s: &str| {
        form_urlencoded::byte_serialize(s.as_bytes())
            .collect::<String>()
            .replace('+', "%20")
    };
    let message = params
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| unreachable!());
    mac.update(message.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[derive(Deserialize)]
pub struct TokenRequest {
    client_id: String,
    client_secret: String,
    code: Option<String>,
    grant_type: Option<String>,
    subject_token: Option<String>,
    requested_token_type: Option<String>,
}

#[derive(Deserialize)]
struct SessionClaims {
    dest: String,
}

pub async fn access_token(
    State(world): State<Arc<Mutex<World>>>,
    Path(shop): Path<String>,
    Json(request): Json<TokenRequest>,
) -> Response {
    let fault = world
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .faults
        .pop_front();
    if let Some(response) =
        apply_fault(&world, fault, &shop, "oauth/access_token", &Value::Null).await
    {
        return response;
    }
    let mut w = world.lock().unwrap_or_else(|e| e.into_inner());
    let refuse = |error: &str, description: &str| {
        (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": error, "error_description": description})),
        )
            .into_response()
    };
    if request.client_id != w.client_id || request.client_secret != w.client_secret {
        return refuse("invalid_client", "Client credentials are invalid");
    }
    match request.grant_type.as_deref() {
        None => {
            let Some(code) = request.code else {
                return refuse("invalid_request", "Missing code");
            };
            if w.codes.remove(&code).as_deref() != Some(shop.as_str()) {
                return refuse(
                    "invalid_request",
                    "The authorization code was not found or was already used",
                );
            }
        }
        Some("urn:ietf:params:oauth:grant-type:token-exchange") => {
            let offline = request.requested_token_type.as_deref()
                == Some("urn:shopify:params:oauth:token-type:offline-access-token");
            if !offline {
                return refuse(
                    "invalid_request",
                    "Only offline tokens are issued by this fake",
                );
            }
            let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
            validation.set_audience(&[&w.client_id]);
            validation.leeway = 10;
            let key = jsonwebtoken::DecodingKey::from_secret(w.client_secret.as_bytes());
            let claims = request
                .subject_token
                .as_deref()
                .and_then(|t| jsonwebtoken::decode::<SessionClaims>(t, &key, &validation).ok());
            match claims {
                Some(c) if c.claims.dest == format!("https://{shop}") => {}
                _ => {
                    return refuse(
                        "invalid_subject_token",
                        "Session token is invalid or expired",
                    )
                }
            }
        }
        Some(_) => return refuse("unsupported_grant_type", "Unsupported grant type"),
    }
    if w.granted_scopes.is_empty() {
        w.granted_scopes = "read_products,read_orders".into();
    }
    let scope = w.granted_scopes.clone();
    let token = w.issue_token(&shop);
    Json(json!({"access_token": token, "scope": scope})).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_callback_signature_matches_shopifys_vector() {
        // SHOPIFY.md §6, recomputed with @shopify/shopify-api.
        let params = BTreeMap::from([
            ("code", "0907a61c0c8d55e99db179b68161bc00"),
            ("host", "YS1zaG9wLm15c2hvcGlmeS5jb20vYWRtaW4"),
            ("shop", "a-shop.myshopify.com"),
            ("state", "0.6784241404160823"),
            ("timestamp", "1317327555"),
        ]);
        assert_eq!(
            sign_query("hush", &params),
            "fd8b794858421ede20cfbfc20864747c0c972bcff6d0fdc36a92fe745613c95d"
        );
    }
}
