//! Backfill from Shopify bulk operations against the fake Admin API: products and orders end
//! up in the store and the engine, whatever order the JSONL has; webhooks stay authoritative
//! when newer; a restart mid-download resumes; a failed operation shows and can be retried;
//! `bulk_operations/finish` advances a job at once.

use std::time::Duration;

use chrono::Utc;
use serde_json::{json, Value};
use shoprecs::admin_api::AccessToken;
use shoprecs::backfill::{self, jobs, Job};
use shoprecs::config::{Secrets, Settings};
use shoprecs::shopify_fake::FakeShopify;
use shoprecs::store::ShopId;

use crate::helpers::{ids, spawn_app_on, spawn_app_with, test_settings, TestApp, SECRET, SHOP};

const MUG: i64 = 1;
const CUP: i64 = 2;
const TEA: i64 = 3;

fn settings(fake: &FakeShopify) -> Settings {
    let mut settings = test_settings();
    settings.admin_api.url = fake.url_template();
    settings.admin_api.backoff_base_ms = 10;
    settings.backfill.poll_interval_secs = 0.05;
    settings.backfill.batch_size = 2;
    settings.backfill.retry_after_secs = 0.1;
    settings.backfill.download_read_timeout_secs = 5.0;
    settings
}

/// The fake and an app whose test shop is installed with a token the fake accepts.
async fn setup(tweak: impl FnOnce(&mut Settings)) -> (FakeShopify, TestApp, ShopId) {
    let fake = FakeShopify::start("fake-client-id", SECRET)
        .await
        .expect("fake starts");
    let mut settings = settings(&fake);
    tweak(&mut settings);
    let app = spawn_app_with(settings, Secrets::fixed(SECRET)).await;
    let shop = connect(&fake, &app).await;
    (fake, app, shop)
}

async fn connect(fake: &FakeShopify, app: &TestApp) -> ShopId {
    app.install_shop().await;
    let shop = ShopId(app.shop_id().await);
    let token = fake.world().issue_token(SHOP);
    app.state
        .shop_api
        .store_token(
            shop,
            &AccessToken {
                token: token.into(),
                scope: "read_products,read_orders".into(),
            },
        )
        .await
        .expect("token stored");
    shop
}

fn days_ago(days: i64) -> String {
    (Utc::now() - chrono::Duration::days(days)).to_rfc3339()
}

fn gql_product(id: i64, title: &str) -> Value {
    json!({
        "id": format!("gid://shopify/Product/{id}"), "handle": title.to_lowercase(),
        "title": title, "productType": "Kitchen", "vendor": "Acme", "status": "ACTIVE",
        "publishedAt": days_ago(100), "updatedAt": days_ago(50), "tags": ["kitchen"],
        "variants": {"edges": [{"node": {
            "id": format!("gid://shopify/ProductVariant/{}", id * 10), "title": "Default Title",
            "sku": format!("SKU-{id}"), "price": "10.00", "compareAtPrice": null,
            "inventoryQuantity": 5, "availableForSale": true, "inventoryPolicy": "DENY",
            "inventoryItem": {"tracked": true},
        }}]},
    })
}

fn gql_order(id: i64, customer: i64, products: &[i64], created: &str, updated: &str) -> Value {
    let lines: Vec<Value> = products
        .iter()
        .enumerate()
        .map(|(i, p)| {
            json!({"node": {
                "id": format!("gid://shopify/LineItem/{}", id * 100 + i as i64),
                "quantity": 1, "currentQuantity": 1, "sku": format!("SKU-{p}"), "isGiftCard": false,
                "variant": {"id": format!("gid://shopify/ProductVariant/{}", p * 10)},
                "product": {"id": format!("gid://shopify/Product/{p}")},
                "originalUnitPriceSet": {"shopMoney": {"amount": "10.00"}},
            }})
        })
        .collect();
    json!({
        "id": format!("gid://shopify/Order/{id}"), "name": format!("#{id}"),
        "createdAt": created, "processedAt": created, "updatedAt": updated, "cancelledAt": null,
        "test": false, "displayFinancialStatus": "PAID", "currencyCode": "EUR",
        "totalPriceSet": {"shopMoney": {"amount": "20.00"}},
        "currentTotalPriceSet": {"shopMoney": {"amount": "20.00"}},
        "customer": {"id": format!("gid://shopify/Customer/{customer}")},
        "lineItems": {"edges": lines},
    })
}

