//! Health, readiness, metrics, restarts.

use serde_json::json;
use shoprecs::config::Secrets;

use crate::helpers::{fixture, spawn_app, spawn_app_on, test_settings, SECRET};

#[tokio::test]
async fn healthz_readyz_and_metrics() {
    let app = spawn_app().await;
    let health = app
        .client
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status(), 200);
    let ready = app
        .client
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), 200);
    assert!(
        ready.headers().contains_key("x-request-id"),
        "every response carries a request id"
    );
    app.deliver(
        "orders/create",
        &fixture("order.rest-fixture.multi-line-items.json"),
        "m1",
    )
    .await;
    let metrics = app.metrics().await;
    assert!(
        metrics
            .contains(r#"shoprecs_http_requests_total{route="/readyz",method="GET",status="200"}"#),
        "{metrics}"
    );
    assert!(metrics.contains("shoprecs_http_request_duration_seconds_bucket"));
    assert!(metrics
        .contains(r#"shoprecs_webhooks_received_total{topic="orders/create",outcome="accepted"}"#));
    assert!(metrics.contains("shoprecs_webhook_inbox_backlog"));
}

#[tokio::test]
async fn readyz_is_503_until_migrated() {
    let app = spawn_app().await;
    sqlx::query("delete from _sqlx_migrations")
        .execute(&app.pool)
        .await
        .expect("forget migrations");
    let ready = app
        .client
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), 503);
}

#[tokio::test]
async fn webhooks_committed_but_not_applied_before_a_crash_are_applied_at_start_up() {
    // As if the process died between commit and apply: rows sit in the inbox, pending.
    let restarted = apply_as_one_batch(vec![
        (
            "crash-1",
            "orders/create",
            fixture("order.rest-fixture.multi-line-items.json"),
        ),
        (
            "crash-2",
            "products/create",
            fixture("product.rest-fixture.json"),
        ),
        (
            "crash-3",
            "refunds/create",
            fixture("refund.rest-fixture.json"),
        ),
    ])
    .await;
    assert_eq!(restarted.count(r#"select count(*) from "order""#).await, 1);
    assert_eq!(restarted.count("select count(*) from product").await, 1);
    assert_eq!(
        restarted
            .count("select count(*) from order_line_net where net_quantity = 0")
            .await,
        2
    );
}

#[tokio::test]
async fn graceful_stop_leaves_nothing_pending() {
    let app = spawn_app().await;
    for i in 0..20 {
        let mut order = fixture("order.rest-fixture.multi-line-items.json");
        order["id"] = json!(1000 + i);
        app.deliver("orders/create", &order, &format!("g{i}")).await;
    }
    let database = app.stop().await;
    let pool = crate::helpers::pool_for(&database).await;
    let pending: i64 =
        sqlx::query_scalar("select count(*) from webhook_inbox where status = 'pending'")
            .fetch_one(&pool)
            .await
            .expect("count");
    assert_eq!(pending, 0);
    let orders: i64 = sqlx::query_scalar(r#"select count(*) from "order""#)
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(orders, 20);
}

/// Stops the app, puts webhooks straight into the inbox (as a crash would leave them), and
/// starts it again, so the applier meets them all in one batch.
async fn apply_as_one_batch(
    bodies: Vec<(&str, &str, serde_json::Value)>,
) -> crate::helpers::TestApp {
    let app = spawn_app().await;
    app.install_shop().await;
    app.wait_applied().await;
    let database = app.stop().await;
    let pool = crate::helpers::pool_for(&database).await;
    for (key, topic, body) in bodies {
        sqlx::query("insert into webhook_inbox (shop_id, dedupe_key, topic, body) select shop_id, $1, $2, $3 from shop")
            .bind(key)
            .bind(topic)
            .bind(serde_json::to_vec(&body).expect("json"))
            .execute(&pool)
            .await
            .expect("insert pending row");
    }
    let restarted = spawn_app_on(database, test_settings(), Secrets::fixed(SECRET)).await;
    restarted.wait_applied().await;
    restarted
}

#[tokio::test]
async fn one_unstorable_order_in_a_batch_fails_alone() {
    let mut bad = crate::helpers::order(2, Some(9), &[1, 2], 2);
    bad["name"] = json!("#2\u{0}"); // Postgres text cannot hold NUL: the database refuses it
    let app = apply_as_one_batch(vec![
        (
            "b1",
            "orders/create",
            crate::helpers::order(1, Some(9), &[1, 2], 1),
        ),
        ("b2", "orders/create", bad),
        (
            "b3",
            "orders/create",
            crate::helpers::order(3, Some(9), &[2, 3], 3),
        ),
    ])
    .await;
    assert_eq!(app.count(r#"select count(*) from "order""#).await, 2);
    let (status, error): (String, Option<String>) =
        sqlx::query_as("select status, error from webhook_inbox where dedupe_key = 'b2'")
            .fetch_one(&app.pool)
            .await
            .expect("row");
    assert_eq!(status, "failed");
    assert!(error.unwrap_or_default().contains("database error"));
    assert_eq!(
        app.count("select orders_count::int8 from customer where customer_id = 9")
            .await,
        2
    );
}

#[tokio::test]
async fn several_states_of_one_order_in_a_batch_end_in_the_newest() {
    let created = crate::helpers::order(1, Some(9), &[1, 2], 1);
    let mut updated = created.clone();
    updated["updated_at"] = json!("2026-11-05T00:00:00Z");
    updated["financial_status"] = json!("refunded");
    let app = apply_as_one_batch(vec![
        ("u", "orders/updated", updated),
        ("c", "orders/create", created),
    ])
    .await;
    let status: String =
        sqlx::query_scalar(r#"select financial_status from "order" where order_id = 1"#)
            .fetch_one(&app.pool)
            .await
            .expect("order");
    assert_eq!(status, "refunded");
    assert_eq!(
        app.count("select count(*) from webhook_inbox where status = 'applied'")
            .await,
        2
    );
}

#[tokio::test]
async fn a_second_start_on_the_same_data_directory_shares_the_running_server() {
    use shoprecs::pg_embedded::{ClusterOptions, EmbeddedPostgres};
    use sqlx::Connection;
    let dir = tempfile::Builder::new()
        .prefix("shoprecs-share-")
        .tempdir_in("/tmp")
        .expect("tempdir");
    // The server user (postgres, when tests run as root) must reach the directory.
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("chmod");
    let cluster = dir.path().join("postgres");
    let first = tokio::task::spawn_blocking({
        let cluster = cluster.clone();
        move || EmbeddedPostgres::start(&cluster, ClusterOptions::for_tests())
    })
    .await
    .expect("join")
    .expect("first start");
    assert!(first.is_owned());
    let second = tokio::task::spawn_blocking({
        let cluster = cluster.clone();
        move || EmbeddedPostgres::start(&cluster, ClusterOptions::for_tests())
    })
    .await
    .expect("join")
    .expect("second start");
    assert!(
        !second.is_owned(),
        "the second one attaches instead of starting another server"
    );
    let mut conn = sqlx::PgConnection::connect_with(&second.connect_options("postgres"))
        .await
        .expect("connect through the shared server");
    let one: i32 = sqlx::query_scalar("select 1")
        .fetch_one(&mut conn)
        .await
        .expect("query");
    assert_eq!(one, 1);
    conn.close().await.expect("close");
    tokio::task::spawn_blocking(move || {
        second.stop();
        first.stop();
    })
    .await
    .expect("stop");
    assert!(
        !cluster.join("postmaster.pid").exists(),
        "the owner stopped the server"
    );
}
