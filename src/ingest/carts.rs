//! carts/* and checkouts/*.

use sqlx::PgConnection;

use super::orders::event_time;
use super::ApplyError;
use crate::shopify::payloads::{Cart, CartLine, Checkout};
use crate::store::carts::{self, CartRow, CheckoutRow};
use crate::store::inbox::PendingWebhook;
use crate::store::{privacy, ShopId};

fn lines_json(lines: &[CartLine]) -> Result<serde_json::Value, ApplyError> {
    serde_json::to_value(lines).map_err(|e| ApplyError::Invalid(format!("cart lines: {e}")))
}

pub(super) async fn apply_cart(
    conn: &mut PgConnection,
    shop: ShopId,
    hook: &PendingWebhook,
    cart: Cart,
) -> Result<(), ApplyError> {
    let token = cart
        .token
        .or(cart.id)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApplyError::Invalid("cart has no token".into()))?;
    let row = CartRow {
        cart_token: token,
        created_at: cart.created_at,
        updated_at: cart.updated_at.unwrap_or_else(|| event_time(hook)),
        lines: lines_json(&cart.line_items)?,
    };
    carts::upsert_cart(conn, shop, &row).await?;
    Ok(())
}

pub(super) async fn apply_checkout(
    conn: &mut PgConnection,
    shop: ShopId,
    hook: &PendingWebhook,
    checkout: Checkout,
) -> Result<(), ApplyError> {
    let checkout_id = checkout
        .id
        .ok_or_else(|| ApplyError::Invalid("checkout has no id".into()))?;
    let mut customer_id = checkout.customer.as_ref().and_then(|c| c.id());
    if let Some(id) = customer_id {
        if privacy::is_redacted(conn, shop, id).await? {
            customer_id = None;
        }
    }
    let row = CheckoutRow {
        checkout_id,
        token: checkout.token,
        cart_token: checkout.cart_token,
        customer_id,
        has_email: checkout.email.is_some_and(|e| !e.trim().is_empty()),
        created_at: checkout.created_at,
        updated_at: checkout.updated_at.unwrap_or_else(|| event_time(hook)),
        completed_at: checkout.completed_at,
        currency: checkout.currency,
        total_price: checkout.total_price,
        lines: lines_json(&checkout.line_items)?,
    };
    carts::upsert_checkout(conn, shop, &row).await?;
    Ok(())
}
