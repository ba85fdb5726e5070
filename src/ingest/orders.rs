//! orders/* and refunds/create.

use std::collections::{HashMap, HashSet};

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

/// One order webhook, normalised: what the store keeps of it.
pub struct OrderState {
    pub row: OrderRow,
    pub lines: Vec<LineRow>,
    pub refunds: Vec<RefundLineRow>,
}

/// Pure: the payload's facts, ids made canonical, timestamps defaulted from the delivery.
pub(super) fn normalize(hook: &PendingWebhook, order: Order) -> Result<OrderState, ApplyError> {
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
    let refunds = order
        .refunds
        .iter()
        .flat_map(|r| refund_rows(r, Some(order_id)))
        .collect();
    let lines = order
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
    let row = OrderRow {
        order_id,
        name: order.name,
        customer_id: order.customer.as_ref().and_then(|c| c.id()),
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
    Ok(OrderState {
        row,
        lines,
        refunds,
    })
}

/// Stores order states of one shop with one statement per step, whether they are one webhook
/// or a whole batch (the same code either way). Later states of the same order in `states`
/// win ties on `updated_at`. Returns the order ids touched.
pub async fn store_orders(
    conn: &mut PgConnection,
    shop: ShopId,
    mut states: Vec<OrderState>,
) -> Result<Vec<i64>, sqlx::Error> {
    let mut customer_ids: Vec<i64> = states.iter().filter_map(|s| s.row.customer_id).collect();
    customer_ids.sort_unstable();
    customer_ids.dedup();
    let redacted = privacy::redacted_among(conn, shop, &customer_ids).await?;
    if !redacted.is_empty() {
        customer_ids.retain(|c| !redacted.contains(c));
        for state in &mut states {
            if state.row.customer_id.is_some_and(|c| redacted.contains(&c)) {
                state.row.customer_id = None;
            }
        }
    }
    // Refunds are facts that only accumulate, so they are recorded whatever the order's age.
    let refunds: Vec<RefundLineRow> = states
        .iter_mut()
        .flat_map(|s| std::mem::take(&mut s.refunds))
        .collect();
    orders::add_refund_lines(conn, shop, &refunds).await?;

    // One state per order: the newest, the later delivery on a tie.
    let mut newest: HashMap<i64, usize> = HashMap::new();
    for (i, state) in states.iter().enumerate() {
        let keep = match newest.get(&state.row.order_id) {
            Some(&j) => states[j].row.updated_at <= state.row.updated_at,
            None => true,
        };
        if keep {
            newest.insert(state.row.order_id, i);
        }
    }
    let mut chosen: Vec<&OrderState> = newest.values().map(|&i| &states[i]).collect();
    chosen.sort_by_key(|s| s.row.order_id);
    let rows: Vec<&OrderRow> = chosen.iter().map(|s| &s.row).collect();
    let stored: HashSet<i64> = orders::upsert_many(conn, shop, &rows)
        .await?
        .into_iter()
        .collect();
    let lines: Vec<(i64, &[LineRow])> = chosen
        .iter()
        .filter(|s| stored.contains(&s.row.order_id))
        .map(|s| (s.row.order_id, s.lines.as_slice()))
        .collect();
    orders::replace_lines_many(conn, shop, &lines).await?;
    customers::ensure_many(conn, shop, &customer_ids).await?;
    customers::refresh_stats(conn, shop, &customer_ids).await?;
    Ok(chosen.iter().map(|s| s.row.order_id).collect())
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
