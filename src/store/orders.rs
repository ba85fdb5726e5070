//! Orders, their lines, and refunded quantities.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;

use super::ShopId;

/// One order state, as normalised from a webhook (or an import).
pub struct OrderRow {
    pub order_id: i64,
    pub name: String,
    pub customer_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub processed_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub financial_status: Option<String>,
    pub test: bool,
    pub currency: String,
    pub total_price: Decimal,
    pub current_total_price: Option<Decimal>,
    pub source_name: Option<String>,
    pub cart_token: Option<String>,
    pub checkout_token: Option<String>,
}

pub struct LineRow {
    pub line_id: i64,
    pub product_id: Option<i64>,
    pub variant_id: Option<i64>,
    pub sku: String,
    pub quantity: i32,
    pub current_quantity: i32,
    pub price: Decimal,
    pub gift_card: bool,
    pub product_exists: bool,
}

pub struct RefundLineRow {
    pub refund_line_id: i64,
    pub refund_id: i64,
    pub order_id: i64,
    pub line_id: i64,
    pub quantity: i32,
    pub created_at: Option<DateTime<Utc>>,
}

/// Stores each order state that is at least as new as the one held (Shopify retries and
/// reorders deliveries; `updated_at` decides). Returns the ids that were stored. `orders` must
/// not repeat an order id.
pub async fn upsert_many(
    conn: &mut PgConnection,
    shop: ShopId,
    orders: &[&OrderRow],
) -> sqlx::Result<Vec<i64>> {
    if orders.is_empty() {
        return Ok(Vec::new());
    }
    let col = |f: fn(&OrderRow) -> Option<String>| orders.iter().map(|o| f(o)).collect::<Vec<_>>();
    let ids: Vec<i64> = orders.iter().map(|o| o.order_id).collect();
    let names: Vec<String> = orders.iter().map(|o| o.name.clone()).collect();
    let customers: Vec<Option<i64>> = orders.iter().map(|o| o.customer_id).collect();
    let created: Vec<DateTime<Utc>> = orders.iter().map(|o| o.created_at).collect();
    let processed: Vec<Option<DateTime<Utc>>> = orders.iter().map(|o| o.processed_at).collect();
    let updated: Vec<DateTime<Utc>> = orders.iter().map(|o| o.updated_at).collect();
    let cancelled: Vec<Option<DateTime<Utc>>> = orders.iter().map(|o| o.cancelled_at).collect();
    let statuses = col(|o| o.financial_status.clone());
    let tests: Vec<bool> = orders.iter().map(|o| o.test).collect();
    let currencies: Vec<String> = orders.iter().map(|o| o.currency.clone()).collect();
    let totals: Vec<Decimal> = orders.iter().map(|o| o.total_price).collect();
    let current: Vec<Option<Decimal>> = orders.iter().map(|o| o.current_total_price).collect();
    let sources = col(|o| o.source_name.clone());
    let carts = col(|o| o.cart_token.clone());
    let checkouts = col(|o| o.checkout_token.clone());
    sqlx::query_scalar!(
        r#"insert into "order" (shop_id, order_id, name, customer_id, created_at, processed_at, updated_at,
                                cancelled_at, financial_status, test, currency, total_price,
                                current_total_price, source_name, cart_token, checkout_token)
           select $1, * from unnest($2::int8[], $3::text[], $4::int8[], $5::timestamptz[], $6::timestamptz[],
                                    $7::timestamptz[], $8::timestamptz[], $9::text[], $10::bool[], $11::text[],
                                    $12::numeric[], $13::numeric[], $14::text[], $15::text[], $16::text[])
           on conflict (shop_id, order_id) do update
              set name = excluded.name, customer_id = excluded.customer_id,
                  created_at = excluded.created_at, processed_at = excluded.processed_at,
                  updated_at = excluded.updated_at, cancelled_at = excluded.cancelled_at,
                  financial_status = excluded.financial_status, test = excluded.test,
                  currency = excluded.currency, total_price = excluded.total_price,
                  current_total_price = excluded.current_total_price,
                  source_name = excluded.source_name, cart_token = excluded.cart_token,
                  checkout_token = excluded.checkout_token
            where "order".updated_at <= excluded.updated_at
           returning order_id"#,
        shop.0,
        &ids,
        &names,
        &customers as &[Option<i64>],
        &created,
        &processed as &[Option<DateTime<Utc>>],
        &updated,
        &cancelled as &[Option<DateTime<Utc>>],
        &statuses as &[Option<String>],
        &tests,
        &currencies,
        &totals,
        &current as &[Option<Decimal>],
        &sources as &[Option<String>],
        &carts as &[Option<String>],
        &checkouts as &[Option<String>]
    )
    .fetch_all(conn)
    .await
}

