//! Installing on a shop against the fake Admin API: the authorization-code grant through
//! `/auth` → Shopify → `/auth/callback`, its refusals, token exchange from the embedded
//! dashboard, the post-install steps (webhook subscriptions, web pixel), re-auth after a
//! revoked token, and uninstall.

use chrono::{Duration, Utc};
use jsonwebtoken::{encode, EncodingKey, Header};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use reqwest::Response;
use serde_json::{json, Value};
use shoprecs::config::{Secrets, Settings};
use shoprecs::install::webhooks::TOPICS;
use shoprecs::shop_api::ConnectError;
use shoprecs::shopify_fake::{FakeShopify, Fault};
use shoprecs::store::ShopId;

use crate::helpers::{
    fixture, spawn_app_with, spawn_app_with_clock, test_settings, TestApp, SECRET, SHOP,
};

pub(crate) const CLIENT_ID: &str = "install-test-client-id";

async fn fake() -> FakeShopify {
    FakeShopify::start(CLIENT_ID, SECRET)
        .await
        .expect("fake Shopify starts")
}

pub(crate) fn settings(fake: &FakeShopify) -> Settings {
    let mut settings = test_settings();
    settings.shopify.api_key = CLIENT_ID.to_owned();
    settings.admin_api.url = fake.url_template();
    settings.admin_api.backoff_base_ms = 10;
    settings.admin_api.max_attempts = 2;
    settings
}

async fn setup() -> (TestApp, FakeShopify) {
    let fake = fake().await;
    let app = spawn_app_with(settings(&fake), Secrets::fixed(SECRET)).await;
    (app, fake)
}

/// A client that shows redirects instead of following them.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("client")
}

