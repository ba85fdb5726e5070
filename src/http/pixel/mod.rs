//! `POST /pixel/events`: storefront browse events from the web pixel.
//!
//! Unsigned (they come from the shopper's browser), so: the shop must be known and installed,
//! sizes are bounded, events are rate-limited per shop and client, deduplicated on event id,
//! and stored only as browse hints that never override webhook data.

mod parse;

use std::collections::HashSet;
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::{AppError, AppResult};
use crate::app::AppState;
use crate::config::PixelSettings;
use crate::engine::BrowseFacts;
use crate::recs::follow;
use crate::shopify::ids::parse_id_str;
use crate::shopify::ShopDomain;
use crate::store::{events, facts, model_log, shops};
pub use parse::{parse_event, EventError, Parsed, STORED_EVENTS};

/// Per (shop, client id) token buckets.
pub struct PixelLimiter {
    limiter: DefaultKeyedRateLimiter<(i64, String)>,
}

impl PixelLimiter {
    pub fn new(settings: &PixelSettings) -> Arc<Self> {
        let per_minute = NonZeroU32::new(settings.events_per_minute).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(settings.burst).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_minute(per_minute).allow_burst(burst);
        Arc::new(Self {
            limiter: RateLimiter::keyed(quota),
        })
    }

    /// Takes `n` events from the bucket, or says how many seconds to wait.
    fn take(&self, shop: i64, client: &str, n: u32) -> Result<(), u64> {
        let n = NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
        match self.limiter.check_key_n(&(shop, client.to_owned()), n) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => Err(not_until
                .wait_time_from(DefaultClock::default().now())
                .as_secs()
                + 1),
            // More events than the burst allows at all.
            Err(_) => Err(60),
        }
    }

    /// Forgets idle buckets; called periodically.
    pub fn prune(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

#[derive(Deserialize)]
pub struct PixelQuery {
    shop: Option<String>,
}

/// The body is one event, an array of events, or `{"shop", "customerId", "events": [...]}`.
struct Batch {
    shop: Option<String>,
    customer_id: Option<i64>,
    events: Vec<Value>,
}

fn read_batch(body: &[u8]) -> AppResult<Batch> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| AppError::BadRequest(format!("body is not valid JSON: {e}")))?;
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let customer = |v: &Value| match v.get("customerId") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => parse_id_str(s),
        _ => None,
    };
    Ok(match value {
        Value::Array(events) => {
            let shop = events.first().and_then(|e| text(e, "shop"));
            Batch {
                shop,
                customer_id: None,
                events,
            }
        }
        Value::Object(ref map) if map.contains_key("events") => match map.get("events") {
            Some(Value::Array(events)) => Batch {
                shop: text(&value, "shop"),
                customer_id: customer(&value),
                events: events.clone(),
            },
            _ => return Err(AppError::BadRequest("`events` must be an array".into())),
        },
        Value::Object(_) => Batch {
            shop: text(&value, "shop"),
            customer_id: None,
            events: vec![value],
        },
        _ => {
            return Err(AppError::BadRequest(
                "body must be an event, an array of events, or {\"events\": [...]}".into(),
            ))
        }
    })
}