/// Replaces the lines of each listed order with the given ones.
pub async fn replace_lines_many(
    conn: &mut PgConnection,
    shop: ShopId,
    orders: &[(i64, &[LineRow])],
) -> sqlx::Result<()> {
    if orders.is_empty() {
        return Ok(());
    }
    let order_ids: Vec<i64> = orders.iter().map(|(id, _)| *id).collect();
    sqlx::query!(
        "delete from order_line where shop_id = $1 and order_id = any($2)",
        shop.0,
        &order_ids
    )
    .execute(&mut *conn)
    .await?;
    let lines: Vec<(i64, &LineRow)> = orders
        .iter()
        .flat_map(|(id, lines)| lines.iter().map(move |l| (*id, l)))
        .collect();
    if lines.is_empty() {
        return Ok(());
    }
    let owners: Vec<i64> = lines.iter().map(|(id, _)| *id).collect();
    let line_ids: Vec<i64> = lines.iter().map(|(_, l)| l.line_id).collect();
    let product_ids: Vec<Option<i64>> = lines.iter().map(|(_, l)| l.product_id).collect();
    let variant_ids: Vec<Option<i64>> = lines.iter().map(|(_, l)| l.variant_id).collect();
    let skus: Vec<String> = lines.iter().map(|(_, l)| l.sku.clone()).collect();
    let quantities: Vec<i32> = lines.iter().map(|(_, l)| l.quantity).collect();
    let current: Vec<i32> = lines.iter().map(|(_, l)| l.current_quantity).collect();
    let prices: Vec<Decimal> = lines.iter().map(|(_, l)| l.price).collect();
    let gift: Vec<bool> = lines.iter().map(|(_, l)| l.gift_card).collect();
    let exists: Vec<bool> = lines.iter().map(|(_, l)| l.product_exists).collect();
    sqlx::query!(
        "insert into order_line (shop_id, order_id, line_id, product_id, variant_id, sku, quantity,
                                 current_quantity, price, gift_card, product_exists)
         select $1, * from unnest($2::int8[], $3::int8[], $4::int8[], $5::int8[], $6::text[], $7::int4[],
                                  $8::int4[], $9::numeric[], $10::bool[], $11::bool[])
         on conflict do nothing",
        shop.0,
        &owners,
        &line_ids,
        &product_ids as &[Option<i64>],
        &variant_ids as &[Option<i64>],
        &skus,
        &quantities,
        &current,
        &prices,
        &gift,
        &exists
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Records refunded quantities; a refund line already seen counts once.
pub async fn add_refund_lines(
    conn: &mut PgConnection,
    shop: ShopId,
    lines: &[RefundLineRow],
) -> sqlx::Result<()> {
    if lines.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = lines.iter().map(|l| l.refund_line_id).collect();
    let refund_ids: Vec<i64> = lines.iter().map(|l| l.refund_id).collect();
    let order_ids: Vec<i64> = lines.iter().map(|l| l.order_id).collect();
    let line_ids: Vec<i64> = lines.iter().map(|l| l.line_id).collect();
    let quantities: Vec<i32> = lines.iter().map(|l| l.quantity).collect();
    let created: Vec<Option<DateTime<Utc>>> = lines.iter().map(|l| l.created_at).collect();
    sqlx::query!(
        "insert into refund_line (shop_id, refund_line_id, refund_id, order_id, line_id, quantity, created_at)
         select $1, * from unnest($2::int8[], $3::int8[], $4::int8[], $5::int8[], $6::int4[], $7::timestamptz[])
         on conflict do nothing",
        shop.0,
        &ids,
        &refund_ids,
        &order_ids,
        &line_ids,
        &quantities,
        &created as &[Option<DateTime<Utc>>]
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Detaches orders from a customer (privacy redaction): the listed orders and every order
/// still linked to them.
pub async fn unlink_customer(
    conn: &mut PgConnection,
    shop: ShopId,
    customer_id: i64,
    order_ids: &[i64],
) -> sqlx::Result<u64> {
    let done = sqlx::query!(
        r#"update "order" set customer_id = null
            where shop_id = $1 and (customer_id = $2 or order_id = any($3))"#,
        shop.0,
        customer_id,
        order_ids
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}
