//! Carts and checkouts (for abandoned-checkout flows and cart context).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;

use super::ShopId;

pub struct CartRow {
    pub cart_token: String,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    pub lines: serde_json::Value,
}

pub async fn upsert_cart(conn: &mut PgConnection, shop: ShopId, c: &CartRow) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into cart (shop_id, cart_token, created_at, updated_at, lines)
         values ($1, $2, $3, $4, $5)
         on conflict (shop_id, cart_token) do update
            set lines = excluded.lines, updated_at = excluded.updated_at,
                created_at = coalesce(cart.created_at, excluded.created_at)
          where cart.updated_at <= excluded.updated_at",
        shop.0,
        c.cart_token,
        c.created_at,
        c.updated_at,
        c.lines
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub struct CheckoutRow {
    pub checkout_id: i64,
    pub token: Option<String>,
    pub cart_token: Option<String>,
    pub customer_id: Option<i64>,
    pub has_email: bool,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    pub currency: Option<String>,
    pub total_price: Option<Decimal>,
    pub lines: serde_json::Value,
}

pub async fn upsert_checkout(
    conn: &mut PgConnection,
    shop: ShopId,
    c: &CheckoutRow,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into checkout (shop_id, checkout_id, token, cart_token, customer_id, has_email,
                               created_at, updated_at, completed_at, currency, total_price, lines)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         on conflict (shop_id, checkout_id) do update
            set token = excluded.token, cart_token = excluded.cart_token,
                customer_id = excluded.customer_id, has_email = excluded.has_email,
                created_at = coalesce(checkout.created_at, excluded.created_at),
                updated_at = excluded.updated_at, completed_at = excluded.completed_at,
                currency = excluded.currency, total_price = excluded.total_price,
                lines = excluded.lines
          where checkout.updated_at <= excluded.updated_at",
        shop.0,
        c.checkout_id,
        c.token,
        c.cart_token,
        c.customer_id,
        c.has_email,
        c.created_at,
        c.updated_at,
        c.completed_at,
        c.currency,
        c.total_price,
        c.lines
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Detaches checkouts from a redacted customer. Their e-mail was the customer's too: without
/// it, the checkouts can no longer become abandoned checkouts of anyone.
pub async fn unlink_customer(
    conn: &mut PgConnection,
    shop: ShopId,
    customer_id: i64,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update checkout set customer_id = null, has_email = false
          where shop_id = $1 and customer_id = $2",
        shop.0,
        customer_id
    )
    .execute(conn)
    .await?;
    Ok(())
}