pub async fn receive(
    State(state): State<AppState>,
    Query(query): Query<PixelQuery>,
    body: Result<Bytes, BytesRejection>,
) -> AppResult<Response> {
    let settings = &state.settings.pixel;
    let body = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge {
            limit: settings.max_body_bytes,
        },
        status => AppError::Rejected {
            status,
            message: rejection.body_text(),
        },
    })?;
    let batch = read_batch(&body)?;
    if batch.events.is_empty() {
        return Err(AppError::BadRequest("the batch has no events".into()));
    }
    if batch.events.len() > settings.max_batch {
        return Err(AppError::BadRequest(format!(
            "the batch has {} events; at most {} are accepted",
            batch.events.len(),
            settings.max_batch
        )));
    }
    let raw_shop = query.shop.or(batch.shop).ok_or_else(|| {
        AppError::BadRequest("missing `shop` (query parameter or body field)".into())
    })?;
    let domain = ShopDomain::parse(&raw_shop).map_err(|e| AppError::BadRequest(e.to_string()))?;
    let shop = shops::find_installed(&state.pool, &domain)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("shop {domain} is not installed")))?;

    let mut rows = Vec::new();
    let mut errors: Vec<EventError> = Vec::new();
    let mut skipped = 0;
    for (index, event) in batch.events.iter().enumerate() {
        match parse_event(index, event, batch.customer_id) {
            Ok(Parsed::Event(row)) => rows.push(*row),
            Ok(Parsed::Skipped) => skipped += 1,
            Err(e) => errors.push(e),
        }
    }
    let mut clients: Vec<&str> = rows.iter().map(|r| r.client_id.as_str()).collect();
    clients.sort_unstable();
    for group in clients.chunk_by(|a, b| a == b) {
        if let Err(retry_after_secs) =
            state
                .pixel_limiter
                .take(shop.0, group[0], group.len() as u32)
        {
            metrics::counter!("shoprecs_pixel_events_total", "outcome" => "rate_limited")
                .increment(rows.len() as u64);
            return Err(AppError::TooManyRequests { retry_after_secs });
        }
    }
    // The events and the model-log row naming them commit together, so other servers on this
    // database learn of exactly the events stored (`recs::follow`).
    let mut tx = state.pool.begin().await?;
    let fresh: HashSet<String> = events::insert(&mut tx, shop, &rows)
        .await?
        .into_iter()
        .collect();
    if !fresh.is_empty() {
        let change = follow::Change::Browse {
            shop,
            event_ids: fresh.iter().cloned().collect(),
        };
        model_log::append(&mut tx, state.models.origin(), &change.to_json(), false).await?;
    }
    tx.commit().await?;
    let stored = fresh.len() as u64;
    let duplicates = rows.len() as u64 - stored;
    // The rows stored now: a batch may repeat an event id, and only its first copy counts.
    let mut unclaimed = fresh;
    let rows: Vec<events::BrowseEventRow> = rows
        .into_iter()
        .filter(|r| unclaimed.remove(&r.event_id))
        .collect();
    let new_rows: Vec<events::BrowseEventRow> = rows
        .iter()
        .filter(|r| r.customer_id.is_some())
        .cloned()
        .collect();
    // Stored already; engagement is a hint, so a failure is logged, not returned.
    if let Err(e) = crate::lifecycle::record_browsing(
        &state.pool,
        shop,
        &new_rows,
        state.settings.engagement.browse_half_life_days,
    )
    .await
    {
        tracing::warn!(error = %e, "recording browsing activity failed");
    }
    state.models.record_browse(
        shop,
        rows.into_iter().filter_map(|r| {
            Some(BrowseFacts {
                kind: facts::browse_kind(&r.name)?,
                product_id: r.product_id?,
                client_id: r.client_id,
                customer_id: r.customer_id,
                at: r.occurred_at.timestamp(),
            })
        }),
    );
    metrics::counter!("shoprecs_pixel_events_total", "outcome" => "stored").increment(stored);
    metrics::counter!("shoprecs_pixel_events_total", "outcome" => "duplicate")
        .increment(duplicates);
    metrics::counter!("shoprecs_pixel_events_total", "outcome" => "invalid")
        .increment(errors.len() as u64);
    let summary = json!({ "accepted": stored, "duplicates": duplicates, "skipped": skipped, "errors": errors });
    if errors.is_empty() {
        return Ok((StatusCode::OK, Json(summary)).into_response());
    }
    let message = errors
        .iter()
        .map(|e| format!("event {}: `{}` {}", e.index, e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ");
    let mut body = summary;
    body["error"] = json!({ "code": "invalid_events", "message": message });
    Ok((StatusCode::BAD_REQUEST, Json(body)).into_response())
}
