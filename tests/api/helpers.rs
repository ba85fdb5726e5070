//! Test harness: one embedded Postgres per test process, a database per test cloned from a
//! migrated template, and a `TestApp` with one helper per endpoint.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde_json::Value;
use shoprecs::app::Application;
use shoprecs::config::{Secrets, Settings};
use shoprecs::pg_embedded::{ClusterOptions, EmbeddedPostgres};
use shoprecs::shopify::webhook_hmac;
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection, PgPool};
use tokio::sync::oneshot;

pub const SECRET: &str = "test-secret";
pub const SHOP: &str = "test-shop.myshopify.com";
const TEMPLATE: &str = "shoprecs_template";

struct Cluster {
    postgres: EmbeddedPostgres,
    dir: PathBuf,
}

static CLUSTER: OnceLock<Cluster> = OnceLock::new();
static TEMPLATE_READY: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
/// Databases of finished tests, dropped by a later `fresh_database`: a run clones one database
/// per test, and keeping them all filled gigabytes of a CI machine's disk.
static FINISHED: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn cluster() -> &'static Cluster {
    CLUSTER.get_or_init(|| {
        remove_stale_clusters();
        let dir = std::env::temp_dir().join(format!("shoprecs-tests-{}", std::process::id()));
        let postgres = EmbeddedPostgres::start(&dir.join("postgres"), ClusterOptions::for_tests())
            .expect("the embedded test Postgres starts (is the postgresql package installed?)");
        Cluster { postgres, dir }
    })
}

/// Clusters of earlier test runs whose process is gone.
fn remove_stale_clusters() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix("shoprecs-tests-")
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

pub async fn admin_connection() -> PgConnection {
    PgConnection::connect_with(&cluster().postgres.connect_options("postgres"))
        .await
        .expect("connect to the test cluster")
}

async fn ensure_template() {
    TEMPLATE_READY
        .get_or_init(|| async {
            let mut conn = admin_connection().await;
            sqlx::query(&format!("drop database if exists {TEMPLATE}"))
                .execute(&mut conn)
                .await
                .expect("drop template");
            sqlx::query(&format!("create database {TEMPLATE}"))
                .execute(&mut conn)
                .await
                .expect("create template");
            let mut template =
                PgConnection::connect_with(&cluster().postgres.connect_options(TEMPLATE))
                    .await
                    .expect("connect to template");
            shoprecs::db::MIGRATOR
                .run(&mut template)
                .await
                .expect("migrate template");
            template.close().await.expect("close template");
        })
        .await;
}

/// A fresh, migrated database for one test.
pub async fn fresh_database() -> String {
    ensure_template().await;
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    let mut conn = admin_connection().await;
    drop_finished_databases(&mut conn).await;
    for attempt in 0.. {
        let created = sqlx::query(&format!("create database {name} template {TEMPLATE}"))
            .execute(&mut conn)
            .await;
        match created {
            Ok(_) => break,
            // Concurrent clones of one template can collide; try again.
            Err(e) if attempt < 50 => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("create test database: {e}"),
        }
    }
    name
}

/// Drops the databases of finished tests that nothing is connected to any more (their test's
/// runtime may still be closing connections: those stay queued for a later call). Checked first
/// because `drop database` waits up to 5 s for other sessions before it gives up.
async fn drop_finished_databases(conn: &mut PgConnection) {
    let finished = std::mem::take(&mut *FINISHED.lock().unwrap_or_else(|e| e.into_inner()));
    let idle: Vec<String> = sqlx::query_scalar(
        "select d from unnest($1::text[]) as d
          where not exists (select 1 from pg_stat_activity where datname = d)",
    )
    .bind(&finished)
    .fetch_all(&mut *conn)
    .await
    .unwrap_or_default();
    let mut busy: Vec<String> = finished.into_iter().filter(|d| !idle.contains(d)).collect();
    for database in idle {
        let dropped = sqlx::query(&format!("drop database if exists {database}"))
            .execute(&mut *conn)
            .await;
        if dropped.is_err() {
            busy.push(database);
        }
    }
    FINISHED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .extend(busy);
}

pub async fn pool_for(database: &str) -> PgPool {
    PgPoolOptions::new()
        .max_connections(8)
        .acquire_timeout(Duration::from_secs(2))
        .connect_with(cluster().postgres.connect_options(database))
        .await
        .expect("connect to test database")
}

/// `postgres://` URL of a test database, for running the real binary against it.
pub fn database_url(database: &str) -> String {
    let socket = cluster().dir.join("postgres").join("run");
    format!(
        "postgres://shoprecs@localhost/{database}?host={}",
        socket.display()
    )
}

