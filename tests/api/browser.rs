//! The demo storefront in real headless Chromium: the same block markup and script as the
//! theme app extension, widgets fetched through the app-proxy emulator, clicks recorded.
//! Screenshots go to tests/artifacts/. Under CI a missing Chromium fails the test; elsewhere
//! the test says so and passes without running.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chromiumoxide::browser::{Browser, BrowserConfig};
use chromiumoxide::page::ScreenshotParams;
use chromiumoxide::Page;
use futures_util::StreamExt;
use serde_json::Value;
use shoprecs::shopify::ShopDomain;
use shoprecs::store::{shops, ShopId};

use crate::helpers::{spawn_app_with_routes, TestApp, SECRET};

const CHROMIUM: &str = "/usr/bin/chromium";

/// Records errors, console errors and alert() calls from the first script on every page.
const WATCH: &str = r#"
window.__errors = []; window.__alerts = [];
window.addEventListener('error', function (e) { window.__errors.push(String(e.message || e)); });
window.addEventListener('unhandledrejection', function (e) { window.__errors.push('rejection: ' + e.reason); });
var consoleError = console.error;
console.error = function () { window.__errors.push(Array.prototype.join.call(arguments, ' ')); consoleError.apply(console, arguments); };
window.alert = function (m) { window.__alerts.push(String(m)); };
"#;

fn artifacts() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/artifacts");
    let _ = std::fs::create_dir_all(&dir);
    dir
}

async fn eval(page: &Page, js: &str) -> Value {
    page.evaluate(js)
        .await
        .unwrap_or_else(|e| panic!("{js}: {e}"))
        .into_value::<Value>()
        .unwrap_or(Value::Null)
}

/// Opens `url` in a fresh tab and waits until `selector` matches at least one element.
async fn open(browser: &Browser, url: &str, selector: &str) -> Page {
    let page = browser.new_page("about:blank").await.expect("new tab");
    page.evaluate_on_new_document(WATCH)
        .await
        .expect("init script");
    page.goto(url).await.expect("navigate");
    let probe = format!(
        "document.querySelectorAll({}).length",
        serde_json::to_string(selector).unwrap_or_default()
    );
    for _ in 0..200 {
        if eval(&page, &probe).await.as_u64().unwrap_or(0) > 0 {
            return page;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let html = eval(&page, "document.body ? document.body.innerHTML : ''").await;
    panic!("{url}: `{selector}` never appeared; page: {html}");
}

async fn screenshot(page: &Page, name: &str) {
    let params = ScreenshotParams::builder().full_page(true).build();
    page.save_screenshot(params, artifacts().join(format!("{name}.png")))
        .await
        .expect("screenshot");
}

async fn no_errors(page: &Page, what: &str) {
    let errors = eval(page, "window.__errors").await;
    assert_eq!(errors, Value::Array(vec![]), "{what}: page errors");
    let alerts = eval(page, "window.__alerts").await;
    assert_eq!(
        alerts,
        Value::Array(vec![]),
        "{what}: something ran alert()"
    );
}

/// Product ids shown in the widgets of a placement.
async fn shown(page: &Page, placement: &str) -> Vec<i64> {
    let js = format!(
        "Array.from(document.querySelectorAll('[data-placement={placement}] [data-shoprecs-item]')).map(e => Number(e.getAttribute('data-shoprecs-product-id')))"
    );
    serde_json::from_value(eval(page, &js).await).unwrap_or_default()
}

async fn demo() -> (TestApp, ShopId, Vec<(i64, String)>) {
    let database = crate::helpers::fresh_database().await;
    let pool = crate::helpers::pool_for(&database).await;
    let domain = ShopDomain::parse(shoprecs::demo::DEMO_SHOP).expect("domain");
    let shop = shops::resolve_or_create(&pool, &domain)
        .await
        .expect("shop");
    let lifecycle =
        shoprecs::lifecycle::LifecycleConfig::from_settings(&crate::helpers::test_settings());
    let customers = shoprecs::demo::seed_with_lifecycle(&pool, shop, &lifecycle)
        .await
        .expect("seed the demo shop");
    let listed = customers.clone();
    let app = spawn_app_with_routes(database, move |addr, pool| {
        shoprecs::demo::storefront(pool, shop, SECRET, addr, listed)
    })
    .await;
    (app, shop, customers)
}

fn chromium() -> Option<&'static str> {
    if Path::new(CHROMIUM).exists() {
        return Some(CHROMIUM);
    }
    if std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false") {
        panic!("Chromium is missing at {CHROMIUM}: CI must install the Debian package `chromium`");
    }
    eprintln!("skipping the browser test: {CHROMIUM} is not installed (apt-get install chromium)");
    None
}

