//! Two servers on one database (behind one load balancer): what reaches either one shows in
//! both one's lists, whichever server's applier handled it.

use serde_json::{json, Value};
use shoprecs::config::Secrets;

use crate::helpers::{
    none_of_kind, order, poll_api, product, spawn_app, spawn_app_on, test_settings, TestApp,
    SECRET, SHOP,
};

const SHAMPOO: i64 = 1;
const CONDITIONER: i64 = 2;
const SOAP: i64 = 3;
const TOWEL: i64 = 4;

/// Four products, and shampoo and conditioner bought together twice, all through `app`.
async fn catalogue_and_two_orders(app: &TestApp) {
    for (id, title, kind) in [
        (SHAMPOO, "Shampoo", "Hair"),
        (CONDITIONER, "Conditioner", "Hair"),
        (SOAP, "Soap", "Body"),
        (TOWEL, "Towel", "Bath"),
    ] {
        app.deliver(
            "products/create",
            &product(id, title, kind, 10),
            &format!("p{id}"),
        )
        .await;
    }
    for (id, day) in [(100, 1), (101, 2)] {
        let body = order(id, Some(id + 7), &[SHAMPOO, CONDITIONER], day);
        app.deliver("orders/create", &body, &format!("o{id}")).await;
    }
}

/// Three shoppers each view the shampoo, then the towel, on `app`.
async fn three_shoppers_view_shampoo_then_towel(app: &TestApp) {
    for client in ["c1", "c2", "c3"] {
        let events: Vec<Value> = [(SHAMPOO, "10:00"), (TOWEL, "10:01")]
            .iter()
            .map(|(p, at)| {
                json!({"id": format!("{client}-{p}"), "name": "product_viewed", "clientId": client,
                       "timestamp": format!("2026-11-20T{at}:00.000Z"),
                       "data": {"productVariant": {"id": p * 10, "product": {"id": p}}}})
            })
            .collect();
        let body = json!({"shop": SHOP, "events": events}).to_string();
        let sent = app
            .pixel(&format!("?shop={SHOP}"), &body, "text/plain")
            .await;
        assert_eq!(sent.status(), 200);
    }
}

fn first_is(list: &Value, product: i64, kind: &str) -> bool {
    list["items"][0]["product_id"] == product && list["items"][0]["reason"]["kind"] == kind
}

#[tokio::test]
async fn orders_rules_and_pixel_events_reach_the_models_of_both_servers() {
    let a = spawn_app().await;
    let key = a.api_key().await;
    let b = spawn_app_on(a.database.clone(), test_settings(), Secrets::fixed(SECRET)).await;
    catalogue_and_two_orders(&a).await;
    let path = format!("/api/v1/products/{SHAMPOO}/recommendations?limit=3");
    for server in [&a, &b] {
        let list = poll_api(server, &key, &path, |l| {
            first_is(l, CONDITIONER, "bought_together")
        })
        .await;
        assert_eq!(list["items"][0]["reason"]["orders_together"], 2, "{list}");
    }

    // A rule saved through the second server changes the first one's lists.
    let pin = b
        .client
        .post(b.url("/api/v1/rules"))
        .bearer_auth(&key)
        .json(&json!({"kind": "pin", "product_id": SOAP, "context_product_id": SHAMPOO}))
        .send()
        .await
        .expect("post rule");
    assert_eq!(pin.status(), 201);
    poll_api(&a, &key, &path, |l| first_is(l, SOAP, "pinned")).await;

    // Shoppers browsing on the first server: the second one's "also viewed" learns it. (One
    // item: "also viewed" never repeats what "bought together" shows at the same limit.)
    let viewed = format!("/api/v1/products/{SHAMPOO}/recommendations?list=also_viewed&limit=1");
    let before = b.api_json(&key, &viewed).await;
    assert!(
        !before["items"].as_array().is_some_and(|items| items
            .iter()
            .any(|i| i["reason"]["kind"] == "viewed_together")),
        "nothing viewed yet: {before}"
    );
    three_shoppers_view_shampoo_then_towel(&a).await;
    for server in [&a, &b] {
        poll_api(server, &key, &viewed, |l| {
            first_is(l, TOWEL, "viewed_together")
        })
        .await;
    }
    drop(b);
}

#[tokio::test]
async fn a_rebuild_from_the_command_line_reaches_a_running_server() {
    let app = spawn_app().await;
    let key = app.api_key().await;
    catalogue_and_two_orders(&app).await;
    app.wait_applied().await;
    let path = format!("/api/v1/products/{SHAMPOO}/recommendations?limit=3");
    poll_api(&app, &key, &path, |l| {
        first_is(l, CONDITIONER, "bought_together")
    })
    .await;

    // Orders removed behind the server's back (an operator's repair, say) ...
    sqlx::query(r#"delete from "order""#)
        .execute(&app.pool)
        .await
        .expect("delete orders");
    let stale = app.api_json(&key, &path).await;
    assert!(first_is(&stale, CONDITIONER, "bought_together"), "{stale}");
    // ... are gone from its lists once `shoprecs rebuild` has run.
    crate::helpers::cli(&app.database, &["rebuild", "--shop", SHOP]);
    poll_api(&app, &key, &path, |l| none_of_kind(l, "bought_together")).await;
}
