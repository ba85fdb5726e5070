//! The privacy webhooks really delete.

use serde_json::json;

use crate::helpers::{fixture, spawn_app, TestApp, SHOP};

const CUSTOMER: i64 = 207119551;

/// Every table that has a column naming customers.
async fn rows_naming_customer(app: &TestApp, customer: i64) -> i64 {
    let needle = customer.to_string();
    app.count(&format!(
        r#"select (select count(*) from customer where customer_id = {customer})
                + (select count(*) from "order" where customer_id = {customer})
                + (select count(*) from checkout where customer_id = {customer})
                + (select count(*) from abandoned_checkout where customer_id = {customer})
                + (select count(*) from browse_event where customer_id = {customer})
                + (select count(*) from privacy_request where customer_id = {customer})
                + (select count(*) from webhook_inbox
                    where body is not null and position(convert_to('{needle}', 'UTF8') in body) > 0)"#
    ))
    .await
}

async fn sweep_checkouts(app: &TestApp) -> shoprecs::abandoned::SweepReport {
    let now = chrono::DateTime::parse_from_rfc3339("2022-01-01T01:30:00Z").expect("time");
    shoprecs::abandoned::sweep(
        &app.pool,
        &app.state.models,
        &app.state.settings.checkouts,
        now.into(),
    )
    .await
    .expect("sweep")
}