async fn launch(chromium: &str, profile: &Path) -> (Browser, tokio::task::JoinHandle<()>) {
    let config = BrowserConfig::builder()
        .chrome_executable(chromium)
        .user_data_dir(profile)
        .no_sandbox()
        .args([
            "--headless",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-dev-shm-usage",
            "--no-first-run",
        ])
        .window_size(1280, 900)
        .build()
        .expect("browser config");
    let (browser, mut handler) = Browser::launch(config).await.expect("launch Chromium");
    let events = tokio::spawn(async move { while handler.next().await.is_some() {} });
    (browser, events)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_storefront_works_in_a_real_browser() {
    let Some(chromium) = chromium() else { return };
    let (app, shop, customers) = demo().await;
    let profile = tempfile::tempdir().expect("profile dir");
    let (browser, events) = launch(chromium, profile.path()).await;

    // A product page: both lists, 4 items each, never the product itself or a sold-out one.
    let (product_id, handle): (i64, String) = sqlx::query_as(
        "select p.product_id, p.handle from product p join order_line l using (shop_id, product_id)
          where p.shop_id = $1 and p.status = 'active' and p.published_at is not null
          group by 1, 2 order by count(*) desc limit 1",
    )
    .bind(shop.0)
    .fetch_one(&app.pool)
    .await
    .expect("a bestseller");
    let sold_out: Vec<i64> = sqlx::query_scalar(
        "select product_id from product p where shop_id = $1 and not exists (
            select 1 from variant v where v.shop_id = p.shop_id and v.product_id = p.product_id
               and (v.inventory_policy = 'continue' or v.inventory_management is null or coalesce(v.inventory_quantity, 0) > 0))",
    )
    .bind(shop.0)
    .fetch_all(&app.pool)
    .await
    .expect("sold out");
    let page = open(
        &browser,
        &app.url(&format!("/products/{handle}")),
        "[data-placement=product] [data-shoprecs-item]",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sections = eval(
        &page,
        "document.querySelectorAll('[data-placement=product] section.shoprecs').length",
    )
    .await;
    assert_eq!(sections, 2, "bought together and also viewed");
    let items = shown(&page, "product").await;
    assert_eq!(items.len(), 8, "4 per list: {items:?}");
    assert!(!items.contains(&product_id), "never the product itself");
    let mut distinct = items.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        items.len(),
        "the two lists on one page do not repeat each other"
    );
    assert!(
        items.iter().all(|i| !sold_out.contains(i)),
        "never a sold-out product: {items:?}"
    );
    screenshot(&page, "product-page").await;
    no_errors(&page, "product page").await;

    // Clicking a recommendation is recorded as a click.
    let first = page
        .find_element("[data-placement=product] [data-shoprecs-item] a")
        .await
        .expect("a recommendation");
    let clicked: i64 = first
        .attribute("data-shoprecs-product-id")
        .await
        .ok()
        .flatten()
        .and_then(|v| v.parse().ok())
        .expect("id");
    first.click().await.expect("click");
    let mut recorded = 0;
    for _ in 0..100 {
        recorded = app
            .count(&format!(
                "select count(*) from widget_event where kind = 'click' and product_id = {clicked} and token not like 'demo-%'"
            ))
            .await;
        if recorded > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(recorded, 1, "the click reached shoprecs");
    assert!(
        app.count("select count(*) from widget_event where kind = 'impression' and token not like 'demo-%'")
            .await
            >= 1,
        "impressions too"
    );

    // The cart page never recommends what is in the cart.
    let cart_page = browser.new_page("about:blank").await.expect("tab");
    cart_page
        .evaluate_on_new_document(WATCH)
        .await
        .expect("init");
    cart_page
        .goto(app.url(&format!("/products/{handle}")))
        .await
        .expect("product");
    cart_page
        .find_element("form[action='/cart/add'] button")
        .await
        .expect("add button")
        .click()
        .await
        .expect("add");
    // The cart lives in a cookie set by the form's answer, which redirects to /cart: wait for
    // it before opening the cart in another tab (under load that tab opened on an empty cart).
    for _ in 0..200 {
        // The page's URL, not a script: a script can fail while the page navigates.
        let url = cart_page.url().await.ok().flatten().unwrap_or_default();
        if url.ends_with("/cart") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let cart = open(
        &browser,
        &app.url("/cart"),
        "[data-placement=cart] [data-shoprecs-item]",
    )
    .await;
    let in_cart: Vec<i64> = serde_json::from_value(
        eval(&cart, "Array.from(document.querySelectorAll('[data-cart-product-id]')).map(e => Number(e.getAttribute('data-cart-product-id')))").await,
    )
    .unwrap_or_default();
    assert_eq!(
        in_cart,
        vec![product_id],
        "the product was added to the cart"
    );
    let suggested = shown(&cart, "cart").await;
    assert!(
        !suggested.is_empty() && !suggested.contains(&product_id),
        "{suggested:?}"
    );
    screenshot(&cart, "cart-page").await;
    no_errors(&cart, "cart page").await;

    // A demo customer's "for you" differs from what a guest sees.
    let guest = open(
        &browser,
        &app.url("/demo/"),
        "[data-placement=home] [data-shoprecs-item]",
    )
    .await;
    let guest_items = shown(&guest, "home").await;
    screenshot(&guest, "home-guest").await;
    let (customer, _) = customers.first().cloned().expect("demo customers");
    let login = browser
        .new_page(app.url(&format!("/demo/login?customer={customer}")))
        .await
        .expect("login");
    login.wait_for_navigation().await.expect("logged in");
    let known = open(
        &browser,
        &app.url("/demo/"),
        "[data-placement=home] [data-shoprecs-item]",
    )
    .await;
    let known_items = shown(&known, "home").await;
    assert_ne!(guest_items, known_items, "personalised for the customer");
    let heading = eval(
        &known,
        "document.querySelector('[data-placement=home] .shoprecs__heading').textContent",
    )
    .await;
    assert_eq!(heading, "Picked for you");
    screenshot(&known, "home-customer").await;
    no_errors(&known, "home page").await;

    // A hostile product title is shown as text and runs nothing.
    let key = app.api_key_for(shop).await;
    let evil_title = "<img src=x onerror=alert(1)>";
    let mut evil = crate::helpers::product(4_242, evil_title, "Coffee", 9);
    evil["handle"] = serde_json::json!("evil-product");
    let body = serde_json::to_vec(&evil).expect("json");
    let sig = shoprecs::shopify::webhook_hmac::sign(SECRET, &body);
    let delivered = app
        .webhook_signed(
            "products/create",
            shoprecs::demo::DEMO_SHOP,
            &body,
            "evil",
            &sig,
        )
        .await;
    assert_eq!(delivered.status(), 200);
    app.wait_applied().await;
    let pin = app
        .client
        .post(app.url("/api/v1/rules"))
        .bearer_auth(&key)
        .json(&serde_json::json!({"kind": "pin", "product_id": 4242}))
        .send()
        .await
        .expect("pin");
    assert_eq!(pin.status(), 201);
    let page = open(
        &browser,
        &app.url(&format!("/products/{handle}")),
        "[data-shoprecs-product-id='4242']",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let title = eval(&page, "document.querySelector('[data-shoprecs-item][data-shoprecs-product-id=\"4242\"] .shoprecs__title').textContent").await;
    assert_eq!(title, evil_title, "rendered as text");
    assert_eq!(
        eval(&page, "document.querySelectorAll('img[src=\"x\"]').length").await,
        0
    );
    screenshot(&page, "hostile-title").await;
    no_errors(&page, "hostile title").await;

    drop(browser);
    events.abort();
}

/// Waits until `js` evaluates to true in the page.
async fn until(page: &Page, js: &str, what: &str) {
    for _ in 0..200 {
        // While the page navigates there is no context to evaluate in: try again.
        let value = page
            .evaluate(js)
            .await
            .ok()
            .and_then(|v| v.into_value::<Value>().ok());
        if value == Some(Value::Bool(true)) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let html = eval(page, "document.body ? document.body.innerText : ''").await;
    panic!("{what}: never true: {js}; page: {html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_works_in_a_real_browser() {
    let Some(chromium) = chromium() else { return };
    let (app, shop, _) = demo().await;
    let profile = tempfile::tempdir().expect("profile dir");
    let (browser, events) = launch(chromium, profile.path()).await;
    let token = shoprecs::store::admin::create_token(&app.pool, shop, "browser")
        .await
        .expect("admin token");
    // As `shoprecs demo` does at start: abandoned checkouts are found at once.
    shoprecs::abandoned::sweep(
        &app.pool,
        &app.state.models,
        &app.state.settings.checkouts,
        chrono::Utc::now(),
    )
    .await
    .expect("checkout sweep");

    // Log in through the form.
    let page = open(&browser, &app.url("/admin/login"), "form input[name=token]").await;
    let fill = format!(
        "document.querySelector('#shop').value = {}; document.querySelector('#token').value = {}; document.querySelector('form').submit(); true",
        serde_json::to_string(shoprecs::demo::DEMO_SHOP).unwrap_or_default(),
        serde_json::to_string(&token).unwrap_or_default()
    );
    eval(&page, &fill).await;
    until(
        &page,
        "location.pathname === '/admin' && !!document.querySelector('h1')",
        "logged in",
    )
    .await;
    screenshot(&page, "admin-login-landing").await;

    // Every page, with real numbers and no errors.
    for (path, name, marker) in [
        ("/admin?period=90", "overview", ".metric"),
        ("/admin/explore", "explore", "form"),
        ("/admin/bestsellers", "bestsellers", "table tbody tr"),
        ("/admin/segments", "segments", "svg.chart"),
        ("/admin/engagement", "engagement", "svg.chart"),
        ("/admin/checkouts", "checkouts", "table tbody tr"),
        ("/admin/rules", "rules", "form"),
        ("/admin/settings", "settings", "form"),
        ("/admin/health", "health", "table tbody tr"),
    ] {
        let page = open(&browser, &app.url(path), marker).await;
        no_errors(&page, path).await;
        screenshot(&page, &format!("admin-{name}")).await;
    }

    // Explore a customer: segment, score chart and picks with reasons.
    let customer: i64 = sqlx::query_scalar(
        "select customer_id from customer where shop_id = $1 and orders_count > 2 order by customer_id limit 1",
    )
    .bind(shop.0)
    .fetch_one(&app.pool)
    .await
    .expect("a repeat customer");
    let explore = open(
        &browser,
        &app.url(&format!("/admin/explore?customer={customer}")),
        "svg.chart",
    )
    .await;
    screenshot(&explore, "admin-explore-customer").await;
    no_errors(&explore, "explore a customer").await;

    // Exclude the first product of a product page's widget; the storefront drops it.
    let (handle,): (String,) = sqlx::query_as(
        "select p.handle from product p join order_line l using (shop_id, product_id)
          where p.shop_id = $1 group by 1 order by count(*) desc limit 1",
    )
    .bind(shop.0)
    .fetch_one(&app.pool)
    .await
    .expect("a bestseller");
    let store = open(
        &browser,
        &app.url(&format!("/products/{handle}")),
        "[data-placement=product] [data-shoprecs-item]",
    )
    .await;
    let before = shown(&store, "product").await;
    let excluded = *before.first().expect("a recommendation");
    let (title,): (String,) =
        sqlx::query_as("select title from product where shop_id = $1 and product_id = $2")
            .bind(shop.0)
            .bind(excluded)
            .fetch_one(&app.pool)
            .await
            .expect("title");
    let query: String = form_urlencoded::byte_serialize(title.as_bytes()).collect();
    let rules = open(
        &browser,
        &app.url(&format!("/admin/rules?q={query}")),
        &format!("form[action='/admin/rules'] input[name=product_id][value='{excluded}']"),
    )
    .await;
    let submit = format!(
        "(function () {{ var f = document.querySelector(\"input[name=product_id][value='{excluded}']\").form; f.querySelector('select[name=kind]').value = 'exclude'; f.submit(); return true; }})()"
    );
    eval(&rules, &submit).await;
    until(
        &rules,
        "location.search.indexOf('done=created') >= 0",
        "rule saved",
    )
    .await;
    screenshot(&rules, "admin-rule-saved").await;
    no_errors(&rules, "rules").await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let store = open(
        &browser,
        &app.url(&format!("/products/{handle}")),
        "[data-placement=product] [data-shoprecs-item]",
    )
    .await;
    let after = shown(&store, "product").await;
    assert!(
        !after.contains(&excluded),
        "{title} excluded: {before:?} → {after:?}"
    );

    // Download a segment as CSV with the session.
    let segments = open(&browser, &app.url("/admin/segments"), "a[href$='/export']").await;
    let csv = segments
        .evaluate("fetch('/admin/segments/lapsed/export', {credentials: 'same-origin'}).then(r => r.text())")
        .await
        .expect("download")
        .into_value::<String>()
        .unwrap_or_default();
    assert!(csv.starts_with("customer_id,segment"), "{csv}");
    assert!(csv.lines().count() > 10, "the demo has lapsed customers");

    drop(browser);
    events.abort();
}
