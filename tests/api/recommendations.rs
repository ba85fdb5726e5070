//! Recommendations over the JSON API: fed by signed webhooks, shaped by rules, per shop.

use serde_json::{json, Value};

use crate::helpers::{ids, none_of_kind, order, poll_api, product, spawn_app, TestApp};

const SHAMPOO: i64 = 1;
const CONDITIONER: i64 = 2;
const SOAP: i64 = 3;
const TOWEL: i64 = 4;
const SOLD_OUT: i64 = 5;

async fn catalogue(app: &TestApp) {
    for (id, title, kind, stock) in [
        (SHAMPOO, "Shampoo", "Hair", 10),
        (CONDITIONER, "Conditioner", "Hair", 10),
        (SOAP, "Soap", "Body", 10),
        (TOWEL, "Towel", "Bath", 10),
        (SOLD_OUT, "Sold out comb", "Hair", 0),
    ] {
        app.deliver(
            "products/create",
            &product(id, title, kind, stock),
            &format!("p{id}"),
        )
        .await;
    }
}

/// Two customers each buy shampoo and conditioner together.
async fn shampoo_and_conditioner_twice(app: &TestApp) {
    for (id, customer, day) in [(100, 7, 1), (101, 8, 2)] {
        let body = order(id, Some(customer), &[SHAMPOO, CONDITIONER], day);
        app.deliver("orders/create", &body, &format!("o{id}")).await;
    }
}

/// The list starts with `product`, shown because it was bought together in `orders` orders.
fn pair_first(list: &Value, product: i64, orders: u64) -> bool {
    let first = &list["items"][0];
    first["product_id"] == product
        && first["reason"]["kind"] == "bought_together"
        && first["reason"]["orders_together"] == orders
}

/// Polls a list until `check` holds (the model is refreshed right after the applier commits).
async fn eventually(app: &TestApp, key: &str, path: &str, check: impl Fn(&Value) -> bool) -> Value {
    app.wait_applied().await;
    poll_api(app, key, path, check).await
}

#[tokio::test]
async fn api_requires_a_valid_key() {
    let app = spawn_app().await;
    let key = app.api_key().await;
    let none = app
        .client
        .get(app.url("/api/v1/bestsellers"))
        .send()
        .await
        .expect("send");
    assert_eq!(none.status(), 401);
    assert_eq!(
        app.api_get("srk_0000", "/api/v1/bestsellers")
            .await
            .status(),
        401
    );
    assert_eq!(app.api_get(&key, "/api/v1/bestsellers").await.status(), 200);
    let error: Value = app
        .api_get("nope", "/api/v1/trending")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(error["error"]["code"], "unauthorized");
}

#[tokio::test]
async fn a_new_co_purchase_shows_at_once_with_its_evidence_and_cancellation_removes_it() {
    let app = spawn_app().await;
    let key = app.api_key().await;
    catalogue(&app).await;
    shampoo_and_conditioner_twice(&app).await;
    app.deliver("orders/create", &order(102, None, &[SOAP], 3), "o102")
        .await;
    let path = format!("/api/v1/products/{SHAMPOO}/recommendations?limit=3");
    let list = eventually(&app, &key, &path, |l| pair_first(l, CONDITIONER, 2)).await;
    let first = &list["items"][0];
    assert!(
        first["reason_text"]
            .as_str()
            .unwrap_or_default()
            .contains("2"),
        "{first}"
    );
    assert_eq!(first["title"], "Conditioner");
    assert_eq!(first["variant_id"], CONDITIONER * 10);
    assert_eq!(first["price"], "10.0000");
    assert!(!ids(&list).contains(&SHAMPOO), "never the context product");
    assert!(
        !ids(&list).contains(&SOLD_OUT),
        "never an unavailable product"
    );

    for (id, day) in [(100, 1), (101, 2)] {
        let mut cancelled = order(id, None, &[SHAMPOO, CONDITIONER], day);
        cancelled["cancelled_at"] = json!("2026-11-20T00:00:00Z");
        cancelled["updated_at"] = json!("2026-11-20T00:00:00Z");
        app.deliver("orders/cancelled", &cancelled, &format!("x{id}"))
            .await;
    }
    eventually(&app, &key, &path, |l| none_of_kind(l, "bought_together")).await;
}

