//! `shoprecs demo`: the server on the embedded database, a demo shop with a realistic catalogue
//! and six months of orders fed through the real ingest path, and a storefront that imitates a
//! Shopify theme with the extension's own block markup and script.

mod activity;
pub mod install;
mod storefront;

use anyhow::Context;
use secrecy::ExposeSecret;
use sqlx::PgPool;

use crate::app::Application;
use crate::config::{Secrets, Settings};
use crate::db::{self, Database};
use crate::ingest::worker::apply_batch;
use crate::lifecycle::LifecycleConfig;
use crate::shopify::ShopDomain;
use crate::store::inbox::{self, NewWebhook};
use crate::store::{api_keys, shops, ShopId};

pub const DEMO_SHOP: &str = "shoprecs-demo.myshopify.com";
const SEED: u64 = 2026;

pub async fn run(settings: Settings) -> anyhow::Result<()> {
    // The demo installs a shop from a local fake Shopify: its token needs a key.
    let secrets = Secrets::load(&settings.database.data_dir)?.with_local_encryption_key();
    let database = Database::open(&settings.database).await?;
    let result = serve_demo(settings, secrets, &database).await;
    database.close().await;
    result
}

async fn serve_demo(
    mut settings: Settings,
    secrets: Secrets,
    database: &Database,
) -> anyhow::Result<()> {
    db::migrate(&database.pool).await?;
    // A local fake Shopify stands in for the Admin API: installing the second demo shop goes
    // through /auth, the fake's approval, the callback, the pixel and a bulk backfill.
    if settings.shopify.api_key.is_empty() {
        settings.shopify.api_key = install::DEMO_CLIENT_ID.to_owned();
    }
    let fake = install::start_fake(
        &settings.shopify.api_key,
        secrets.api_secret.expose_secret(),
    )
    .await?;
    settings.admin_api.url = fake.url_template();
    settings.backfill.poll_interval_secs = settings.backfill.poll_interval_secs.min(1.0);
    let domain = ShopDomain::parse(DEMO_SHOP)?;
    let shop = shops::resolve_or_create(&database.pool, &domain).await?;
    let lifecycle = LifecycleConfig::from_settings(&settings);
    let customers = seed_with_lifecycle(&database.pool, shop, &lifecycle).await?;
    let api_key = api_keys::create(&database.pool, shop, "demo").await?;
    let admin_token = crate::store::admin::create_token(&database.pool, shop, "demo").await?;
    let checkouts = settings.checkouts.clone();
    let app = Application::build(settings, secrets.clone(), database.pool.clone()).await?;
    // Abandoned checkouts show at once rather than after the first periodic sweep.
    let state = app.state();
    crate::abandoned::sweep(&database.pool, &state.models, &checkouts, state.now()).await?;
    let addr = app.local_addr();
    let routes = storefront(
        database.pool.clone(),
        shop,
        secrets.api_secret.expose_secret(),
        addr,
        customers,
    );
    let app = app.with_routes(routes);
    println!();
    println!("  shoprecs demo is running");
    println!("  storefront:  http://{addr}/demo/   (switch between a guest and demo customers at the top)");
    println!(
        "  JSON API:    curl -H 'Authorization: Bearer {api_key}' http://{addr}/api/v1/bestsellers"
    );
    println!(
        "  dashboard:   http://{addr}/admin   (log in as shop {DEMO_SHOP} with the token below)"
    );
    println!("  admin token: {admin_token}");
    println!(
        "  install:     http://{addr}/auth?shop={}   (a local fake Shopify approves it, then the",
        install::INSTALL_SHOP
    );
    println!(
        "               dashboard's Data health page shows the history import; or follow it with"
    );
    println!(
        "               `shoprecs backfill --shop {}` in another terminal)",
        install::INSTALL_SHOP
    );
    println!("  health:      http://{addr}/readyz    metrics: http://{addr}/metrics");
    println!("  Ctrl-C stops it; data stays in the data directory for the next run.");
    println!();
    let served = app.run_until(crate::cli::shutdown_signal()).await;
    drop(fake);
    served
}

