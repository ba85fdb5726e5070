//! Abandoned checkouts and bundle offers: real signed checkout and order webhooks and pixel
//! events in, the sweep run at explicit times, the API and the outbox checked.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use shoprecs::abandoned::SweepReport;
use shoprecs::config::{Secrets, Settings};
use shoprecs::shopify::webhook_hmac;
use shoprecs::store::{abandoned, ShopId};

use crate::helpers::{fixture, order, product, spawn_app_at, test_settings, TestApp, SECRET, SHOP};

/// The checkouts below last change at 10:00; abandoned from 11:00.
pub(crate) const CHANGED: &str = "2026-11-20T10:00:00Z";
const BEFORE_THE_DELAY: &str = "2026-11-20T10:59:00Z";
pub(crate) const AFTER_THE_DELAY: &str = "2026-11-20T11:30:00Z";
const ABANDONED_AT: &str = "2026-11-20T11:00:00Z";
const OTHER_SHOP: &str = "other-shop.myshopify.com";

pub(crate) fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("RFC 3339")
        .with_timezone(&Utc)
}

/// No background sweeps: each test sweeps at the times it names.
pub(crate) fn settings() -> Settings {
    let mut settings = test_settings();
    settings.checkouts.sweep_interval_secs = 24 * 3600;
    settings
}

async fn spawn() -> TestApp {
    spawn_app_at(
        at(AFTER_THE_DELAY).timestamp(),
        settings(),
        Secrets::fixed(SECRET),
    )
    .await
}

pub(crate) async fn sweep(app: &TestApp, now: &str) -> SweepReport {
    shoprecs::abandoned::sweep(
        &app.pool,
        &app.state.models,
        &app.state.settings.checkouts,
        at(now),
    )
    .await
    .expect("sweep")
}

fn report(abandoned: u64, recovered: u64, expired: u64) -> SweepReport {
    SweepReport {
        abandoned,
        recovered,
        expired,
        failed_shops: 0,
    }
}

/// A `checkouts/create` body (Shopify's sample) with these ids, buyer, lines and time.
pub(crate) fn checkout(
    id: i64,
    token: &str,
    customer: Option<i64>,
    email: Option<&str>,
    products: &[i64],
) -> Value {
    let mut c = fixture("checkouts-create.docs-sample.json");
    c["id"] = json!(id);
    c["token"] = json!(token);
    c["cart_token"] = json!(format!("cart-{token}"));
    c["email"] = json!(email);
    c["customer"] = match customer {
        Some(id) => {
            json!({"id": id, "admin_graphql_api_id": format!("gid://shopify/Customer/{id}")})
        }
        None => Value::Null,
    };
    c["created_at"] = json!(CHANGED);
    c["updated_at"] = json!(CHANGED);
    let line = c["line_items"][0].clone();
    c["line_items"] = products
        .iter()
        .map(|p| {
            let mut l = line.clone();
            l["product_id"] = json!(p);
            l
        })
        .collect();
    c
}

/// An order placed at `when` with these checkout and cart tokens.
fn order_at(
    id: i64,
    customer: Option<i64>,
    products: &[i64],
    when: &str,
    checkout_token: Option<&str>,
    cart_token: Option<&str>,
) -> Value {
    let mut o = order(id, customer, products, 1);
    for field in ["created_at", "updated_at", "processed_at"] {
        o[field] = json!(when);
    }
    o["checkout_token"] = json!(checkout_token);
    o["cart_token"] = json!(cart_token);
    o
}

/// Five products and an order history in which Conditioner (2) is what is most bought with
/// Shampoo (1), while Towel (4) and Brush (5) are the bestsellers.
pub(crate) async fn catalogue_and_history(app: &TestApp) {
    for (id, title, kind) in [
        (1, "Shampoo", "Hair"),
        (2, "Conditioner", "Hair"),
        (3, "Soap", "Body"),
        (4, "Towel", "Bath"),
        (5, "Brush", "Hair"),
    ] {
        app.deliver(
            "products/create",
            &product(id, title, kind, 10),
            &format!("p{id}"),
        )
        .await;
    }
    let mut orders: Vec<(i64, &[i64])> = vec![
        (100, &[1, 2]),
        (101, &[1, 2]),
        (102, &[1, 2, 5]),
        (103, &[1, 3]),
    ];
    for id in 104..110 {
        orders.push((id, &[4, 5]));
    }
    for (i, (id, items)) in orders.into_iter().enumerate() {
        let day = 1 + i as u32;
        app.deliver(
            "orders/create",
            &order(id, Some(1000 + id), items, day),
            &format!("o{id}"),
        )
        .await;
    }
    app.wait_applied().await;
}

