//! `shoprecs backfill --shop S`: starts the shop's backfill (unless one is unfinished) in the
//! running server, through the shared database, and follows its stored progress with a
//! progress bar until it is done or failed. `--retry` queues a failed one again; `--status`
//! prints where it is and exits.

use std::time::Duration;

use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressStyle};
use sqlx::PgPool;

use crate::backfill::{self, jobs, Progress};
use crate::config::Settings;
use crate::shopify::ShopDomain;
use crate::store::{shops, ShopId};

#[derive(Debug, clap::Args)]
pub struct BackfillArgs {
    /// The shop's myshopify.com domain (installed, with an Admin API token).
    #[arg(long)]
    pub shop: String,
    /// Queue the shop's failed backfill again, from where it stopped.
    #[arg(long, conflicts_with = "status")]
    pub retry: bool,
    /// Only print the latest backfill's progress (also as JSON with --json).
    #[arg(long)]
    pub status: bool,
    /// With --status: print the progress as JSON (the API's `/api/v1/backfill` shape).
    #[arg(long, requires = "status")]
    pub json: bool,
}

pub async fn run(pool: &PgPool, settings: &Settings, args: BackfillArgs) -> anyhow::Result<()> {
    let domain = ShopDomain::parse(&args.shop)?;
    let shop = shops::find(pool, &domain)
        .await?
        .with_context(|| format!("shop {domain} is not known (install the app on it first)"))?;
    let now = || chrono::Utc::now();
    if args.status {
        let job = jobs::latest(pool, shop)
            .await?
            .with_context(|| format!("{domain} has no backfill yet"))?;
        let progress = Progress::of(&job, now());
        if args.json {
            println!("{}", serde_json::to_string_pretty(&progress)?);
        } else {
            print_status(&domain, &progress);
        }
        return Ok(());
    }
    let latest = jobs::latest(pool, shop).await?;
    match latest {
        Some(job) if job.status == "failed" && args.retry => {
            backfill::retry(pool, shop).await?;
            println!("{domain}: backfill {} queued again", job.job_id);
        }
        Some(job) if job.status == "failed" => {
            print_status(&domain, &Progress::of(&job, now()));
            bail!("the last backfill failed; run again with --retry to resume it");
        }
        Some(job) if job.is_active() => {
            println!(
                "{domain}: following backfill {} already under way",
                job.job_id
            );
        }
        _ => {
            let job = backfill::start(pool, &settings.backfill, shop, now().date_naive()).await?;
            println!(
                "{domain}: backfill {} queued: products and orders since {}",
                job.job_id, job.orders_since
            );
        }
    }
    follow(pool, shop).await
}

fn print_status(domain: &ShopDomain, p: &Progress) {
    println!("{domain}: backfill {}: {}", p.job_id, p.summary());
    if let Some(error) = &p.error {
        println!("  error: {error}");
    }
}

/// Shows the stored progress until the job ends; a failure is the command's error.
async fn follow(pool: &PgPool, shop: ShopId) -> anyhow::Result<()> {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {prefix:>9} [{bar:30}] {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    let mut queued_polls = 0;
    loop {
        let job = jobs::latest(pool, shop)
            .await?
            .context("the backfill disappeared (was the shop deleted?)")?;
        let p = Progress::of(&job, chrono::Utc::now());
        bar.set_prefix(p.phase.clone());
        bar.set_length(p.total.unwrap_or(p.done).max(p.done) as u64);
        bar.set_position(p.done as u64);
        queued_polls = if p.status == "queued" {
            queued_polls + 1
        } else {
            0
        };
        let waiting = queued_polls > 20;
        bar.set_message(match (&p.error, waiting) {
            (_, true) => "waiting for the server (`shoprecs serve`) to pick it up".to_owned(),
            (Some(e), false) if job.is_active() => format!("{} — retrying after: {e}", p.summary()),
            _ => p.summary(),
        });
        match p.status.as_str() {
            "done" => {
                bar.finish_with_message(p.summary());
                return Ok(());
            }
            "failed" => {
                bar.abandon_with_message(p.summary());
                bail!(
                    "backfill failed: {}; fix the cause and run again with --retry",
                    p.error.unwrap_or_else(|| "no reason recorded".into())
                );
            }
            _ => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    }
}