/// Three products; mug and cup bought together twice, mug and tea once, and one order older
/// than the year fetched.
fn arrange_shop(fake: &FakeShopify) {
    let mut world = fake.world();
    for (id, title) in [(MUG, "Mug"), (CUP, "Cup"), (TEA, "Tea")] {
        world.add_bulk_product(SHOP, gql_product(id, title));
    }
    for (id, customer, products, age) in [
        (100, 7, vec![MUG, CUP], 30),
        (101, 8, vec![MUG, CUP], 20),
        (102, 9, vec![MUG, TEA], 10),
        (103, 9, vec![CUP, TEA], 400),
    ] {
        let at = days_ago(age);
        world.add_bulk_order(SHOP, gql_order(id, customer, &products, &at, &at));
    }
}

async fn start(app: &TestApp, shop: ShopId) -> Job {
    backfill::start(
        &app.pool,
        &app.state.settings.backfill,
        shop,
        Utc::now().date_naive(),
    )
    .await
    .expect("backfill starts")
}

/// Polls the shop's latest job until `check` holds.
async fn job_until(app: &TestApp, shop: ShopId, what: &str, check: impl Fn(&Job) -> bool) -> Job {
    let mut last = None;
    for _ in 0..600 {
        last = jobs::latest(&app.pool, shop).await.expect("read job");
        if let Some(job) = last.as_ref().filter(|j| check(j)) {
            return job.clone();
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the backfill never got {what}; last: {last:?}");
}

async fn done(app: &TestApp, shop: ShopId) -> Job {
    let job = job_until(app, shop, "done", |j| {
        j.status == "done" || j.status == "failed"
    })
    .await;
    assert_eq!(job.status, "done", "{:?}", job.last_error);
    app.wait_applied().await;
    job
}

/// What the store holds for the shop: products, orders, order lines.
async fn counts(app: &TestApp) -> (i64, i64, i64) {
    (
        app.count("select count(*) from product").await,
        app.count(r#"select count(*) from "order""#).await,
        app.count("select count(*) from order_line").await,
    )
}

async fn bought_with_mug(app: &TestApp, key: &str) -> Value {
    app.api_json(
        key,
        &format!("/api/v1/products/{MUG}/recommendations?limit=2"),
    )
    .await
}

#[tokio::test]
async fn products_and_a_year_of_orders_reach_the_store_and_the_engine() {
    let (fake, app, shop) = setup(|_| {}).await;
    arrange_shop(&fake);
    let key = app.api_key_for(shop).await;

    start(&app, shop).await;
    let job = done(&app, shop).await;

    assert_eq!(
        counts(&app).await,
        (3, 3, 6),
        "the 400-day-old order is not fetched"
    );
    let list = bought_with_mug(&app, &key).await;
    assert_eq!(ids(&list), vec![CUP, TEA], "{list}");
    assert_eq!(list["items"][0]["reason"]["kind"], "bought_together");
    assert_eq!(list["items"][0]["reason"]["orders_together"], 2);
    // Products ran first, then orders; one bulk query at a time.
    let ops = fake.world().bulk_operations(SHOP);
    assert_eq!(ops.len(), 2);
    assert!(ops[0]["query"]
        .as_str()
        .is_some_and(|q| q.contains("products")));
    assert!(ops[1]["query"]
        .as_str()
        .is_some_and(|q| q.contains("created_at:>=")));
    // Progress is stored and served.
    assert!(job.started_at.is_some() && job.finished_at.is_some());
    let progress = app.api_json(&key, "/api/v1/backfill").await;
    assert_eq!(progress["status"], "done");
    assert_eq!(progress["done"], 6, "{progress}");
    assert_eq!(progress["total"], 6, "{progress}");
    assert!(progress["error"].is_null());
    // Staged lines are gone once applied.
    assert_eq!(app.count("select count(*) from backfill_line").await, 0);

    // Starting again while nothing runs fetches again and changes nothing.
    start(&app, shop).await;
    let again = done(&app, shop).await;
    assert_ne!(again.job_id, job.job_id);
    assert_eq!(counts(&app).await, (3, 3, 6));
}

#[tokio::test]
async fn children_before_their_parents_give_the_same_result() {
    let (fake, app, shop) = setup(|_| {}).await;
    arrange_shop(&fake);
    fake.world().bulk_children_first(SHOP, true);
    let key = app.api_key_for(shop).await;

    start(&app, shop).await;
    done(&app, shop).await;

    assert_eq!(counts(&app).await, (3, 3, 6));
    assert_eq!(
        app.count("select count(*) from variant").await,
        3,
        "every variant found its product"
    );
    assert_eq!(ids(&bought_with_mug(&app, &key).await), vec![CUP, TEA]);
}

#[tokio::test]
async fn the_newest_state_wins_between_webhooks_and_the_backfill() {
    let (fake, app, shop) = setup(|_| {}).await;
    arrange_shop(&fake);
    // Order 100 was cancelled after the backfill's snapshot: the webhook is newer.
    let mut cancelled = crate::helpers::order(100, Some(7), &[MUG, CUP], 1);
    let now = Utc::now().to_rfc3339();
    cancelled["created_at"] = json!(days_ago(30));
    cancelled["updated_at"] = json!(now);
    cancelled["cancelled_at"] = json!(now);
    app.deliver("orders/updated", &cancelled, "newer").await;
    // Order 101's webhook is older than the backfilled state, which has a line more.
    let mut stale = crate::helpers::order(101, Some(8), &[MUG], 1);
    stale["created_at"] = json!(days_ago(20));
    stale["updated_at"] = json!(days_ago(20));
    app.deliver("orders/updated", &stale, "older").await;
    {
        let mut world = fake.world();
        let orders = world.data(SHOP, "orders", json!([]));
        orders[1]["updatedAt"] = json!(days_ago(5));
    }
    app.wait_applied().await;

    start(&app, shop).await;
    done(&app, shop).await;

    let cancelled_kept = app
        .count(r#"select count(*) from "order" where order_id = 100 and cancelled_at is not null"#)
        .await;
    assert_eq!(cancelled_kept, 1, "the newer webhook state was kept");
    let lines_101 = app
        .count("select count(*) from order_line where order_id = 101")
        .await;
    assert_eq!(
        lines_101, 2,
        "the newer backfilled state replaced the older webhook"
    );
}

#[tokio::test]
async fn a_restart_mid_download_resumes_after_the_staged_lines() {
    let fake = FakeShopify::start("fake-client-id", SECRET)
        .await
        .expect("fake starts");
    let first = spawn_app_with(settings(&fake), Secrets::fixed(SECRET)).await;
    let shop = connect(&fake, &first).await;
    arrange_shop(&fake);
    // Products' result has 6 lines (3 products, 3 variants): stall after 5.
    fake.world().bulk_stall_after(SHOP, Some(5));

    start(&first, shop).await;
    let stalled = job_until(&first, shop, "4 lines staged", |j| j.objects_staged >= 4).await;
    assert_eq!(stalled.phase.as_str(), "products");
    assert!(stalled.bytes_staged > 0);
    let database = first.stop().await;

    fake.world().bulk_stall_after(SHOP, None);
    let second = spawn_app_on(database, settings(&fake), Secrets::fixed(SECRET)).await;
    let key = second.api_key_for(shop).await;
    done(&second, shop).await;

    let downloads = fake.world().bulk_downloads(SHOP);
    // Products (stalled), products resumed, orders.
    assert_eq!(downloads.len(), 3, "{downloads:?}");
    assert_eq!(downloads[0], 0);
    assert_eq!(
        downloads[1], stalled.bytes_staged as u64,
        "the resumed download asked only for what was not staged"
    );
    assert_eq!(counts(&second).await, (3, 3, 6));
    assert_eq!(second.count("select count(*) from variant").await, 3);
    assert_eq!(ids(&bought_with_mug(&second, &key).await), vec![CUP, TEA]);
}

/// A deployment with two replicas: both servers see the job, one runs it (Shopify allows one
/// bulk query per shop at a time, so a second runner would fail the job).
#[tokio::test]
async fn two_servers_on_one_database_run_a_backfill_once() {
    let (fake, app, shop) = setup(|_| {}).await;
    arrange_shop(&fake);
    let second = spawn_app_on(
        app.database.clone(),
        settings(&fake),
        Secrets::fixed(SECRET),
    )
    .await;

    start(&app, shop).await;
    let job = job_until(&app, shop, "done", |j| {
        j.status == "done" || j.status == "failed"
    })
    .await;
    assert_eq!(job.status, "done", "{:?}", job.last_error);
    assert_eq!(
        fake.world().calls("bulkOperationRunQuery").len(),
        2,
        "one products query and one orders query"
    );
    drop(second);
}

#[tokio::test]
async fn a_failed_operation_shows_its_error_and_can_be_retried() {
    let (fake, app, shop) = setup(|_| {}).await;
    arrange_shop(&fake);
    fake.world().bulk_fail_next(SHOP, "INTERNAL_SERVER_ERROR");
    let key = app.api_key_for(shop).await;

    start(&app, shop).await;
    let failed = job_until(&app, shop, "failed", |j| j.status == "failed").await;
    assert!(
        failed
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("FAILED") && e.contains("INTERNAL_SERVER_ERROR")),
        "{failed:?}"
    );

    let progress = app.api_json(&key, "/api/v1/backfill").await;
    assert_eq!(progress["status"], "failed");
    assert!(progress["error"]
        .as_str()
        .is_some_and(|e| e.contains("INTERNAL_SERVER_ERROR")));

    let text = crate::helpers::cli(&app.database, &["backfill", "--shop", SHOP, "--status"]);
    assert!(
        text.contains("failed") && text.contains("INTERNAL_SERVER_ERROR"),
        "{text}"
    );

    let admin = crate::admin_session::login(&app, SHOP).await;
    let page = admin.page("/admin/health").await;
    assert!(
        page.contains("INTERNAL_SERVER_ERROR"),
        "the page shows the error"
    );
    assert!(page.contains("action=\"/admin/health/backfill\""));
    assert!(page.contains(&format!("name=\"csrf\" value=\"{}\"", admin.csrf)));

    let refused = admin
        .post("/admin/health/backfill", &[("csrf", "wrong")])
        .await;
    assert_eq!(refused.status(), 403);
    let retried = admin
        .post("/admin/health/backfill", &[("csrf", admin.csrf.as_str())])
        .await;
    assert_eq!(retried.status(), 303);

    let job = done(&app, shop).await;
    assert_eq!(job.job_id, failed.job_id, "the same job resumed");
    assert_eq!(counts(&app).await, (3, 3, 6));
}

#[tokio::test]
async fn bulk_operations_finish_advances_the_job_without_a_poll() {
    // Status reads an hour apart: only the webhook can move the job on within the test.
    let (fake, app, shop) = setup(|s| s.backfill.poll_interval_secs = 3600.0).await;
    arrange_shop(&fake);

    start(&app, shop).await;
    for (i, phase) in ["products", "orders"].into_iter().enumerate() {
        // The job has read its operation's status once (RUNNING) and waits.
        let job = job_until(&app, shop, "its operation running", |j| {
            j.phase.as_str() == phase && j.operation_status.as_deref() == Some("RUNNING")
        })
        .await;
        let finished = fake.world().finish_bulk_operations(SHOP);
        assert_eq!(finished, vec![job.operation_id.clone().unwrap_or_default()]);
        let body = json!({
            "admin_graphql_api_id": job.operation_id, "completed_at": Utc::now().to_rfc3339(),
            "created_at": Utc::now().to_rfc3339(), "error_code": null, "status": "completed",
            "type": "query",
        });
        app.deliver("bulk_operations/finish", &body, &format!("finish-{i}"))
            .await;
    }
    done(&app, shop).await;
    assert_eq!(counts(&app).await, (3, 3, 6));
    let applied = app
        .count("select count(*) from webhook_inbox where topic = 'bulk_operations/finish' and status = 'applied'")
        .await;
    assert_eq!(applied, 2, "the topic is routed, not stored as unknown");
}

#[tokio::test]
async fn the_full_install_ends_with_the_shops_history_in_the_engine() {
    // Install through /auth → Shopify → /auth/callback against the fake, which holds the
    // shop's catalogue and a year of orders: the token is stored sealed, the pixel created,
    // and the backfill started by the install brings the history into the engine.
    let fake = FakeShopify::start(crate::install::CLIENT_ID, SECRET)
        .await
        .expect("fake starts");
    arrange_shop(&fake);
    let mut settings = crate::install::settings(&fake);
    settings.backfill.poll_interval_secs = 0.05;
    let app = spawn_app_with(settings, Secrets::fixed(SECRET)).await;
    let response = crate::install::install(&app).await;
    assert_eq!(response.status(), 200, "the callback opens the dashboard");
    assert_eq!(crate::install::tokens_stored(&app).await, 1);
    assert!(
        crate::install::pixel(&fake)["id"].is_string(),
        "web pixel created"
    );

    let shop = ShopId(app.shop_id().await);
    let job = done(&app, shop).await;
    assert_eq!(
        (job.roots_applied, job.roots_total),
        (6, 6),
        "3 products, 3 orders of the year"
    );
    assert_eq!(counts(&app).await, (3, 3, 6));
    let key = app.api_key().await;
    assert_eq!(ids(&bought_with_mug(&app, &key).await), vec![CUP, TEA]);
}
