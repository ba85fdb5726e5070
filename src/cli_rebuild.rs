//! `shoprecs rebuild`: rebuild models with a progress display, then ask a running server (on the
//! same database) to rebuild its in-memory copy through a Postgres notification.

use std::time::Instant;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use sqlx::PgPool;

use crate::config::Settings;
use crate::recs::Models;
use crate::shopify::ShopDomain;
use crate::store::{shops, ShopId};

pub async fn run(pool: &PgPool, settings: &Settings, shop: Option<&str>) -> anyhow::Result<()> {
    let targets: Vec<(ShopId, String)> = match shop {
        Some(raw) => {
            let domain = ShopDomain::parse(raw)?;
            let id = shops::find(pool, &domain)
                .await?
                .with_context(|| format!("shop {domain} is not known"))?;
            vec![(id, domain.to_string())]
        }
        None => {
            let mut all = Vec::new();
            for id in shops::installed(pool).await? {
                all.push((id, format!("shop {}", id.0)));
            }
            all
        }
    };
    if targets.is_empty() {
        println!("no installed shops: nothing to rebuild");
    }
    for (shop, name) in targets {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        let started = Instant::now();
        let model = Models::build(pool, shop, settings.engine.engine_config(), |p| {
            bar.set_message(format!(
                "{name}: {} products, {} orders ({} lines), {} browse events",
                p.products, p.orders, p.order_lines, p.browse_events
            ));
        })
        .await?;
        let elapsed = started.elapsed();
        bar.finish_and_clear();
        let stats = model.stats();
        println!(
            "{name}: rebuilt in {:.2}s — {} products ({} recommendable), {} orders, {} co-purchase pairs, {} co-view pairs, {} customers, ~{:.1} MiB",
            elapsed.as_secs_f64(),
            stats.products,
            stats.recommendable_products,
            stats.orders,
            stats.pairs,
            stats.view_pairs,
            stats.customers,
            stats.approx_bytes as f64 / (1024.0 * 1024.0)
        );
        let change = crate::recs::follow::Change::Rebuild { shop };
        crate::recs::follow::announce(pool, uuid::Uuid::new_v4(), &change).await?;
    }
    println!("running servers on this database rebuild their models too");
    Ok(())
}
