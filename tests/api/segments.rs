//! Lifecycle segments, their history and events, and the engagement score, with a clock the
//! tests move.

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::{json, Value};
use shoprecs::config::Settings;
use shoprecs::lifecycle::{self, LifecycleConfig};
use shoprecs::store::ShopId;

use crate::helpers::{cli, product, spawn_app_with_clock, test_settings, TestApp, SHOP};

fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0)
        .single()
        .expect("valid")
}

/// Small thresholds so a story fits in weeks: expected gap 10 days (at risk after 15), lapse
/// window 60 days; the shop never has enough gaps to learn its own. No background sweeps.
fn settings() -> Settings {
    let mut s = test_settings();
    s.segments.default_expected_days = 10.0;
    s.segments.default_lapse_days = 60.0;
    s.segments.min_intervals = 1_000_000;
    s.segments.vip_share = 0.4;
    s.lifecycle.sweep_interval_minutes = 10_000_000;
    s
}

fn order_at(id: i64, customer: i64, products: &[i64], when: DateTime<Utc>, total: &str) -> Value {
    let t = when.to_rfc3339();
    json!({
        "id": id, "name": format!("#{id}"), "created_at": t, "updated_at": t, "processed_at": t,
        "cancelled_at": null, "test": false, "currency": "USD", "total_price": total,
        "financial_status": "paid", "customer": {"id": customer},
        "line_items": products.iter().enumerate().map(|(i, p)| json!({
            "id": id * 100 + i as i64, "product_id": p, "variant_id": p * 10, "quantity": 1,
            "current_quantity": 1, "price": "10.00", "sku": format!("SKU-{p}"), "gift_card": false
        })).collect::<Vec<_>>()
    })
}

async fn setup(start: DateTime<Utc>) -> (TestApp, crate::helpers::TestClock, ShopId, String) {
    let (app, clock) = spawn_app_with_clock(start, settings()).await;
    for (id, title) in [(1, "Tea"), (2, "Mug"), (3, "Pot")] {
        app.deliver(
            "products/create",
            &product(id, title, "Kitchen", 10),
            &format!("p{id}"),
        )
        .await;
    }
    app.wait_applied().await;
    let shop = ShopId(app.shop_id().await);
    let key = app.api_key().await;
    // An endpoint, so segment changes are written to the outbox.
    sqlx::query(
        "insert into event_endpoint (shop_id, url) values ($1, 'http://127.0.0.1:9/flows')",
    )
    .bind(shop.0)
    .execute(&app.pool)
    .await
    .expect("endpoint");
    (app, clock, shop, key)
}

fn config(app: &TestApp) -> LifecycleConfig {
    app.state.lifecycle.clone()
}

async fn sweep(app: &TestApp, shop: ShopId, now: DateTime<Utc>) {
    lifecycle::sweep_shop(&app.pool, shop, &config(app), now)
        .await
        .expect("sweep");
}

fn history(customer: &Value) -> Vec<(String, String)> {
    customer["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|h| {
            (
                h["to"].as_str().expect("to").to_string(),
                h["changed_at"].as_str().expect("at").to_string(),
            )
        })
        .collect()
}

async fn events(app: &TestApp, shop: ShopId) -> Vec<(String, String)> {
    let rows: Vec<(Option<String>, Option<String>)> = sqlx::query_as(
        "select payload #>> '{data,from}', payload #>> '{data,to}' from event_outbox
          where shop_id = $1 and topic = 'customer.segment_changed' order by outbox_id",
    )
    .bind(shop.0)
    .fetch_all(&app.pool)
    .await
    .expect("events");
    rows.into_iter()
        .map(|(f, t)| (f.unwrap_or_else(|| "-".into()), t.unwrap_or_default()))
        .collect()
}

