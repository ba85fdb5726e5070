//! orders/* and refunds/create.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;

use super::ApplyError;
use crate::shopify::payloads::{Order, Refund};
use crate::store::inbox::PendingWebhook;
use crate::store::orders::{self, LineRow, OrderRow, RefundLineRow};
use crate::store::{customers, privacy, ShopId};

/// When the event happened, for resources that carry no timestamp of their own.
pub(super) fn event_time(hook: &PendingWebhook) -> DateTime<Utc> {
    hook.triggered_at.unwrap_or(hook.received_at)
}

pub(super) async fn apply_order(
    conn: &mut PgConnection,
    shop: ShopId,
    hook: &PendingWebhook,
    order: Order,
) -> Result<i64, ApplyError> {
    let order_id = order
        .id()
        .ok_or_else(|| ApplyError::Invalid("order has no id".into()))?;
    let updated_at = order
        .updated_at
        .or(order.created_at)
        .unwrap_or_else(|| event_time(hook));
    let created_at = order
        .created_at
        .or(order.processed_at)
        .unwrap_or(updated_at);
    let mut customer_id = order.customer.as_ref().and_then(|c| c.id());
    if let Some(id) = customer_id {
        if privacy::is_redacted(conn, shop, id).await? {
            customer_id = None;
        }
    }
    // Refunds are facts that only accumulate, so they are recorded whatever the order's age.
    let refund_lines: Vec<RefundLineRow> = order
        .refunds
        .iter()
        .flat_map(|r| refund_rows(r, Some(order_id)))
        .collect();
    orders::add_refund_lines(conn, shop, &refund_lines).await?;

    let row = OrderRow {
        order_id,
        name: order.name,
        customer_id,
        created_at,
        processed_at: order.processed_at,
        updated_at,
        cancelled_at: order.cancelled_at,
        financial_status: order.financial_status,
        test: order.test,
        currency: order.currency,
        total_price: order.total_price.unwrap_or(Decimal::ZERO),
        current_total_price: order.current_total_price,
        source_name: order.source_name,
        cart_token: order.cart_token,
        checkout_token: order.checkout_token,
    };
    if orders::upsert(conn, shop, &row).await? {
        let lines: Vec<LineRow> = order
            .line_items
            .iter()
            .filter_map(|l| {
                Some(LineRow {
                    line_id: l.id()?,
                    product_id: l.product_id,
                    variant_id: l.variant_id,
                    sku: l.sku.clone(),
                    quantity: l.quantity.max(0),
                    current_quantity: l.current_quantity.unwrap_or(l.quantity).max(0),
                    price: l.price.unwrap_or(Decimal::ZERO),
                    gift_card: l.gift_card,
                    product_exists: l.product_exists.unwrap_or(true),
                })
            })
            .collect();
        orders::replace_lines(conn, shop, order_id, &lines).await?;
    }
    if let Some(id) = customer_id {
        customers::ensure(conn, shop, id).await?;
        customers::refresh_stats(conn, shop, id).await?;
    }
    Ok(order_id)
}

pub(super) async fn apply_refund(
    conn: &mut PgConnection,
    shop: ShopId,
    refund: Refund,
) -> Result<i64, ApplyError> {
    let order_id = refund
        .order_id
        .ok_or_else(|| ApplyError::Invalid("refund has no order_id".into()))?;
    let rows = refund_rows(&refund, Some(order_id));
    orders::add_refund_lines(conn, shop, &rows).await?;
    Ok(order_id)
}

fn refund_rows(refund: &Refund, order_id: Option<i64>) -> Vec<RefundLineRow> {
    let (Some(refund_id), Some(order_id)) = (refund.id(), refund.order_id.or(order_id)) else {
        return Vec::new();
    };
    refund
        .refund_line_items
        .iter()
        .filter_map(|l| {
            Some(RefundLineRow {
                refund_line_id: l.id?,
                refund_id,
                order_id,
                line_id: l.line_item_id()?,
                quantity: l.quantity.max(0),
                created_at: refund.created_at,
            })
        })
        .collect()
}
