//! Creating bundle discount codes in Shopify and then sending the offer's
//! `checkout.abandoned` event with its code.

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;
use sqlx::PgPool;

use super::discounts::{self, Created, DiscountSpec};
use crate::abandoned::abandoned_event;
use crate::config::WritebackSettings;
use crate::outbox;
use crate::shop_api::{ConnectError, Connected};
use crate::store::abandoned::{self, PendingCode};
use crate::store::ShopId;

/// Offers handled per round.
const BATCH: i64 = 50;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CodeReport {
    pub created: u64,
    pub failed: u64,
    pub retrying: u64,
}

/// Creates the codes of the shop's pending offers.
pub async fn issue_pending(
    pool: &PgPool,
    shop: &Connected,
    key: &[u8],
    settings: &WritebackSettings,
    now: DateTime<Utc>,
) -> Result<CodeReport, ConnectError> {
    let mut report = CodeReport::default();
    for pending in abandoned::pending_codes(pool, shop.shop, BATCH).await? {
        let token = pending.checkout.checkout_token.clone();
        if pending.checkout.state != "open" {
            let mut conn = pool.acquire().await?;
            abandoned::code_not_needed(&mut conn, shop.shop, &token).await?;
            continue;
        }
        let code = discounts::code_for(key, shop.shop.0, &token);
        let ends_at = now + Duration::hours(settings.discount_valid_hours);
        match create(shop, &pending, &code, now, ends_at).await {
            Ok(id) => {
                finish(pool, shop.shop, pending, &code, &id, ends_at, now).await?;
                report.created += 1;
            }
            Err(error) => {
                let transient = matches!(&error, ConnectError::Api(e) if e.is_transient());
                let give_up = !transient || pending.attempts + 1 >= settings.discount_max_attempts;
                tracing::warn!(shop.id = shop.shop.0, error = %error, give_up, "creating a bundle discount code failed");
                fail(pool, shop.shop, pending, &error.to_string(), give_up, now).await?;
                if give_up {
                    report.failed += 1;
                } else {
                    report.retrying += 1;
                }
            }
        }
    }
    Ok(report)
}

/// Gives up on every pending code of a shop that cannot be called (no token, re-auth needed):
/// the offers go out without codes rather than never.
pub async fn give_up_all(
    pool: &PgPool,
    shop: ShopId,
    reason: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<u64> {
    let mut n = 0;
    for pending in abandoned::pending_codes(pool, shop, BATCH).await? {
        fail(pool, shop, pending, reason, true, now).await?;
        n += 1;
    }
    Ok(n)
}

/// The discount's id in Shopify, creating it unless an earlier attempt already did.
async fn create(
    shop: &Connected,
    pending: &PendingCode,
    code: &str,
    now: DateTime<Utc>,
    ends_at: DateTime<Utc>,
) -> Result<String, ConnectError> {
    let offer = &pending.checkout.offer;
    let variables = discounts::create_variables(&DiscountSpec {
        code,
        percent: offer.discount_percent,
        product_ids: &offer.product_ids,
        customer_id: pending.checkout.customer_id,
        starts_at: now,
        ends_at,
    });
    let data: Value = shop.graphql(discounts::CREATE, variables).await?;
    match discounts::read_created(&data) {
        Created::Made(id) => Ok(id),
        Created::Taken => {
            let found: Value = shop
                .graphql(discounts::FIND, serde_json::json!({ "code": code }))
                .await?;
            found["codeDiscountNodeByCode"]["id"]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| {
                    refused(format!(
                        "the code {code} is taken but not found in the shop"
                    ))
                })
        }
        Created::Refused(message) => Err(refused(message)),
    }
}

fn refused(message: String) -> ConnectError {
    ConnectError::Api(crate::admin_api::AdminApiError::Refused {
        status: 200,
        message,
    })
}

async fn finish(
    pool: &PgPool,
    shop: ShopId,
    pending: PendingCode,
    code: &str,
    discount_id: &str,
    ends_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), ConnectError> {
    let mut checkout = pending.checkout;
    let mut tx = pool.begin().await?;
    if abandoned::code_created(
        &mut tx,
        shop,
        &checkout.checkout_token,
        code,
        discount_id,
        ends_at,
    )
    .await?
    {
        checkout.offer.discount_code = Some(code.to_owned());
        let mut event = abandoned_event(&checkout).map_err(|e| refused(e.to_string()))?;
        event.data["offer"]["discount_ends_at"] = serde_json::json!(ends_at);
        outbox::enqueue(&mut tx, shop, &event, now).await?;
    }
    tx.commit().await?;
    Ok(())
}

async fn fail(
    pool: &PgPool,
    shop: ShopId,
    pending: PendingCode,
    error: &str,
    give_up: bool,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let mut checkout = pending.checkout;
    let mut tx = pool.begin().await?;
    let changed =
        abandoned::code_failed(&mut tx, shop, &checkout.checkout_token, error, give_up).await?;
    if changed && give_up {
        checkout.offer.discount_code = None;
        if let Ok(event) = abandoned_event(&checkout) {
            outbox::enqueue(&mut tx, shop, &event, now).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}