pub fn test_settings() -> Settings {
    let mut settings = Settings::defaults().expect("defaults");
    settings.server.port = 0;
    settings.server.shutdown_grace_secs = 2;
    // Hermetic: nothing may call the real Shopify. Tests that need the Admin API start the
    // fake and point this at it; elsewhere a call is refused at once (port 9, discard).
    settings.admin_api.url = "http://127.0.0.1:9/{shop}".into();
    settings
}

pub struct TestApp {
    pub state: shoprecs::app::AppState,
    pub address: String,
    pub pool: PgPool,
    pub database: String,
    pub client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    served: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(test_settings(), Secrets::fixed(SECRET)).await
}

pub async fn spawn_app_with(settings: Settings, secrets: Secrets) -> TestApp {
    let database = fresh_database().await;
    spawn_app_on(database, settings, secrets).await
}

/// Starts the application on an existing database (for restart tests).
pub async fn spawn_app_on(database: String, settings: Settings, secrets: Secrets) -> TestApp {
    spawn_app_full(database, settings, secrets, Arc::new(chrono::Utc::now)).await
}

/// A fresh app whose clock reads `now` (unix seconds) forever.
pub async fn spawn_app_at(now: i64, settings: Settings, secrets: Secrets) -> TestApp {
    let database = fresh_database().await;
    let fixed = chrono::DateTime::from_timestamp(now, 0).expect("valid time");
    spawn_app_full(database, settings, secrets, Arc::new(move || fixed)).await
}

/// A clock tests move by hand.
#[derive(Clone)]
pub struct TestClock(Arc<std::sync::atomic::AtomicI64>);

impl TestClock {
    pub fn set(&self, at: chrono::DateTime<chrono::Utc>) {
        self.0
            .store(at.timestamp(), std::sync::atomic::Ordering::SeqCst);
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        let secs = self.0.load(std::sync::atomic::Ordering::SeqCst);
        chrono::DateTime::from_timestamp(secs, 0).expect("valid time")
    }
}

/// A fresh app whose clock the test moves.
pub async fn spawn_app_with_clock(
    start: chrono::DateTime<chrono::Utc>,
    settings: Settings,
) -> (TestApp, TestClock) {
    let clock = TestClock(Arc::new(std::sync::atomic::AtomicI64::new(
        start.timestamp(),
    )));
    let reader = clock.clone();
    let database = fresh_database().await;
    let app = spawn_app_full(
        database,
        settings,
        Secrets::fixed(SECRET),
        Arc::new(move || reader.now()),
    )
    .await;
    (app, clock)
}

async fn spawn_app_full(
    database: String,
    settings: Settings,
    secrets: Secrets,
    clock: shoprecs::app::Clock,
) -> TestApp {
    spawn_app_routed(database, settings, secrets, clock, |_, _| None).await
}

/// A fresh app serving extra routes, made from its address and pool (the demo storefront).
pub async fn spawn_app_with_routes(
    database: String,
    routes: impl FnOnce(std::net::SocketAddr, PgPool) -> axum::Router,
) -> TestApp {
    spawn_app_routed(
        database,
        test_settings(),
        Secrets::fixed(SECRET),
        Arc::new(chrono::Utc::now),
        |addr, pool| Some(routes(addr, pool)),
    )
    .await
}

async fn spawn_app_routed(
    database: String,
    settings: Settings,
    secrets: Secrets,
    clock: shoprecs::app::Clock,
    routes: impl FnOnce(std::net::SocketAddr, PgPool) -> Option<axum::Router>,
) -> TestApp {
    let pool = pool_for(&database).await;
    let mut app = Application::build_with_clock(settings, secrets, pool.clone(), clock)
        .await
        .expect("build app");
    if let Some(extra) = routes(app.local_addr(), pool.clone()) {
        app = app.with_routes(extra);
    }
    let address = format!("http://127.0.0.1:{}", app.port());
    let state = app.state();
    let (tx, rx) = oneshot::channel::<()>();
    let served = tokio::spawn(app.run_until(async move {
        let _ = rx.await;
    }));
    TestApp {
        state,
        address,
        pool,
        database,
        client: reqwest::Client::new(),
        shutdown: Some(tx),
        served: Some(served),
    }
}

impl Drop for TestApp {
    /// A test that ends without `stop` (which hands the database on for a restart) is done with
    /// its database.
    fn drop(&mut self) {
        if self.served.is_some() {
            FINISHED
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(self.database.clone());
        }
    }
}

