//! `POST /webhooks`: verify the HMAC over the raw body, store durably, answer 200.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::error::{AppError, AppResult};
use crate::app::AppState;
use crate::shopify::{webhook_hmac, ShopDomain};
use crate::store::inbox::PendingRow;

/// The two header families Shopify signs webhooks with: `X-Shopify-*` and the newer
/// prefix-less lower-case `shopify-*`. The family is chosen by which HMAC header is present.
struct WebhookHeaders<'a> {
    hmac: &'a str,
    topic: Option<&'a str>,
    shop: Option<&'a str>,
    event_id: Option<&'a str>,
    webhook_id: Option<&'a str>,
    api_version: Option<&'a str>,
    triggered_at: Option<&'a str>,
}

impl<'a> WebhookHeaders<'a> {
    fn read(headers: &'a HeaderMap) -> Option<Self> {
        let get = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .filter(|v| !v.is_empty())
        };
        let prefix = if get("x-shopify-hmac-sha256").is_some() {
            "x-shopify-"
        } else if get("shopify-hmac-sha256").is_some() {
            "shopify-"
        } else {
            return None;
        };
        let field = |name: &str| get(&format!("{prefix}{name}"));
        Some(Self {
            hmac: field("hmac-sha256")?,
            topic: field("topic"),
            shop: field("shop-domain"),
            event_id: field("event-id"),
            webhook_id: field("webhook-id"),
            api_version: field("api-version"),
            triggered_at: field("triggered-at"),
        })
    }
}

pub async fn receive(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> AppResult<StatusCode> {
    let body = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge {
            limit: state.settings.webhooks.max_body_bytes,
        },
        status => AppError::Rejected {
            status,
            message: rejection.body_text(),
        },
    })?;
    let outcome = store(&state, &headers, &body).await;
    let label = match &outcome {
        Ok(true) => "accepted",
        Ok(false) => "duplicate",
        Err(AppError::Unauthorized(_)) => "unauthorized",
        Err(AppError::Unavailable(_)) => "unavailable",
        Err(_) => "rejected",
    };
    let topic = WebhookHeaders::read(&headers)
        .and_then(|h| h.topic)
        .filter(|_| !matches!(outcome, Err(AppError::Unauthorized(_))))
        .unwrap_or("unverified")
        .to_owned();
    metrics::counter!("shoprecs_webhooks_received_total", "topic" => topic, "outcome" => label)
        .increment(1);
    outcome.map(|_| StatusCode::OK)
}

/// Returns whether the webhook was new (false: a duplicate delivery, already stored).
async fn store(state: &AppState, headers: &HeaderMap, body: &[u8]) -> AppResult<bool> {
    let unauthorized = || AppError::Unauthorized("missing or invalid webhook signature".into());
    let h = WebhookHeaders::read(headers).ok_or_else(unauthorized)?;
    if !webhook_hmac::verify(state.webhook_secrets(), body, h.hmac) {
        return Err(unauthorized());
    }
    let shop = h
        .shop
        .ok_or_else(|| AppError::BadRequest("missing shop domain header".into()))
        .and_then(|s| ShopDomain::parse(s).map_err(|e| AppError::BadRequest(e.to_string())))?;
    let topic = h
        .topic
        .ok_or_else(|| AppError::BadRequest("missing topic header".into()))?;
    let body_key;
    let dedupe_key = match h.event_id.or(h.webhook_id) {
        Some(id) => id,
        None => {
            body_key = format!("body:{}:{}", topic, hex::encode(Sha256::digest(body)));
            &body_key
        }
    };
    let triggered_at = h
        .triggered_at
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc));
    let row = |shop_id| PendingRow {
        shop: shop_id,
        dedupe_key: dedupe_key.to_owned(),
        topic: topic.to_owned(),
        webhook_id: h.webhook_id.map(str::to_owned),
        api_version: h.api_version.map(str::to_owned),
        triggered_at,
        body: body.to_vec(),
    };
    let shop_id = state.shops.resolve_or_create(&state.pool, &shop).await?;
    let fresh = match state.inbox_writer.write(row(shop_id)).await {
        // The cached shop was deleted meanwhile (shop/redact): resolve again, once.
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("23503") => {
            state.shops.forget(&shop);
            let shop_id = state.shops.resolve_or_create(&state.pool, &shop).await?;
            state.inbox_writer.write(row(shop_id)).await?
        }
        other => other?,
    };
    if fresh {
        state.applier.wake();
    }
    tracing::info!(shop.domain = %shop, topic, duplicate = !fresh, "webhook stored");
    Ok(fresh)
}
