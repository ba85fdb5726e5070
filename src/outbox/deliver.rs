//! The delivery worker: posts due outbox rows to their endpoints, signed, and retries failures
//! with backoff until they are delivered or dead.
//!
//! Rows are leased in one short statement (`FOR UPDATE SKIP LOCKED`), posted with no
//! transaction open, then marked. Several processes can share the database; a process that
//! dies mid-post leaves its rows leased, and they fall due again when the lease ends. Delivery
//! is therefore at least once: receivers drop duplicates by `X-Shoprecs-Event-Id`.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{watch, Notify};
use tokio::task::{JoinHandle, JoinSet};

use super::{backoff, sign};
use crate::app::AppState;
use crate::config::EventSettings;
use crate::store::outbox::{self, DueEvent};

/// Rows leased per round.
const BATCH: i64 = 32;

/// Wakes the delivery worker after events are enqueued in this process (call it after the
/// transaction commits). Events enqueued elsewhere are found by polling.
#[derive(Clone, Default)]
pub struct DeliveryHandle {
    notify: Arc<Notify>,
}

impl DeliveryHandle {
    pub fn wake(&self) {
        self.notify.notify_one();
    }
}

/// Runs until `stop` turns true; posts already started are finished first (each is bounded by
/// `events.request_timeout_secs`).
pub fn spawn(state: AppState, mut stop: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let client = match client(&state.settings.events) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "cannot build the HTTP client: outgoing events are not delivered");
                return;
            }
        };
        let poll = secs(state.settings.events.poll_interval_secs);
        loop {
            if *stop.borrow() {
                return;
            }
            let wait = match deliver_due(&state, &client).await {
                Ok(n) if n as i64 == BATCH => Duration::ZERO,
                Ok(_) => until_next_due(&state, poll).await,
                Err(e) => {
                    tracing::warn!(error = %e, "claiming due events failed; retrying");
                    poll
                }
            };
            if wait.is_zero() {
                continue;
            }
            tokio::select! {
                _ = state.outbox.notify.notified() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = stop.changed() => return,
            }
        }
    })
}

fn secs(s: f64) -> Duration {
    Duration::try_from_secs_f64(s).unwrap_or(Duration::from_secs(1))
}

fn client(settings: &EventSettings) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(secs(settings.request_timeout_secs))
        // A redirect would re-send (or drop) the signed body somewhere else: count it a failure.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("shoprecs/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// How long to sleep: until the next row falls due, at most the poll interval.
async fn until_next_due(state: &AppState, poll: Duration) -> Duration {
    let floor = Duration::from_millis(10);
    match outbox::next_due(&state.pool).await {
        Ok(Some(due)) => (due - state.now())
            .to_std()
            .unwrap_or(floor)
            .clamp(floor, poll),
        Ok(None) => poll,
        Err(e) => {
            tracing::warn!(error = %e, "reading the next due event failed");
            poll
        }
    }
}

/// Leases a batch of due rows and posts them concurrently. Returns how many were leased.
async fn deliver_due(state: &AppState, client: &reqwest::Client) -> sqlx::Result<usize> {
    let settings = &state.settings.events;
    let now = state.now();
    let lease = chrono::Duration::from_std(secs(settings.lease_secs))
        .unwrap_or(chrono::Duration::seconds(60));
    let due = outbox::claim_due(&state.pool, now, now + lease, BATCH).await?;
    let count = due.len();
    let mut posts = JoinSet::new();
    for event in due {
        let (state, client) = (state.clone(), client.clone());
        posts.spawn(async move { deliver_one(&state, &client, event).await });
    }
    while posts.join_next().await.is_some() {}
    Ok(count)
}

async fn deliver_one(state: &AppState, client: &reqwest::Client, event: DueEvent) {
    let sent_at = state.now();
    let result = post(state, client, &event, sent_at).await;
    let settings = &state.settings.events;
    let attempt = event.attempts + 1;
    let outcome = match &result {
        Ok(()) => outbox::mark_delivered(&state.pool, event.shop_id, event.outbox_id, state.now())
            .await
            .map(|()| "delivered"),
        Err(error) => {
            let wait = backoff::delay(
                attempt,
                settings.backoff_base_secs,
                settings.backoff_max_secs,
                rand::random::<f64>(),
            );
            let retry_at = retry_time(state.now(), wait);
            outbox::mark_failed(
                &state.pool,
                event.shop_id,
                event.outbox_id,
                error,
                retry_at,
                settings.max_attempts,
            )
            .await
            .map(|dead| if dead { "dead" } else { "failed" })
        }
    };
    match outcome {
        Ok(outcome) => {
            metrics::counter!("shoprecs_events_delivered_total", "topic" => event.topic.clone(), "outcome" => outcome)
                .increment(1);
            let error = result.err().unwrap_or_default();
            match outcome {
                "delivered" => tracing::info!(
                    shop.id = event.shop_id.0, event.id = %event.event_id, event.topic = %event.topic,
                    endpoint.id = event.endpoint_id, attempt, "event delivered"
                ),
                _ => tracing::warn!(
                    shop.id = event.shop_id.0, event.id = %event.event_id, event.topic = %event.topic,
                    endpoint.id = event.endpoint_id, attempt, %error, dead = outcome == "dead",
                    "event delivery failed"
                ),
            }
        }
        // The lease runs out and the row is tried again: at least once, never lost.
        Err(e) => tracing::error!(
            error = %e, shop.id = event.shop_id.0, event.id = %event.event_id,
            "recording an event delivery failed; it is retried when its lease ends"
        ),
    }
}

fn retry_time(now: DateTime<Utc>, wait: Duration) -> DateTime<Utc> {
    now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(1))
}

/// One signed POST. The error is what the outbox keeps: an HTTP status or an error kind, never
/// a response body or the URL (which may hold a token).
async fn post(
    state: &AppState,
    client: &reqwest::Client,
    event: &DueEvent,
    sent_at: DateTime<Utc>,
) -> Result<(), String> {
    let body = serde_json::to_vec(&event.payload).map_err(|_| "unserializable payload")?;
    let timestamp = sent_at.timestamp();
    let secret = sign::shop_secret(&state.secrets.api_secret, &event.shop_domain);
    let signature = sign::signature(&secret, timestamp, &body);
    let response = client
        .post(&event.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("X-Shoprecs-Event-Id", event.event_id.to_string())
        .header("X-Shoprecs-Topic", &event.topic)
        .header("X-Shoprecs-Shop-Domain", &event.shop_domain)
        .header("X-Shoprecs-Timestamp", timestamp.to_string())
        .header("X-Shoprecs-Signature", signature)
        .body(body)
        .send()
        .await
        .map_err(|e| error_kind(&e).to_owned())?;
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("HTTP {}", status.as_u16()))
    }
}

fn error_kind(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_builder() {
        "invalid request"
    } else {
        "request failed"
    }
}
