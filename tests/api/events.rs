//! Outgoing events: signed POSTs to a real local receiver, retried with backoff from the outbox,
//! surviving a restart, given up on after the last attempt, and never crossing shops.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use shoprecs::config::{Secrets, Settings};
use shoprecs::outbox::{self, sign, topic, NewEvent};
use shoprecs::store::ShopId;

use crate::helpers::{spawn_app_on, spawn_app_with, test_settings, TestApp, SECRET, SHOP};

const OTHER_SHOP: &str = "other-shop.myshopify.com";

/// One request the receiver got, and what it answered.
#[derive(Clone, Debug)]
struct Received {
    headers: HeaderMap,
    body: Vec<u8>,
    status: u16,
    at: Instant,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("header {name} missing: {:?}", self.headers))
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("the body is JSON")
    }
}

#[derive(Clone, Default)]
struct Log {
    received: Arc<Mutex<Vec<Received>>>,
    /// Requests still to answer with 500.
    failures_left: Arc<AtomicUsize>,
}

/// A receiver on 127.0.0.1:0 that records every request and fails the first `fail_first`.
struct Receiver {
    url: String,
    log: Log,
}

impl Receiver {
    async fn start(fail_first: usize) -> Self {
        let log = Log::default();
        log.failures_left.store(fail_first, Ordering::SeqCst);
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(record))
            .with_state(log.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind receiver");
        let url = format!(
            "http://{}/hook",
            listener.local_addr().expect("receiver address")
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, log }
    }

    fn received(&self) -> Vec<Received> {
        self.log.received.lock().expect("log").clone()
    }

    fn succeeded(&self) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.status == 200)
            .collect()
    }

    fn recover(&self) {
        self.log.failures_left.store(0, Ordering::SeqCst);
    }
}

async fn record(State(log): State<Log>, headers: HeaderMap, body: axum::body::Bytes) -> StatusCode {
    let fail = log
        .failures_left
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    let status = if fail {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    };
    log.received.lock().expect("log").push(Received {
        headers,
        body: body.to_vec(),
        status: status.as_u16(),
        at: Instant::now(),
    });
    status
}

/// Backoff in tens of milliseconds, so retries happen within a test.
fn fast_settings() -> Settings {
    let mut settings = test_settings();
    settings.events.backoff_base_secs = 0.05;
    settings.events.backoff_max_secs = 0.2;
    settings.events.poll_interval_secs = 0.1;
    settings.events.request_timeout_secs = 2.0;
    settings.events.lease_secs = 3.0;
    settings
}

