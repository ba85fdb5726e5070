//! The dashboard's pages over HTTP with a logged-in session: every page renders this shop's
//! numbers and nothing of another shop; rules and settings change the storefront at once;
//! forms without the session's CSRF token change nothing.

use reqwest::header::LOCATION;
use reqwest::redirect::Policy;
use reqwest::Method;
use shoprecs::shopify::ShopDomain;
use shoprecs::store::{shops, ShopId};

use crate::admin_session::login;
use crate::helpers::{order, product, spawn_app, TestApp, SHOP};

const OTHER: &str = "zebra-shop.myshopify.com";

const PAGES: [(&str, &str); 10] = [
    ("/admin", "Overview"),
    ("/admin?period=90", "Overview"),
    ("/admin/explore?product=1&customer=7", "Explore"),
    ("/admin/bestsellers", "Bestsellers"),
    ("/admin/segments", "Segments"),
    ("/admin/engagement", "Engagement"),
    ("/admin/checkouts", "Abandoned checkouts"),
    ("/admin/rules?q=o", "Rules"),
    ("/admin/settings", "Settings"),
    ("/admin/health", "Data health"),
];

/// Shop A (the test shop): four products, customer 7 and others; shop B: a zebra.
async fn two_shops(app: &TestApp) -> ShopId {
    for (id, title) in [
        (1, "Shampoo"),
        (2, "Conditioner"),
        (3, "Soap"),
        (4, "Towel"),
    ] {
        app.deliver(
            "products/create",
            &product(id, title, "Hair", 10),
            &format!("p{id}"),
        )
        .await;
    }
    for (id, customer, items, day) in [
        (100, Some(7), &[1, 2][..], 1),
        (101, Some(8), &[1, 2, 3][..], 2),
        (102, Some(9), &[1, 2][..], 3),
        (103, None, &[3, 4][..], 4),
    ] {
        app.deliver(
            "orders/create",
            &order(id, customer, items, day),
            &format!("o{id}"),
        )
        .await;
    }
    app.wait_applied().await;
    let other = shops::resolve_or_create(&app.pool, &ShopDomain::parse(OTHER).expect("domain"))
        .await
        .expect("other shop");
    sqlx::query(
        "insert into product (shop_id, product_id, title, handle, updated_at) values ($1, 77, 'Zebra plush', 'zebra', now());
         ",
    )
    .bind(other.0)
    .execute(&app.pool)
    .await
    .expect("zebra");
    sqlx::query(
        "insert into customer (shop_id, customer_id, updated_at, orders_count, segment) values ($1, 9999, now(), 3, 'returning')",
    )
    .bind(other.0)
    .execute(&app.pool)
    .await
    .expect("other customer");
    let shop = ShopId(app.shop_id().await);
    shoprecs::lifecycle::sweep_shop(&app.pool, shop, &app.state.lifecycle, chrono::Utc::now())
        .await
        .expect("sweep");
    shoprecs::lifecycle::snapshot_day(
        &app.pool,
        shop,
        chrono::Utc::now().date_naive(),
        &app.state.lifecycle,
        chrono::Utc::now(),
    )
    .await
    .expect("snapshot");
    shop
}

#[tokio::test]
async fn every_page_shows_this_shops_data_and_nothing_of_another() {
    let app = spawn_app().await;
    two_shops(&app).await;
    let admin = login(&app, SHOP).await;
    for (path, title) in PAGES {
        let html = admin.page(path).await;
        assert!(html.contains(&format!("<h1>{title}")), "{path}: {html}");
        assert!(
            !html.contains("Zebra") && !html.contains("9999"),
            "{path} leaks shop B"
        );
        assert!(
            !html.contains("<script"),
            "{path}: no script outside Shopify admin"
        );
    }
    // Real numbers on the pages.
    let overview = admin.page("/admin?period=90").await;
    assert!(overview.contains("<svg"), "a chart");
    assert!(
        overview.contains("Orders and recommendation clicks per day: the numbers"),
        "and its table"
    );
    let explore = admin.page("/admin/explore?product=1&customer=7").await;
    assert!(
        explore.contains("Conditioner"),
        "bought with Shampoo: {explore}"
    );
    assert!(
        explore.contains("Bought together with Shampoo in 3 of 3 orders"),
        "the reason with its evidence: {explore}"
    );
    assert!(
        explore.contains("<div class=\"value\">new"),
        "customer 7's segment: {explore}"
    );
    let segments = admin.page("/admin/segments").await;
    assert!(segments.contains("Customers per segment"));
    // Shop B's product and customer, asked for by id, are not found here.
    let probe = admin.page("/admin/explore?product=77&customer=9999").await;
    assert!(!probe.contains("Zebra"));
    assert!(probe.contains("No customer 9999 in this shop"));
    let csv = admin.get("/admin/segments/returning/export").await;
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()["content-type"]
        .to_str()
        .expect("type")
        .starts_with("text/csv"));
    let body = csv.text().await.expect("csv");
    assert!(body.starts_with("customer_id,segment"));
    assert!(!body.contains("9999"));
    // Without a session: the login page.
    let anonymous = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("client");
    let response = anonymous
        .get(app.url("/admin/segments"))
        .send()
        .await
        .expect("get");
    assert_eq!(response.status(), 303);
    assert!(response.headers()[LOCATION]
        .to_str()
        .expect("location")
        .starts_with("/admin/login"));
}