/// The storefront routes for the demo shop, proxying widget calls to the server at `server`
/// and signing them with `secret` like Shopify's app proxy.
pub fn storefront(
    pool: PgPool,
    shop: ShopId,
    secret: &str,
    server: std::net::SocketAddr,
    customers: Vec<(i64, String)>,
) -> axum::Router {
    storefront::routes(storefront::DemoState {
        pool,
        shop,
        domain: DEMO_SHOP.to_owned(),
        shop_name: "Roastery & Co (demo)".to_owned(),
        secret: secret.to_owned(),
        server: format!("http://{server}"),
        client: reqwest::Client::new(),
        customers,
    })
}

/// Seeds the demo shop (see [`seed`]) and, when it was new, gives it its segment history and
/// engagement series rebuilt from its orders, and 60 days of widget activity (a restarted demo
/// keeps what the server recorded since).
pub async fn seed_with_lifecycle(
    pool: &PgPool,
    shop: ShopId,
    config: &LifecycleConfig,
) -> anyhow::Result<Vec<(i64, String)>> {
    let (customers, fresh) = seed_once(pool, shop).await?;
    if fresh {
        println!("rebuilding the demo shop's segment history …");
        let days = config.rebuild_history_days;
        crate::lifecycle::rebuild_history(pool, shop, config, chrono::Utc::now(), days).await?;
        activity::seed_widget_activity(pool, shop, chrono::Utc::now()).await?;
    }
    Ok(customers)
}

/// Feeds the demo shop's catalogue and history through the inbox and the applier, once.
/// Returns the demo customers to offer in the storefront's switcher.
pub async fn seed(pool: &PgPool, shop: ShopId) -> anyhow::Result<Vec<(i64, String)>> {
    Ok(seed_once(pool, shop).await?.0)
}

/// As [`seed`], also saying whether the shop was seeded now.
async fn seed_once(pool: &PgPool, shop: ShopId) -> anyhow::Result<(Vec<(i64, String)>, bool)> {
    let existing = sqlx::query_scalar!(
        r#"select count(*) as "n!" from "order" where shop_id = $1"#,
        shop.0
    )
    .fetch_one(pool)
    .await?;
    let data = crate::demo_data::generate(SEED, chrono::Utc::now().timestamp());
    let customers: Vec<(i64, String)> = data
        .demo_customers
        .iter()
        .map(|c| (c.id, c.label.clone()))
        .collect();
    if existing > 0 {
        return Ok((customers, false));
    }
    println!(
        "creating the demo shop: {} products, {} orders …",
        data.products.len(),
        data.orders.len()
    );
    let batches = [
        ("products/create", &data.products),
        ("customers/create", &data.customers),
        ("orders/create", &data.orders),
        ("checkouts/create", &data.checkouts),
    ];
    for (topic, bodies) in batches {
        for (i, body) in bodies.iter().enumerate() {
            let bytes = serde_json::to_vec(body)?;
            let key = format!("demo:{topic}:{i}");
            let hook = NewWebhook {
                dedupe_key: &key,
                topic,
                webhook_id: None,
                api_version: Some("demo"),
                triggered_at: None,
                body: &bytes,
            };
            inbox::insert(pool, shop, &hook)
                .await
                .context("Failed to store demo data")?;
        }
    }
    // A running server's applier may hold the last batches: wait until nothing is pending.
    // Two appliers may meet on the same rows and deadlock: the loser retries.
    let mut failures = 0;
    loop {
        match apply_batch(pool, 500, None).await {
            Ok(0) => {
                if inbox::backlog(pool).await? == 0 {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            Ok(_) => failures = 0,
            Err(e) if failures < 20 => {
                failures += 1;
                tracing::debug!(error = %e, "demo seeding retries a batch");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok((customers, true))
}