async fn customer_with_history(app: &TestApp) {
    app.deliver(
        "orders/create",
        &fixture("order.rest-fixture.multi-line-items.json"),
        "o1",
    )
    .await;
    let mut customer = fixture("customers-create.docs-sample.json");
    customer["admin_graphql_api_id"] = json!(format!("gid://shopify/Customer/{CUSTOMER}"));
    app.deliver("customers/create", &customer, "c1").await;
    let mut checkout = fixture("checkouts-create.docs-sample.json");
    checkout["customer"]["admin_graphql_api_id"] =
        json!(format!("gid://shopify/Customer/{CUSTOMER}"));
    app.deliver("checkouts/create", &checkout, "co1").await;
    let mut request = fixture("customers-data_request.template-comment.json");
    request["customer"]["id"] = json!(CUSTOMER);
    app.deliver("customers/data_request", &request, "dr1").await;
    // A signed but broken webhook that mentions the customer keeps its body (failed)...
    let broken = format!(r#"{{"id": 1, "customer": {{"id": {CUSTOMER}}}, "line_items": "#);
    assert_eq!(
        app.webhook("orders/create", broken.as_bytes(), "broken")
            .await
            .status(),
        200
    );
    app.wait_applied().await;
    // The checkout (last changed at midnight) is abandoned by 01:30.
    let report = sweep_checkouts(app).await;
    assert_eq!(report.abandoned, 1, "{report:?}");
    let events = json!({"shop": SHOP, "customerId": CUSTOMER.to_string(), "events": [
        {"id": "v1", "name": "product_viewed", "clientId": "device-1", "timestamp": "2026-11-20T10:00:00Z",
         "data": {"productVariant": {"id": "39072856", "product": {"id": "632910392"}}}}]});
    assert_eq!(
        app.pixel("", &events.to_string(), "text/plain")
            .await
            .status(),
        200
    );
    let anonymous = json!([{"id": "v2", "name": "product_viewed", "clientId": "device-1", "timestamp": "2026-11-20T09:00:00Z",
        "data": {"productVariant": {"id": "39072856", "product": {"id": "632910392"}}}}]);
    assert_eq!(
        app.pixel(
            &format!("?shop={SHOP}"),
            &anonymous.to_string(),
            "application/json"
        )
        .await
        .status(),
        200
    );
}

#[tokio::test]
async fn customers_redact_leaves_zero_rows_of_that_customer() {
    let app = spawn_app().await;
    customer_with_history(&app).await;
    assert!(
        rows_naming_customer(&app, CUSTOMER).await >= 5,
        "set-up stored the customer everywhere"
    );

    let mut redact = fixture("customers-redact.template-comment.json");
    redact["customer"]["id"] = json!(CUSTOMER);
    redact["orders_to_redact"] = json!([450789469]);
    app.deliver("customers/redact", &redact, "redact").await;
    app.wait_applied().await;

    assert_eq!(rows_naming_customer(&app, CUSTOMER).await, 0);
    // Their checkout, now anonymous and without their e-mail, is not abandoned again.
    assert_eq!(sweep_checkouts(&app).await.abandoned, 0);
    assert_eq!(
        app.count("select count(*) from abandoned_checkout").await,
        0
    );
    assert_eq!(
        app.count("select count(*) from browse_event where client_id = 'device-1'")
            .await,
        0
    );
    // The order stays as an anonymous basket for co-purchase statistics.
    assert_eq!(
        app.count(
            r#"select count(*) from "order" where order_id = 450789469 and customer_id is null"#
        )
        .await,
        1
    );

    // A late retry of an old webhook must not bring the customer back.
    let mut retried = fixture("order.rest-fixture.multi-line-items.json");
    retried["updated_at"] = json!("2026-01-01T00:00:00Z");
    app.deliver("orders/updated", &retried, "late-retry").await;
    let mut customer = fixture("customers-create.docs-sample.json");
    customer["admin_graphql_api_id"] = json!(format!("gid://shopify/Customer/{CUSTOMER}"));
    customer["updated_at"] = json!("2026-01-01T00:00:00Z");
    app.deliver("customers/update", &customer, "late-customer")
        .await;
    app.wait_applied().await;
    assert_eq!(rows_naming_customer(&app, CUSTOMER).await, 0);
}

#[tokio::test]
async fn shop_redact_leaves_zero_rows_of_the_shop() {
    let app = spawn_app().await;
    customer_with_history(&app).await;
    app.deliver(
        "products/create",
        &fixture("product.rest-fixture.json"),
        "p",
    )
    .await;
    app.deliver("refunds/create", &fixture("refund.rest-fixture.json"), "r")
        .await;
    app.deliver(
        "carts/create",
        &fixture("carts-create.docs-sample.json"),
        "cart",
    )
    .await;
    app.wait_applied().await;
    let shop_id = app.shop_id().await;
    let tables: Vec<String> = sqlx::query_scalar(
        "select table_name::text from information_schema.columns
          where table_schema = 'public' and column_name = 'shop_id'
            and table_name in (select table_name from information_schema.tables where table_type = 'BASE TABLE')",
    )
    .fetch_all(&app.pool)
    .await
    .expect("tables");
    assert!(tables.len() >= 12, "{tables:?}");
    assert!(count_all(&app, &tables, shop_id).await > 10);

    app.deliver(
        "shop/redact",
        &fixture("shop-redact.template-comment.json"),
        "bye-forever",
    )
    .await;
    app.wait_applied().await;
    assert_eq!(count_all(&app, &tables, shop_id).await, 0);
    assert_eq!(app.count("select count(*) from shop").await, 0);
}

#[tokio::test]
async fn data_request_is_recorded_and_export_customer_prints_everything_stored() {
    let app = spawn_app().await;
    customer_with_history(&app).await;
    assert_eq!(
        app.count(&format!(
            "select count(*) from privacy_request where customer_id = {CUSTOMER}"
        ))
        .await,
        1
    );

    let stdout = crate::helpers::cli(
        &app.database,
        &[
            "export-customer",
            "--shop",
            SHOP,
            "--customer",
            &CUSTOMER.to_string(),
        ],
    );
    let doc: serde_json::Value = serde_json::from_str(&stdout).expect("JSON on stdout");
    assert_eq!(doc["customer_id"], CUSTOMER);
    assert_eq!(doc["orders"][0]["order_id"], 450789469);
    assert_eq!(doc["orders"][0]["lines"].as_array().map(Vec::len), Some(3));
    assert_eq!(doc["browse_events"].as_array().map(Vec::len), Some(1));
    assert_eq!(doc["checkouts"].as_array().map(Vec::len), Some(1));
    let abandoned = &doc["abandoned_checkouts"];
    assert_eq!(abandoned.as_array().map(Vec::len), Some(1), "{abandoned}");
    assert_eq!(abandoned[0]["checkout_token"], "123123123");
    assert_eq!(doc["privacy_requests"].as_array().map(Vec::len), Some(1));
    assert!(
        !stdout.contains('@'),
        "no e-mail addresses are stored, so none are exported"
    );
}

async fn count_all(app: &TestApp, tables: &[String], shop_id: i64) -> i64 {
    let mut total = 0;
    for table in tables {
        total += app
            .count(&format!(
                r#"select count(*) from "{table}" where shop_id = {shop_id}"#
            ))
            .await;
    }
    total
}