#[tokio::test]
async fn each_segment_change_is_recorded_at_the_date_it_happened() {
    let start = at(2026, 3, 1, 0);
    let (app, clock, shop, key) = setup(start).await;

    // Signs up on 1 March: a prospect.
    let t = at(2026, 3, 1, 9).to_rfc3339();
    app.deliver(
        "customers/create",
        &json!({"id": 501, "created_at": t, "updated_at": t, "state": "enabled"}),
        "c501",
    )
    .await;
    app.wait_applied().await;
    sweep(&app, shop, at(2026, 3, 1, 10)).await;

    // First order on 2 March, noon: new, at once (no sweep needed).
    clock.set(at(2026, 3, 2, 13));
    app.deliver(
        "orders/create",
        &order_at(1, 501, &[1, 2], at(2026, 3, 2, 12), "30.00"),
        "o1",
    )
    .await;
    app.wait_applied().await;
    let c = app.api_json(&key, "/api/v1/customers/501").await;
    assert_eq!(c["segment"], "new", "{c}");

    // Swept daily: at risk from 17 March noon (15 days), found the next morning.
    sweep(&app, shop, at(2026, 3, 10, 6)).await;
    sweep(&app, shop, at(2026, 3, 18, 6)).await;
    // Not swept again until long after the lapse (1 May noon): still dated 1 May.
    sweep(&app, shop, at(2026, 6, 1, 6)).await;
    // Comes back on 10 June: returning from that order.
    clock.set(at(2026, 6, 10, 13));
    app.deliver(
        "orders/create",
        &order_at(2, 501, &[3], at(2026, 6, 10, 12), "20.00"),
        "o2",
    )
    .await;
    app.wait_applied().await;

    let c = app.api_json(&key, "/api/v1/customers/501").await;
    assert_eq!(c["segment"], "returning");
    assert_eq!(
        history(&c),
        vec![
            ("prospect".to_string(), "2026-03-01T09:00:00Z".to_string()),
            ("new".to_string(), "2026-03-02T12:00:00Z".to_string()),
            ("at_risk".to_string(), "2026-03-17T12:00:00Z".to_string()),
            ("lapsed".to_string(), "2026-05-01T12:00:00Z".to_string()),
            ("returning".to_string(), "2026-06-10T12:00:00Z".to_string()),
        ]
    );
    // Flows heard of every change found within 48 hours, but not of the lapse found a month
    // late (recorded for history, too stale to act on).
    assert_eq!(
        events(&app, shop).await,
        vec![
            ("-".to_string(), "prospect".to_string()),
            ("prospect".to_string(), "new".to_string()),
            ("new".to_string(), "at_risk".to_string()),
            ("lapsed".to_string(), "returning".to_string()),
        ]
    );
    // Sweeping again changes nothing and sends nothing.
    sweep(&app, shop, at(2026, 6, 10, 14)).await;
    assert_eq!(
        history(&app.api_json(&key, "/api/v1/customers/501").await).len(),
        5
    );
    assert_eq!(events(&app, shop).await.len(), 4);
}

#[tokio::test]
async fn a_cancelled_order_moves_the_customer_back() {
    let (app, clock, shop, key) = setup(at(2026, 3, 1, 0)).await;
    clock.set(at(2026, 3, 5, 13));
    app.deliver(
        "orders/create",
        &order_at(1, 7, &[1], at(2026, 3, 2, 12), "10.00"),
        "o1",
    )
    .await;
    app.deliver(
        "orders/create",
        &order_at(2, 7, &[2], at(2026, 3, 5, 12), "10.00"),
        "o2",
    )
    .await;
    app.wait_applied().await;
    assert_eq!(
        app.api_json(&key, "/api/v1/customers/7").await["segment"],
        "returning"
    );

    clock.set(at(2026, 3, 6, 9));
    let mut cancelled = order_at(2, 7, &[2], at(2026, 3, 5, 12), "10.00");
    cancelled["cancelled_at"] = json!(at(2026, 3, 6, 8).to_rfc3339());
    cancelled["updated_at"] = json!(at(2026, 3, 6, 8).to_rfc3339());
    app.deliver("orders/cancelled", &cancelled, "o2-cancel")
        .await;
    app.wait_applied().await;
    let c = app.api_json(&key, "/api/v1/customers/7").await;
    assert_eq!(c["segment"], "new", "{c}");
    assert_eq!(c["orders_count"], 1);
    let _ = shop;
}

