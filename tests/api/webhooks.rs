//! Receiving webhooks: signatures, sizes, duplicates, durability.

use serde_json::json;
use shoprecs::config::Secrets;
use shoprecs::shopify::webhook_hmac;

use crate::helpers::{fixture_bytes, spawn_app, spawn_app_with, test_settings, SECRET, SHOP};

#[tokio::test]
async fn shopify_hmac_vector_is_accepted_over_http() {
    // SHOPIFY.md §1.2: secret `secret`, body {"id":1}.
    let app = spawn_app_with(test_settings(), Secrets::fixed("secret")).await;
    let response = app
        .webhook_signed(
            "shop/update",
            SHOP,
            br#"{"id":1}"#,
            "v1",
            "A971iWIMgT8Zj9A9eWfikrFj7wQ16/Qwcc4OlRl2PLc=",
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(app.count("select count(*) from webhook_inbox").await, 1);
}

#[tokio::test]
async fn wrong_or_missing_signature_is_401_and_stores_nothing() {
    let app = spawn_app().await;
    let body = fixture_bytes("orders-create.docs-sample.json");
    let wrong = webhook_hmac::sign("another-secret", &body);
    let response = app
        .webhook_signed("orders/create", SHOP, &body, "e1", &wrong)
        .await;
    assert_eq!(response.status(), 401);

    let tampered = webhook_hmac::sign(SECRET, b"{}");
    assert_eq!(
        app.webhook_signed("orders/create", SHOP, &body, "e2", &tampered)
            .await
            .status(),
        401
    );

    let missing = app
        .client
        .post(app.url("/webhooks"))
        .header("X-Shopify-Topic", "orders/create")
        .header("X-Shopify-Shop-Domain", SHOP)
        .body(body.clone())
        .send()
        .await
        .expect("send");
    assert_eq!(missing.status(), 401);
    let error: serde_json::Value = missing.json().await.expect("json error");
    assert_eq!(error["error"]["code"], "unauthorized");
    assert_eq!(app.count("select count(*) from webhook_inbox").await, 0);
    assert_eq!(
        app.count("select count(*) from shop").await,
        0,
        "unverified requests create no shop"
    );
}

#[tokio::test]
async fn previous_secret_is_accepted_during_rotation() {
    let mut secrets = Secrets::fixed("new-secret");
    secrets.api_secret_previous = Some("old-secret".to_owned().into());
    let app = spawn_app_with(test_settings(), secrets).await;
    let body = br#"{"id": 7}"#;
    let old = app
        .webhook_signed(
            "shop/update",
            SHOP,
            body,
            "r1",
            &webhook_hmac::sign("old-secret", body),
        )
        .await;
    assert_eq!(old.status(), 200);
    let new = app
        .webhook_signed(
            "shop/update",
            SHOP,
            body,
            "r2",
            &webhook_hmac::sign("new-secret", body),
        )
        .await;
    assert_eq!(new.status(), 200);
    let other = app
        .webhook_signed(
            "shop/update",
            SHOP,
            body,
            "r3",
            &webhook_hmac::sign("neither", body),
        )
        .await;
    assert_eq!(other.status(), 401);
}

#[tokio::test]
async fn newer_header_family_is_accepted() {
    let app = spawn_app().await;
    let body = br#"{"id": 8}"#;
    let response = app
        .client
        .post(app.url("/webhooks"))
        .header("shopify-hmac-sha256", webhook_hmac::sign(SECRET, body))
        .header("shopify-topic", "shop/update")
        .header("shopify-shop-domain", SHOP)
        .header("shopify-event-id", "new-family-1")
        .header("shopify-webhook-id", "wh-1")
        .body(body.to_vec())
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 200);
    let key: String = sqlx::query_scalar("select dedupe_key from webhook_inbox")
        .fetch_one(&app.pool)
        .await
        .expect("stored");
    assert_eq!(key, "new-family-1");
}