/// An outgoing-event endpoint for the test shop, so that events are written to the outbox.
pub(crate) async fn add_endpoint(app: &TestApp) {
    app.install_shop().await;
    sqlx::query(
        "insert into event_endpoint (shop_id, url) values ($1, 'https://flows.example/hook')",
    )
    .bind(app.shop_id().await)
    .execute(&app.pool)
    .await
    .expect("endpoint");
}

/// The `data` of the outbox events of a topic, oldest first.
pub(crate) async fn events(app: &TestApp, topic: &str) -> Vec<Value> {
    sqlx::query_scalar(
        "select payload -> 'data' from event_outbox where topic = $1 order by outbox_id",
    )
    .bind(topic)
    .fetch_all(&app.pool)
    .await
    .expect("outbox")
}

fn items(page: &Value) -> &Vec<Value> {
    page["items"].as_array().expect("items")
}

fn tokens(page: &Value) -> Vec<&str> {
    items(page)
        .iter()
        .filter_map(|i| i["checkout_token"].as_str())
        .collect()
}

#[tokio::test]
async fn a_checkout_left_for_an_hour_is_abandoned_once_with_the_most_bought_together_complement() {
    let app = spawn().await;
    let key = app.api_key().await;
    add_endpoint(&app).await;
    catalogue_and_history(&app).await;
    app.deliver(
        "checkouts/create",
        &checkout(7001, "tok-a", Some(42), Some("a@example.com"), &[1]),
        "c1",
    )
    .await;
    app.wait_applied().await;

    assert_eq!(sweep(&app, BEFORE_THE_DELAY).await, report(0, 0, 0));
    assert_eq!(sweep(&app, AFTER_THE_DELAY).await, report(1, 0, 0));
    assert_eq!(sweep(&app, AFTER_THE_DELAY).await, report(0, 0, 0));
    assert_eq!(sweep(&app, "2026-11-20T13:00:00Z").await, report(0, 0, 0));

    let page = app
        .api_json(&key, "/api/v1/abandoned-checkouts?state=open")
        .await;
    assert_eq!(tokens(&page), vec!["tok-a"], "{page}");
    let item = &page["items"][0];
    assert_eq!(item["customer_id"], 42);
    assert_eq!(item["source"], "checkout");
    assert_eq!(item["checkout_id"], 7001);
    assert_eq!(item["product_ids"], json!([1]));
    assert_eq!(
        at(item["abandoned_at"].as_str().expect("time")),
        at(ABANDONED_AT)
    );
    let offer = &item["offer"];
    assert_eq!(offer["product_ids"], json!([1, 2]), "{offer}");
    assert_eq!(offer["discount_percent"], 10);
    assert!(offer["discount_code"].is_null());
    let complement = &offer["complement"];
    assert_eq!(complement["product_id"], 2, "{complement}");
    assert_eq!(complement["reason"]["kind"], "bought_together");
    assert_eq!(complement["reason"]["with"], 1);
    assert_eq!(complement["reason"]["orders_together"], 3);
    let text = complement["reason_text"].as_str().expect("text");
    assert!(text.contains("Shampoo") && text.contains('3'), "{text}");

    // One event, however many sweeps, carrying the offer.
    let sent = events(&app, "checkout.abandoned").await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["checkout_token"], "tok-a");
    assert_eq!(sent[0]["customer_id"], 42);
    assert_eq!(sent[0]["offer"]["complement"]["product_id"], 2);
    assert_eq!(sent[0]["offer"]["discount_percent"], 10);
    assert_eq!(
        at(sent[0]["abandoned_at"].as_str().expect("time")),
        at(ABANDONED_AT)
    );

    // The customer's e-mail block now shows the bundle, not generic picks.
    let block = app.api_get(&key, "/api/v1/customers/42/email-block").await;
    assert_eq!(block.status(), 200);
    let html = block.text().await.expect("html");
    assert!(html.contains("10% off"), "{html}");
    assert!(html.contains("data-product-id=\"1\"") && html.contains("data-product-id=\"2\""));
    assert!(html.contains("utm_campaign=shoprecs_bundle"));
}

