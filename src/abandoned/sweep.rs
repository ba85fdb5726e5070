//! The sweep: recover, expire, then detect abandoned checkouts, one small transaction per
//! batch, each event enqueued in the transaction that makes its change.

use anyhow::Context as _;
use chrono::{DateTime, Duration, Utc};
use sqlx::{PgConnection, PgPool};

use super::offer;
use crate::config::CheckoutSettings;
use crate::outbox::{self, topic, NewEvent};
use crate::recs::lists::{self, List};
use crate::recs::Models;
use crate::store::abandoned::{self, AbandonedCheckout, BundleOffer, Candidate, Complement};
use crate::store::{access_tokens, shops, ShopId};

/// Rows handled per transaction.
const BATCH: i64 = 200;

/// What one sweep changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SweepReport {
    pub abandoned: u64,
    pub recovered: u64,
    pub expired: u64,
    /// Shops whose sweep failed (logged; the next sweep tries again).
    pub failed_shops: u64,
}

impl std::ops::AddAssign for SweepReport {
    fn add_assign(&mut self, other: Self) {
        self.abandoned += other.abandoned;
        self.recovered += other.recovered;
        self.expired += other.expired;
        self.failed_shops += other.failed_shops;
    }
}

/// Sweeps every installed shop as of `now`. A shop that fails is logged and counted and does
/// not stop the others.
pub async fn sweep(
    pool: &PgPool,
    models: &Models,
    settings: &CheckoutSettings,
    now: DateTime<Utc>,
) -> anyhow::Result<SweepReport> {
    let shops = shops::installed(pool)
        .await
        .context("Failed to list installed shops")?;
    let mut report = SweepReport::default();
    for shop in shops {
        match sweep_shop(pool, models, shop, settings, now).await {
            Ok(r) => report += r,
            Err(e) => {
                tracing::warn!(error = ?e, shop.id = shop.0, "checkout sweep failed");
                report.failed_shops += 1;
            }
        }
    }
    Ok(report)
}

/// Sweeps one shop as of `now`.
pub async fn sweep_shop(
    pool: &PgPool,
    models: &Models,
    shop: ShopId,
    settings: &CheckoutSettings,
    now: DateTime<Utc>,
) -> anyhow::Result<SweepReport> {
    let mut report = SweepReport {
        recovered: recover(pool, shop, now)
            .await
            .context("Failed to recover abandoned checkouts")?,
        ..Default::default()
    };
    let mut conn = pool.acquire().await?;
    let expire_before = now - Duration::days(settings.expire_after_days);
    report.expired = abandoned::expire(&mut conn, shop, expire_before, now)
        .await
        .context("Failed to expire abandoned checkouts")?;
    drop(conn);
    report.abandoned = detect(pool, models, shop, settings, now)
        .await
        .context("Failed to detect abandoned checkouts")?;
    if report != SweepReport::default() {
        tracing::info!(
            shop.id = shop.0,
            abandoned = report.abandoned,
            recovered = report.recovered,
            expired = report.expired,
            "checkouts swept"
        );
    }
    Ok(report)
}

async fn recover(pool: &PgPool, shop: ShopId, now: DateTime<Utc>) -> anyhow::Result<u64> {
    let mut recovered = 0;
    loop {
        let mut tx = pool.begin().await?;
        let found = abandoned::recoveries(&mut tx, shop, BATCH).await?;
        for r in &found {
            if abandoned::mark_recovered(&mut tx, shop, r).await? {
                let event = NewEvent {
                    topic: topic::CHECKOUT_RECOVERED,
                    occurred_at: r.ordered_at,
                    data: serde_json::json!({
                        "checkout_token": r.checkout_token,
                        "customer_id": r.customer_id,
                        "order_id": r.order_id,
                        "abandoned_at": r.abandoned_at,
                        "recovered_at": r.ordered_at,
                        "complement_product_id": r.complement_product_id,
                        "complement_bought": r.complement_bought,
                    }),
                };
                outbox::enqueue(&mut tx, shop, &event, now).await?;
                recovered += 1;
            }
        }
        tx.commit().await?;
        if (found.len() as i64) < BATCH {
            return Ok(recovered);
        }
    }
}