fn location(response: &Response) -> String {
    response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

/// `GET /auth?shop=…` → `(authorize URL at the fake, state cookie)`.
async fn begin(app: &TestApp, shop: &str) -> (String, String) {
    let response = client()
        .get(app.url(&format!("/auth?shop={shop}")))
        .send()
        .await
        .expect("auth");
    assert_eq!(response.status(), 302);
    let cookie = response
        .headers()
        .get(SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .expect("a state cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let cookie = cookie.split(';').next().unwrap_or("").to_owned();
    (location(&response), cookie)
}

/// The merchant approves at the fake: the signed callback URL Shopify redirects to.
async fn approve(authorize: &str) -> String {
    let response = client().get(authorize).send().await.expect("authorize");
    assert_eq!(response.status(), 302, "{:?}", response.text().await);
    location(&response)
}

async fn callback(url: &str, cookie: &str) -> Response {
    client()
        .get(url)
        .header(COOKIE, cookie)
        .send()
        .await
        .expect("callback")
}

/// The whole grant; returns the callback's response.
pub(crate) async fn install(app: &TestApp) -> Response {
    let (authorize, cookie) = begin(app, SHOP).await;
    assert!(
        authorize.contains("/admin/oauth/authorize?client_id=install-test-client-id"),
        "{authorize}"
    );
    assert!(authorize.contains("write_pixels"), "{authorize}");
    let back = approve(&authorize).await;
    assert!(back.starts_with(&app.url("/auth/callback?")), "{back}");
    callback(&back, &cookie).await
}

async fn text(response: Response) -> String {
    response.text().await.unwrap_or_default()
}

pub(crate) async fn tokens_stored(app: &TestApp) -> i64 {
    app.count("select count(*) from shop where access_token_ciphertext is not null")
        .await
}

pub(crate) fn pixel(fake: &FakeShopify) -> Value {
    fake.world().data(SHOP, "web_pixel", Value::Null).clone()
}

fn subscriptions(fake: &FakeShopify) -> Vec<Value> {
    fake.world()
        .data(SHOP, "webhooks", json!([]))
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn calls(fake: &FakeShopify, operation: &str) -> usize {
    fake.world().calls(operation).len()
}

#[tokio::test]
async fn the_full_install_stores_the_token_sealed_and_connects_the_shop() {
    let (app, fake) = setup().await;

    let done = install(&app).await;
    assert_eq!(done.status(), 200);
    // Shopify proved the merchant: the callback opens a dashboard session and a page that
    // navigates (same-site, so the Strict cookie goes along) to the data health page.
    let session = done
        .headers()
        .get(SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .filter(|c| c.starts_with("shoprecs_admin="))
        .map(|c| c.split(';').next().unwrap_or("").to_owned())
        .expect("a dashboard session cookie");
    let page = text(done).await;
    assert!(
        page.contains(r#"http-equiv="refresh" content="0;url=/admin/health""#),
        "{page}"
    );
    let health = client()
        .get(app.url("/admin/health"))
        .header(COOKIE, &session)
        .send()
        .await
        .expect("health page");
    assert_eq!(health.status(), 200);
    let health = text(health).await;
    assert!(health.contains("Shopify connection"), "{health}");
    assert!(health.contains(SHOP), "the session is the installed shop's");

    // Stored sealed: the database never holds the token in the clear.
    let issued = fake.world().shop(SHOP).tokens[0].clone();
    let sealed: Vec<u8> =
        sqlx::query_scalar("select access_token_ciphertext from shop where domain = $1")
            .bind(SHOP)
            .fetch_one(&app.pool)
            .await
            .expect("sealed token");
    assert!(!sealed.is_empty());
    assert!(!sealed.windows(issued.len()).any(|w| w == issued.as_bytes()));
    let connected = app
        .state
        .shop_api
        .connect(ShopId(app.shop_id().await))
        .await
        .expect("the shop connects");
    let data: Value = connected
        .graphql("query { shop { myshopifyDomain } }", json!({}))
        .await
        .expect("a call with the stored token works");
    assert_eq!(data["shop"]["myshopifyDomain"], SHOP);

    // Post-install: every topic subscribed at this server, the pixel pointing here.
    let subs = subscriptions(&fake);
    assert_eq!(subs.len(), TOPICS.len());
    assert!(subs
        .iter()
        .all(|s| s["uri"] == app.url("/webhooks") && s["format"] == "JSON"));
    assert!(subs.iter().any(|s| s["topic"] == "APP_UNINSTALLED"));
    let settings: Value =
        serde_json::from_str(pixel(&fake)["settings"].as_str().expect("settings"))
            .expect("settings are JSON");
    assert_eq!(settings, json!({"endpoint": app.address, "shop": SHOP}));
    assert_eq!(
        app.count(
            "select count(*) from install_step where status = 'ok' and succeeded_at is not null"
        )
        .await,
        3
    );
}

#[tokio::test]
async fn installing_again_creates_nothing_twice_and_updates_the_pixel() {
    let (app, fake) = setup().await;
    assert_eq!(install(&app).await.status(), 200);
    assert_eq!(install(&app).await.status(), 200);

    assert_eq!(subscriptions(&fake).len(), TOPICS.len());
    assert_eq!(calls(&fake, "webhookSubscriptionCreate"), TOPICS.len());
    assert_eq!(calls(&fake, "webPixelCreate"), 1);
    assert_eq!(calls(&fake, "webPixelUpdate"), 1);
    assert!(!pixel(&fake).is_null());
    assert_eq!(app.count("select count(*) from shop").await, 1);
}

#[tokio::test]
async fn a_tampered_callback_is_refused_with_401_and_nothing_is_stored() {
    let (app, fake) = setup().await;
    let (authorize, cookie) = begin(&app, SHOP).await;
    let back = approve(&authorize).await;

    let tampered = back.replace("code=", "code=0");
    let refused = callback(&tampered, &cookie).await;
    assert_eq!(refused.status(), 401);
    let body = text(refused).await;
    assert!(body.contains("could not be verified"), "{body}");
    let code = back
        .split("code=")
        .nth(1)
        .and_then(|c| c.split('&').next())
        .unwrap_or("?");
    assert!(!body.contains(code), "the page must not echo the code");

    assert_eq!(app.count("select count(*) from shop").await, 0);
    assert_eq!(tokens_stored(&app).await, 0);
    assert_eq!(calls(&fake, "webPixelCreate"), 0);
}

#[tokio::test]
async fn a_wrong_or_reused_state_is_refused_with_403() {
    let (app, _fake) = setup().await;
    let (first, first_cookie) = begin(&app, SHOP).await;
    let (_second, second_cookie) = begin(&app, SHOP).await;
    let back = approve(&first).await;

    // The state of one install with the cookie of another.
    let wrong = callback(&back, &second_cookie).await;
    assert_eq!(wrong.status(), 403);
    assert!(text(wrong).await.contains("does not match"));
    let missing = client().get(&back).send().await.expect("callback");
    assert_eq!(missing.status(), 403);
    assert_eq!(tokens_stored(&app).await, 0);

    // The right one works once; replayed, it is refused.
    assert_eq!(callback(&back, &first_cookie).await.status(), 200);
    let replayed = callback(&back, &first_cookie).await;
    assert_eq!(replayed.status(), 403);
    assert!(text(replayed).await.contains("used before"));
}

#[tokio::test]
async fn an_expired_state_is_refused_with_403() {
    let fake = fake().await;
    let started = Utc::now() - Duration::minutes(15);
    let (app, clock) = spawn_app_with_clock(started, settings(&fake)).await;
    let (authorize, cookie) = begin(&app, SHOP).await;
    let back = approve(&authorize).await;
    // The merchant took 15 minutes to approve; the callback itself is fresh.
    clock.set(Utc::now());
    let expired = callback(&back, &cookie).await;
    assert_eq!(expired.status(), 403);
    assert!(text(expired).await.contains("too long ago"));
    assert_eq!(tokens_stored(&app).await, 0);
}

#[tokio::test]
async fn a_callback_with_an_old_timestamp_is_refused_with_401() {
    let fake = fake().await;
    let (app, clock) = spawn_app_with_clock(Utc::now(), settings(&fake)).await;
    let (authorize, cookie) = begin(&app, SHOP).await;
    let back = approve(&authorize).await;
    clock.set(Utc::now() + Duration::seconds(120));
    let stale = callback(&back, &cookie).await;
    assert_eq!(stale.status(), 401);
    assert!(text(stale).await.contains("away from now"));
    assert_eq!(tokens_stored(&app).await, 0);
}

#[tokio::test]
async fn a_bad_shop_domain_is_refused_with_400() {
    let (app, _fake) = setup().await;
    for bad in ["evil.example.com", "", "shop.myshopify.com.evil.com"] {
        let response = client()
            .get(app.url(&format!("/auth?shop={bad}")))
            .send()
            .await
            .expect("auth");
        assert_eq!(response.status(), 400, "{bad}");
        assert!(
            text(response).await.contains("not a valid shop domain"),
            "{bad}"
        );
    }
}

/// A session token as App Bridge issues it for `shop`.
fn session_token(shop: &str) -> String {
    let now = Utc::now().timestamp();
    let claims = json!({
        "iss": format!("https://{shop}/admin"), "dest": format!("https://{shop}"),
        "aud": CLIENT_ID, "sub": "42", "exp": now + 60, "nbf": now - 1, "iat": now - 1,
        "jti": uuid::Uuid::new_v4().to_string(), "sid": "admin-session-1"
    });
    encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .expect("encode token")
}

async fn embedded_load(app: &TestApp, path: &str, shop: &str) -> Response {
    let separator = if path.contains('?') { '&' } else { '?' };
    client()
        .get(app.url(&format!(
            "{path}{separator}embedded=1&shop={shop}&host=aG9zdA&id_token={}",
            session_token(shop)
        )))
        .send()
        .await
        .expect("embedded load")
}

#[tokio::test]
async fn a_session_token_of_an_unknown_shop_is_exchanged_and_the_page_served() {
    let (app, fake) = setup().await;
    fake.world().granted_scopes = app.state.settings.shopify.scopes.clone();

    let page = embedded_load(&app, "/admin/health", SHOP).await;
    assert_eq!(page.status(), 200);
    let body = text(page).await;
    assert!(body.contains("Shopify connection"), "{body}");
    assert!(body.contains("present"), "{body}");

    assert_eq!(
        app.count("select count(*) from shop where installed").await,
        1
    );
    assert_eq!(tokens_stored(&app).await, 1);
    assert!(!pixel(&fake).is_null());
    assert_eq!(subscriptions(&fake).len(), TOPICS.len());
}

#[tokio::test]
async fn a_failed_token_exchange_says_so_and_how_to_install() {
    let (app, fake) = setup().await;
    fake.world().push_fault(Fault::Status(400));

    let page = embedded_load(&app, "/admin", SHOP).await;
    assert_eq!(page.status(), 403);
    let body = text(page).await;
    assert!(body.contains("not installed"), "{body}");
    assert!(body.contains(&format!("/auth?shop={SHOP}")), "{body}");
    assert_eq!(tokens_stored(&app).await, 0);
}

#[tokio::test]
async fn a_missing_pixel_scope_skips_the_pixel_with_a_reason() {
    let (app, fake) = setup().await;
    fake.world().granted_scopes = "read_products,read_orders,read_customers".into();
    assert_eq!(embedded_load(&app, "/admin", SHOP).await.status(), 200);

    assert!(pixel(&fake).is_null());
    assert_eq!(calls(&fake, "webPixelCreate"), 0);
    let message: String = sqlx::query_scalar(
        "select message from install_step where step = 'pixel' and status = 'skipped'",
    )
    .fetch_one(&app.pool)
    .await
    .expect("the pixel step was skipped");
    assert!(message.contains("write_pixels"), "{message}");
    assert_eq!(subscriptions(&fake).len(), TOPICS.len());
}

/// Logs in self-hosted (no session token, so nothing exchanges a token behind the test's
/// back) and returns the health page.
async fn health_page(app: &TestApp) -> String {
    crate::admin_session::login(app, SHOP)
        .await
        .page("/admin/health")
        .await
}

#[tokio::test]
async fn a_revoked_token_marks_the_shop_for_reauth_and_the_health_page_says_so() {
    let (app, fake) = setup().await;
    assert_eq!(install(&app).await.status(), 200);
    let before = health_page(&app).await;
    assert!(before.contains("present"), "{before}");
    assert!(before.contains("web pixel created"), "{before}");

    fake.world().revoke_tokens(SHOP);
    let shop = ShopId(app.shop_id().await);
    // The install's backfill runs meanwhile and may meet the revoked token first; either way
    // the first refusal marks the shop.
    let refused = match app.state.shop_api.connect(shop).await {
        Ok(connected) => connected
            .graphql::<Value>("query { shop { id } }", json!({}))
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    assert!(
        matches!(refused, Err(ConnectError::ReauthRequired)),
        "{refused:?}"
    );
    assert!(matches!(
        app.state.shop_api.connect(shop).await,
        Err(ConnectError::ReauthRequired)
    ));

    let after = health_page(&app).await;
    assert!(after.contains("needs re-auth"), "{after}");
    assert!(after.contains(&format!("/auth?shop={SHOP}")), "{after}");
}

#[tokio::test]
async fn uninstalling_forgets_the_token() {
    let (app, _fake) = setup().await;
    assert_eq!(install(&app).await.status(), 200);
    assert_eq!(tokens_stored(&app).await, 1);

    app.deliver(
        "app/uninstalled",
        &fixture("app-uninstalled.docs-sample.json"),
        "bye",
    )
    .await;
    app.wait_applied().await;

    assert_eq!(tokens_stored(&app).await, 0);
    let shop = ShopId(app.shop_id().await);
    assert!(matches!(
        app.state.shop_api.connect(shop).await,
        Err(ConnectError::NotInstalled)
    ));
}
