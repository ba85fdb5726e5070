//! The daily engagement snapshot: every customer of a shop scored and stored (per-customer
//! rows plus the shop's summaries), and a sweep of everyone's segment, on the embedded
//! Postgres (durable, fsync on).
//!
//! Run: `cargo bench --bench snapshot` (SNAPSHOT_CUSTOMERS, default 100000, sets the size).

mod support;

use std::time::Instant;

use chrono::{Duration, Utc};
use shoprecs::config::Settings;
use shoprecs::lifecycle::{self, LifecycleConfig};
use shoprecs::shopify::ShopDomain;
use shoprecs::store::shops;

fn main() -> anyhow::Result<()> {
    let customers: i64 = std::env::var("SNAPSHOT_CUSTOMERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run(customers))
}

async fn run(customers: i64) -> anyhow::Result<()> {
    let scratch = support::Scratch::start("snapshot", 4).await?;
    let pool = scratch.pool.clone();
    let shop = shops::resolve_or_create(&pool, &ShopDomain::parse("bench.myshopify.com")?).await?;

    // Customers with varied histories: a fifth prospects, the rest with 1–12 orders over two
    // years, some browsing in the last weeks.
    let now = Utc::now();
    sqlx::query(
        "insert into customer (shop_id, customer_id, updated_at, created_at, orders_count, total_spent,
                               first_order_at, last_order_at, median_gap_days, activity, activity_at)
         select $1, id, now(), $2 - (id % 900) * interval '1 day',
                case when id % 5 = 0 then 0 else 1 + id % 12 end,
                case when id % 5 = 0 then 0 else (id % 997) * 1.5 end,
                case when id % 5 = 0 then null else $2 - (id % 730) * interval '1 day' end,
                case when id % 5 = 0 then null else $2 - (id % 400) * interval '1 day' end,
                case when id % 5 = 0 or id % 12 < 2 then null else 5 + id % 60 end,
                (id % 7) * 2.0, $2 - (id % 30) * interval '1 day'
           from generate_series(1, $3) as id",
    )
    .bind(shop.0)
    .bind(now)
    .bind(customers)
    .execute(&pool)
    .await?;
    // Enough gaps for the shop's own policy.
    let config = LifecycleConfig::from_settings(&Settings::defaults()?);

    let started = Instant::now();
    let first = lifecycle::sweep_shop(&pool, shop, &config, now).await?;
    let first_sweep = started.elapsed();
    let started = Instant::now();
    let again = lifecycle::sweep_shop(&pool, shop, &config, now + Duration::hours(1)).await?;
    let quiet_sweep = started.elapsed();

    let mut days = Vec::new();
    for d in 0..3 {
        let at = now + Duration::days(d);
        let started = Instant::now();
        let stats = lifecycle::snapshot_day(&pool, shop, at.date_naive(), &config, at).await?;
        days.push((started.elapsed(), stats.customers));
    }

    println!("customers: {customers}");
    println!(
        "first sweep (every customer classified, history written): {:.2} s ({} changed)",
        first_sweep.as_secs_f64(),
        first.changed
    );
    println!(
        "hourly sweep, nothing due:                                  {:.2} s ({} changed)",
        quiet_sweep.as_secs_f64(),
        again.changed
    );
    for (i, (elapsed, n)) in days.iter().enumerate() {
        println!(
            "daily snapshot, day {}: {n} customers in {:.2} s ({:.0} customers/s)",
            i + 1,
            elapsed.as_secs_f64(),
            *n as f64 / elapsed.as_secs_f64()
        );
    }
    scratch.close().await;
    Ok(())
}
