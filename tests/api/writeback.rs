//! Writing back to Shopify against the fake Admin API: segment tags kept in sync in batches,
//! and a real single-use discount code per abandoned-checkout bundle, created once.

use serde_json::{json, Value};
use shoprecs::admin_api::AccessToken;
use shoprecs::config::{Secrets, Settings};
use shoprecs::shopify_fake::{FakeShopify, Fault};
use shoprecs::store::shop_settings;
use shoprecs::writeback::{run_round, RoundReport};

use crate::abandoned::{self as ab, at, AFTER_THE_DELAY};
use crate::helpers::{order, spawn_app_at, spawn_app_with, TestApp, SECRET, SHOP};

async fn fake() -> FakeShopify {
    FakeShopify::start("shoprecs-test-app", SECRET)
        .await
        .expect("fake Admin API")
}

fn connected(mut settings: Settings, fake: &FakeShopify) -> Settings {
    settings.shopify.api_key = "shoprecs-test-app".into();
    settings.admin_api.url = fake.url_template();
    settings.admin_api.backoff_base_ms = 10;
    settings.admin_api.backoff_max_secs = 0.2;
    settings.admin_api.max_attempts = 3;
    // Rounds run when a test says so.
    settings.writeback.interval_secs = 3600.0;
    settings
}

/// Stores an offline token for the test shop, as an install would.
async fn connect(app: &TestApp, fake: &FakeShopify, scope: &str) {
    app.install_shop().await;
    let token = fake.world().issue_token(SHOP);
    app.state
        .shop_api
        .store_token(
            shoprecs::store::ShopId(app.shop_id().await),
            &AccessToken {
                token: token.into(),
                scope: scope.into(),
            },
        )
        .await
        .expect("token stored");
}

async fn round(app: &TestApp) -> RoundReport {
    run_round(&app.state, app.state.now()).await.expect("round")
}

async fn set_tagging(app: &TestApp, on: bool) {
    let shop = shoprecs::store::ShopId(app.shop_id().await);
    let mut s = shop_settings::get(&app.pool, shop).await.expect("settings");
    s.sync_segment_tags = Some(on);
    shop_settings::set(&app.pool, shop, &s)
        .await
        .expect("saved");
}

