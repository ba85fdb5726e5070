//! `shoprecs eval <orders.csv>`: reads the export, runs the evaluation, prints or dumps it.

use std::io::BufReader;
use std::path::PathBuf;

use anyhow::Context;
use chrono::NaiveDate;

use super::dataset::{Dataset, SplitRule};
use super::{dump, evaluate, render_text};
use crate::csv_import::OrdersReader;
use crate::engine::EngineConfig;

/// Arguments of `shoprecs eval`.
#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// A Shopify orders CSV export.
    pub orders: PathBuf,
    /// Train on orders before this date (UTC midnight), test on the rest.
    #[arg(long, value_name = "YYYY-MM-DD", conflicts_with = "last_order")]
    pub split_date: Option<NaiveDate>,
    /// Test on each customer's last order, train on everything else (the default).
    #[arg(long)]
    pub last_order: bool,
    /// Length of the recommended lists.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..))]
    pub k: u16,
    /// Print the results as JSON.
    #[arg(long)]
    pub json: bool,
    /// Also write the split, the tasks and every ranked list to this directory.
    #[arg(long, value_name = "DIR")]
    pub dump_split: Option<PathBuf>,
    /// Override an engine setting for this run, e.g. `--engine min_pair_support=1`
    /// (repeatable; names as in `EngineConfig`).
    #[arg(long = "engine", value_name = "NAME=VALUE")]
    pub engine: Vec<String>,
}

/// The default engine configuration with `NAME=VALUE` overrides.
pub fn engine_config(overrides: &[String]) -> anyhow::Result<EngineConfig> {
    let mut c = EngineConfig::default();
    for o in overrides {
        let (name, value) = o
            .split_once('=')
            .with_context(|| format!("--engine {o}: expected NAME=VALUE"))?;
        let v = value.trim();
        let f = || -> anyhow::Result<f64> {
            v.parse()
                .with_context(|| format!("--engine {o}: not a number"))
        };
        let u = || -> anyhow::Result<u32> {
            v.parse()
                .with_context(|| format!("--engine {o}: not a whole number"))
        };
        match name.trim() {
            "bestseller_half_life_days" => c.bestseller_half_life_days = f()?,
            "pair_half_life_days" => c.pair_half_life_days = f()?,
            "min_pair_support" => c.min_pair_support = u()?,
            "pair_popularity_exponent" => c.pair_popularity_exponent = f()?,
            "min_pair_support_merged" => c.min_pair_support_merged = u()?,
            "pair_support_prior" => c.pair_support_prior = f()?,
            "repeat_purchase_min_share" => c.repeat_purchase_min_share = f()?,
            "repeat_purchase_min_buyers" => c.repeat_purchase_min_buyers = u()?,
            "repeat_purchase_min_chance" => c.repeat_purchase_min_chance = f()?,
            "profile_half_life_days" => c.profile_half_life_days = f()?,
            other => anyhow::bail!("--engine: unknown or unsupported setting {other}"),
        }
    }
    Ok(c)
}

/// Runs the command.
pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    let path = &args.orders;
    let file =
        std::fs::File::open(path).with_context(|| format!("Failed to open {}", path.display()))?;
    let reader = OrdersReader::new(BufReader::new(file))
        .with_context(|| format!("Failed to read {}", path.display()))?;
    let mut skipped = 0usize;
    let orders = reader.filter_map(|item| match item {
        Ok(o) => Some(o),
        Err(s) => {
            skipped += 1;
            if skipped <= 20 {
                eprintln!("{}: {s}", path.display());
            }
            None
        }
    });
    let ds = Dataset::from_orders(orders);
    if skipped > 20 {
        eprintln!("{}: {skipped} rows skipped in all", path.display());
    }
    anyhow::ensure!(
        !ds.orders.is_empty(),
        "{} has no usable order",
        path.display()
    );
    let rule = args
        .split_date
        .map_or(SplitRule::LastOrder, SplitRule::Date);
    let cfg = engine_config(&args.engine)?;
    let ev = evaluate(&ds, rule, usize::from(args.k), cfg);
    if let Some(dir) = &args.dump_split {
        dump::write(dir, &ds, &ev)?;
        eprintln!("split, tasks and lists written to {}", dir.display());
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&ev.report)?);
    } else {
        print!("{}", render_text(&ev.report));
    }
    Ok(())
}