#[tokio::test]
async fn cart_excludes_cart_lines_and_shelves_are_never_empty() {
    let app = spawn_app().await;
    let key = app.api_key().await;
    catalogue(&app).await;
    app.deliver(
        "orders/create",
        &order(100, Some(7), &[SHAMPOO, CONDITIONER, SOAP], 1),
        "a",
    )
    .await;
    app.deliver(
        "orders/create",
        &order(101, Some(8), &[SHAMPOO, CONDITIONER, SOAP], 2),
        "b",
    )
    .await;
    let path = format!("/api/v1/cart/recommendations?product_ids={SHAMPOO},{CONDITIONER}&limit=4");
    let list = eventually(&app, &key, &path, |l| pair_first(l, SOAP, 2)).await;
    let got = ids(&list);
    assert!(
        !got.contains(&SHAMPOO) && !got.contains(&CONDITIONER) && !got.contains(&SOLD_OUT),
        "{got:?}"
    );
    // A product nobody bought with anything still gets a full shelf from the fallbacks.
    let towel = app
        .api_json(
            &key,
            &format!("/api/v1/products/{TOWEL}/recommendations?limit=3"),
        )
        .await;
    assert_eq!(ids(&towel).len(), 3, "{towel}");
}

#[tokio::test]
async fn rules_pin_and_exclude_change_lists_immediately() {
    let app = spawn_app().await;
    let key = app.api_key().await;
    catalogue(&app).await;
    shampoo_and_conditioner_twice(&app).await;
    let path = format!("/api/v1/products/{SHAMPOO}/recommendations?limit=3");
    eventually(&app, &key, &path, |l| pair_first(l, CONDITIONER, 2)).await;

    let post = |body: Value| {
        let (client, url, key) = (app.client.clone(), app.url("/api/v1/rules"), key.clone());
        async move {
            client
                .post(url)
                .bearer_auth(key)
                .json(&body)
                .send()
                .await
                .expect("post rule")
        }
    };
    let exclude =
        post(json!({"kind": "exclude", "product_id": CONDITIONER, "context_product_id": SHAMPOO}))
            .await;
    assert_eq!(exclude.status(), 201, "{:?}", exclude.text().await);
    let exclude: Value = exclude.json().await.expect("rule");
    let pin = post(json!({"kind": "pin", "product_id": TOWEL})).await;
    assert_eq!(pin.status(), 201);

    let list = app.api_json(&key, &path).await;
    assert_eq!(ids(&list).first(), Some(&TOWEL), "pinned first: {list}");
    assert_eq!(list["items"][0]["reason"]["kind"], "pinned");
    assert!(!ids(&list).contains(&CONDITIONER), "excluded on this page");
    let soap_page = app
        .api_json(
            &key,
            &format!("/api/v1/products/{SOAP}/recommendations?limit=5"),
        )
        .await;
    assert!(
        ids(&soap_page).contains(&CONDITIONER),
        "the exclusion was for the shampoo page only"
    );

    let rules = app.api_json(&key, "/api/v1/rules?limit=1").await;
    assert_eq!(rules["rules"].as_array().map(Vec::len), Some(1));
    let next = rules["next"].as_i64().expect("a second page");
    let page2 = app
        .api_json(&key, &format!("/api/v1/rules?limit=1&after={next}"))
        .await;
    assert_eq!(page2["rules"].as_array().map(Vec::len), Some(1));
    assert!(page2["next"].is_null());

    let delete = app
        .client
        .delete(app.url(&format!("/api/v1/rules/{}", exclude["rule_id"])))
        .bearer_auth(&key)
        .send()
        .await
        .expect("delete");
    assert_eq!(delete.status(), 204);
    let list = app.api_json(&key, &path).await;
    assert!(ids(&list).contains(&CONDITIONER));
    let again = app
        .client
        .delete(app.url(&format!("/api/v1/rules/{}", exclude["rule_id"])))
        .bearer_auth(&key)
        .send()
        .await
        .expect("delete");
    assert_eq!(again.status(), 404);
}