#[tokio::test]
async fn checkouts_completed_or_ordered_in_time_or_without_customer_or_email_are_never_abandoned() {
    let app = spawn().await;
    let key = app.api_key().await;
    catalogue_and_history(&app).await;
    // Ordered within the hour (the order carries the checkout token).
    app.deliver(
        "checkouts/create",
        &checkout(7001, "tok-ordered", Some(42), Some("a@example.com"), &[1]),
        "c1",
    )
    .await;
    app.deliver(
        "orders/create",
        &order_at(
            900,
            Some(42),
            &[1],
            "2026-11-20T10:30:00Z",
            Some("tok-ordered"),
            None,
        ),
        "o900",
    )
    .await;
    // Completed (checkouts/update with completed_at), no order webhook yet.
    let mut completed = checkout(7002, "tok-completed", Some(43), None, &[1]);
    completed["completed_at"] = json!("2026-11-20T10:00:00Z");
    app.deliver("checkouts/update", &completed, "c2").await;
    // Anonymous: neither customer nor e-mail.
    app.deliver(
        "checkouts/create",
        &checkout(7003, "tok-anonymous", None, None, &[1]),
        "c3",
    )
    .await;
    // A guest who left only an e-mail: abandoned (the control).
    app.deliver(
        "checkouts/create",
        &checkout(7004, "tok-guest", None, Some("g@example.com"), &[3]),
        "c4",
    )
    .await;
    app.wait_applied().await;

    assert_eq!(sweep(&app, AFTER_THE_DELAY).await, report(1, 0, 0));
    assert_eq!(sweep(&app, "2026-11-21T10:00:00Z").await, report(0, 0, 0));
    let page = app.api_json(&key, "/api/v1/abandoned-checkouts").await;
    assert_eq!(tokens(&page), vec!["tok-guest"], "{page}");
    assert!(page["items"][0]["customer_id"].is_null());
    assert_eq!(page["items"][0]["offer"]["complement"]["product_id"], 1);
}