#[tokio::test]
async fn an_empty_shop_gets_pages_that_say_what_to_do() {
    let app = spawn_app().await;
    app.install_shop().await;
    let admin = login(&app, SHOP).await;
    let overview = admin.page("/admin").await;
    assert!(overview.contains("No orders yet"), "{overview}");
    assert!(overview.contains("shoprecs import orders"));
    for (path, _) in PAGES {
        admin.page(path).await;
    }
}

async fn widget_ids(app: &TestApp) -> Vec<i64> {
    let response = app
        .proxy(
            Method::GET,
            "/proxy/widget",
            &[
                ("placement", "product"),
                ("product_id", "1"),
                ("format", "json"),
            ],
            None,
        )
        .await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.expect("json");
    crate::helpers::ids(&body)
}

#[tokio::test]
async fn a_rule_changes_the_storefront_at_once_and_needs_the_csrf_token() {
    let app = spawn_app().await;
    two_shops(&app).await;
    let admin = login(&app, SHOP).await;
    assert!(
        widget_ids(&app).await.contains(&2),
        "Conditioner is bought with Shampoo"
    );

    // Without the token: refused, nothing changes.
    let forged = admin
        .post(
            "/admin/rules",
            &[("csrf", "nope"), ("kind", "exclude"), ("product_id", "2")],
        )
        .await;
    assert_eq!(forged.status(), 403);
    assert_eq!(app.count("select count(*) from rule").await, 0);

    let done = admin
        .post(
            "/admin/rules",
            &[
                ("csrf", admin.csrf.as_str()),
                ("kind", "exclude"),
                ("product_id", "2"),
                ("context_product_id", ""),
            ],
        )
        .await;
    assert_eq!(done.status(), 303);
    let rules = admin.page("/admin/rules").await;
    assert!(
        rules.contains("Exclude") && rules.contains("Conditioner") && rules.contains("everywhere"),
        "{rules}"
    );
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await; // the widget cache's second
    assert!(!widget_ids(&app).await.contains(&2), "excluded at once");

    // Another shop's product cannot be the subject of a rule here.
    let foreign = admin
        .post(
            "/admin/rules",
            &[
                ("csrf", admin.csrf.as_str()),
                ("kind", "pin"),
                ("product_id", "77"),
            ],
        )
        .await;
    assert_eq!(foreign.status(), 422);

    let rule_id: i64 = sqlx::query_scalar("select rule_id from rule")
        .fetch_one(&app.pool)
        .await
        .expect("rule");
    let deleted = admin
        .post(
            &format!("/admin/rules/{rule_id}/delete"),
            &[("csrf", admin.csrf.as_str())],
        )
        .await;
    assert_eq!(deleted.status(), 303);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert!(
        widget_ids(&app).await.contains(&2),
        "back after the rule is deleted"
    );
}

