//! Access to the merchant dashboard: Shopify session tokens (embedded), admin-token login with
//! a session cookie (self-hosted), CSRF, framing, and that a shop only ever sees itself.

use chrono::{Duration, Utc};
use jsonwebtoken::{encode, EncodingKey, Header};
use reqwest::header::{CONTENT_SECURITY_POLICY, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use reqwest::Response;
use serde_json::{json, Value};
use shoprecs::config::{Secrets, Settings};
use shoprecs::shopify::webhook_hmac;
use shoprecs::store::{admin, ShopId};

use crate::helpers::{
    fixture, spawn_app_with, spawn_app_with_clock, test_settings, TestApp, SECRET, SHOP,
};

const API_KEY: &str = "test-api-key";
const OTHER: &str = "other-shop.myshopify.com";

fn settings() -> Settings {
    let mut settings = test_settings();
    settings.shopify.api_key = API_KEY.to_owned();
    settings
}

async fn spawn() -> TestApp {
    spawn_app_with(settings(), Secrets::fixed(SECRET)).await
}

/// A client that shows redirects instead of following them.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("client")
}

/// A session token as App Bridge issues it, with the claims changed by `edit`.
fn session_token(shop: &str, edit: impl FnOnce(&mut Value)) -> String {
    let now = Utc::now().timestamp();
    let mut claims = json!({
        "iss": format!("https://{shop}/admin"), "dest": format!("https://{shop}"),
        "aud": API_KEY, "sub": "42", "exp": now + 60, "nbf": now - 1, "iat": now - 1,
        "jti": uuid::Uuid::new_v4().to_string(), "sid": "admin-session-1"
    });
    edit(&mut claims);
    sign(&claims, SECRET)
}

fn sign(claims: &Value, secret: &str) -> String {
    encode(
        &Header::default(),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("encode token")
}

async fn install(app: &TestApp, shop: &str) {
    let body = br#"{"id": 1}"#;
    let response = app
        .webhook_signed(
            "shop/update",
            shop,
            body,
            &format!("install-{shop}"),
            &webhook_hmac::sign(SECRET, body),
        )
        .await;
    assert_eq!(response.status(), 200);
}

async fn shop_id(app: &TestApp, shop: &str) -> ShopId {
    let id: i64 = sqlx::query_scalar("select shop_id from shop where domain = $1")
        .bind(shop)
        .fetch_one(&app.pool)
        .await
        .expect("shop exists");
    ShopId(id)
}

async fn whoami_bearer(app: &TestApp, token: &str, query: &str) -> Response {
    client()
        .get(app.url(&format!("/admin/auth/whoami{query}")))
        .bearer_auth(token)
        .send()
        .await
        .expect("whoami")
}

async fn json_of(response: Response) -> Value {
    response.json().await.expect("json body")
}

fn header(response: &Response, name: impl reqwest::header::AsHeaderName) -> &str {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

#[tokio::test]
async fn a_valid_session_token_shows_its_shop_and_lets_its_admin_frame_the_page() {
    let app = spawn().await;
    install(&app, SHOP).await;

    let response = whoami_bearer(&app, &session_token(SHOP, |_| {}), "").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, CONTENT_SECURITY_POLICY),
        format!("frame-ancestors https://{SHOP} https://admin.shopify.com;")
    );
    assert_eq!(
        json_of(response).await,
        json!({"shop": SHOP, "embedded": true})
    );

    // The first document load carries the token in the query instead.
    let token = session_token(SHOP, |_| {});
    let document = client()
        .get(app.url(&format!(
            "/admin/auth/whoami?embedded=1&shop={SHOP}&host=YWRtaW4&id_token={token}"
        )))
        .send()
        .await
        .expect("document");
    assert_eq!(document.status(), 200);
    assert_eq!(
        json_of(document).await,
        json!({"shop": SHOP, "embedded": true})
    );

    // A token signed with the previous secret is still good during a rotation.
    app.stop().await;
    let mut secrets = Secrets::fixed("new-secret");
    secrets.api_secret_previous = Some(SECRET.to_owned().into());
    let app = spawn_app_with(settings(), secrets).await;
    install_signed(&app, SHOP, "new-secret").await;
    let rotated = whoami_bearer(&app, &session_token(SHOP, |_| {}), "").await;
    assert_eq!(rotated.status(), 200);
}