#[tokio::test]
async fn an_order_with_the_checkout_or_cart_token_recovers_it_once_and_open_ones_expire() {
    let app = spawn().await;
    let key = app.api_key().await;
    add_endpoint(&app).await;
    catalogue_and_history(&app).await;
    for (id, token, customer, items) in [
        (7001, "tok-r", 42, &[1][..]),
        (7002, "tok-s", 43, &[3][..]),
        (7003, "tok-x", 44, &[4][..]),
    ] {
        app.deliver(
            "checkouts/create",
            &checkout(id, token, Some(customer), None, items),
            &format!("c{id}"),
        )
        .await;
    }
    app.wait_applied().await;
    assert_eq!(sweep(&app, AFTER_THE_DELAY).await, report(3, 0, 0));
    let shop = ShopId(app.shop_id().await);
    let mut conn = app.pool.acquire().await.expect("connection");
    let open = abandoned::open_for_customer(&mut conn, shop, 42)
        .await
        .expect("query")
        .expect("an open one");
    assert_eq!(open.checkout_token, "tok-r");
    assert_eq!(open.offer.product_ids, vec![1, 2]);

    // tok-r by its checkout token, with the complement; tok-s by its cart token, without.
    app.deliver(
        "orders/create",
        &order_at(
            900,
            Some(42),
            &[1, 2],
            "2026-11-20T12:00:00Z",
            Some("tok-r"),
            None,
        ),
        "o900",
    )
    .await;
    app.deliver(
        "orders/create",
        &order_at(
            901,
            Some(43),
            &[3],
            "2026-11-20T12:10:00Z",
            None,
            Some("cart-tok-s"),
        ),
        "o901",
    )
    .await;
    app.wait_applied().await;
    assert_eq!(sweep(&app, "2026-11-20T12:30:00Z").await, report(0, 2, 0));
    assert_eq!(sweep(&app, "2026-11-20T12:30:00Z").await, report(0, 0, 0));
    assert!(abandoned::open_for_customer(&mut conn, shop, 42)
        .await
        .expect("query")
        .is_none());

    let recovered = app
        .api_json(&key, "/api/v1/abandoned-checkouts?state=recovered")
        .await;
    let mut found = tokens(&recovered);
    found.sort();
    assert_eq!(found, vec!["tok-r", "tok-s"], "{recovered}");
    let r = items(&recovered)
        .iter()
        .find(|i| i["checkout_token"] == "tok-r")
        .expect("tok-r");
    assert_eq!(r["recovered_order_id"], 900);
    assert_eq!(
        at(r["recovered_at"].as_str().expect("time")),
        at("2026-11-20T12:00:00Z")
    );

    let sent = events(&app, "checkout.recovered").await;
    assert_eq!(sent.len(), 2, "{sent:?}");
    let by_token = |t: &str| sent.iter().find(|e| e["checkout_token"] == t).cloned();
    let r = by_token("tok-r").expect("tok-r event");
    assert_eq!(
        (r["order_id"].as_i64(), r["complement_bought"].as_bool()),
        (Some(900), Some(true))
    );
    let s = by_token("tok-s").expect("tok-s event");
    assert_eq!(
        (s["order_id"].as_i64(), s["complement_bought"].as_bool()),
        (Some(901), Some(false))
    );
    assert_eq!(events(&app, "checkout.abandoned").await.len(), 3);

    // Fifteen days on, the one never recovered has expired (once).
    assert_eq!(sweep(&app, "2026-12-05T12:00:00Z").await, report(0, 0, 1));
    assert_eq!(sweep(&app, "2026-12-05T12:00:00Z").await, report(0, 0, 0));
    let expired = app
        .api_json(&key, "/api/v1/abandoned-checkouts?state=expired")
        .await;
    assert_eq!(tokens(&expired), vec!["tok-x"], "{expired}");
    let open = app
        .api_json(&key, "/api/v1/abandoned-checkouts?state=open")
        .await;
    assert!(items(&open).is_empty(), "{open}");

    // Pages of one, newest first, then a 422 for an unknown state.
    let first = app
        .api_json(&key, "/api/v1/abandoned-checkouts?limit=1")
        .await;
    assert_eq!(tokens(&first), vec!["tok-x"]);
    let second = app
        .api_json(
            &key,
            &format!(
                "/api/v1/abandoned-checkouts?limit=2&after={}",
                first["next"]
            ),
        )
        .await;
    assert_eq!(tokens(&second), vec!["tok-s", "tok-r"], "{second}");
    assert!(second["next"].is_null());
    let bad = app
        .api_get(&key, "/api/v1/abandoned-checkouts?state=lost")
        .await;
    assert_eq!(bad.status(), 422);
}

#[tokio::test]
async fn another_shops_abandoned_checkouts_never_appear_in_this_shops_api() {
    let app = spawn().await;
    let key = app.api_key().await;
    let mine = checkout(7001, "tok-mine", Some(42), None, &[1]);
    app.deliver("checkouts/create", &mine, "c1").await;
    let theirs =
        serde_json::to_vec(&checkout(7002, "tok-theirs", Some(42), None, &[1])).expect("json");
    let response = app
        .webhook_signed(
            "checkouts/create",
            OTHER_SHOP,
            &theirs,
            "c2",
            &webhook_hmac::sign(SECRET, &theirs),
        )
        .await;
    assert_eq!(response.status(), 200);
    app.wait_applied().await;
    assert_eq!(sweep(&app, AFTER_THE_DELAY).await, report(2, 0, 0));

    let other: i64 = sqlx::query_scalar("select shop_id from shop where domain = $1")
        .bind(OTHER_SHOP)
        .fetch_one(&app.pool)
        .await
        .expect("other shop");
    let other_key = app.api_key_for(ShopId(other)).await;
    let page = app.api_json(&key, "/api/v1/abandoned-checkouts").await;
    assert_eq!(tokens(&page), vec!["tok-mine"], "{page}");
    let page = app
        .api_json(&other_key, "/api/v1/abandoned-checkouts")
        .await;
    assert_eq!(tokens(&page), vec!["tok-theirs"], "{page}");
    let mut conn = app.pool.acquire().await.expect("connection");
    let open = abandoned::open_for_customer(&mut conn, ShopId(app.shop_id().await), 42)
        .await
        .expect("query")
        .expect("open");
    assert_eq!(open.checkout_token, "tok-mine");
}

