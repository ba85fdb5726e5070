use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use super::retry::{parse_retry_after, Backoff};
use super::throttle::{Bucket, QueryCost};
use super::AdminApiError;
use crate::config::{Secrets, Settings};
use crate::shopify::ShopDomain;

/// How the client reaches Shopify.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// A shop's base URL with `{shop}` for its domain: `https://{shop}` in production.
    pub url_template: String,
    pub api_version: String,
    pub client_id: String,
    pub request_timeout: Duration,
    pub backoff: Backoff,
    /// Assumed cost of a query before Shopify has told us its real cost.
    pub default_cost: f64,
}

impl ApiConfig {
    pub fn from_settings(settings: &Settings) -> Self {
        let api = &settings.admin_api;
        Self {
            url_template: api.url.clone(),
            api_version: settings.shopify.api_version.clone(),
            client_id: settings.shopify.api_key.clone(),
            request_timeout: Duration::from_secs_f64(api.request_timeout_secs),
            backoff: Backoff {
                base: Duration::from_millis(api.backoff_base_ms),
                max: Duration::from_secs_f64(api.backoff_max_secs),
                max_attempts: api.max_attempts,
            },
            default_cost: api.default_query_cost,
        }
    }
}

/// An offline access token as Shopify returns it.
pub struct AccessToken {
    pub token: SecretString,
    pub scope: String,
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessToken")
            .field("token", &"[redacted]")
            .field("scope", &self.scope)
            .finish()
    }
}

/// The Admin API client, shared by every shop (cheap to clone).
#[derive(Clone)]
pub struct AdminApi(Arc<Inner>);

struct Inner {
    http: reqwest::Client,
    config: ApiConfig,
    client_secret: SecretString,
    buckets: Mutex<HashMap<String, Bucket>>,
}

#[derive(Deserialize)]
struct Envelope {
    data: Option<Value>,
    #[serde(default)]
    errors: Option<Value>,
    #[serde(default)]
    extensions: Option<Extensions>,
}

#[derive(Deserialize)]
struct Extensions {
    cost: Option<QueryCost>,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    scope: String,
}

/// What one attempt came to.
enum Attempt {
    Done(Value),
    /// Try again after this long (`None`: the backoff decides).
    Retry(Option<Duration>, String),
    /// Throttled by cost: wait this long; does not use up the retry budget as fast.
    Throttled(Duration),
    Fail(AdminApiError),
}

