//! Dashboard pages on a shop with a million orders: server time per page (the time to first
//! byte over loopback, an upper bound), on the embedded Postgres.
//!
//! Run: `cargo bench --bench admin` (ADMIN_ORDERS, default 1000000, sets the size). Building
//! the shop takes a few minutes; the timings print at the end.

mod support;

use std::time::{Duration, Instant};

use chrono::Utc;
use shoprecs::app::Application;
use shoprecs::config::{Secrets, Settings};
use shoprecs::lifecycle::{self, LifecycleConfig};
use shoprecs::shopify::ShopDomain;
use shoprecs::store::shops;

const PAGES: [&str; 12] = [
    "/admin?period=7",
    "/admin?period=30",
    "/admin?period=90",
    "/admin/explore?product=1000017&customer=4242",
    "/admin/explore?q=product+12",
    "/admin/bestsellers",
    "/admin/segments",
    "/admin/engagement",
    "/admin/checkouts",
    "/admin/rules?q=product+3",
    "/admin/settings",
    "/admin/health",
];

fn main() -> anyhow::Result<()> {
    let orders: i64 = std::env::var("ADMIN_ORDERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run(orders))
}

async fn run(orders: i64) -> anyhow::Result<()> {
    let scratch = support::Scratch::start("admin-bench", 8).await?;
    let pool = scratch.pool.clone();
    let domain = ShopDomain::parse("bench.myshopify.com")?;
    let shop = shops::resolve_or_create(&pool, &domain).await?;
    let started = Instant::now();
    seed(&pool, shop.0, orders).await?;
    println!(
        "seeded {orders} orders in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    let mut settings = Settings::defaults()?;
    settings.server.port = 0;
    let config = LifecycleConfig::from_settings(&settings);
    lifecycle::rebuild_history(&pool, shop, &config, Utc::now(), 90).await?;
    println!("segment history and 90 days of engagement rebuilt");

    // What a running server's housekeeping keeps up to date: the daily totals of past days.
    let window = settings.storefront.attribution_window_hours;
    let started = Instant::now();
    let mut days = 0;
    loop {
        let n =
            shoprecs::store::rollups::refresh_stale(&pool, shop, window, Utc::now(), 31).await?;
        days += n;
        // The last days are recomputed while they can still change: done when a run is short.
        if n < 31 {
            break;
        }
    }
    println!(
        "{days} days of daily totals computed in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    let app = Application::build(settings, Secrets::fixed("bench-secret"), pool.clone()).await?;
    let base = format!("http://127.0.0.1:{}", app.port());
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(app.run_until(async move {
        let _ = stop_rx.await;
    }));
    let token = shoprecs::store::admin::create_token(&pool, shop, "bench").await?;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let login = client
        .post(format!("{base}/admin/login"))
        .header("Origin", &base)
        .form(&[("shop", domain.as_str()), ("token", token.as_str())])
        .send()
        .await?;
    anyhow::ensure!(
        login.status().is_redirection(),
        "login failed: {}",
        login.status()
    );
    let cookie = login
        .headers()
        .get(reqwest::header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or_default()
        .to_owned();

    println!("\n| page | p50 | max (of 7, after 1 warm-up) |\n|---|---:|---:|");
    for page in PAGES {
        let mut times: Vec<Duration> = Vec::new();
        for i in 0..8 {
            let t = Instant::now();
            let response = client
                .get(format!("{base}{page}"))
                .header(reqwest::header::COOKIE, &cookie)
                .send()
                .await?;
            let status = response.status();
            let _ = response.bytes().await?;
            anyhow::ensure!(status.is_success(), "{page}: {status}");
            if i > 0 {
                times.push(t.elapsed());
            }
        }
        times.sort();
        println!(
            "| `{page}` | {:.1} ms | {:.1} ms |",
            times[times.len() / 2].as_secs_f64() * 1000.0,
            times[times.len() - 1].as_secs_f64() * 1000.0
        );
    }
    let _ = stop_tx.send(());
    let _ = served.await;
    scratch.close().await;
    Ok(())
}

/// A big shop straight in SQL: 2,000 products, 100,000 customers, `orders` orders of 1–5
/// lines over a year, widget events and storefront events for the last 90 days, abandoned
/// checkouts, failed webhooks.
async fn seed(pool: &sqlx::PgPool, shop: i64, orders: i64) -> anyhow::Result<()> {
    let statements = [
        "insert into product (shop_id, product_id, title, handle, product_type, updated_at, published_at)
         select $1, 1000000 + i, 'Product ' || i, 'product-' || i, 'Type ' || (i % 12), now(), now() - interval '1 year'
           from generate_series(1, 2000) i",
        "insert into variant (shop_id, variant_id, product_id, price, inventory_quantity, inventory_management)
         select $1, 2000000 + i, 1000000 + i, 5 + (i % 50), 100, 'shopify' from generate_series(1, 2000) i",
        "insert into customer (shop_id, customer_id, updated_at, created_at)
         select $1, i, now(), now() - interval '400 days' + (i % 390) * interval '1 day'
           from generate_series(1, 100000) i",
        "insert into \"order\" (shop_id, order_id, customer_id, created_at, processed_at, updated_at, currency, total_price)
         select $1, i, case when i % 3 = 0 then null else 1 + (i * 7919) % 100000 end,
                now() - (i % 365) * interval '1 day' - (i % 86400) * interval '1 second',
                now() - (i % 365) * interval '1 day' - (i % 86400) * interval '1 second',
                now(), 'USD', 20 + i % 80
           from generate_series(1, $2) i",
        "insert into order_line (shop_id, order_id, line_id, product_id, variant_id, quantity, current_quantity, price)
         select $1, o, o * 10 + k, 1000000 + 1 + ((o * 31 + k * 977) % 2000), 2000000 + 1 + ((o * 31 + k * 977) % 2000), 1, 1, 10
           from generate_series(1, $2) o, generate_series(0, 4) k where k < 1 + o % 5",
        "insert into widget_event (shop_id, kind, token, placement, list, product_id, client_id, customer_id, position, occurred_at)
         select $1, case when i % 10 = 0 then 'click' else 'impression' end, 't' || i, 'product', 'bought_together',
                1000000 + 1 + i % 2000, 'c' || (i % 50000), null, 1 + i % 4, now() - (i % 90) * interval '1 day'
           from generate_series(1, 300000) i",
        "insert into browse_event (shop_id, event_id, name, client_id, customer_id, product_id, occurred_at)
         select $1, 'b' || i, 'product_viewed', 'c' || (i % 50000), case when i % 4 = 0 then 1 + i % 100000 end,
                1000000 + 1 + (i * 13) % 2000, now() - (i % 30) * interval '1 day' - (i % 3600) * interval '1 second'
           from generate_series(1, 1000000) i",
        "insert into webhook_inbox (shop_id, dedupe_key, topic, status, error, received_at)
         select $1, 'f' || i, 'orders/create', 'failed', 'order has no line items', now() - i * interval '1 hour'
           from generate_series(1, 50) i",
    ];
    for sql in statements {
        sqlx::query(sql)
            .bind(shop)
            .bind(orders)
            .execute(pool)
            .await?;
    }
    sqlx::query(
        "update customer c set orders_count = s.n, total_spent = s.spent, first_order_at = s.f, last_order_at = s.l
           from (select customer_id, count(*)::int n, sum(total_price) spent, min(created_at) f, max(created_at) l
                   from \"order\" where shop_id = $1 and customer_id is not null group by customer_id) s
          where c.shop_id = $1 and c.customer_id = s.customer_id",
    )
    .bind(shop)
    .execute(pool)
    .await?;
    sqlx::query("analyze").execute(pool).await?;
    Ok(())
}