#[tokio::test]
async fn an_event_repeated_within_a_pixel_batch_counts_once() {
    let (app, clock, _shop, key) = setup(at(2026, 3, 1, 0)).await;
    clock.set(at(2026, 3, 2, 13));
    for (id, customer) in [(1, 42), (2, 43)] {
        app.deliver(
            "orders/create",
            &order_at(id, customer, &[1], at(2026, 3, 2, 12), "40.00"),
            &format!("o{id}"),
        )
        .await;
    }
    app.wait_applied().await;
    // Customer 42's batch carries the same event three times (a retried send); 43's once.
    for (customer, copies) in [(42, 3), (43, 1)] {
        let event = json!({"id": format!("view-{customer}"), "name": "product_viewed",
                           "clientId": format!("c{customer}"), "timestamp": "2026-03-02T12:30:00Z",
                           "data": {"productVariant": {"id": "10", "product": {"id": "1"}}}});
        let batch = json!({"shop": SHOP, "customerId": format!("gid://shopify/Customer/{customer}"),
                           "events": vec![event; copies]});
        let sent = app.pixel("", &batch.to_string(), "application/json").await;
        assert_eq!(sent.status(), 200);
        let summary: Value = sent.json().await.expect("summary");
        assert_eq!(summary["accepted"], 1, "{summary}");
    }
    let score = |v: &Value| v["engagement_score"].as_f64().expect("score");
    let repeated = score(&app.api_json(&key, "/api/v1/customers/42").await);
    let once = score(&app.api_json(&key, "/api/v1/customers/43").await);
    assert!(
        (repeated - once).abs() < 1e-9,
        "same browsing, same score: {repeated} vs {once}"
    );
}

#[tokio::test]
async fn engagement_rises_when_a_customer_comes_back_and_decays_while_quiet() {
    let (app, clock, shop, key) = setup(at(2026, 3, 1, 0)).await;
    clock.set(at(2026, 3, 2, 13));
    app.deliver(
        "orders/create",
        &order_at(1, 42, &[1], at(2026, 3, 2, 12), "40.00"),
        "o1",
    )
    .await;
    app.wait_applied().await;
    let score = |v: &Value| v["engagement_score"].as_f64().expect("score");
    let fresh = score(&app.api_json(&key, "/api/v1/customers/42").await);

    clock.set(at(2026, 4, 15, 12));
    let quiet = score(&app.api_json(&key, "/api/v1/customers/42").await);
    assert!(quiet < fresh - 10.0, "decays: {fresh} → {quiet}");
    // The daily snapshot of a quiet day.
    let config = app.state.lifecycle.clone();
    lifecycle::snapshot_day(
        &app.pool,
        shop,
        at(2026, 4, 15, 0).date_naive(),
        &config,
        at(2026, 4, 15, 12),
    )
    .await
    .expect("snapshot");

    // Browses while logged in: the score rises.
    let events = json!({"shop": SHOP, "customerId": "gid://shopify/Customer/42", "events": [
        {"id": "v1", "name": "product_viewed", "clientId": "c42", "timestamp": "2026-04-15T11:00:00Z",
         "data": {"productVariant": {"id": "10", "product": {"id": "1"}}}},
        {"id": "v2", "name": "product_added_to_cart", "clientId": "c42", "timestamp": "2026-04-15T11:01:00Z",
         "data": {"cartLine": {"quantity": 1, "merchandise": {"id": "20", "product": {"id": "2"}}}}}
    ]});
    assert_eq!(
        app.pixel("", &events.to_string(), "application/json")
            .await
            .status(),
        200
    );
    let browsing = score(&app.api_json(&key, "/api/v1/customers/42").await);
    assert!(
        browsing > quiet + 5.0,
        "browsing lifts: {quiet} → {browsing}"
    );

    // Orders again: higher still.
    app.deliver(
        "orders/create",
        &order_at(2, 42, &[2], at(2026, 4, 15, 12), "40.00"),
        "o2",
    )
    .await;
    app.wait_applied().await;
    let back = score(&app.api_json(&key, "/api/v1/customers/42").await);
    assert!(back > browsing, "comes back: {browsing} → {back}");

    // The next day's snapshot: daily snapshots make a series, per customer and for the shop.
    clock.set(at(2026, 4, 16, 9));
    lifecycle::snapshot_day(
        &app.pool,
        shop,
        at(2026, 4, 16, 0).date_naive(),
        &config,
        at(2026, 4, 16, 9),
    )
    .await
    .expect("snapshot");
    let c = app.api_json(&key, "/api/v1/customers/42").await;
    let series: Vec<f64> = c["engagement_history"]
        .as_array()
        .expect("series")
        .iter()
        .map(|d| d["score"].as_f64().expect("score"))
        .collect();
    assert_eq!(series.len(), 2);
    assert!(series[1] > series[0], "{series:?}");
    let shop_series = app.api_json(&key, "/api/v1/engagement?days=7").await;
    let days = shop_series["days"].as_array().expect("days");
    assert_eq!(days.len(), 2);
    assert_eq!(days[1]["all"]["customers"], 1);
    assert_eq!(days[1]["segments"]["returning"]["customers"], 1);
    assert_eq!(days[0]["segments"]["at_risk"]["customers"], 1);
}

