//! Privacy requests: redaction tombstones, data requests and the customer export.

use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};

use super::ShopId;

/// A customer id is kept only as this hash after redaction: enough to recognise a late
/// webhook about them, not to name them.
fn customer_hash(shop: ShopId, customer_id: i64) -> Vec<u8> {
    let mut hasher = Sha256::new();
    hasher.update(b"shoprecs-redacted-customer");
    hasher.update(shop.0.to_be_bytes());
    hasher.update(customer_id.to_be_bytes());
    hasher.finalize().to_vec()
}

/// Which of `customer_ids` have been redacted.
pub async fn redacted_among(
    conn: &mut PgConnection,
    shop: ShopId,
    customer_ids: &[i64],
) -> sqlx::Result<std::collections::HashSet<i64>> {
    if customer_ids.is_empty() {
        return Ok(Default::default());
    }
    let hashes: Vec<Vec<u8>> = customer_ids
        .iter()
        .map(|c| customer_hash(shop, *c))
        .collect();
    let found: Vec<Vec<u8>> = sqlx::query_scalar!(
        "select customer_hash from redacted_customer where shop_id = $1 and customer_hash = any($2)",
        shop.0,
        &hashes
    )
    .fetch_all(conn)
    .await?;
    Ok(customer_ids
        .iter()
        .zip(hashes)
        .filter(|(_, h)| found.contains(h))
        .map(|(c, _)| *c)
        .collect())
}

pub async fn is_redacted(
    conn: &mut PgConnection,
    shop: ShopId,
    customer_id: i64,
) -> sqlx::Result<bool> {
    let found = sqlx::query_scalar!(
        "select 1 as one from redacted_customer where shop_id = $1 and customer_hash = $2",
        shop.0,
        customer_hash(shop, customer_id)
    )
    .fetch_optional(conn)
    .await?;
    Ok(found.is_some())
}

pub async fn record_redaction(
    conn: &mut PgConnection,
    shop: ShopId,
    customer_id: i64,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into redacted_customer (shop_id, customer_hash) values ($1, $2) on conflict do nothing",
        shop.0,
        customer_hash(shop, customer_id)
    )
    .execute(&mut *conn)
    .await?;
    // Data requests name the customer too; once redacted, nothing may.
    sqlx::query!(
        "delete from privacy_request where shop_id = $1 and customer_id = $2",
        shop.0,
        customer_id
    )
    .execute(&mut *conn)
    .await?;
    // Failed webhooks keep their raw body for diagnosis; drop any that mention the customer.
    sqlx::query!(
        "update webhook_inbox set body = null
          where shop_id = $1 and body is not null
            and position(convert_to($2::text, 'UTF8') in body) > 0",
        shop.0,
        customer_id.to_string()
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn record_data_request(
    conn: &mut PgConnection,
    shop: ShopId,
    customer_id: i64,
    shopify_request_id: Option<i64>,
    orders_requested: &[i64],
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into privacy_request (shop_id, kind, customer_id, shopify_request_id, orders_requested)
         values ($1, 'data_request', $2, $3, $4)",
        shop.0,
        customer_id,
        shopify_request_id,
        orders_requested
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Everything stored about one customer, as a JSON document.
pub async fn export_customer(
    pool: &PgPool,
    shop: ShopId,
    customer_id: i64,
) -> sqlx::Result<serde_json::Value> {
    sqlx::query_scalar!(
        r#"select jsonb_build_object(
            'shop_id', $1::int8,
            'customer_id', $2::int8,
            'customer', (select to_jsonb(c) - 'shop_id' from customer c
                          where c.shop_id = $1 and c.customer_id = $2),
            'orders', coalesce((select jsonb_agg((to_jsonb(o) - 'shop_id') || jsonb_build_object(
                            'lines', (select coalesce(jsonb_agg(to_jsonb(l) - 'shop_id' order by l.line_id), '[]')
                                        from order_line_net l
                                       where l.shop_id = o.shop_id and l.order_id = o.order_id))
                            order by o.created_at)
                          from "order" o where o.shop_id = $1 and o.customer_id = $2), '[]'),
            'checkouts', coalesce((select jsonb_agg(to_jsonb(k) - 'shop_id' order by k.updated_at)
                          from checkout k where k.shop_id = $1 and k.customer_id = $2), '[]'),
            'abandoned_checkouts', coalesce((select jsonb_agg(to_jsonb(a) - 'shop_id' order by a.abandoned_at)
                          from abandoned_checkout a where a.shop_id = $1 and a.customer_id = $2), '[]'),
            'browse_events', coalesce((select jsonb_agg(to_jsonb(e) - 'shop_id' order by e.occurred_at)
                          from browse_event e where e.shop_id = $1 and e.customer_id = $2), '[]'),
            'privacy_requests', coalesce((select jsonb_agg(to_jsonb(p) - 'shop_id' order by p.received_at)
                          from privacy_request p where p.shop_id = $1 and p.customer_id = $2), '[]')
        ) as "doc!""#,
        shop.0,
        customer_id
    )
    .fetch_one(pool)
    .await
}