#[tokio::test]
async fn duplicate_delivery_is_acknowledged_and_changes_nothing() {
    let app = spawn_app().await;
    let order = serde_json::to_vec(&crate::helpers::fixture(
        "order.rest-fixture.multi-line-items.json",
    ))
    .expect("json");
    for _ in 0..3 {
        assert_eq!(
            app.webhook("orders/create", &order, "same-event")
                .await
                .status(),
            200
        );
    }
    app.wait_applied().await;
    assert_eq!(app.count("select count(*) from webhook_inbox").await, 1);
    assert_eq!(app.count(r#"select count(*) from "order""#).await, 1);
    assert_eq!(app.count("select count(*) from order_line").await, 3);
}

#[tokio::test]
async fn oversized_body_is_413() {
    let mut settings = test_settings();
    settings.webhooks.max_body_bytes = 4096;
    let app = spawn_app_with(settings, Secrets::fixed(SECRET)).await;
    let body = vec![b' '; 5000];
    let response = app.webhook("orders/create", &body, "big").await;
    assert_eq!(response.status(), 413);
    assert_eq!(app.count("select count(*) from webhook_inbox").await, 0);
}

#[tokio::test]
async fn invalid_shop_domain_or_missing_topic_is_400() {
    let app = spawn_app().await;
    let body = br#"{"id": 1}"#;
    let sig = webhook_hmac::sign(SECRET, body);
    let response = app
        .webhook_signed("orders/create", "evil.example.com", body, "d1", &sig)
        .await;
    assert_eq!(response.status(), 400);
    let text = response.text().await.expect("body");
    assert!(text.contains("myshopify.com"), "{text}");
}

#[tokio::test]
async fn signed_but_malformed_body_is_acknowledged_and_stored_as_failed() {
    let app = spawn_app().await;
    let body = br#"{"id": 1, "line_items": "#;
    let response = app.webhook("orders/create", body, "broken-1").await;
    assert_eq!(
        response.status(),
        200,
        "Shopify must not retry a payload that can never apply"
    );
    app.wait_applied().await;
    let (status, error): (String, Option<String>) =
        sqlx::query_as("select status, error from webhook_inbox where dedupe_key = 'broken-1'")
            .fetch_one(&app.pool)
            .await
            .expect("stored");
    assert_eq!(status, "failed");
    assert!(error.unwrap_or_default().contains("malformed payload"));
    // A valid webhook after it still applies.
    app.deliver(
        "orders/create",
        &crate::helpers::fixture("order.rest-fixture.multi-line-items.json"),
        "after",
    )
    .await;
    app.wait_applied().await;
    assert_eq!(app.count(r#"select count(*) from "order""#).await, 1);
    let metrics = app.metrics().await;
    let failed = metrics
        .lines()
        .find(|l| {
            l.starts_with("shoprecs_webhooks_applied_total")
                && l.contains("orders/create")
                && l.contains("failed")
        })
        .expect("failed webhooks are counted in metrics");
    assert!(!failed.ends_with(" 0"), "{failed}");
}

#[tokio::test]
async fn unknown_topic_is_stored_and_ignored() {
    let app = spawn_app().await;
    app.deliver(
        "inventory_levels/update",
        &json!({"inventory_item_id": 1}),
        "unk-1",
    )
    .await;
    app.wait_applied().await;
    let status: String =
        sqlx::query_scalar("select status from webhook_inbox where dedupe_key = 'unk-1'")
            .fetch_one(&app.pool)
            .await
            .expect("stored");
    assert_eq!(status, "ignored");
}

#[tokio::test]
async fn database_down_is_503_so_shopify_retries() {
    let app = spawn_app().await;
    app.install_shop().await;
    let mut admin = crate::helpers::admin_connection().await;
    sqlx::query(&format!("drop database {} with (force)", app.database))
        .execute(&mut admin)
        .await
        .expect("drop database");
    let response = app
        .webhook("orders/create", br#"{"id": 5}"#, "down-1")
        .await;
    assert_eq!(response.status(), 503);
    let ready = app
        .client
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), 503);
}