#[tokio::test]
async fn segments_api_counts_pages_and_exports_csv_for_one_shop_only() {
    let (app, clock, shop, key) = setup(at(2026, 3, 1, 0)).await;
    clock.set(at(2026, 3, 20, 13));
    // Five customers: three one-order (new), two with two orders (returning, bigger spenders).
    let mut id = 0;
    for customer in 100..105 {
        id += 1;
        app.deliver(
            "orders/create",
            &order_at(id, customer, &[1], at(2026, 3, 19, 12), "10.00"),
            &format!("o{id}"),
        )
        .await;
        if customer >= 103 {
            id += 1;
            app.deliver(
                "orders/create",
                &order_at(id, customer, &[2], at(2026, 3, 20, 12), "90.00"),
                &format!("o{id}"),
            )
            .await;
        }
    }
    app.wait_applied().await;
    sweep(&app, shop, at(2026, 3, 20, 13)).await;

    let seg = app.api_json(&key, "/api/v1/segments").await;
    let count = |name: &str| {
        seg["segments"]
            .as_array()
            .expect("segments")
            .iter()
            .find(|s| s["name"] == name)
            .map(|s| {
                (
                    s["customers"].as_i64().expect("n"),
                    s["vip"].as_i64().expect("vip"),
                )
            })
            .expect("segment listed")
    };
    assert_eq!(count("new"), (3, 0));
    assert_eq!(count("returning"), (2, 2), "the big spenders are VIP");
    assert_eq!(count("lapsed"), (0, 0));
    assert!(seg["segments"][0]["definition"]
        .as_str()
        .is_some_and(|d| !d.is_empty()));
    assert_eq!(seg["policy"]["lapse_days"], 60.0);

    // Pages of two, in id order, then the end.
    let page = app
        .api_json(&key, "/api/v1/segments/new/customers?limit=2")
        .await;
    let ids: Vec<i64> = page["customers"]
        .as_array()
        .expect("customers")
        .iter()
        .map(|c| c["customer_id"].as_i64().expect("id"))
        .collect();
    assert_eq!(ids, vec![100, 101]);
    let next = page["next_after"].as_i64().expect("more");
    let page = app
        .api_json(
            &key,
            &format!("/api/v1/segments/new/customers?limit=2&after={next}"),
        )
        .await;
    assert_eq!(page["customers"].as_array().expect("customers").len(), 1);
    assert!(page["next_after"].is_null());

    // The whole segment as CSV.
    let csv = app
        .client
        .get(app.url("/api/v1/segments/vip/customers"))
        .bearer_auth(&key)
        .header("accept", "text/csv")
        .send()
        .await
        .expect("csv");
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()["content-type"]
        .to_str()
        .expect("type")
        .starts_with("text/csv"));
    let body = csv.text().await.expect("body");
    let lines: Vec<&str> = body.lines().collect();
    assert!(
        lines[0].starts_with("customer_id,segment,segment_since,vip,engagement_score"),
        "{body}"
    );
    assert_eq!(lines.len(), 3, "{body}");
    assert!(lines[1].starts_with("103,returning,"));

    // Unknown segment → 404; bad limit → 422.
    assert_eq!(
        app.api_get(&key, "/api/v1/segments/sleepy/customers")
            .await
            .status(),
        404
    );
    assert_eq!(
        app.api_get(&key, "/api/v1/segments/new/customers?limit=0")
            .await
            .status(),
        422
    );

    // Another shop's key sees none of this shop's customers.
    let other = shoprecs::store::shops::resolve_or_create(
        &app.pool,
        &shoprecs::shopify::ShopDomain::parse("other-shop.myshopify.com").expect("domain"),
    )
    .await
    .expect("other shop");
    let other_key = app.api_key_for(other).await;
    assert_eq!(
        app.api_get(&other_key, "/api/v1/customers/103")
            .await
            .status(),
        404
    );
    assert_eq!(
        app.api_get(&other_key, "/api/v1/customers/103/email-block")
            .await
            .status(),
        404
    );
    let theirs = app.api_json(&other_key, "/api/v1/segments").await;
    assert!(theirs["segments"]
        .as_array()
        .expect("segments")
        .iter()
        .all(|s| s["customers"] == 0));
}