fn tags_of(fake: &FakeShopify, customer: i64) -> Vec<String> {
    let mut world = fake.world();
    let all = world.data(SHOP, "customer_tags", json!({})).clone();
    let mut tags: Vec<String> = all[format!("gid://shopify/Customer/{customer}")]
        .as_array()
        .map(|t| {
            t.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    tags.sort();
    tags
}

/// The customer's tags as their segment (checked to be `segment`) and VIP flag say.
async fn expected_tags(app: &TestApp, customer: i64, segment: &str) -> Vec<String> {
    let (actual, vip): (Option<String>, bool) =
        sqlx::query_as("select segment, vip from customer where customer_id = $1")
            .bind(customer)
            .fetch_one(&app.pool)
            .await
            .expect("customer");
    assert_eq!(actual.as_deref(), Some(segment), "customer {customer}");
    let mut tags = vec![format!("shoprecs:{segment}")];
    if vip {
        tags.push("shoprecs:vip".to_owned());
    }
    tags
}

/// Requests (by number) that carried tag mutations, and the customers in each.
fn tag_requests(fake: &FakeShopify) -> Vec<Vec<String>> {
    let world = fake.world();
    let mut by_request: std::collections::BTreeMap<u64, Vec<String>> = Default::default();
    for call in world
        .requests
        .iter()
        .filter(|r| r.operation.starts_with("tags"))
    {
        let id = call.variables["id"].as_str().unwrap_or_default().to_owned();
        let customers = by_request.entry(call.request).or_default();
        if !customers.contains(&id) {
            customers.push(id);
        }
    }
    by_request.into_values().collect()
}

#[tokio::test]
async fn segment_tags_follow_segments_in_batches_and_come_off_when_switched_off() {
    let fake = fake().await;
    let mut settings = connected(crate::helpers::test_settings(), &fake);
    settings.writeback.tag_batch = 2;
    let app = spawn_app_with(settings, Secrets::fixed(SECRET)).await;
    connect(&app, &fake, "read_orders,write_customers").await;
    // Five buyers: 1 to 4 once (new), 5 twice (returning).
    for (order_id, customer, day) in [
        (1, 1, 1),
        (2, 2, 2),
        (3, 3, 3),
        (4, 4, 4),
        (5, 5, 5),
        (6, 5, 20),
    ] {
        app.deliver(
            "orders/create",
            &order(order_id, Some(customer), &[10], day),
            &format!("o{order_id}"),
        )
        .await;
    }
    app.wait_applied().await;

    // Off by default: nothing is written.
    assert_eq!(round(&app).await.tags.requests, 0);
    assert!(tag_requests(&fake).is_empty());

    set_tagging(&app, true).await;
    let report = round(&app).await;
    assert_eq!(report.tags.customers, 5);
    for customer in 1..=5 {
        let segment = if customer == 5 { "returning" } else { "new" };
        assert_eq!(
            tags_of(&fake, customer),
            expected_tags(&app, customer, segment).await
        );
    }
    let requests = tag_requests(&fake);
    assert_eq!(
        requests.len(),
        3,
        "5 customers in batches of 2: {requests:?}"
    );
    assert!(requests.iter().all(|customers| customers.len() <= 2));

    // Nothing changed: nothing is sent again.
    assert_eq!(round(&app).await.tags.requests, 0);

    // Customer 1 orders again and becomes returning: only their tags change.
    app.deliver("orders/create", &order(7, Some(1), &[10], 25), "o7")
        .await;
    app.wait_applied().await;
    let before = fake.world().requests.len();
    let report = round(&app).await;
    assert_eq!((report.tags.customers, report.tags.requests), (1, 1));
    assert_eq!(tags_of(&fake, 1), expected_tags(&app, 1, "returning").await);
    let sent: Vec<(String, Value)> = fake.world().requests[before..]
        .iter()
        .map(|r| (r.operation.clone(), r.variables["tags"][0].clone()))
        .collect();
    assert!(
        sent.contains(&("tagsAdd".to_owned(), json!("shoprecs:returning"))),
        "{sent:?}"
    );
    assert!(
        sent.contains(&("tagsRemove".to_owned(), json!("shoprecs:new"))),
        "{sent:?}"
    );

    // Switched off: every tag shoprecs set comes off, and nothing is left to track.
    set_tagging(&app, false).await;
    round(&app).await;
    for customer in 1..=5 {
        assert!(tags_of(&fake, customer).is_empty(), "customer {customer}");
    }
    assert_eq!(app.count("select count(*) from customer_tag_sync").await, 0);
}

#[tokio::test]
async fn tags_are_not_written_without_the_scope_or_with_a_revoked_token() {
    let fake = fake().await;
    let app = spawn_app_with(
        connected(crate::helpers::test_settings(), &fake),
        Secrets::fixed(SECRET),
    )
    .await;
    connect(&app, &fake, "read_orders").await;
    app.deliver("orders/create", &order(1, Some(1), &[10], 1), "o1")
        .await;
    app.wait_applied().await;
    set_tagging(&app, true).await;

    let report = round(&app).await;
    assert_eq!(report.tags.requests, 0);
    assert_eq!(report.skipped_shops, 1, "no write_customers scope");

    // With the scope, but the merchant revoked the token: one refused call, then the shop is
    // marked for re-auth and not called again.
    connect(&app, &fake, "write_customers").await;
    fake.world().revoke_tokens(SHOP);
    round(&app).await;
    round(&app).await;
    assert_eq!(fake.world().calls("tagsAdd").len(), 1);
    assert_eq!(
        app.count("select count(*) from shop where reauth_required_at is not null")
            .await,
        1
    );
}

async fn abandoned_app(fake: &FakeShopify, scope: &str) -> TestApp {
    let mut settings = connected(ab::settings(), fake);
    settings.writeback.discount_max_attempts = 2;
    let app = spawn_app_at(
        at(AFTER_THE_DELAY).timestamp(),
        settings,
        Secrets::fixed(SECRET),
    )
    .await;
    ab::add_endpoint(&app).await;
    connect(&app, fake, scope).await;
    ab::catalogue_and_history(&app).await;
    app.deliver(
        "checkouts/create",
        &ab::checkout(7001, "tok-a", Some(42), Some("a@example.com"), &[1]),
        "c1",
    )
    .await;
    app.wait_applied().await;
    app
}

fn discounts(fake: &FakeShopify) -> Vec<Value> {
    fake.world()
        .data(SHOP, "discounts", json!([]))
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn a_bundle_gets_one_real_single_use_code_even_when_shopifys_answer_is_lost() {
    let fake = fake().await;
    let app = abandoned_app(&fake, "read_orders,write_discounts").await;
    ab::sweep(&app, AFTER_THE_DELAY).await;
    assert!(
        ab::events(&app, "checkout.abandoned").await.is_empty(),
        "the event waits for the code"
    );

    // Shopify creates the discount but its answer is lost: the retry finds the code taken
    // and adopts that discount instead of creating a second one.
    fake.world().push_fault(Fault::LoseAnswer(502));
    let report = round(&app).await;
    assert_eq!(report.codes.created, 1);
    let made = discounts(&fake);
    assert_eq!(made.len(), 1, "{made:?}");
    let input = &made[0]["input"];
    let code = made[0]["code"].as_str().expect("code").to_owned();
    assert!(code.starts_with("BUNDLE-"), "{code}");
    assert_eq!(input["usageLimit"], 1);
    assert_eq!(input["customerGets"]["value"]["percentage"], 0.1);
    assert_eq!(
        input["customerGets"]["items"]["products"]["productsToAdd"],
        json!(["gid://shopify/Product/1", "gid://shopify/Product/2"]),
        "the bundle: the checkout's shampoo and its complement"
    );
    assert_eq!(
        input["context"]["customers"]["add"],
        json!(["gid://shopify/Customer/42"])
    );

    let events = ab::events(&app, "checkout.abandoned").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["offer"]["discount_code"], json!(code));
    assert!(events[0]["offer"]["discount_ends_at"].is_string());

    // Later rounds and sweeps create nothing more and send nothing more.
    round(&app).await;
    ab::sweep(&app, AFTER_THE_DELAY).await;
    assert_eq!(discounts(&fake).len(), 1);
    assert_eq!(ab::events(&app, "checkout.abandoned").await.len(), 1);

    // The e-mail block carries the code.
    let key = app.api_key().await;
    let block = app.api_get(&key, "/api/v1/customers/42/email-block").await;
    assert_eq!(block.status(), 200);
    assert!(block.text().await.expect("html").contains(&code));
}

#[tokio::test]
async fn when_shopify_keeps_failing_the_offer_goes_out_without_a_code() {
    let fake = fake().await;
    let app = abandoned_app(&fake, "write_discounts").await;
    ab::sweep(&app, AFTER_THE_DELAY).await;
    for _ in 0..20 {
        fake.world().push_fault(Fault::Status(503));
    }
    assert_eq!(round(&app).await.codes.retrying, 1);
    assert!(ab::events(&app, "checkout.abandoned").await.is_empty());
    assert_eq!(round(&app).await.codes.failed, 1, "second of two attempts");
    let events = ab::events(&app, "checkout.abandoned").await;
    assert_eq!(events.len(), 1);
    assert!(events[0]["offer"]["discount_code"].is_null());
    assert!(discounts(&fake).is_empty());
}

#[tokio::test]
async fn without_the_discount_scope_the_offer_is_sent_at_once_without_a_code() {
    let fake = fake().await;
    let app = abandoned_app(&fake, "read_orders").await;
    ab::sweep(&app, AFTER_THE_DELAY).await;
    let events = ab::events(&app, "checkout.abandoned").await;
    assert_eq!(events.len(), 1);
    assert!(events[0]["offer"]["discount_code"].is_null());
    round(&app).await;
    assert!(discounts(&fake).is_empty());
}