#[tokio::test]
async fn invalid_requests_get_the_right_status() {
    let app = spawn_app().await;
    let key = app.api_key().await;
    catalogue(&app).await;
    app.wait_applied().await;
    assert_eq!(
        app.api_get(&key, "/api/v1/products/999/recommendations")
            .await
            .status(),
        404
    );
    assert_eq!(
        app.api_get(&key, "/api/v1/products/1/recommendations?limit=0")
            .await
            .status(),
        422
    );
    assert_eq!(
        app.api_get(&key, "/api/v1/products/1/recommendations?limit=abc")
            .await
            .status(),
        422
    );
    assert_eq!(
        app.api_get(&key, "/api/v1/products/1/recommendations?list=cart")
            .await
            .status(),
        422
    );
    assert_eq!(
        app.api_get(&key, "/api/v1/cart/recommendations?product_ids=a,b")
            .await
            .status(),
        422
    );
    let bad_rule = app
        .client
        .post(app.url("/api/v1/rules"))
        .bearer_auth(&key)
        .json(&json!({"kind": "boost", "product_id": 1}))
        .send()
        .await
        .expect("post");
    assert_eq!(bad_rule.status(), 422);
    let body: Value = bad_rule.json().await.expect("json");
    assert_eq!(body["error"]["code"], "unprocessable");
}

#[tokio::test]
async fn a_key_only_ever_sees_its_own_shop() {
    let app = spawn_app().await;
    let key_a = app.api_key().await;
    catalogue(&app).await;
    app.wait_applied().await;
    // Shop B, same server.
    let body = serde_json::to_vec(&json!({"id": 1})).expect("json");
    let sig = shoprecs::shopify::webhook_hmac::sign(crate::helpers::SECRET, &body);
    app.webhook_signed(
        "shop/update",
        "other-shop.myshopify.com",
        &body,
        "b-install",
        &sig,
    )
    .await;
    let shop_b: i64 =
        sqlx::query_scalar("select shop_id from shop where domain = 'other-shop.myshopify.com'")
            .fetch_one(&app.pool)
            .await
            .expect("shop b");
    let key_b = shoprecs::store::api_keys::create(&app.pool, shoprecs::store::ShopId(shop_b), "b")
        .await
        .expect("key");

    assert_eq!(
        app.api_get(
            &key_a,
            &format!("/api/v1/products/{SHAMPOO}/recommendations")
        )
        .await
        .status(),
        200
    );
    assert_eq!(
        app.api_get(
            &key_b,
            &format!("/api/v1/products/{SHAMPOO}/recommendations")
        )
        .await
        .status(),
        404
    );
    let b_best = app.api_json(&key_b, "/api/v1/bestsellers").await;
    assert_eq!(
        ids(&b_best),
        Vec::<i64>::new(),
        "shop B has no products, so sees none of A's"
    );
    let pin = app
        .client
        .post(app.url("/api/v1/rules"))
        .bearer_auth(&key_b)
        .json(&json!({"kind": "pin", "product_id": SHAMPOO}))
        .send()
        .await
        .expect("post");
    assert_eq!(pin.status(), 422, "B cannot pin A's product");
}

#[tokio::test]
async fn models_are_rebuilt_from_postgres_at_start_up_and_by_the_cli() {
    let app = spawn_app().await;
    let key = app.api_key().await;
    catalogue(&app).await;
    app.deliver(
        "orders/create",
        &order(100, Some(7), &[SOAP, TOWEL], 1),
        "a",
    )
    .await;
    app.deliver(
        "orders/create",
        &order(101, Some(8), &[SOAP, TOWEL], 2),
        "b",
    )
    .await;
    app.wait_applied().await;
    let database = app.stop().await;

    let text = crate::helpers::cli(&database, &["rebuild", "--shop", crate::helpers::SHOP]);
    assert!(
        text.contains("5 products") && text.contains("2 orders"),
        "{text}"
    );

    let restarted = crate::helpers::spawn_app_on(
        database,
        crate::helpers::test_settings(),
        shoprecs::config::Secrets::fixed(crate::helpers::SECRET),
    )
    .await;
    let list = restarted
        .api_json(
            &key,
            &format!("/api/v1/products/{SOAP}/recommendations?limit=1"),
        )
        .await;
    assert_eq!(
        ids(&list),
        vec![TOWEL],
        "the pair is served straight after start-up: {list}"
    );
    assert_eq!(list["items"][0]["reason"]["kind"], "bought_together");
}