async fn detect(
    pool: &PgPool,
    models: &Models,
    shop: ShopId,
    settings: &CheckoutSettings,
    now: DateTime<Utc>,
) -> anyhow::Result<u64> {
    let delay = Duration::minutes(settings.abandon_after_minutes);
    let changed_before = now - delay;
    // Older ones would expire at once: they are not worth an offer.
    let changed_after = now - Duration::days(settings.expire_after_days) - delay;
    // Shops that let shoprecs create discounts get a real code with each bundle.
    let codes = settings.bundle_discount_percent > 0
        && access_tokens::can_use_scope(pool, shop, "write_discounts").await?;
    let mut recorded = 0;
    for from_pixel in [false, true] {
        loop {
            let mut tx = pool.begin().await?;
            let candidates = if from_pixel {
                abandoned::pixel_candidates(&mut tx, shop, changed_before, changed_after, BATCH)
                    .await?
            } else {
                abandoned::webhook_candidates(&mut tx, shop, changed_before, changed_after, BATCH)
                    .await?
            };
            for candidate in &candidates {
                let row = offer_for(&mut tx, models, shop, candidate, settings, now).await?;
                if !abandoned::insert(&mut tx, shop, &row, codes).await? {
                    continue;
                }
                recorded += 1;
                // With codes, the event goes out once the code exists in Shopify
                // (`crate::writeback::discounts`).
                if !codes {
                    outbox::enqueue(&mut tx, shop, &abandoned_event(&row)?, now).await?;
                }
            }
            tx.commit().await?;
            if (candidates.len() as i64) < BATCH {
                break;
            }
        }
    }
    Ok(recorded)
}

/// `checkout.abandoned` for a recorded checkout and its offer.
pub fn abandoned_event(row: &AbandonedCheckout) -> serde_json::Result<NewEvent> {
    Ok(NewEvent {
        topic: topic::CHECKOUT_ABANDONED,
        occurred_at: row.abandoned_at,
        data: serde_json::to_value(row)?,
    })
}

/// The abandoned checkout to record for a candidate, with its bundle offer.
async fn offer_for(
    conn: &mut PgConnection,
    models: &Models,
    shop: ShopId,
    c: &Candidate,
    settings: &CheckoutSettings,
    now: DateTime<Utc>,
) -> sqlx::Result<AbandonedCheckout> {
    let product_ids = match &c.client_id {
        Some(client) => {
            let (carted, viewed) =
                abandoned::browsed_before(conn, shop, client, c.last_change).await?;
            offer::pixel_product_ids(&carted, &viewed)
        }
        None => offer::checkout_product_ids(&c.lines),
    };
    let complement = best_complement(models, shop, &product_ids, c.customer_id, now);
    Ok(AbandonedCheckout {
        checkout_token: c.checkout_token.clone(),
        source: c.source.to_owned(),
        checkout_id: c.checkout_id,
        cart_token: c.cart_token.clone(),
        customer_id: c.customer_id,
        total_price: c.total_price,
        currency: c.currency.clone(),
        state: "open".to_owned(),
        abandoned_at: offer::abandoned_at(c.last_change, settings.abandon_after_minutes),
        recovered_at: None,
        recovered_order_id: None,
        expired_at: None,
        offer: BundleOffer {
            product_ids: offer::bundle_products(
                &product_ids,
                complement.as_ref().map(|c| c.product_id),
            ),
            complement,
            discount_percent: settings.bundle_discount_percent,
            discount_code: None,
            created_at: now,
        },
        product_ids,
    })
}

/// The first item of the engine's cart list for these products (their neighbours, merchant
/// rules applied, only recommendable products), else the shelf fallback: the bestsellers.
fn best_complement(
    models: &Models,
    shop: ShopId,
    items: &[i64],
    customer: Option<i64>,
    now: DateTime<Utc>,
) -> Option<Complement> {
    let context = lists::Context {
        cart: items.to_vec(),
        customer,
        ..Default::default()
    };
    let at = now.timestamp();
    let (mut found, _) = lists::serve(models, shop, List::Cart, &context, 1, at);
    if found.is_empty() {
        let limit = items.len() + 1;
        found = lists::serve(
            models,
            shop,
            List::Bestsellers,
            &Default::default(),
            limit,
            at,
        )
        .0;
        found.retain(|i| !items.contains(&i.product.product_id));
    }
    let item = found.into_iter().next()?;
    Some(Complement {
        product_id: item.product.product_id,
        reason: serde_json::to_value(&item.reason).ok()?,
        reason_text: item.reason_text,
    })
}