#[tokio::test]
async fn the_lapse_window_can_be_overridden_per_shop() {
    let (app, clock, shop, key) = setup(at(2026, 3, 1, 0)).await;
    clock.set(at(2026, 3, 2, 13));
    app.deliver(
        "orders/create",
        &order_at(1, 9, &[1], at(2026, 3, 2, 12), "10.00"),
        "o1",
    )
    .await;
    app.wait_applied().await;
    sweep(&app, shop, at(2026, 4, 10, 12)).await;
    assert_eq!(
        app.api_json(&key, "/api/v1/customers/9").await["segment"],
        "at_risk"
    );

    let response = app
        .client
        .put(app.url("/api/v1/segments/policy"))
        .bearer_auth(&key)
        .json(&json!({"lapse_days": 30}))
        .send()
        .await
        .expect("put");
    assert_eq!(response.status(), 200);
    let policy: Value = response.json().await.expect("json");
    assert_eq!(policy["lapse_days"], 30.0);
    assert_eq!(policy["lapse_overridden"], true);
    sweep(&app, shop, at(2026, 4, 10, 12)).await;
    let c = app.api_json(&key, "/api/v1/customers/9").await;
    assert_eq!(c["segment"], "lapsed");
    assert_eq!(
        history(&c).last().expect("history").1,
        "2026-04-01T12:00:00Z"
    );

    let bad = app
        .client
        .put(app.url("/api/v1/segments/policy"))
        .bearer_auth(&key)
        .json(&json!({"lapse_days": -3}))
        .send()
        .await
        .expect("put");
    assert_eq!(bad.status(), 422);
}

