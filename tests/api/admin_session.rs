//! A logged-in dashboard session for the tests of the dashboard's pages.

use reqwest::header::SET_COOKIE;
use reqwest::redirect::Policy;
use reqwest::Response;
use shoprecs::shopify::ShopDomain;
use shoprecs::store::{admin, shops};

use crate::helpers::TestApp;

/// A dashboard session: its cookie and CSRF token, and a client that does not follow
/// redirects.
pub struct Admin<'a> {
    app: &'a TestApp,
    cookie: String,
    pub csrf: String,
    client: reqwest::Client,
}

impl Admin<'_> {
    pub async fn get(&self, path: &str) -> Response {
        self.client
            .get(self.app.url(path))
            .header("Cookie", &self.cookie)
            .send()
            .await
            .expect("get")
    }

    /// A page that must render (200, HTML).
    pub async fn page(&self, path: &str) -> String {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        let kind = response.headers()["content-type"]
            .to_str()
            .expect("type")
            .to_owned();
        assert!(kind.starts_with("text/html"), "{path}: {kind}");
        response.text().await.expect("html")
    }

    /// A form post from the dashboard's own origin.
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Response {
        self.client
            .post(self.app.url(path))
            .header("Cookie", &self.cookie)
            .header("Origin", self.app.url(""))
            .form(form)
            .send()
            .await
            .expect("post")
    }
}

/// Logs in to `domain`'s dashboard with a fresh access token.
pub async fn login<'a>(app: &'a TestApp, domain: &str) -> Admin<'a> {
    let shop = shops::find(&app.pool, &ShopDomain::parse(domain).expect("domain"))
        .await
        .expect("find")
        .expect("shop exists");
    let token = admin::create_token(&app.pool, shop, "test")
        .await
        .expect("token");
    let client = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("client");
    let response = client
        .post(app.url("/admin/login"))
        .header("Origin", app.url(""))
        .form(&[
            ("shop", domain),
            ("token", token.as_str()),
            ("next", "/admin"),
        ])
        .send()
        .await
        .expect("login");
    assert_eq!(response.status(), 303, "logged in");
    let cookie = response.headers()[SET_COOKIE]
        .to_str()
        .expect("cookie")
        .split(';')
        .next()
        .unwrap_or("")
        .to_owned();
    let csrf: String = sqlx::query_scalar(
        "select csrf_token from admin_session where shop_id = $1 order by created_at desc limit 1",
    )
    .bind(shop.0)
    .fetch_one(&app.pool)
    .await
    .expect("session");
    Admin {
        app,
        cookie,
        csrf,
        client,
    }
}
