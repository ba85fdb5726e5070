//! Applying webhooks: real payloads in, normalised rows out, idempotent and order-independent.

use serde_json::{json, Value};

use crate::helpers::{fixture, spawn_app, TestApp};

const REST_ORDER: &str = "order.rest-fixture.multi-line-items.json";

async fn net_quantities(app: &TestApp, order_id: i64) -> Vec<(i64, i32)> {
    sqlx::query_as(
        "select line_id, net_quantity from order_line_net where order_id = $1 order by line_id",
    )
    .bind(order_id)
    .fetch_all(&app.pool)
    .await
    .expect("net lines")
}

async fn customer_stats(app: &TestApp, customer_id: i64) -> (i32, String) {
    sqlx::query_as("select orders_count, total_spent::text from customer where customer_id = $1")
        .bind(customer_id)
        .fetch_one(&app.pool)
        .await
        .expect("customer row")
}

#[tokio::test]
async fn order_create_stores_order_lines_and_customer_stats_without_personal_data() {
    let app = spawn_app().await;
    app.deliver("orders/create", &fixture(REST_ORDER), "o1")
        .await;
    app.wait_applied().await;
    let (name, customer, total): (String, Option<i64>, String) = sqlx::query_as(
        r#"select name, customer_id, total_price::text from "order" where order_id = 450789469"#,
    )
    .fetch_one(&app.pool)
    .await
    .expect("order stored");
    assert_eq!(
        (name.as_str(), customer, total.as_str()),
        ("#1001", Some(207119551), "409.9400")
    );
    assert_eq!(
        net_quantities(&app, 450789469).await,
        vec![(466157049, 1), (518995019, 1), (703073504, 1)]
    );
    assert_eq!(
        customer_stats(&app, 207119551).await,
        (1, "409.9400".into())
    );
    // The raw body (names, e-mails, addresses) is gone once applied.
    assert_eq!(
        app.count("select count(*) from webhook_inbox where body is not null")
            .await,
        0
    );
}

#[tokio::test]
async fn canonical_ids_come_from_graphql_ids_and_test_orders_do_not_count() {
    let app = spawn_app().await;
    app.deliver(
        "orders/create",
        &fixture("orders-create.docs-sample.json"),
        "docs",
    )
    .await;
    app.wait_applied().await;
    let (test, cancelled): (bool, bool) = sqlx::query_as(
        r#"select test, cancelled_at is not null from "order" where order_id = 820982911946154508"#,
    )
    .fetch_one(&app.pool)
    .await
    .expect("stored under the exact GID id, not the rounded one");
    assert!(test && cancelled);
    assert_eq!(
        customer_stats(&app, 115310627314723954).await.0,
        0,
        "test orders are not counted"
    );
}