impl TestApp {
    /// Graceful stop: the server drains and applies its inbox before returning.
    pub async fn stop(mut self) -> String {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(served) = self.served.take() {
            served.await.expect("server task").expect("server result");
        }
        self.database.clone()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// Posts a webhook signed like Shopify with the test secret.
    pub async fn webhook(&self, topic: &str, body: &[u8], event_id: &str) -> reqwest::Response {
        self.webhook_signed(
            topic,
            SHOP,
            body,
            event_id,
            &webhook_hmac::sign(SECRET, body),
        )
        .await
    }

    pub async fn webhook_signed(
        &self,
        topic: &str,
        shop: &str,
        body: &[u8],
        event_id: &str,
        hmac: &str,
    ) -> reqwest::Response {
        self.client
            .post(self.url("/webhooks"))
            .header("Content-Type", "application/json")
            .header("X-Shopify-Topic", topic)
            .header("X-Shopify-Hmac-Sha256", hmac)
            .header("X-Shopify-Shop-Domain", shop)
            .header("X-Shopify-API-Version", "2026-01")
            .header("X-Shopify-Webhook-Id", format!("wh-{event_id}"))
            .header("X-Shopify-Event-Id", event_id)
            .header("X-Shopify-Triggered-At", "2026-11-20T10:00:00Z")
            .body(body.to_vec())
            .send()
            .await
            .expect("send webhook")
    }

    /// Posts a JSON value as a webhook and asserts it was acknowledged.
    pub async fn deliver(&self, topic: &str, body: &Value, event_id: &str) {
        let bytes = serde_json::to_vec(body).expect("serialize");
        let response = self.webhook(topic, &bytes, event_id).await;
        assert_eq!(
            response.status(),
            200,
            "{topic} {event_id}: {}",
            response.text().await.unwrap_or_default()
        );
    }

    pub async fn pixel(&self, query: &str, body: &str, content_type: &str) -> reqwest::Response {
        self.client
            .post(self.url(&format!("/pixel/events{query}")))
            .header("Content-Type", content_type)
            .body(body.to_owned())
            .send()
            .await
            .expect("send pixel events")
    }

    /// Waits until the applier has handled every stored webhook and the models reflect them.
    pub async fn wait_applied(&self) {
        for _ in 0..400 {
            let (pending, last): (i64, Option<i64>) = sqlx::query_as(
                "select count(*) filter (where status = 'pending'), max(inbox_id) from webhook_inbox",
            )
            .fetch_one(&self.pool)
            .await
            .expect("count pending");
            // Applied rows are committed before the models are refreshed: wait for both.
            if pending == 0 && self.state.models.reflected() >= last.unwrap_or(0) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("webhooks were not applied within 10 s");
    }

    /// The Prometheus text of `/metrics`.
    pub async fn metrics(&self) -> String {
        let response = self
            .client
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("metrics");
        response.text().await.expect("metrics text")
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(&self.pool)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    pub async fn shop_id(&self) -> i64 {
        sqlx::query_scalar("select shop_id from shop where domain = $1")
            .bind(SHOP)
            .fetch_one(&self.pool)
            .await
            .expect("shop exists")
    }

    /// Makes the shop known and installed, as a first webhook would.
    pub async fn install_shop(&self) {
        self.deliver("shop/update", &serde_json::json!({"id": 1}), "install")
            .await;
    }
}

/// A fixture from tests/fixtures/shopify, unwrapped from a REST wrapper key if it has one.
pub fn fixture(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/shopify")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let value: Value = serde_json::from_str(&text).expect("fixture is JSON");
    for key in ["order", "refund", "product"] {
        if let Some(inner) = value
            .get(key)
            .filter(|_| value.as_object().is_some_and(|o| o.len() == 1))
        {
            return inner.clone();
        }
    }
    value
}

/// The raw bytes of a fixture, exactly as stored.
pub fn fixture_bytes(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/shopify")
        .join(name);
    std::fs::read(path).expect("fixture")
}

/// A product webhook body: published, active, with one variant of the given stock.
pub fn product(id: i64, title: &str, product_type: &str, stock: i64) -> Value {
    serde_json::json!({
        "id": id, "title": title, "handle": title.to_lowercase().replace(' ', "-"),
        "product_type": product_type, "vendor": "Acme", "tags": "", "status": "active",
        "published_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
        "image": {"src": format!("https://cdn.example/{id}.png")},
        "variants": [{"id": id * 10, "title": "Default", "price": "10.00", "sku": format!("SKU-{id}"),
                      "position": 1, "inventory_policy": "deny", "inventory_management": "shopify",
                      "inventory_quantity": stock}]
    })
}

/// Runs the `shoprecs` binary against a test database; returns its standard output and fails
/// the test (with its standard error) if it did not succeed.
pub fn cli(database: &str, args: &[&str]) -> String {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_shoprecs"))
        .args(args)
        .env("DATABASE_URL", database_url(database))
        .env("RUST_LOG", "error")
        .output()
        .expect("run shoprecs");
    assert!(
        output.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// No item of the list is there for this reason.
pub fn none_of_kind(list: &Value, kind: &str) -> bool {
    list["items"]
        .as_array()
        .is_some_and(|items| items.iter().all(|i| i["reason"]["kind"] != kind))
}

/// Polls an API path until it answers 200 with a body `check` accepts, for up to 5 s (a 404
/// for a product the model does not know yet counts as "not yet").
pub async fn poll_api(
    app: &TestApp,
    key: &str,
    path: &str,
    check: impl Fn(&Value) -> bool,
) -> Value {
    let mut last = (0, Value::Null);
    for _ in 0..200 {
        let response = app.api_get(key, path).await;
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if status == 200 && check(&body) {
            return body;
        }
        last = (status, body);
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!(
        "{path} never satisfied the check within 5 s; last response: {} {}",
        last.0, last.1
    );
}

/// An order webhook body with one unit of each product.
pub fn order(id: i64, customer: Option<i64>, products: &[i64], day: u32) -> Value {
    let at = format!("2026-11-{day:02}T12:00:00Z");
    serde_json::json!({
        "id": id, "name": format!("#{id}"), "created_at": at, "updated_at": at, "processed_at": at,
        "cancelled_at": null, "test": false, "currency": "USD", "total_price": "20.00",
        "financial_status": "paid",
        "customer": customer.map(|c| serde_json::json!({"id": c})),
        "line_items": products.iter().enumerate().map(|(i, p)| serde_json::json!({
            "id": id * 100 + i as i64, "product_id": p, "variant_id": p * 10, "quantity": 1,
            "current_quantity": 1, "price": "10.00", "sku": format!("SKU-{p}"), "gift_card": false
        })).collect::<Vec<_>>()
    })
}

impl TestApp {
    /// An API key for any shop.
    pub async fn api_key_for(&self, shop: shoprecs::store::ShopId) -> String {
        shoprecs::store::api_keys::create(&self.pool, shop, "test")
            .await
            .expect("create key")
    }

    /// An API key for the test shop (the shop is created first if needed).
    pub async fn api_key(&self) -> String {
        self.install_shop().await;
        let shop = shoprecs::store::ShopId(self.shop_id().await);
        shoprecs::store::api_keys::create(&self.pool, shop, "test")
            .await
            .expect("create key")
    }

    pub async fn api_get(&self, key: &str, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(key)
            .send()
            .await
            .expect("api request")
    }

    /// GET an API path, expecting 200, as JSON.
    pub async fn api_json(&self, key: &str, path: &str) -> Value {
        let response = self.api_get(key, path).await;
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        assert_eq!(status, 200, "{path}: {body}");
        serde_json::from_str(&body).expect("json")
    }
}

/// Product ids of a list response, in order.
pub fn ids(list: &Value) -> Vec<i64> {
    list["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|i| i["product_id"].as_i64()).collect())
        .unwrap_or_default()
}

impl TestApp {
    /// Sends a storefront request through an emulated app proxy: Shopify's parameters are
    /// appended and the query signed with the test secret, as Shopify does.
    pub async fn proxy(
        &self,
        method: reqwest::Method,
        path: &str,
        params: &[(&str, &str)],
        customer: Option<i64>,
    ) -> reqwest::Response {
        let query = proxy_query(
            SECRET,
            SHOP,
            params,
            customer,
            chrono::Utc::now().timestamp(),
        );
        self.client
            .request(method, self.url(&format!("{path}?{query}")))
            .send()
            .await
            .expect("proxy request")
    }
}

/// The query Shopify's app proxy forwards: the shopper's parameters, then `shop`,
/// `logged_in_customer_id` (empty when anonymous), `path_prefix`, `timestamp`, `signature`.
pub fn proxy_query(
    secret: &str,
    shop: &str,
    params: &[(&str, &str)],
    customer: Option<i64>,
    timestamp: i64,
) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        query.append_pair(k, v);
    }
    let customer = customer.map(|c| c.to_string()).unwrap_or_default();
    query
        .append_pair("shop", shop)
        .append_pair("logged_in_customer_id", &customer)
        .append_pair("path_prefix", "/apps/recs")
        .append_pair("timestamp", &timestamp.to_string());
    let unsigned = query.finish();
    let signature = shoprecs::shopify::app_proxy::sign(secret, &unsigned).expect("sign");
    format!("{unsigned}&signature={signature}")
}