async fn install_signed(app: &TestApp, shop: &str, secret: &str) {
    let body = br#"{"id": 1}"#;
    let response = app
        .webhook_signed(
            "shop/update",
            shop,
            body,
            "install",
            &webhook_hmac::sign(secret, body),
        )
        .await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn invalid_session_tokens_get_401_with_the_retry_header_on_fetches() {
    let app = spawn().await;
    install(&app, SHOP).await;
    let now = Utc::now().timestamp();
    let cases = [
        (
            "expired",
            session_token(SHOP, |c| c["exp"] = json!(now - 30)),
        ),
        (
            "not yet valid",
            session_token(SHOP, |c| c["nbf"] = json!(now + 30)),
        ),
        (
            "wrong audience",
            session_token(SHOP, |c| c["aud"] = json!("another-app")),
        ),
        (
            "wrong signature",
            sign(
                &json!({"iss": format!("https://{SHOP}/admin"), "dest": format!("https://{SHOP}"),
                        "aud": API_KEY, "exp": now + 60, "nbf": now - 1, "sid": "s"}),
                "not-the-secret",
            ),
        ),
        ("garbage", "not-a-token".to_owned()),
    ];
    for (what, token) in cases {
        let response = whoami_bearer(&app, &token, "").await;
        assert_eq!(response.status(), 401, "{what}");
        assert_eq!(
            header(&response, "x-shopify-retry-invalid-session-request"),
            "1",
            "{what}"
        );
        assert!(
            !response.text().await.unwrap_or_default().contains(SHOP),
            "{what}"
        );
    }
    // Clock skew within the leeway is tolerated.
    let skewed = session_token(SHOP, |c| {
        c["exp"] = json!(now - 5);
        c["nbf"] = json!(now + 5)
    });
    assert_eq!(whoami_bearer(&app, &skewed, "").await.status(), 200);
}

#[tokio::test]
async fn another_shops_token_only_ever_sees_the_other_shop() {
    let app = spawn().await;
    install(&app, SHOP).await;
    install(&app, OTHER).await;

    // Asking for this shop in the query changes nothing: the token names the shop.
    let other = session_token(OTHER, |_| {});
    let response = whoami_bearer(&app, &other, &format!("?shop={SHOP}")).await;
    assert_eq!(response.status(), 200);
    assert!(header(&response, CONTENT_SECURITY_POLICY).contains(OTHER));
    assert_eq!(
        json_of(response).await,
        json!({"shop": OTHER, "embedded": true})
    );

    // A token whose issuer and destination disagree is refused.
    let mixed = session_token(OTHER, |c| c["iss"] = json!(format!("https://{SHOP}/admin")));
    assert_eq!(whoami_bearer(&app, &mixed, "").await.status(), 401);
}

#[tokio::test]
async fn shops_without_the_app_installed_are_refused_when_shopify_issues_no_token() {
    // A shop shoprecs holds no token for is connected by token exchange (tests/api/install.rs);
    // here Shopify refuses the exchange (the fake does not know these app credentials).
    let fake = shoprecs::shopify_fake::FakeShopify::start(API_KEY, "another-secret")
        .await
        .expect("fake starts");
    let mut settings = settings();
    settings.admin_api.url = fake.url_template();
    let app = spawn_app_with(settings, Secrets::fixed(SECRET)).await;
    let unknown = whoami_bearer(&app, &session_token(SHOP, |_| {}), "").await;
    assert_eq!(unknown.status(), 403);

    app.install_shop().await;
    app.deliver(
        "app/uninstalled",
        &fixture("app-uninstalled.docs-sample.json"),
        "bye",
    )
    .await;
    app.wait_applied().await;
    let uninstalled = whoami_bearer(&app, &session_token(SHOP, |_| {}), "").await;
    assert_eq!(uninstalled.status(), 403);
    let body = uninstalled.text().await.unwrap_or_default();
    assert!(body.contains("not installed"), "{body}");
}

#[tokio::test]
async fn a_document_load_with_a_bad_id_token_gets_the_bounce_page() {
    let app = spawn().await;
    install(&app, SHOP).await;
    let expired = session_token(SHOP, |c| c["exp"] = json!(Utc::now().timestamp() - 60));
    let response = client()
        .get(app.url(&format!(
            "/admin/auth/whoami?embedded=1&shop={SHOP}&host=YWRtaW4&id_token={expired}"
        )))
        .send()
        .await
        .expect("document");
    assert!(response.status().is_redirection(), "{}", response.status());
    let location = header(&response, LOCATION).to_owned();
    assert!(
        location.starts_with("/admin/auth/session-token?"),
        "{location}"
    );
    let reload: String = url_query(&location, "shopify-reload").expect("shopify-reload");
    assert_eq!(
        reload,
        format!("/admin/auth/whoami?embedded=1&shop={SHOP}&host=YWRtaW4"),
        "the page reloads itself, without the stale token"
    );

    let bounce = client()
        .get(app.url(&location))
        .send()
        .await
        .expect("bounce");
    assert_eq!(bounce.status(), 200);
    assert_eq!(
        header(&bounce, CONTENT_SECURITY_POLICY),
        format!("frame-ancestors https://{SHOP} https://admin.shopify.com;")
    );
    let html = bounce.text().await.expect("html");
    assert!(
        html.contains(&format!(
            r#"<script src="https://cdn.shopify.com/shopifycloud/app-bridge.js" data-api-key="{API_KEY}"></script>"#
        )),
        "{html}"
    );
    assert!(html.contains(&reload.replace('&', "&#38;")), "{html}");

    // A document load inside Shopify admin without any token bounces as well.
    let tokenless = client()
        .get(app.url(&format!("/admin/auth/whoami?embedded=1&shop={SHOP}")))
        .send()
        .await
        .expect("document");
    assert!(header(&tokenless, LOCATION).starts_with("/admin/auth/session-token?"));

    // The bounce page reloads local admin pages only.
    let evil = client()
        .get(app.url("/admin/auth/session-token?shopify-reload=https://evil.com/"))
        .send()
        .await
        .expect("bounce");
    assert!(!evil.text().await.expect("html").contains("evil.com"));
}

fn url_query(url: &str, key: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// Logs in with shop and token; returns the response (not followed).
async fn login(app: &TestApp, shop: &str, token: &str, next: &str) -> Response {
    client()
        .post(app.url("/admin/login"))
        .form(&[("shop", shop), ("token", token), ("next", next)])
        .send()
        .await
        .expect("login")
}

/// The `name=value` part of the session cookie a login set.
fn session_cookie(response: &Response) -> String {
    let set = header(response, SET_COOKIE);
    set.split(';').next().unwrap_or("").to_owned()
}

async fn get_with_cookie(app: &TestApp, path: &str, cookie: &str) -> Response {
    client()
        .get(app.url(path))
        .header("Cookie", cookie)
        .send()
        .await
        .expect("get")
}

async fn csrf_of(app: &TestApp) -> String {
    sqlx::query_scalar("select csrf_token from admin_session")
        .fetch_one(&app.pool)
        .await
        .expect("one session")
}

#[tokio::test]
async fn an_admin_token_logs_in_with_a_strict_cookie_and_logout_ends_the_session() {
    let app = spawn().await;
    install(&app, SHOP).await;
    let token = admin::create_token(&app.pool, shop_id(&app, SHOP).await, "me")
        .await
        .expect("token");

    // Not logged in: documents go to the login page, keeping where they were going.
    let anonymous = client()
        .get(app.url("/admin/auth/whoami?x=1"))
        .send()
        .await
        .expect("get");
    assert_eq!(anonymous.status(), 303);
    assert_eq!(
        header(&anonymous, LOCATION),
        "/admin/login?next=%2Fadmin%2Fauth%2Fwhoami%3Fx%3D1"
    );
    assert_eq!(
        header(&anonymous, CONTENT_SECURITY_POLICY),
        "frame-ancestors 'none';"
    );
    let form = client()
        .get(app.url("/admin/login?next=%2Fadmin%2Fauth%2Fwhoami"))
        .send()
        .await
        .expect("form");
    assert_eq!(form.status(), 200);
    let html = form.text().await.expect("html");
    assert!(html.contains(r#"name="token""#) && html.contains(r#"value="/admin/auth/whoami""#));
    assert!(html.contains(r#"href="/admin/static/admin.css""#));

    // A wrong token, or the right token for another shop name: 401, the form again, no cookie.
    for (shop, wrong) in [(SHOP, "sra_0000"), (OTHER, token.as_str()), (SHOP, "")] {
        let refused = login(&app, shop, wrong, "/admin/auth/whoami").await;
        assert_eq!(refused.status(), 401);
        assert!(refused.headers().get(SET_COOKIE).is_none());
        let page = refused.text().await.expect("html");
        assert!(page.contains("do not match") && page.contains(r#"name="token""#));
    }

    let ok = login(&app, SHOP, &token, "/admin/auth/whoami").await;
    assert_eq!(ok.status(), 303);
    assert_eq!(header(&ok, LOCATION), "/admin/auth/whoami");
    let set = header(&ok, SET_COOKIE).to_owned();
    for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/admin"] {
        assert!(set.contains(attribute), "{attribute} missing in {set}");
    }
    let cookie = session_cookie(&ok);
    assert!(
        !set.contains(&token),
        "the cookie is a new secret, not the token"
    );

    let me = get_with_cookie(&app, "/admin/auth/whoami", &cookie).await;
    assert_eq!(me.status(), 200);
    assert_eq!(
        header(&me, CONTENT_SECURITY_POLICY),
        "frame-ancestors 'none';"
    );
    assert_eq!(json_of(me).await, json!({"shop": SHOP, "embedded": false}));

    let logout = client()
        .post(app.url("/admin/logout"))
        .header("Cookie", &cookie)
        .form(&[("csrf", csrf_of(&app).await)])
        .send()
        .await
        .expect("logout");
    assert_eq!(logout.status(), 303);
    assert_eq!(header(&logout, LOCATION), "/admin/login");
    assert!(header(&logout, SET_COOKIE).contains("Max-Age=0"));
    let after = get_with_cookie(&app, "/admin/auth/whoami", &cookie).await;
    assert_eq!(after.status(), 303, "the old cookie no longer works");
    let fetch = client()
        .get(app.url("/admin/auth/whoami"))
        .header("Cookie", &cookie)
        .header("Accept", "application/json")
        .send()
        .await
        .expect("fetch");
    assert_eq!(fetch.status(), 401);
    assert_eq!(app.count("select count(*) from admin_session").await, 0);
}

#[tokio::test]
async fn posts_without_the_sessions_csrf_token_are_refused() {
    let app = spawn().await;
    install(&app, SHOP).await;
    let token = admin::create_token(&app.pool, shop_id(&app, SHOP).await, "")
        .await
        .expect("token");
    let cookie = session_cookie(&login(&app, SHOP, &token, "").await);
    let csrf = csrf_of(&app).await;

    let post = |body: Vec<(&'static str, String)>| {
        client()
            .post(app.url("/admin/logout"))
            .header("Cookie", &cookie)
            .form(&body)
    };
    let missing = post(vec![]).send().await.expect("post");
    assert_eq!(missing.status(), 403);
    assert!(missing.text().await.expect("html").contains("expired"));
    let wrong = post(vec![("csrf", "0".repeat(64))])
        .send()
        .await
        .expect("post");
    assert_eq!(wrong.status(), 403);
    // Nothing happened: the session still works.
    assert_eq!(
        get_with_cookie(&app, "/admin/auth/whoami", &cookie)
            .await
            .status(),
        200
    );
    // The header works as well as the field.
    let by_header = post(vec![])
        .header("X-CSRF-Token", &csrf)
        .send()
        .await
        .expect("post");
    assert_eq!(by_header.status(), 303);

    // Embedded: the form token is derived from the session token's shop and sid.
    let session = session_token(SHOP, |_| {});
    let embedded = client()
        .post(app.url("/admin/logout"))
        .bearer_auth(&session)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(
        embedded.status(),
        403,
        "another session's token is not this one's"
    );
}

#[tokio::test]
async fn a_session_of_one_shop_never_reads_another() {
    let app = spawn().await;
    install(&app, SHOP).await;
    install(&app, OTHER).await;
    let a = shop_id(&app, SHOP).await;
    let b = shop_id(&app, OTHER).await;
    let token_a = admin::create_token(&app.pool, a, "").await.expect("token");
    let token_b = admin::create_token(&app.pool, b, "").await.expect("token");
    assert_eq!(
        login(&app, OTHER, &token_a, "").await.status(),
        401,
        "A's token is not B's"
    );
    let cookie_a = session_cookie(&login(&app, SHOP, &token_a, "").await);
    let _cookie_b = session_cookie(&login(&app, OTHER, &token_b, "").await);

    for query in [
        format!("?shop={OTHER}"),
        format!("?shop={OTHER}&embedded=1&host=x&id_token=bad"),
    ] {
        let response = client()
            .get(app.url(&format!("/admin/auth/whoami{query}")))
            .header("Cookie", &cookie_a)
            .header("Accept", "application/json")
            .send()
            .await
            .expect("get");
        if response.status() == 200 {
            assert_eq!(
                json_of(response).await,
                json!({"shop": SHOP, "embedded": false})
            );
        } else {
            assert_eq!(response.status(), 401, "{query}");
        }
    }
    // A's secret presented as a session of B opens nothing.
    let secret = cookie_a.split_once('.').expect("shop.secret").1;
    let forged = format!("shoprecs_admin={}.{secret}", b.0);
    let response = get_with_cookie(&app, "/admin/auth/whoami", &forged).await;
    assert_eq!(response.status(), 303);
    assert!(header(&response, LOCATION).starts_with("/admin/login"));
}

#[tokio::test]
async fn an_expired_session_goes_back_to_the_login_page() {
    let start = Utc::now();
    let (app, clock) = spawn_app_with_clock(start, settings()).await;
    install(&app, SHOP).await;
    let token = admin::create_token(&app.pool, shop_id(&app, SHOP).await, "")
        .await
        .expect("token");
    let cookie = session_cookie(&login(&app, SHOP, &token, "").await);
    clock.set(start + Duration::hours(11));
    assert_eq!(
        get_with_cookie(&app, "/admin/auth/whoami", &cookie)
            .await
            .status(),
        200
    );
    clock.set(start + Duration::hours(12) + Duration::seconds(1));
    let expired = get_with_cookie(&app, "/admin/auth/whoami", &cookie).await;
    assert_eq!(expired.status(), 303);
    assert!(header(&expired, LOCATION).starts_with("/admin/login?next="));
}

#[tokio::test]
async fn login_follows_only_local_admin_paths_and_refuses_other_sites() {
    let mut settings = settings();
    settings.admin.login_attempts_per_minute = 8;
    let app = spawn_app_with(settings, Secrets::fixed(SECRET)).await;
    install(&app, SHOP).await;
    let token = admin::create_token(&app.pool, shop_id(&app, SHOP).await, "")
        .await
        .expect("token");
    for next in [
        "//evil.com",
        "https://evil.com/admin",
        "/administrator",
        "/admin/\\evil.com",
    ] {
        let response = login(&app, SHOP, &token, next).await;
        assert_eq!(response.status(), 303, "{next}");
        assert_eq!(header(&response, LOCATION), "/admin", "{next}");
    }
    // A login form posted from another site is refused (login CSRF).
    let cross = client()
        .post(app.url("/admin/login"))
        .header("Origin", "https://evil.com")
        .form(&[("shop", SHOP), ("token", token.as_str())])
        .send()
        .await
        .expect("login");
    assert_eq!(cross.status(), 403);
    assert!(cross.headers().get(SET_COOKIE).is_none());

    // Guessing is rate-limited per shop (8 a minute; 4 logins above): the right token is
    // refused too once over the limit.
    let mut statuses = vec![];
    for _ in 0..5 {
        statuses.push(login(&app, SHOP, "sra_guess", "").await.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 401, 429]);
    assert_eq!(login(&app, SHOP, &token, "").await.status(), 429);
}
