//! Browse events from the web pixel.

use serde_json::{json, Value};
use shoprecs::config::Secrets;

use crate::helpers::{fixture, spawn_app, spawn_app_with, test_settings, SECRET, SHOP};

fn viewed(id: &str, client: &str, product: Value) -> Value {
    json!({"id": id, "name": "product_viewed", "clientId": client, "timestamp": "2026-11-20T10:00:00.000Z",
           "type": "standard", "seq": 1, "context": {"document": {"title": "x"}},
           "data": {"productVariant": {"id": "gid://shopify/ProductVariant/39072856", "price": {"amount": 199.0, "currencyCode": "USD"},
                    "product": {"id": product, "title": "IPod Nano", "type": "Cult Products"}}}})
}

#[tokio::test]
async fn unknown_or_uninstalled_shop_is_404_and_missing_shop_is_400() {
    let app = spawn_app().await;
    let body = json!([viewed("e1", "c1", json!("632910392"))]).to_string();
    let unknown = app
        .pixel("?shop=nobody.myshopify.com", &body, "text/plain")
        .await;
    assert_eq!(unknown.status(), 404);
    assert_eq!(app.pixel("", &body, "text/plain").await.status(), 400);

    app.install_shop().await;
    assert_eq!(
        app.pixel(&format!("?shop={SHOP}"), &body, "text/plain")
            .await
            .status(),
        200
    );
    app.deliver(
        "app/uninstalled",
        &fixture("app-uninstalled.docs-sample.json"),
        "bye",
    )
    .await;
    app.wait_applied().await;
    let after = app
        .pixel(
            &format!("?shop={SHOP}"),
            &json!([viewed("e2", "c1", json!(1))]).to_string(),
            "text/plain",
        )
        .await;
    assert_eq!(after.status(), 404);
}