#[tokio::test]
async fn a_pixel_only_checkout_of_a_logged_in_customer_is_abandoned_with_what_was_carted() {
    let app = spawn().await;
    let key = app.api_key().await;
    catalogue_and_history(&app).await;
    let started = |id: &str, client: &str, token: &str, time: &str| {
        json!({"id": id, "name": "checkout_started", "clientId": client, "timestamp": time,
               "data": {"checkout": {"token": token}}})
    };
    let logged_in = json!({"shop": SHOP, "customerId": "gid://shopify/Customer/77", "events": [
        {"id": "e1", "name": "product_added_to_cart", "clientId": "dev-1", "timestamp": "2026-11-20T09:50:00Z",
         "data": {"cartLine": {"quantity": 1, "merchandise": {"id": "30", "product": {"id": "3"}}}}},
        started("e2", "dev-1", "px-1", CHANGED),
        // Started and completed: not abandoned.
        started("e3", "dev-2", "px-2", CHANGED),
        {"id": "e4", "name": "checkout_completed", "clientId": "dev-2", "timestamp": "2026-11-20T10:05:00Z",
         "data": {"checkout": {"token": "px-2", "order": {"id": "9"}}}}
    ]});
    let response = app.pixel("", &logged_in.to_string(), "text/plain").await;
    assert_eq!(response.status(), 200);
    // Anonymous: no customer, and the pixel never knows an e-mail.
    let anonymous = json!([started("e5", "dev-3", "px-3", CHANGED)]);
    let response = app
        .pixel(
            &format!("?shop={SHOP}"),
            &anonymous.to_string(),
            "text/plain",
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        app.count("select count(*) from browse_event where name = 'checkout_started'")
            .await,
        3
    );

    assert_eq!(sweep(&app, BEFORE_THE_DELAY).await, report(0, 0, 0));
    assert_eq!(sweep(&app, AFTER_THE_DELAY).await, report(1, 0, 0));
    assert_eq!(sweep(&app, AFTER_THE_DELAY).await, report(0, 0, 0));
    let page = app.api_json(&key, "/api/v1/abandoned-checkouts").await;
    assert_eq!(tokens(&page), vec!["px-1"], "{page}");
    let item = &page["items"][0];
    assert_eq!(item["source"], "pixel");
    assert_eq!(item["customer_id"], 77);
    assert_eq!(item["product_ids"], json!([3]));
    assert_eq!(
        at(item["abandoned_at"].as_str().expect("time")),
        at(ABANDONED_AT)
    );
    // Soap was bought with Shampoo.
    assert_eq!(item["offer"]["complement"]["product_id"], 1, "{item}");
    assert_eq!(item["offer"]["product_ids"], json!([3, 1]));
}

#[tokio::test]
async fn the_housekeeping_loop_sweeps_on_the_application_clock() {
    let mut settings = test_settings();
    settings.checkouts.sweep_interval_secs = 1;
    // The clock reads 11:30 forever: only it can make a 10:00 checkout abandoned.
    let app = spawn_app_at(
        at(AFTER_THE_DELAY).timestamp(),
        settings,
        Secrets::fixed(SECRET),
    )
    .await;
    app.deliver(
        "checkouts/create",
        &checkout(7001, "tok-a", Some(42), None, &[]),
        "c1",
    )
    .await;
    app.wait_applied().await;
    let mut found = 0;
    for _ in 0..100 {
        found = app
            .count("select count(*) from abandoned_checkout where checkout_token = 'tok-a'")
            .await;
        if found > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(found, 1, "swept within 10 s");
}
