//! The app proxy: signatures exactly as Shopify makes them, widgets, tracking, attribution.

use reqwest::Method;
use serde_json::{json, Value};
use shoprecs::config::Secrets;

use crate::helpers::{
    order, product, proxy_query, spawn_app, spawn_app_at, spawn_app_with, test_settings, TestApp,
    SECRET, SHOP,
};

const VECTOR_A: &str =
    "shop=some-random-store.myshopify.com&path_prefix=%2Fapps%2Fmy-app&timestamp=1466106083";

async fn install(app: &TestApp, shop: &str, secret: &str) {
    let body = br#"{"id": 1}"#;
    let sig = shoprecs::shopify::webhook_hmac::sign(secret, body);
    assert_eq!(
        app.webhook_signed("shop/update", shop, body, &format!("install-{shop}"), &sig)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn shopify_signature_vectors_are_accepted_and_tampering_refused() {
    let app = spawn_app_at(1466106083, test_settings(), Secrets::fixed("secret")).await;
    install(&app, "some-random-store.myshopify.com", "secret").await;
    let get = |query: String| {
        let (client, url) = (
            app.client.clone(),
            app.url(&format!("/proxy/widget?{query}")),
        );
        async move { client.get(url).send().await.expect("send") }
    };
    // Vector A (no placement: the signature passes, then the request is refused as incomplete).
    let a = get(format!(
        "{VECTOR_A}&signature=f5cd7233558b1c50102a6f33c0b63ad1e1072a2fc126cb58d4500f75223cefcd"
    ))
    .await;
    assert_eq!(a.status(), 400, "signed correctly, but no placement");
    // Vector B: nested and valueless shopper parameters.
    let b = format!("{VECTOR_A}&foo=bar&baz[1]&baz[2]=b&baz[c[0]]=whatup&baz[c[1]]=notmuch&signature=bbf3aa60e098f08919a2ea4c64a388414f164e6a117a63b03479ac7aa9464b4f");
    assert_eq!(get(b).await.status(), 400);
    let tampered = format!(
        "{}&signature=f5cd7233558b1c50102a6f33c0b63ad1e1072a2fc126cb58d4500f75223cefcd",
        VECTOR_A.replace("1466106083", "1466106084")
    );
    assert_eq!(get(tampered).await.status(), 401);
    let repeated = format!("{VECTOR_A}&shop=evil.myshopify.com&signature=f5cd7233558b1c50102a6f33c0b63ad1e1072a2fc126cb58d4500f75223cefcd");
    let response = get(repeated).await;
    assert_eq!(response.status(), 401);
    assert!(response
        .text()
        .await
        .unwrap_or_default()
        .contains("more than once"));
    assert_eq!(get(VECTOR_A.to_owned()).await.status(), 401, "no signature");
}

#[tokio::test]
async fn shopify_multi_value_vector_c_is_accepted() {
    let app = spawn_app_at(1317327555, test_settings(), Secrets::fixed("hush")).await;
    install(&app, "some-shop.myshopify.com", "hush").await;
    let query = "extra=1&extra=2&shop=some-shop.myshopify.com&logged_in_customer_id=1&path_prefix=%2Fapps%2Fawesome_reviews&timestamp=1317327555&signature=5e2178f38200aed046f7944c03c410698b34595edb3968b0e3ab8d4db12f142f";
    let response = app
        .client
        .get(app.url(&format!("/proxy/widget?{query}&")))
        .send()
        .await
        .expect("send");
    assert_eq!(
        response.status(),
        400,
        "verified (then refused: no placement), not 401"
    );
}

#[tokio::test]
async fn stale_unknown_shop_and_other_shops_product_are_refused() {
    let app = spawn_app().await;
    app.install_shop().await;
    app.deliver("products/create", &product(1, "Mug", "Kitchen", 5), "p1")
        .await;
    app.wait_applied().await;
    let now = chrono::Utc::now().timestamp();
    let stale = proxy_query(SECRET, SHOP, &[("placement", "home")], None, now - 300);
    let response = app
        .client
        .get(app.url(&format!("/proxy/widget?{stale}")))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 401);
    assert!(response.text().await.unwrap_or_default().contains("stale"));
    let unknown = proxy_query(
        SECRET,
        "nobody.myshopify.com",
        &[("placement", "home")],
        None,
        now,
    );
    assert_eq!(
        app.client
            .get(app.url(&format!("/proxy/widget?{unknown}")))
            .send()
            .await
            .expect("send")
            .status(),
        404
    );
    // Shop B is installed but product 1 belongs to shop A.
    install(&app, "shop-b.myshopify.com", SECRET).await;
    app.wait_applied().await;
    let other = proxy_query(
        SECRET,
        "shop-b.myshopify.com",
        &[("placement", "product"), ("product_id", "1")],
        None,
        now,
    );
    assert_eq!(
        app.client
            .get(app.url(&format!("/proxy/widget?{other}")))
            .send()
            .await
            .expect("send")
            .status(),
        404
    );
    let ok = app
        .proxy(
            Method::GET,
            "/proxy/widget",
            &[("placement", "product"), ("product_id", "1")],
            None,
        )
        .await;
    assert_eq!(ok.status(), 200);
}

async fn shop_with_history(app: &TestApp) {
    app.install_shop().await;
    for (id, title, stock) in [
        (1, "Shampoo", 5),
        (2, "Conditioner", 5),
        (3, "Soap", 5),
        (4, "Towel", 5),
        (5, "Sold out", 0),
    ] {
        app.deliver(
            "products/create",
            &product(id, title, "Care", stock),
            &format!("p{id}"),
        )
        .await;
    }
    let mut evil = product(6, "<img src=x onerror=alert(1)>", "Care", 5);
    evil["handle"] = json!("evil\"><script>alert(1)</script>");
    app.deliver("products/create", &evil, "p6").await;
    for (i, items) in [[1, 2, 6], [1, 2, 3], [1, 6, 4]].iter().enumerate() {
        app.deliver(
            "orders/create",
            &order(100 + i as i64, Some(7), items, 1 + i as u32),
            &format!("o{i}"),
        )
        .await;
    }
    app.wait_applied().await;
}

#[tokio::test]
async fn product_widget_html_is_escaped_accessible_and_excludes_the_product_and_sold_out_items() {
    let app = spawn_app().await;
    shop_with_history(&app).await;
    let response = app
        .proxy(
            Method::GET,
            "/proxy/widget",
            &[
                ("placement", "product"),
                ("product_id", "1"),
                ("limit", "4"),
            ],
            None,
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/html; charset=utf-8"
    );
    assert!(
        response.headers()["cache-control"]
            .to_str()
            .unwrap_or("")
            .starts_with("private, max-age="),
        "anonymous: briefly cacheable by the shopper's browser"
    );
    let html = response.text().await.expect("html");
    assert_eq!(html.matches("data-shoprecs-item").count(), 4, "{html}");
    assert!(
        !html.contains(r#"data-shoprecs-product-id="1""#),
        "never the product itself"
    );
    assert!(
        !html.contains(r#"data-shoprecs-product-id="5""#),
        "never a sold-out product"
    );
    assert!(html.contains("data-shoprecs-token=\""));
    assert!(
        html.contains(r#"role="list""#)
            && html.contains(r#"loading="lazy""#)
            && html.contains(r#"width="600""#)
    );
    assert!(
        html.contains(r#"action="/cart/add""#) && html.contains(r#"name="id" value="20""#),
        "add-to-cart posts the variant"
    );
    assert!(
        html.contains("&#60;img src=x onerror=alert(1)&#62;"),
        "titles are escaped: {html}"
    );
    assert!(
        !html.contains("<img src=x") && !html.contains("<script>"),
        "nothing executable is injected"
    );
    assert!(html.contains("Frequently bought together"));
    assert!(html.contains("$10.00"), "price in the shop's currency");

    let json: Value = app
        .proxy(
            Method::GET,
            "/proxy/widget",
            &[
                ("placement", "product"),
                ("product_id", "1"),
                ("limit", "4"),
                ("format", "json"),
            ],
            None,
        )
        .await
        .json()
        .await
        .expect("json");
    let ids: Vec<i64> = json["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["product_id"].as_i64())
        .collect();
    assert_eq!(ids.len(), 4);
    let mut top_two = ids[..2].to_vec();
    top_two.sort();
    assert_eq!(
        top_two,
        vec![2, 6],
        "the two products bought with shampoo twice come first: {json}"
    );
}

#[tokio::test]
async fn cart_widget_leaves_out_the_cart_and_personal_widgets_are_private() {
    let app = spawn_app().await;
    shop_with_history(&app).await;
    let response = app
        .proxy(
            Method::GET,
            "/proxy/widget",
            &[("placement", "cart"), ("product_ids", "1,2")],
            Some(7),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "private, no-store");
    let html = response.text().await.expect("html");
    assert!(
        !html.contains(r#"data-shoprecs-product-id="1""#)
            && !html.contains(r#"data-shoprecs-product-id="2""#)
    );
    assert!(html.contains("Complete your order"));
    let home = app
        .proxy(
            Method::GET,
            "/proxy/widget",
            &[("placement", "home")],
            Some(7),
        )
        .await
        .text()
        .await
        .expect("html");
    assert!(home.contains("Picked for you"), "{home}");
    let bad = app
        .proxy(
            Method::GET,
            "/proxy/widget",
            &[
                ("placement", "product"),
                ("product_id", "1"),
                ("limit", "99"),
            ],
            None,
        )
        .await;
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn holdout_shoppers_see_nothing() {
    let mut settings = test_settings();
    settings.storefront.holdout_share = 1.0;
    let app = spawn_app_with(settings, Secrets::fixed(SECRET)).await;
    shop_with_history(&app).await;
    let held = app
        .proxy(
            Method::GET,
            "/proxy/widget",
            &[("placement", "home"), ("client_id", "c-1")],
            None,
        )
        .await;
    assert_eq!(held.status(), 204);
    let known = app
        .proxy(
            Method::GET,
            "/proxy/widget",
            &[("placement", "home"), ("client_id", "c-1")],
            Some(7),
        )
        .await;
    assert_eq!(known.status(), 200, "the holdout is of anonymous shoppers");
}

#[tokio::test]
async fn impressions_and_clicks_are_recorded_and_orders_attributed_to_the_widget() {
    let app = spawn_app().await;
    shop_with_history(&app).await;
    let key = app.api_key().await;
    let json: Value = app
        .proxy(
            Method::GET,
            "/proxy/widget",
            &[
                ("placement", "product"),
                ("product_id", "1"),
                ("format", "json"),
            ],
            Some(42),
        )
        .await
        .json()
        .await
        .expect("json");
    let token = json["token"].as_str().expect("token").to_owned();
    let impression = app
        .proxy(
            Method::POST,
            "/proxy/track",
            &[("event", "impression"), ("token", &token)],
            Some(42),
        )
        .await;
    assert_eq!(impression.status(), 204);
    let again = app
        .proxy(
            Method::POST,
            "/proxy/track",
            &[("event", "impression"), ("token", &token)],
            Some(42),
        )
        .await;
    assert_eq!(
        again.status(),
        204,
        "a repeated report is accepted and counted once"
    );
    let click = app
        .proxy(
            Method::POST,
            "/proxy/track",
            &[
                ("event", "click"),
                ("token", &token),
                ("product_id", "3"),
                ("position", "2"),
            ],
            Some(42),
        )
        .await;
    assert_eq!(click.status(), 204);
    let forged = app
        .proxy(
            Method::POST,
            "/proxy/track",
            &[
                ("event", "click"),
                ("token", "product.x.1.aa.bb"),
                ("product_id", "3"),
            ],
            Some(42),
        )
        .await;
    assert_eq!(forged.status(), 400);
    assert_eq!(app.count("select count(*) from widget_event").await, 2);

    // The shopper orders the clicked product: the order is attributed to the product widget.
    let mut purchase = order(500, Some(42), &[3, 4], 1);
    let now = chrono::Utc::now().to_rfc3339();
    for field in ["created_at", "updated_at", "processed_at"] {
        purchase[field] = json!(now);
    }
    app.deliver("orders/create", &purchase, "o500").await;
    app.wait_applied().await;
    let stats = app.api_json(&key, "/api/v1/stats/widgets").await;
    let days = stats["days"].as_array().expect("days");
    let product_widget = days
        .iter()
        .find(|d| d["placement"] == "product")
        .expect("a row for the product widget");
    assert_eq!(product_widget["impressions"], 1);
    assert_eq!(product_widget["clicks"], 1);
    assert_eq!(product_widget["ctr"], 1.0);
    assert_eq!(product_widget["attributed_orders"], 1);
    assert_eq!(
        product_widget["attributed_revenue"], "10.0000",
        "only the clicked product's line: {stats}"
    );
}

#[tokio::test]
async fn cached_widgets_get_their_own_token_and_change_as_soon_as_the_shop_does() {
    let app = spawn_app().await;
    shop_with_history(&app).await;
    let key = app.api_key().await;
    let params = [
        ("placement", "product"),
        ("product_id", "1"),
        ("limit", "4"),
        ("format", "json"),
    ];
    let get = || async {
        let v: Value = app
            .proxy(Method::GET, "/proxy/widget", &params, None)
            .await
            .json()
            .await
            .expect("json");
        v
    };
    let (first, second) = (get().await, get().await);
    assert_ne!(
        first["token"], second["token"],
        "every response carries its own token"
    );
    assert_eq!(first["items"], second["items"]);
    let top = first["items"][0]["product_id"].as_i64().expect("an item");
    let exclude = app
        .client
        .post(app.url("/api/v1/rules"))
        .bearer_auth(&key)
        .json(&json!({"kind": "exclude", "product_id": top}))
        .send()
        .await
        .expect("rule");
    assert_eq!(exclude.status(), 201);
    let after = get().await;
    let ids: Vec<i64> = after["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["product_id"].as_i64())
        .collect();
    assert!(
        !ids.contains(&top),
        "the rule shows on the very next request: {after}"
    );
}