#[tokio::test]
async fn guest_order_and_custom_line_item_are_stored() {
    let app = spawn_app().await;
    app.deliver(
        "orders/create",
        &fixture("orders-create.real-store.guest-draft.repaired.json"),
        "guest",
    )
    .await;
    let mut custom = fixture(REST_ORDER);
    custom["id"] = json!(999);
    custom["line_items"][0]["product_id"] = Value::Null;
    custom["line_items"][0]["variant_id"] = Value::Null;
    custom["line_items"][0]["sku"] = json!("");
    app.deliver("orders/create", &custom, "custom").await;
    app.wait_applied().await;
    let guest_customer: Option<i64> =
        sqlx::query_scalar(r#"select customer_id from "order" where order_id = 6198424240428"#)
            .fetch_one(&app.pool)
            .await
            .expect("guest order stored");
    assert_eq!(guest_customer, None);
    assert_eq!(
        app.count("select count(*) from order_line where order_id = 6198424240428")
            .await,
        4
    );
    assert_eq!(
        app.count("select count(*) from order_line where order_id = 999 and product_id is null and variant_id is null").await,
        1
    );
    assert_eq!(
        app.count("select count(*) from webhook_inbox where status = 'failed'")
            .await,
        0
    );
}

fn updated_version(mut order: Value) -> Value {
    order["updated_at"] = json!("2008-01-11T09:00:00-05:00");
    order["financial_status"] = json!("paid");
    order["line_items"][2]["current_quantity"] = json!(0);
    order
}

#[tokio::test]
async fn orders_updated_before_orders_create_ends_in_the_newer_state() {
    let app = spawn_app().await;
    let created = fixture(REST_ORDER);
    app.deliver("orders/updated", &updated_version(created.clone()), "upd")
        .await;
    app.wait_applied().await;
    app.deliver("orders/create", &created, "create").await;
    app.wait_applied().await;
    let status: String =
        sqlx::query_scalar(r#"select financial_status from "order" where order_id = 450789469"#)
            .fetch_one(&app.pool)
            .await
            .expect("order");
    assert_eq!(
        status, "paid",
        "the older orders/create must not overwrite the newer state"
    );
    assert_eq!(
        net_quantities(&app, 450789469).await,
        vec![(466157049, 1), (518995019, 1), (703073504, 0)]
    );
}

#[tokio::test]
async fn cancel_after_create_and_cancel_before_create_both_end_cancelled() {
    for cancel_first in [false, true] {
        let app = spawn_app().await;
        let created = fixture(REST_ORDER);
        let mut cancelled = created.clone();
        cancelled["cancelled_at"] = json!("2008-01-12T10:00:00-05:00");
        cancelled["updated_at"] = json!("2008-01-12T10:00:00-05:00");
        let mut deliveries = vec![
            ("orders/create", created, "c"),
            ("orders/cancelled", cancelled, "x"),
        ];
        if cancel_first {
            deliveries.reverse();
        }
        for (topic, body, id) in &deliveries {
            app.deliver(topic, body, id).await;
            app.wait_applied().await;
        }
        let is_cancelled: bool = sqlx::query_scalar(
            r#"select cancelled_at is not null from "order" where order_id = 450789469"#,
        )
        .fetch_one(&app.pool)
        .await
        .expect("order");
        assert!(is_cancelled, "cancel_first={cancel_first}");
        assert_eq!(
            customer_stats(&app, 207119551).await,
            (0, "0.0000".into()),
            "cancelled orders do not count"
        );
    }
}

#[tokio::test]
async fn partial_refund_lowers_net_quantity_in_either_order_and_counts_once() {
    for refund_first in [false, true] {
        let app = spawn_app().await;
        let mut deliveries = vec![
            ("orders/create", fixture(REST_ORDER), "o"),
            ("refunds/create", fixture("refund.rest-fixture.json"), "r"),
        ];
        if refund_first {
            deliveries.reverse();
        }
        for (topic, body, id) in &deliveries {
            app.deliver(topic, body, id).await;
        }
        // The same refund again, embedded in a later orders/updated: still counted once.
        let mut updated = fixture(REST_ORDER);
        updated["updated_at"] = json!("2016-06-20T13:40:00-04:00");
        updated["refunds"] = json!([fixture("refund.rest-fixture.json")]);
        app.deliver("orders/updated", &updated, "u").await;
        app.wait_applied().await;
        assert_eq!(
            net_quantities(&app, 450789469).await,
            vec![(466157049, 0), (518995019, 1), (703073504, 0)],
            "refund_first={refund_first}"
        );
    }
}

#[tokio::test]
async fn real_cancelled_order_keeps_quantity_but_nets_to_zero() {
    let app = spawn_app().await;
    app.deliver(
        "orders/cancelled",
        &fixture("orders-cancelled.real-store.repaired.json"),
        "rc",
    )
    .await;
    app.wait_applied().await;
    assert_eq!(
        net_quantities(&app, 6198821716268).await,
        vec![(15515765276972, 0)]
    );
    assert_eq!(
        app.count("select count(*) from refund_line where order_id = 6198821716268")
            .await,
        1
    );
}

#[tokio::test]
async fn orders_edited_is_accepted_and_applied_without_changing_the_order() {
    let app = spawn_app().await;
    app.deliver("orders/create", &fixture(REST_ORDER), "o")
        .await;
    let edit = json!({"order_edit": {"id": 1, "order_id": 450789469, "line_items": {"additions": [], "removals": [{"id": 466157049, "delta": 1}]}}});
    app.deliver("orders/edited", &edit, "e").await;
    app.wait_applied().await;
    assert_eq!(
        app.count("select count(*) from webhook_inbox where status = 'applied'")
            .await,
        2
    );
    assert_eq!(
        net_quantities(&app, 450789469).await[0],
        (466157049, 1),
        "the following orders/updated carries edits"
    );
}

#[tokio::test]
async fn products_upsert_newest_wins_and_delete_is_final_against_older_updates() {
    let app = spawn_app().await;
    let product = fixture("product.rest-fixture.json");
    app.deliver("products/create", &product, "p1").await;
    app.wait_applied().await;
    assert_eq!(
        app.count("select count(*) from variant where product_id = 632910392")
            .await,
        4
    );
    let (title, tags): (String, Vec<String>) =
        sqlx::query_as("select title, tags from product where product_id = 632910392")
            .fetch_one(&app.pool)
            .await
            .expect("product");
    assert_eq!(title, "IPod Nano - 8GB");
    assert_eq!(tags, vec!["Emotive", "Flash Memory", "MP3", "Music"]);

    let mut older = product.clone();
    older["title"] = json!("Old title");
    older["updated_at"] = json!("2010-01-01T00:00:00-05:00");
    app.deliver("products/update", &older, "p-old").await;
    app.wait_applied().await;
    let title: String =
        sqlx::query_scalar("select title from product where product_id = 632910392")
            .fetch_one(&app.pool)
            .await
            .expect("product");
    assert_eq!(title, "IPod Nano - 8GB", "an older update is ignored");

    app.deliver("products/delete", &json!({"id": 632910392}), "p-del")
        .await;
    app.deliver("products/update", &product, "p-late-retry")
        .await;
    app.wait_applied().await;
    let deleted: bool =
        sqlx::query_scalar("select deleted from product where product_id = 632910392")
            .fetch_one(&app.pool)
            .await
            .expect("tombstone");
    assert!(
        deleted,
        "a retried update older than the delete does not resurrect the product"
    );
    assert_eq!(
        app.count("select count(*) from variant where product_id = 632910392")
            .await,
        0
    );
}

#[tokio::test]
async fn docs_sample_product_uses_gid_ids_and_splits_tags() {
    let app = spawn_app().await;
    app.deliver(
        "products/update",
        &fixture("products-update.docs-sample.json"),
        "pu",
    )
    .await;
    app.wait_applied().await;
    let tags: Vec<String> =
        sqlx::query_scalar("select tags from product where product_id = 788032119674292922")
            .fetch_one(&app.pool)
            .await
            .expect("product stored under its GID id");
    assert_eq!(tags, vec!["example", "mens", "t-shirt"]);
    assert_eq!(
        app.count("select count(*) from variant where product_id = 788032119674292922")
            .await,
        2
    );
}

#[tokio::test]
async fn customers_carts_checkouts_and_uninstall_apply() {
    let app = spawn_app().await;
    app.deliver(
        "customers/create",
        &fixture("customers-create.docs-sample.json"),
        "c1",
    )
    .await;
    app.deliver(
        "carts/create",
        &fixture("carts-create.docs-sample.json"),
        "cart",
    )
    .await;
    app.deliver(
        "checkouts/create",
        &fixture("checkouts-create.docs-sample.json"),
        "co",
    )
    .await;
    app.wait_applied().await;
    assert_eq!(
        app.count(
            "select count(*) from customer where customer_id = 706405506930370084 and not deleted"
        )
        .await,
        1
    );
    let lines: Value = sqlx::query_scalar(
        "select lines from cart where cart_token = 'eeafa272cebfd4b22385bc4b645e762c'",
    )
    .fetch_one(&app.pool)
    .await
    .expect("cart");
    assert_eq!(lines[0]["quantity"], 3);
    let (has_email, customer): (bool, Option<i64>) =
        sqlx::query_as("select has_email, customer_id from checkout where cart_token = 'eeafa272cebfd4b22385bc4b645e762c'")
            .fetch_one(&app.pool)
            .await
            .expect("checkout");
    assert_eq!((has_email, customer), (true, Some(603851970716743426)));

    app.deliver(
        "customers/delete",
        &json!({"id": 706405506930370084_i64}),
        "c-del",
    )
    .await;
    app.deliver(
        "app/uninstalled",
        &fixture("app-uninstalled.docs-sample.json"),
        "bye",
    )
    .await;
    app.wait_applied().await;
    assert_eq!(
        app.count(
            "select count(*) from customer where customer_id = 706405506930370084 and deleted"
        )
        .await,
        1
    );
    let installed: bool = sqlx::query_scalar("select installed from shop")
        .fetch_one(&app.pool)
        .await
        .expect("shop");
    assert!(!installed);
    assert_eq!(
        app.count("select count(*) from shop where access_token_ciphertext is not null")
            .await,
        0
    );
}

#[tokio::test]
async fn during_a_burst_the_applier_defers_to_acknowledgements_but_still_applies_everything() {
    // A threshold of 1 webhook per second makes any quick series a burst.
    let mut settings = crate::helpers::test_settings();
    settings.webhooks.defer_apply_above_per_sec = 1.0;
    settings.webhooks.deferred_apply_interval_ms = 100;
    // Small batches, so the burst leaves a backlog (a full batch) to hold back on.
    settings.webhooks.apply_batch = 2;
    let app = crate::helpers::spawn_app_with(
        settings,
        shoprecs::config::Secrets::fixed(crate::helpers::SECRET),
    )
    .await;
    let before = app.metrics().await;
    let deferrals = |text: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix("shoprecs_applier_deferrals_total "))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0.0)
    };
    // Five senders, forty webhooks each, one after another: webhooks keep arriving while the
    // applier works through the backlog (a burst sent all at once is committed in one go,
    // before the applier starts, and leaves nothing to defer to).
    let streams = (0..5).map(|stream| {
        let app = &app;
        async move {
            for i in 0..40 {
                let id = 9000 + stream * 40 + i;
                let order = crate::helpers::order(id, Some(1), &[1, 2], 1);
                let body = serde_json::to_vec(&order).expect("json");
                let response = app
                    .webhook("orders/create", &body, &format!("burst-{id}"))
                    .await;
                assert_eq!(response.status(), 200, "acknowledged at once");
            }
        }
    });
    futures_util::future::join_all(streams).await;
    app.wait_applied().await;
    assert_eq!(
        app.count(r#"select count(*) from "order" where order_id between 9000 and 9199"#)
            .await,
        200,
        "every order of the burst is applied"
    );
    assert!(
        deferrals(&app.metrics().await) > deferrals(&before),
        "the applier held back during the burst"
    );
}
