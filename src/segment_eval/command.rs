//! `shoprecs eval-segments <CDNOW_master.txt>`: reads the log, evaluates, prints.

use std::io::BufReader;
use std::path::PathBuf;

use anyhow::Context;
use chrono::NaiveDate;

use super::{cdnow, evaluate, render_markdown};

/// Arguments of `shoprecs eval-segments`.
#[derive(Debug, clap::Args)]
pub struct EvalSegmentsArgs {
    /// The CDNOW purchase log (`lifetimes/datasets/CDNOW_master.txt`).
    pub log: PathBuf,
    /// Classify with the orders before this date (repeatable: one report per cut-off).
    #[arg(long, value_name = "YYYY-MM-DD", default_value = "1998-01-01")]
    pub cutoff: Vec<NaiveDate>,
    /// The label: no order within this many days from the cut-off; also the naive rule's
    /// look-back.
    #[arg(long, default_value_t = 90, value_parser = clap::value_parser!(u32).range(1..))]
    pub horizon_days: u32,
    /// At-risk factors to sweep (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "1.0,1.5,2.0,3.0")]
    pub at_risk_factors: Vec<f64>,
    /// Print the results as JSON (a list, one report per cut-off).
    #[arg(long)]
    pub json: bool,
}

/// Runs the command.
pub fn run(args: EvalSegmentsArgs) -> anyhow::Result<()> {
    let path = &args.log;
    let file =
        std::fs::File::open(path).with_context(|| format!("Failed to open {}", path.display()))?;
    let log = cdnow::parse(BufReader::new(file))
        .with_context(|| format!("Failed to read {}", path.display()))?;
    anyhow::ensure!(
        !log.customers.is_empty(),
        "{} has no purchase",
        path.display()
    );
    let last = log
        .customers
        .iter()
        .filter_map(|c| c.orders.last().map(|o| o.day))
        .max();
    let reports: Vec<_> = args
        .cutoff
        .iter()
        .map(|&c| {
            if let Some(last) =
                last.filter(|l| (*l - c).num_days() + 1 < i64::from(args.horizon_days))
            {
                eprintln!(
                    "eval-segments: the log ends {last}, before the {}-day horizon after {c} does: \
                     customers are labelled by a shorter future",
                    args.horizon_days
                );
            }
            evaluate(&log.customers, c, args.horizon_days, &args.at_risk_factors)
        })
        .collect();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    } else {
        println!(
            "{} purchase lines, {} orders (customer-days), {} customers in {}\n",
            log.lines,
            log.orders(),
            log.customers.len(),
            path.display()
        );
        for r in &reports {
            println!("{}", render_markdown(r));
        }
    }
    Ok(())
}