#[tokio::test]
async fn history_is_rebuilt_from_orders_with_daily_engagement() {
    let (app, clock, shop, key) = setup(at(2026, 3, 1, 0)).await;
    clock.set(at(2026, 6, 1, 12));
    for (id, when) in [(1, at(2026, 3, 2, 12)), (2, at(2026, 5, 20, 12))] {
        app.deliver(
            "orders/create",
            &order_at(id, 77, &[1], when, "10.00"),
            &format!("o{id}"),
        )
        .await;
    }
    app.wait_applied().await;
    let stats = lifecycle::rebuild_history(&app.pool, shop, &config(&app), at(2026, 6, 1, 12), 30)
        .await
        .expect("rebuild");
    assert_eq!(stats.customers, 1);
    assert_eq!(stats.days, 30);
    let c = app.api_json(&key, "/api/v1/customers/77").await;
    assert_eq!(
        history(&c).into_iter().map(|(s, _)| s).collect::<Vec<_>>(),
        vec!["new", "at_risk", "lapsed", "returning"]
    );
    // 30 days of series: lapsed until 20 May, returning after, the score jumping on that day.
    let series = c["engagement_history"].as_array().expect("series");
    assert_eq!(series.len(), 30);
    let on = |day: &str| series.iter().find(|d| d["day"] == day).expect("day");
    assert_eq!(on("2026-05-19")["segment"], "lapsed");
    assert_eq!(on("2026-05-20")["segment"], "returning");
    assert!(on("2026-05-20")["score"].as_f64() > on("2026-05-19")["score"].as_f64());
    let _ = Duration::days(1);
}

#[tokio::test]
async fn email_block_has_the_customers_picks_with_absolute_tagged_links() {
    let (app, clock, _shop, key) = setup(at(2026, 3, 1, 0)).await;
    clock.set(at(2026, 3, 20, 13));
    // Tea and Mug are bought together; customer 5 bought Tea.
    for id in 1..=3 {
        app.deliver(
            "orders/create",
            &order_at(id, 1000 + id, &[1, 2], at(2026, 3, 10, 12), "20.00"),
            &format!("o{id}"),
        )
        .await;
    }
    app.deliver(
        "orders/create",
        &order_at(9, 5, &[1], at(2026, 3, 19, 12), "10.00"),
        "o9",
    )
    .await;
    app.wait_applied().await;
    let response = app
        .api_get(&key, "/api/v1/customers/5/email-block?campaign=spring")
        .await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .expect("type")
        .starts_with("text/html"));
    let html = response.text().await.expect("html");
    assert!(!html.contains("<script"));
    assert!(html.contains("<table"));
    assert!(
        html.contains(&format!("https://{SHOP}/products/mug?utm_source=shoprecs")),
        "{html}"
    );
    assert!(html.contains("utm_campaign=spring"));
    assert!(
        html.contains("data-product-id=\"2\""),
        "Mug, bought with Tea, is picked: {html}"
    );
    assert_eq!(
        app.api_get(&key, "/api/v1/customers/999999/email-block")
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn the_cli_prints_counts_and_exports_a_segment_as_csv() {
    let (app, clock, _shop, _key) = setup(at(2026, 3, 1, 0)).await;
    clock.set(at(2026, 3, 20, 13));
    app.deliver(
        "orders/create",
        &order_at(1, 31, &[1], at(2026, 3, 19, 12), "10.00"),
        "o1",
    )
    .await;
    app.deliver(
        "orders/create",
        &order_at(2, 32, &[1], at(2025, 3, 19, 12), "10.00"),
        "o2",
    )
    .await;
    app.wait_applied().await;

    let counts = cli(&app.database, &["segments", "--shop", SHOP]);
    let line = |name: &str| {
        counts
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .map(|l| l.split_whitespace().nth(1).expect("count").to_owned())
            .unwrap_or_else(|| panic!("no {name} line in {counts}"))
    };
    // The CLI reads the real clock: the March 2026 order is months old by now, the 2025 one
    // long lapsed; both customers are counted once.
    let total: i64 = ["prospect", "new", "returning", "at_risk", "lapsed"]
        .iter()
        .map(|s| line(s).parse::<i64>().expect("number"))
        .sum();
    assert_eq!(total, 2, "{counts}");
    assert_eq!(line("lapsed"), "2", "{counts}");
    assert!(counts.contains("lapse window"));

    let csv = cli(
        &app.database,
        &["segments", "export", "--shop", SHOP, "--segment", "lapsed"],
    );
    let rows: Vec<&str> = csv.lines().collect();
    assert!(rows[0].starts_with("customer_id,segment"), "{csv}");
    let mut ids: Vec<&str> = rows[1..]
        .iter()
        .map(|r| r.split(',').next().expect("id"))
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, vec!["31", "32"]);
}
