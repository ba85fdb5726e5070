//! `shoprecs import orders|products <file.csv> --shop S`: Shopify's CSV exports, through the
//! same path as webhooks. Each record becomes a webhook-shaped body stored in the inbox (keyed
//! by a hash of its content, so re-importing an unchanged record stores nothing) and is then
//! applied by the same applier. Imported states carry old timestamps, so any real webhook about
//! the same order or product wins.
//!
//! The exports have no Shopify ids for products, variants or customers: products get stable
//! ids derived from the shop and handle (negative, so they never collide with Shopify's), or
//! the id of a product already known with that handle; order lines are matched to variants by
//! SKU, then by "Title - Variant" name; customers get a pseudonymous id derived from the
//! e-mail, which itself is never stored.

mod orders;
mod products;

use std::path::Path;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use crate::csv_import::Skipped;
use crate::ingest::worker::apply_batch;
use crate::shopify::ShopDomain;
use crate::store::inbox::{self, NewWebhook};
use crate::store::{shops, ShopId};

/// What an import did, for the report.
#[derive(Debug, Default)]
pub struct ImportReport {
    pub records: u64,
    pub new: u64,
    pub unchanged: u64,
    pub skipped: Vec<Skipped>,
    /// Order lines that matched no product: kept as custom lines (they cannot be recommended).
    pub unmatched: Vec<String>,
}

impl ImportReport {
    pub fn print(&self, what: &str) {
        println!(
            "{what}: {} read, {} new or changed, {} unchanged, {} rows skipped, {} lines matched no product",
            self.records,
            self.new,
            self.unchanged,
            self.skipped.len(),
            self.unmatched.len()
        );
        let lines = self
            .skipped
            .iter()
            .map(ToString::to_string)
            .chain(self.unmatched.iter().cloned());
        for line in lines.take(50) {
            println!("  {line}");
        }
        let listed = self.skipped.len() + self.unmatched.len();
        if listed > 50 {
            println!("  … and {} more", listed - 50);
        }
    }
}

/// A stable id in the negative range for something the export names but does not number.
pub(crate) fn synthetic_id(shop: ShopId, kind: &str, key: &str) -> i64 {
    let digest = Sha256::new()
        .chain_update(shop.0.to_be_bytes())
        .chain_update(kind.as_bytes())
        .chain_update([0])
        .chain_update(key.as_bytes())
        .finalize();
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    // Negative and never zero: Shopify ids are positive.
    -((u64::from_be_bytes(bytes) >> 2) as i64) - 1
}

fn spinner(what: &str) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_message(what.to_owned());
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

/// Stores one record's webhook body, deduplicated on its content.
async fn store(
    pool: &PgPool,
    shop: ShopId,
    topic: &str,
    body: &[u8],
    report: &mut ImportReport,
) -> anyhow::Result<()> {
    let key = format!("import:{topic}:{}", hex::encode(Sha256::digest(body)));
    let hook = NewWebhook {
        dedupe_key: &key,
        topic,
        webhook_id: None,
        api_version: Some("csv-import"),
        triggered_at: None,
        body,
    };
    if inbox::insert(pool, shop, &hook)
        .await
        .context("Failed to store an imported record")?
    {
        report.new += 1;
    } else {
        report.unchanged += 1;
    }
    Ok(())
}

/// Applies what is pending (a running server may share the work) and asks a running server
/// to rebuild the shop's model.
async fn apply_and_notify(pool: &PgPool, shop: ShopId) -> anyhow::Result<()> {
    let bar = spinner("applying");
    let mut applied = 0usize;
    loop {
        let n = apply_batch(pool, 500, None)
            .await
            .context("Failed to apply imported records")?;
        if n == 0 {
            break;
        }
        applied += n;
        bar.set_message(format!("applied {applied}"));
    }
    bar.finish_and_clear();
    let change = crate::recs::follow::Change::Rebuild { shop };
    crate::recs::follow::announce(pool, uuid::Uuid::new_v4(), &change).await?;
    Ok(())
}

async fn shop_for(pool: &PgPool, raw: &str) -> anyhow::Result<ShopId> {
    let domain = ShopDomain::parse(raw)?;
    Ok(shops::resolve_or_create(pool, &domain).await?)
}

fn open(path: &Path) -> anyhow::Result<std::io::BufReader<std::fs::File>> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    Ok(std::io::BufReader::new(file))
}

/// `shoprecs import products`.
pub async fn import_products(
    pool: &PgPool,
    shop: &str,
    path: &Path,
) -> anyhow::Result<ImportReport> {
    let shop = shop_for(pool, shop).await?;
    let report = products::import(pool, shop, open(path)?).await?;
    apply_and_notify(pool, shop).await?;
    Ok(report)
}

/// `shoprecs import orders`.
pub async fn import_orders(pool: &PgPool, shop: &str, path: &Path) -> anyhow::Result<ImportReport> {
    let shop = shop_for(pool, shop).await?;
    // Lines are matched against the catalogue as it stands, so apply pending products first.
    apply_and_notify(pool, shop).await?;
    let report = orders::import(pool, shop, open(path)?).await?;
    apply_and_notify(pool, shop).await?;
    Ok(report)
}