#[tokio::test]
async fn settings_change_the_widgets_heading_and_size_and_bad_values_are_refused() {
    let app = spawn_app().await;
    two_shops(&app).await;
    let admin = login(&app, SHOP).await;
    let saved = admin
        .post(
            "/admin/settings",
            &[
                ("csrf", admin.csrf.as_str()),
                ("heading_product", "Pairs well with"),
                ("widget_limit", "2"),
                ("lapse_days", "120"),
            ],
        )
        .await;
    assert_eq!(saved.status(), 303);
    let page = admin.page("/admin/settings").await;
    assert!(
        page.contains("value=\"Pairs well with\"") && page.contains("value=\"120\""),
        "{page}"
    );
    let html = app
        .proxy(
            Method::GET,
            "/proxy/widget",
            &[("placement", "product"), ("product_id", "1")],
            None,
        )
        .await
        .text()
        .await
        .expect("html");
    assert!(html.contains("Pairs well with"), "{html}");
    assert!(html.matches("data-shoprecs-item").count() <= 2);
    let segments = admin.page("/admin/segments").await;
    assert!(
        segments.contains("120 days") && segments.contains("your override"),
        "{segments}"
    );

    let bad = admin
        .post(
            "/admin/settings",
            &[("csrf", admin.csrf.as_str()), ("widget_limit", "99")],
        )
        .await;
    assert_eq!(bad.status(), 422);
    assert!(bad
        .text()
        .await
        .expect("page")
        .contains("Products per widget"));

    // Endpoints and the test event.
    let added = admin
        .post(
            "/admin/settings/endpoints",
            &[
                ("csrf", admin.csrf.as_str()),
                ("url", "http://127.0.0.1:9/hook"),
            ],
        )
        .await;
    assert_eq!(added.status(), 303);
    let tested = admin
        .post(
            "/admin/settings/test-event",
            &[("csrf", admin.csrf.as_str())],
        )
        .await;
    assert_eq!(tested.status(), 303);
    assert_eq!(
        app.count("select count(*) from event_outbox where topic = 'shoprecs.test'")
            .await,
        1
    );
}

#[tokio::test]
async fn inside_shopify_admin_pages_load_app_bridge_and_may_be_framed_by_the_shop_only() {
    let mut settings = crate::helpers::test_settings();
    settings.shopify.api_key = "embedded-key".to_owned();
    let app = crate::helpers::spawn_app_with(
        settings,
        shoprecs::config::Secrets::fixed(crate::helpers::SECRET),
    )
    .await;
    two_shops(&app).await;
    let now = chrono::Utc::now().timestamp();
    let claims = serde_json::json!({
        "iss": format!("https://{SHOP}/admin"), "dest": format!("https://{SHOP}"),
        "aud": "embedded-key", "sub": "42", "exp": now + 60, "nbf": now - 1, "iat": now - 1,
        "jti": "j1", "sid": "s1"
    });
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(crate::helpers::SECRET.as_bytes()),
    )
    .expect("token");
    let response = app
        .client
        .get(app.url(&format!(
            "/admin/segments?embedded=1&shop={SHOP}&id_token={token}"
        )))
        .send()
        .await
        .expect("get");
    assert_eq!(response.status(), 200);
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .expect("csp")
        .to_owned();
    assert!(
        csp.contains(&format!(
            "frame-ancestors https://{SHOP} https://admin.shopify.com"
        )),
        "{csp}"
    );
    let html = response.text().await.expect("html");
    assert!(html.contains(
        "<script src=\"https://cdn.shopify.com/shopifycloud/app-bridge.js\" data-api-key=\"embedded-key\">"
    ));
    // Navigation stays inside Shopify admin (App Bridge renews the token on the way).
    assert!(
        html.contains(&format!("href=\"/admin/rules?embedded=1&amp;shop={SHOP}\""))
            || html.contains(&format!("href=\"/admin/rules?embedded=1&#38;shop={SHOP}\"")),
        "{html}"
    );
    assert!(
        !html.contains("Log out"),
        "no self-hosted logout inside Shopify admin"
    );
}

#[tokio::test]
async fn the_overview_reads_the_same_numbers_from_daily_totals_as_live() {
    let app = spawn_app().await;
    let shop = two_shops(&app).await;
    let admin = login(&app, SHOP).await;
    let live = admin.page("/admin?period=30").await;
    let days =
        shoprecs::store::rollups::refresh_stale(&app.pool, shop, 24, chrono::Utc::now(), 400)
            .await
            .expect("daily totals");
    assert!(days >= 30, "{days} days computed");
    assert!(
        app.count("select count(*) from daily_orders where orders > 0")
            .await
            >= 4
    );
    let stored = admin.page("/admin?period=30").await;
    let figures = |html: &str| -> Vec<String> {
        html.split("class=\"value\">")
            .skip(1)
            .map(|v| v.split('<').next().unwrap_or("").to_owned())
            .collect()
    };
    assert_eq!(figures(&live), figures(&stored));
    assert_eq!(figures(&live)[0], "4", "four orders this month: {live}");

    // An order arriving late for a past day is counted at once, not hidden by stored totals.
    app.deliver("orders/create", &order(104, Some(10), &[3], 2), "o104")
        .await;
    app.wait_applied().await;
    let late = admin.page("/admin?period=30").await;
    assert_eq!(figures(&late)[0], "5", "{late}");
}
