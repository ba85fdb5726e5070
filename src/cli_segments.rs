//! `shoprecs segments`: segment counts, CSV export, history rebuild.

use anyhow::Context;

use crate::config::Settings;
use crate::db::Database;
use crate::lifecycle::{self, LifecycleConfig, Selection};
use crate::shopify::ShopDomain;
use crate::store::{segments, shops, ShopId};

/// Arguments of `shoprecs segments`.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SegmentsArgs {
    /// The shop's myshopify.com domain.
    #[arg(long)]
    pub shop: Option<String>,
    #[command(subcommand)]
    pub action: Option<SegmentsAction>,
}

#[derive(Debug, clap::Subcommand)]
pub enum SegmentsAction {
    /// Write a segment's customers as CSV (ids, segment, engagement score, last order, consent).
    Export {
        /// The shop's myshopify.com domain.
        #[arg(long)]
        shop: String,
        /// prospect, new, returning, at_risk, lapsed, or vip.
        #[arg(long)]
        segment: String,
        /// Write here instead of standard output.
        #[arg(long, short)]
        output: Option<std::path::PathBuf>,
    },
    /// Recompute every customer's segment history and the last days' engagement from the
    /// orders (after an import or a backfill). Sends no events.
    Rebuild {
        /// The shop's myshopify.com domain.
        #[arg(long)]
        shop: String,
        /// Days of engagement snapshots to reconstruct (default: lifecycle.rebuild_history_days).
        #[arg(long)]
        days: Option<i64>,
    },
}

async fn find_shop(database: &Database, shop: &str) -> anyhow::Result<ShopId> {
    let domain = ShopDomain::parse(shop)?;
    shops::find(&database.pool, &domain)
        .await?
        .with_context(|| format!("shop {domain} is not known"))
}

pub async fn run(settings: &Settings, args: SegmentsArgs) -> anyhow::Result<()> {
    let database = Database::open(&settings.database).await?;
    let result = run_with(&database, settings, args).await;
    database.close().await;
    result
}

async fn run_with(
    database: &Database,
    settings: &Settings,
    args: SegmentsArgs,
) -> anyhow::Result<()> {
    let config = LifecycleConfig::from_settings(settings);
    let now = chrono::Utc::now();
    match args.action {
        None => {
            let shop = args
                .shop
                .context("name the shop: shoprecs segments --shop <domain>")?;
            let shop = find_shop(database, &shop).await?;
            // Bring segments up to date first, as the server's sweep would.
            lifecycle::sweep_shop(&database.pool, shop, &config, now).await?;
            let mut conn = database.pool.acquire().await?;
            let counts = segments::counts(&mut conn, shop).await?;
            let policy = lifecycle::current_policy(&mut conn, shop, &config, now, false).await?;
            println!("{:<10} {:>9} {:>6}", "segment", "customers", "vip");
            for (s, n, vip) in counts {
                println!("{:<10} {n:>9} {vip:>6}", s.as_str());
            }
            println!(
                "\nlapse window {:.0} days{}; at risk after {:.1} × the expected gap (shop median {:.0} days); VIP: top {:.0}% by net spend",
                policy.lapse_days,
                if policy.lapse_overridden { " (override)" } else { "" },
                policy.at_risk_factor,
                policy.expected_days,
                policy.vip_share * 100.0
            );
            Ok(())
        }
        Some(SegmentsAction::Export {
            shop,
            segment,
            output,
        }) => {
            let selection = Selection::parse(&segment).with_context(|| {
                format!(
                    "no segment `{segment}`: use prospect, new, returning, at_risk, lapsed or vip"
                )
            })?;
            let shop = find_shop(database, &shop).await?;
            lifecycle::sweep_shop(&database.pool, shop, &config, now).await?;
            let mut conn = database.pool.acquire().await?;
            match output {
                Some(path) => {
                    let file = std::fs::File::create(&path)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    let n = lifecycle::write_csv(&mut conn, shop, selection, &config, now, file)
                        .await?;
                    eprintln!("{n} customers written to {}", path.display());
                }
                None => {
                    lifecycle::write_csv(
                        &mut conn,
                        shop,
                        selection,
                        &config,
                        now,
                        std::io::stdout().lock(),
                    )
                    .await?;
                }
            }
            Ok(())
        }
        Some(SegmentsAction::Rebuild { shop, days }) => {
            let shop = find_shop(database, &shop).await?;
            let days = days.unwrap_or(config.rebuild_history_days);
            let stats =
                lifecycle::rebuild_history(&database.pool, shop, &config, now, days).await?;
            println!(
                "rebuilt {} customers' history ({} changes) and {} days of engagement",
                stats.customers, stats.changes, stats.days
            );
            Ok(())
        }
    }
}