#[tokio::test]
async fn events_of_every_kind_are_stored_with_ids_in_any_form_and_deduplicated() {
    let app = spawn_app().await;
    app.install_shop().await;
    let events = json!({"shop": SHOP, "customerId": "gid://shopify/Customer/42", "events": [
        viewed("a", "c1", json!("gid://shopify/Product/632910392")),
        viewed("b", "c1", json!(632910392)),
        {"id": "c", "name": "product_added_to_cart", "clientId": "c1", "timestamp": "2026-11-20T10:01:00Z",
         "data": {"cartLine": {"quantity": 2, "merchandise": {"id": "39072856", "product": {"id": "632910392"}}}}},
        {"id": "d", "name": "search_submitted", "clientId": "c1", "timestamp": "2026-11-20T10:02:00Z",
         "data": {"searchResult": {"query": "ipod", "productVariants": []}}},
        {"id": "e", "name": "checkout_completed", "clientId": "c1", "timestamp": "2026-11-20T10:03:00Z",
         "data": {"checkout": {"token": "tok-1", "order": {"id": "9", "customer": {"id": "42"}}}}},
        {"id": "f", "name": "page_viewed", "clientId": "c1", "timestamp": "2026-11-20T10:03:00Z", "data": {}}
    ]});
    let response = app.pixel("", &events.to_string(), "application/json").await;
    assert_eq!(response.status(), 200);
    let summary: Value = response.json().await.expect("json");
    assert_eq!(
        (summary["accepted"].as_u64(), summary["skipped"].as_u64()),
        (Some(5), Some(1))
    );
    assert_eq!(
        app.count(
            "select count(*) from browse_event where product_id = 632910392 and customer_id = 42"
        )
        .await,
        3
    );
    assert_eq!(
        app.count("select count(*) from browse_event where quantity = 2")
            .await,
        1
    );
    assert_eq!(
        app.count("select count(*) from browse_event where search_query = 'ipod'")
            .await,
        1
    );
    assert_eq!(
        app.count("select count(*) from browse_event where checkout_token = 'tok-1'")
            .await,
        1
    );

    let again = app.pixel("", &events.to_string(), "text/plain").await;
    let summary: Value = again.json().await.expect("json");
    assert_eq!(
        (summary["accepted"].as_u64(), summary["duplicates"].as_u64()),
        (Some(0), Some(5))
    );
    assert_eq!(app.count("select count(*) from browse_event").await, 5);
    // Pixel events are hints: they never create orders.
    assert_eq!(app.count(r#"select count(*) from "order""#).await, 0);
}

#[tokio::test]
async fn batch_with_one_bad_event_is_400_naming_the_field_and_keeps_the_good_ones() {
    let app = spawn_app().await;
    app.install_shop().await;
    let mut bad = viewed("bad", "c1", json!("1"));
    bad["timestamp"] = json!("last tuesday");
    let body = json!([
        viewed("good-1", "c1", json!("632910392")),
        bad,
        viewed("good-2", "c2", json!("5"))
    ]);
    let response = app
        .pixel(&format!("?shop={SHOP}"), &body.to_string(), "text/plain")
        .await;
    assert_eq!(response.status(), 400);
    let summary: Value = response.json().await.expect("json");
    assert_eq!(summary["errors"][0]["index"], 1);
    assert_eq!(summary["errors"][0]["field"], "timestamp");
    assert!(summary["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("timestamp"));
    assert_eq!(app.count("select count(*) from browse_event").await, 2);
}

#[tokio::test]
async fn malformed_oversized_and_too_long_batches_are_refused() {
    let app = spawn_app().await;
    app.install_shop().await;
    let q = format!("?shop={SHOP}");
    let malformed = app.pixel(&q, "{not json", "text/plain").await;
    assert_eq!(malformed.status(), 400);
    assert!(malformed
        .text()
        .await
        .unwrap_or_default()
        .contains("not valid JSON"));
    let many: Vec<Value> = (0..101)
        .map(|i| viewed(&format!("m{i}"), "c", json!("1")))
        .collect();
    let too_many = app
        .pixel(&q, &Value::Array(many).to_string(), "text/plain")
        .await;
    assert_eq!(too_many.status(), 400);
    assert!(too_many
        .text()
        .await
        .unwrap_or_default()
        .contains("at most 100"));
    let huge = format!("[{}]", " ".repeat(300 * 1024));
    assert_eq!(app.pixel(&q, &huge, "text/plain").await.status(), 413);
    assert_eq!(app.count("select count(*) from browse_event").await, 0);
}

#[tokio::test]
async fn rate_limit_per_client_answers_429_with_retry_after() {
    let mut settings = test_settings();
    settings.pixel.events_per_minute = 6;
    settings.pixel.burst = 3;
    let app = spawn_app_with(settings, Secrets::fixed(SECRET)).await;
    app.install_shop().await;
    let q = format!("?shop={SHOP}");
    for i in 0..3 {
        let ok = app
            .pixel(
                &q,
                &viewed(&format!("r{i}"), "busy", json!("1")).to_string(),
                "text/plain",
            )
            .await;
        assert_eq!(ok.status(), 200);
    }
    let limited = app
        .pixel(
            &q,
            &viewed("r3", "busy", json!("1")).to_string(),
            "text/plain",
        )
        .await;
    assert_eq!(limited.status(), 429);
    let retry: u64 = limited.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry), "{retry}");
    // Another shopper is not affected.
    let other = app
        .pixel(
            &q,
            &viewed("o1", "calm", json!("1")).to_string(),
            "text/plain",
        )
        .await;
    assert_eq!(other.status(), 200);
}

#[tokio::test]
async fn cors_preflight_allows_any_storefront_origin() {
    let app = spawn_app().await;
    let response = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/pixel/events"))
        .header("Origin", "https://some-store.com")
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "content-type")
        .send()
        .await
        .expect("preflight");
    assert!(response.status().is_success());
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
}