/// Polls a condition (an expression that may `.await`) until it holds, for at most 10 s.
macro_rules! eventually {
    ($what:expr, $condition:expr) => {{
        let deadline = Instant::now() + Duration::from_secs(10);
        while !$condition {
            assert!(Instant::now() < deadline, "not within 10 s: {}", $what);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }};
}

/// The shop's signing secret, computed here from the documented scheme.
fn expected_secret(shop: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("key");
    mac.update(format!("shoprecs-events:{shop}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

async fn add_endpoint(app: &TestApp, key: &str, body: Value) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/event-endpoints"))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .expect("add endpoint")
}

/// Adds an endpoint for every topic; returns the created endpoint.
async fn endpoint_for(app: &TestApp, key: &str, url: &str) -> Value {
    let response = add_endpoint(app, key, json!({ "url": url })).await;
    assert_eq!(response.status(), 201);
    response.json().await.expect("json")
}

async fn send_test(app: &TestApp, key: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/event-endpoints/test"))
        .bearer_auth(key)
        .send()
        .await
        .expect("send test")
}

/// Sends a test event, expecting 202; returns its id.
async fn test_event(app: &TestApp, key: &str) -> String {
    let response = send_test(app, key).await;
    assert_eq!(response.status(), 202);
    let body: Value = response.json().await.expect("json");
    body["event_id"].as_str().expect("event id").to_owned()
}

/// A second shop on the same server, with its API key.
async fn other_shop(app: &TestApp) -> (ShopId, String) {
    let body = serde_json::to_vec(&json!({"id": 2})).expect("json");
    let sig = shoprecs::shopify::webhook_hmac::sign(SECRET, &body);
    let response = app
        .webhook_signed("shop/update", OTHER_SHOP, &body, "b-install", &sig)
        .await;
    assert_eq!(response.status(), 200);
    let id: i64 = sqlx::query_scalar("select shop_id from shop where domain = $1")
        .bind(OTHER_SHOP)
        .fetch_one(&app.pool)
        .await
        .expect("shop b");
    (ShopId(id), app.api_key_for(ShopId(id)).await)
}

async fn attempts(app: &TestApp, event_id: &str) -> Vec<i32> {
    sqlx::query_scalar("select attempts from event_outbox where event_id = $1::uuid")
        .bind(event_id)
        .fetch_all(&app.pool)
        .await
        .expect("attempts")
}

#[tokio::test]
async fn an_enqueued_event_is_posted_signed_with_the_shop_secret() {
    let app = spawn_app_with(fast_settings(), Secrets::fixed(SECRET)).await;
    let key = app.api_key().await;
    let receiver = Receiver::start(0).await;
    let created = endpoint_for(&app, &key, &receiver.url).await;
    let secret = expected_secret(SHOP);
    assert_eq!(created["signing_secret"], secret.as_str());
    assert_eq!(created["topics"], json!([]));

    // As a flow would: in the transaction that makes the change.
    let shop = ShopId(app.shop_id().await);
    let occurred_at = chrono::DateTime::from_timestamp(1_790_000_000, 0).expect("time");
    let mut tx = app.pool.begin().await.expect("begin");
    let event = NewEvent {
        topic: topic::CHECKOUT_ABANDONED,
        occurred_at,
        data: json!({"checkout_token": "abc", "customer_id": 7}),
    };
    let event_id = outbox::enqueue(&mut tx, shop, &event, chrono::Utc::now())
        .await
        .expect("enqueue")
        .expect("an endpoint wants it");
    tx.commit().await.expect("commit");
    app.state.outbox.wake();

    eventually!("the event is delivered", !receiver.succeeded().is_empty());
    let got = &receiver.received()[0];
    assert_eq!(got.header("content-type"), "application/json");
    assert_eq!(got.header("x-shoprecs-event-id"), event_id.to_string());
    assert_eq!(got.header("x-shoprecs-topic"), "checkout.abandoned");
    assert_eq!(got.header("x-shoprecs-shop-domain"), SHOP);
    let timestamp = got.header("x-shoprecs-timestamp");
    let sent: i64 = timestamp.parse().expect("unix seconds");
    assert!((sent - chrono::Utc::now().timestamp()).abs() < 60, "{sent}");
    let signature = got.header("x-shoprecs-signature");
    assert!(sign::verify(&secret, timestamp, &got.body, signature));
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(&got.body);
    assert_eq!(
        signature,
        format!("v1={}", hex::encode(mac.finalize().into_bytes()))
    );
    assert!(!sign::verify(
        &expected_secret(OTHER_SHOP),
        timestamp,
        &got.body,
        signature
    ));

    let body = got.json();
    assert_eq!(body["id"], event_id.to_string());
    assert_eq!(body["topic"], "checkout.abandoned");
    assert_eq!(body["shop"], SHOP);
    let occurred =
        chrono::DateTime::parse_from_rfc3339(body["occurred_at"].as_str().expect("time"))
            .expect("RFC 3339");
    assert_eq!(occurred, occurred_at);
    assert_eq!(
        body["data"],
        json!({"checkout_token": "abc", "customer_id": 7})
    );

    eventually!(
        "the outbox row is marked delivered",
        app.count("select count(*) from event_outbox where delivered_at is not null")
            .await
            == 1
    );
    let delivered = app.api_json(&key, "/api/v1/events?status=delivered").await;
    assert_eq!(delivered["events"][0]["event_id"], event_id.to_string());
    assert_eq!(delivered["events"][0]["attempts"], 1);
    assert_eq!(delivered["events"][0]["status"], "delivered");
    let metrics = app.metrics().await;
    assert!(
        metrics.contains(
            r#"shoprecs_events_delivered_total{topic="checkout.abandoned",outcome="delivered"}"#
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains("shoprecs_event_outbox_backlog 0"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_failing_receiver_gets_the_same_event_until_it_accepts_it_once() {
    let app = spawn_app_with(fast_settings(), Secrets::fixed(SECRET)).await;
    let key = app.api_key().await;
    let receiver = Receiver::start(3).await;
    endpoint_for(&app, &key, &receiver.url).await;
    let event_id = test_event(&app, &key).await;

    eventually!(
        "delivered after three failures",
        !receiver.succeeded().is_empty()
    );
    // Longer than the longest backoff: a further (duplicate) delivery would show.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got = receiver.received();
    let statuses: Vec<u16> = got.iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![500, 500, 500, 200]);
    for r in &got {
        assert_eq!(r.header("x-shoprecs-event-id"), event_id);
        assert_eq!(r.json()["id"], event_id.as_str());
        assert_eq!(r.header("x-shoprecs-topic"), "shoprecs.test");
    }
    // Backoff: each retry waited at least half of base · 2^(n-1).
    for (n, pair) in got.windows(2).enumerate() {
        let waited = pair[1].at - pair[0].at;
        let least = Duration::from_secs_f64(0.05 * 2f64.powi(n as i32) / 2.0 * 0.9);
        assert!(waited >= least, "retry {n}: {waited:?} < {least:?}");
    }
    eventually!(
        "attempts recorded",
        attempts(&app, &event_id).await == vec![4]
    );
    let events = app.api_json(&key, "/api/v1/events").await;
    assert_eq!(
        events["events"].as_array().map(Vec::len),
        Some(1),
        "{events}"
    );
    assert_eq!(events["events"][0]["attempts"], 4);
    assert_eq!(events["events"][0]["status"], "delivered");
}

#[tokio::test]
async fn events_pending_when_shoprecs_stops_are_delivered_after_restart() {
    let mut settings = fast_settings();
    settings.events.max_attempts = 1000;
    let app = spawn_app_with(settings.clone(), Secrets::fixed(SECRET)).await;
    let key = app.api_key().await;
    let receiver = Receiver::start(usize::MAX).await;
    endpoint_for(&app, &key, &receiver.url).await;
    let event_id = test_event(&app, &key).await;
    eventually!("a first attempt fails", !receiver.received().is_empty());
    let database = app.stop().await;

    // As if a process had died while posting it: leased for one more second.
    let pool = crate::helpers::pool_for(&database).await;
    let lease_end: chrono::DateTime<chrono::Utc> = sqlx::query_scalar(
        "update event_outbox set leased_until = now() + interval '1 second'
          where delivered_at is null returning leased_until",
    )
    .fetch_one(&pool)
    .await
    .expect("one pending event");
    receiver.recover();
    let app = spawn_app_on(database, settings, Secrets::fixed(SECRET)).await;

    eventually!(
        "delivered by the restarted server",
        !receiver.succeeded().is_empty()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.succeeded().len(), 1);
    for r in receiver.received() {
        assert_eq!(r.header("x-shoprecs-event-id"), event_id);
    }
    eventually!(
        "marked delivered",
        app.count("select count(*) from event_outbox where delivered_at is not null")
            .await
            == 1
    );
    let delivered_at: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("select delivered_at from event_outbox")
            .fetch_one(&app.pool)
            .await
            .expect("delivered");
    assert!(
        delivered_at >= lease_end,
        "not posted while another worker held it"
    );
}

#[tokio::test]
async fn an_event_is_given_up_after_the_last_attempt_and_listed_as_dead() {
    let mut settings = fast_settings();
    settings.events.max_attempts = 3;
    let app = spawn_app_with(settings, Secrets::fixed(SECRET)).await;
    let key = app.api_key().await;
    let receiver = Receiver::start(usize::MAX).await;
    endpoint_for(&app, &key, &receiver.url).await;
    let event_id = test_event(&app, &key).await;

    let mut dead: Value;
    eventually!("the event is dead", {
        dead = app.api_json(&key, "/api/v1/events?status=dead").await;
        dead["events"].as_array().is_some_and(|e| !e.is_empty())
    });
    let event = &dead["events"][0];
    assert_eq!(event["event_id"], event_id.as_str());
    assert_eq!(event["attempts"], 3);
    assert_eq!(event["last_error"], "HTTP 500");
    assert_eq!(event["status"], "dead");
    assert!(event["delivered_at"].is_null());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.received().len(), 3, "no attempt after the last");
    let pending = app.api_json(&key, "/api/v1/events?status=pending").await;
    assert_eq!(pending["events"], json!([]));
    let metrics = app.metrics().await;
    assert!(
        metrics
            .contains(r#"shoprecs_events_delivered_total{topic="shoprecs.test",outcome="dead"}"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_shop_never_sees_or_receives_another_shops_events_or_endpoints() {
    let app = spawn_app_with(fast_settings(), Secrets::fixed(SECRET)).await;
    let key_a = app.api_key().await;
    let (_, key_b) = other_shop(&app).await;
    let (receiver_a, receiver_b) = (Receiver::start(0).await, Receiver::start(0).await);
    let endpoint_a = endpoint_for(&app, &key_a, &receiver_a.url).await;
    let endpoint_b = endpoint_for(&app, &key_b, &receiver_b.url).await;
    assert_ne!(endpoint_a["signing_secret"], endpoint_b["signing_secret"]);
    assert_eq!(
        endpoint_b["signing_secret"],
        expected_secret(OTHER_SHOP).as_str()
    );

    let event_a = test_event(&app, &key_a).await;
    eventually!(
        "shop A's receiver gets its event",
        !receiver_a.succeeded().is_empty()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(receiver_b.received().is_empty(), "B got A's event");
    assert_eq!(receiver_a.received().len(), 1);

    let event_b = test_event(&app, &key_b).await;
    eventually!(
        "shop B's receiver gets its event",
        !receiver_b.succeeded().is_empty()
    );
    let got = &receiver_b.received()[0];
    assert_eq!(got.header("x-shoprecs-event-id"), event_b);
    assert_eq!(got.header("x-shoprecs-shop-domain"), OTHER_SHOP);
    let (ts, sig) = (
        got.header("x-shoprecs-timestamp"),
        got.header("x-shoprecs-signature"),
    );
    assert!(sign::verify(
        &expected_secret(OTHER_SHOP),
        ts,
        &got.body,
        sig
    ));
    assert!(!sign::verify(&expected_secret(SHOP), ts, &got.body, sig));
    assert_eq!(receiver_a.received().len(), 1, "A got B's event");

    // B sees only its own endpoints and events, and cannot remove A's endpoint.
    let listed = app.api_json(&key_b, "/api/v1/event-endpoints").await;
    let ids: Vec<&Value> = listed["endpoints"]
        .as_array()
        .expect("endpoints")
        .iter()
        .map(|e| &e["endpoint_id"])
        .collect();
    assert_eq!(ids, vec![&endpoint_b["endpoint_id"]]);
    let events_b = app.api_json(&key_b, "/api/v1/events").await;
    let seen: Vec<&Value> = events_b["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| &e["event_id"])
        .collect();
    assert_eq!(seen, vec![&json!(event_b)], "not {event_a}");
    let delete = app
        .client
        .delete(app.url(&format!(
            "/api/v1/event-endpoints/{}",
            endpoint_a["endpoint_id"]
        )))
        .bearer_auth(&key_b)
        .send()
        .await
        .expect("delete");
    assert_eq!(delete.status(), 404);
    let listed_a = app.api_json(&key_a, "/api/v1/event-endpoints").await;
    assert_eq!(
        listed_a["endpoints"][0]["endpoint_id"],
        endpoint_a["endpoint_id"]
    );
}

#[tokio::test]
async fn invalid_endpoints_are_refused_with_a_reason_and_nothing_is_stored() {
    let app = spawn_app_with(fast_settings(), Secrets::fixed(SECRET)).await;
    let key = app.api_key().await;
    for (body, reason) in [
        (json!({"url": "ftp://example.com/hook"}), "http or https"),
        (json!({"url": "javascript:alert(1)"}), "http or https"),
        (json!({"url": "not a url"}), "not a valid absolute URL"),
        (
            json!({"url": "https://me:pw@example.com/"}),
            "user name or password",
        ),
        (
            json!({"url": "https://example.com/hook", "topics": ["orders/create"]}),
            "unknown topic",
        ),
    ] {
        let response = add_endpoint(&app, &key, body.clone()).await;
        assert_eq!(response.status(), 422, "{body}");
        let error: Value = response.json().await.expect("json");
        assert_eq!(error["error"]["code"], "unprocessable", "{body}");
        let message = error["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(reason), "{body}: {message}");
    }
    let listed = app.api_json(&key, "/api/v1/event-endpoints").await;
    assert_eq!(listed["endpoints"], json!([]));
    // Nothing to send a test event to.
    let response = send_test(&app, &key).await;
    assert_eq!(response.status(), 422);
    assert_eq!(app.count("select count(*) from event_outbox").await, 0);
}