impl AdminApi {
    pub fn new(config: ApiConfig, client_secret: SecretString) -> Self {
        let http = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .user_agent(concat!("shoprecs/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Self(Arc::new(Inner {
            http,
            config,
            client_secret,
            buckets: Mutex::default(),
        }))
    }

    pub fn from_settings(settings: &Settings, secrets: &Secrets) -> Self {
        Self::new(
            ApiConfig::from_settings(settings),
            secrets.api_secret.clone(),
        )
    }

    pub fn config(&self) -> &ApiConfig {
        &self.0.config
    }

    /// The shop's base URL (`https://<shop>` in production).
    pub fn shop_url(&self, shop: &ShopDomain) -> String {
        self.0
            .config
            .url_template
            .replace("{shop}", shop.as_str())
            .trim_end_matches('/')
            .to_owned()
    }

    /// Where to send a merchant to approve the app (authorization-code grant, offline token).
    pub fn authorize_url(
        &self,
        shop: &ShopDomain,
        scopes: &str,
        redirect_uri: &str,
        state: &str,
    ) -> String {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", &self.0.config.client_id)
            .append_pair("scope", scopes)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("state", state)
            .finish();
        format!("{}/admin/oauth/authorize?{query}", self.shop_url(shop))
    }

    /// Exchanges an authorization code for an offline token.
    pub async fn exchange_code(
        &self,
        shop: &ShopDomain,
        code: &str,
    ) -> Result<AccessToken, AdminApiError> {
        self.token_request(
            shop,
            json!({
                "client_id": self.0.config.client_id,
                "client_secret": self.0.client_secret.expose_secret(),
                "code": code,
                "expiring": "0",
            }),
        )
        .await
    }

    /// Token exchange: a verified session token from the embedded app becomes an offline
    /// token, without a redirect.
    pub async fn token_exchange(
        &self,
        shop: &ShopDomain,
        session_token: &str,
    ) -> Result<AccessToken, AdminApiError> {
        self.token_request(
            shop,
            json!({
                "client_id": self.0.config.client_id,
                "client_secret": self.0.client_secret.expose_secret(),
                "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
                "subject_token": session_token,
                "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
                "requested_token_type": "urn:shopify:params:oauth:token-type:offline-access-token",
                "expiring": "0",
            }),
        )
        .await
    }

    async fn token_request(
        &self,
        shop: &ShopDomain,
        body: Value,
    ) -> Result<AccessToken, AdminApiError> {
        let url = format!("{}/admin/oauth/access_token", self.shop_url(shop));
        let value = self
            .with_retries(shop, 0.0, || async {
                let response = self.0.http.post(&url).json(&body).send().await;
                classify(response, Attempt::Done).await
            })
            .await?;
        let token: TokenResponse =
            serde_json::from_value(value).map_err(|e| AdminApiError::Decode(e.to_string()))?;
        Ok(AccessToken {
            token: token.access_token.into(),
            scope: token.scope,
        })
    }

    /// Runs a GraphQL query or mutation and returns its `data`, decoded.
    pub async fn graphql<T: DeserializeOwned>(
        &self,
        shop: &ShopDomain,
        token: &SecretString,
        query: &str,
        variables: Value,
    ) -> Result<T, AdminApiError> {
        let url = format!(
            "{}/admin/api/{}/graphql.json",
            self.shop_url(shop),
            self.0.config.api_version
        );
        let body = json!({ "query": query, "variables": variables });
        let cost = self.0.config.default_cost;
        let data = self
            .with_retries(shop, cost, || async {
                let response = self
                    .0
                    .http
                    .post(&url)
                    .header("X-Shopify-Access-Token", token.expose_secret())
                    .json(&body)
                    .send()
                    .await;
                classify(response, |value| self.graphql_outcome(shop, value)).await
            })
            .await?;
        serde_json::from_value(data).map_err(|e| AdminApiError::Decode(e.to_string()))
    }

    fn graphql_outcome(&self, shop: &ShopDomain, value: Value) -> Attempt {
        let envelope: Envelope = match serde_json::from_value(value) {
            Ok(envelope) => envelope,
            Err(e) => return Attempt::Fail(AdminApiError::Decode(e.to_string())),
        };
        let cost = envelope.extensions.and_then(|e| e.cost);
        if let Some(cost) = cost {
            self.observe(shop, &cost);
        }
        let errors = envelope
            .errors
            .filter(|e| !e.as_array().is_some_and(Vec::is_empty));
        if let Some(errors) = errors {
            if error_codes(&errors).any(|code| code == "THROTTLED") {
                let wait = cost
                    .map(|c| {
                        let needed = c.requested_query_cost.unwrap_or(self.0.config.default_cost);
                        let missing = needed - c.throttle_status.currently_available;
                        Duration::from_secs_f64(
                            (missing / c.throttle_status.restore_rate.max(1.0)).max(0.05),
                        )
                    })
                    .unwrap_or(Duration::from_secs(1));
                metrics::counter!("shoprecs_admin_api_throttled_total").increment(1);
                return Attempt::Throttled(wait);
            }
            if error_codes(&errors).any(|code| code == "ACCESS_DENIED") {
                return Attempt::Fail(AdminApiError::Refused {
                    status: 200,
                    message: messages(&errors),
                });
            }
            if error_codes(&errors).any(|code| code == "INTERNAL_SERVER_ERROR") {
                return Attempt::Retry(None, messages(&errors));
            }
            return Attempt::Fail(AdminApiError::GraphQl(messages(&errors)));
        }
        match envelope.data {
            Some(data) => Attempt::Done(data),
            None => Attempt::Fail(AdminApiError::Decode("no `data` in response".into())),
        }
    }

    fn observe(&self, shop: &ShopDomain, cost: &QueryCost) {
        let now = Instant::now();
        let mut buckets = self.0.buckets.lock().unwrap_or_else(|e| e.into_inner());
        buckets
            .entry(shop.as_str().to_owned())
            .and_modify(|b| b.observe(cost.throttle_status, now))
            .or_insert_with(|| Bucket::new(cost.throttle_status, now));
    }

    /// How long to wait before a request costing `cost` (reserving it).
    fn reserve(&self, shop: &ShopDomain, cost: f64) -> Duration {
        if cost <= 0.0 {
            return Duration::ZERO;
        }
        let now = Instant::now();
        let mut buckets = self.0.buckets.lock().unwrap_or_else(|e| e.into_inner());
        match buckets.get_mut(shop.as_str()) {
            Some(bucket) => {
                let wait = bucket.wait_for(cost, now);
                bucket.spend(cost, now);
                wait
            }
            None => Duration::ZERO,
        }
    }

    async fn with_retries<F, Fut>(
        &self,
        shop: &ShopDomain,
        cost: f64,
        mut attempt: F,
    ) -> Result<Value, AdminApiError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Attempt>,
    {
        let backoff = self.0.config.backoff;
        let mut failures = 0u32;
        let mut throttles = 0u32;
        loop {
            let wait = self.reserve(shop, cost);
            if !wait.is_zero() {
                metrics::counter!("shoprecs_admin_api_throttle_wait_ms_total")
                    .increment(wait.as_millis() as u64);
                tokio::time::sleep(wait).await;
            }
            match attempt().await {
                Attempt::Done(value) => {
                    metrics::counter!("shoprecs_admin_api_requests_total", "outcome" => "ok")
                        .increment(1);
                    return Ok(value);
                }
                Attempt::Fail(error) => {
                    let outcome = match error {
                        AdminApiError::Unauthorized => "unauthorized",
                        _ => "failed",
                    };
                    metrics::counter!("shoprecs_admin_api_requests_total", "outcome" => outcome)
                        .increment(1);
                    return Err(error);
                }
                Attempt::Throttled(wait) => {
                    throttles += 1;
                    if throttles > backoff.max_attempts * 4 {
                        return Err(AdminApiError::Exhausted {
                            attempts: failures + throttles,
                            last: "throttled".into(),
                        });
                    }
                    tokio::time::sleep(wait.min(backoff.max)).await;
                }
                Attempt::Retry(retry_after, last) => {
                    failures += 1;
                    metrics::counter!("shoprecs_admin_api_requests_total", "outcome" => "retried")
                        .increment(1);
                    if failures >= backoff.max_attempts {
                        return Err(AdminApiError::Exhausted {
                            attempts: failures,
                            last,
                        });
                    }
                    let delay = backoff.after(failures - 1, retry_after, rand::random());
                    tracing::debug!(
                        shop = shop.as_str(),
                        delay_ms = delay.as_millis() as u64,
                        reason = %last,
                        "retrying Admin API call"
                    );
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }
}

/// Sorts an HTTP outcome into done / retry / fail; `on_ok` interprets a 2xx JSON body.
async fn classify(
    response: reqwest::Result<reqwest::Response>,
    on_ok: impl FnOnce(Value) -> Attempt,
) -> Attempt {
    let response = match response {
        Ok(response) => response,
        Err(e) => return Attempt::Retry(None, transport_error(&e)),
    };
    let status = response.status();
    if status.is_success() {
        return match response.json::<Value>().await {
            Ok(value) => on_ok(value),
            Err(e) if e.is_timeout() || e.is_body() => Attempt::Retry(None, transport_error(&e)),
            Err(e) => Attempt::Fail(AdminApiError::Decode(e.to_string())),
        };
    }
    if status == StatusCode::TOO_MANY_REQUESTS {
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        return Attempt::Retry(retry_after, "HTTP 429".into());
    }
    if status.is_server_error() {
        return Attempt::Retry(None, format!("HTTP {}", status.as_u16()));
    }
    if status == StatusCode::UNAUTHORIZED {
        return Attempt::Fail(AdminApiError::Unauthorized);
    }
    let body = response.text().await.unwrap_or_default();
    Attempt::Fail(AdminApiError::Refused {
        status: status.as_u16(),
        message: short(&body),
    })
}

fn transport_error(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "could not connect".into()
    } else {
        "connection failed".into()
    }
}

fn error_codes(errors: &Value) -> impl Iterator<Item = &str> {
    errors
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e.pointer("/extensions/code").and_then(Value::as_str))
}

fn messages(errors: &Value) -> String {
    let joined = errors
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e.get("message").and_then(Value::as_str))
        .collect::<Vec<_>>()
        .join("; ");
    if joined.is_empty() {
        short(&errors.to_string())
    } else {
        short(&joined)
    }
}

fn short(text: &str) -> String {
    text.chars().take(300).collect()
}
