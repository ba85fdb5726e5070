//! Read-only queries behind the merchant dashboard's pages.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgPool;

use super::ShopId;

/// Orders and revenue per day (UTC) in `[from, to)`, by when Shopify created them.
pub async fn orders_by_day(
    pool: &PgPool,
    shop: ShopId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> sqlx::Result<Vec<(NaiveDate, i64, f64)>> {
    let rows = sqlx::query!(
        r#"select (created_at at time zone 'UTC')::date as "day!", count(*) as "orders!",
                  coalesce(sum(coalesce(current_total_price, total_price)), 0)::float8 as "revenue!"
             from "order"
            where shop_id = $1 and created_at >= $2 and created_at < $3
              and not test and cancelled_at is null
            group by 1 order by 1"#,
        shop.0,
        from,
        to
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.day, r.orders, r.revenue))
        .collect())
}

/// The last webhook received for a topic, and how many of that topic failed.
#[derive(Debug, Clone)]
pub struct TopicHealth {
    pub topic: String,
    pub last_received_at: Option<DateTime<Utc>>,
    pub failed: i64,
}

/// Per topic Shopify sends: when the last one arrived and how many failed.
pub async fn topics(
    pool: &PgPool,
    shop: ShopId,
    topics: &[&str],
) -> sqlx::Result<Vec<TopicHealth>> {
    let names: Vec<String> = topics.iter().map(|t| t.to_string()).collect();
    let rows = sqlx::query!(
        r#"select t.topic as "topic!",
                  (select received_at from webhook_inbox i
                    where i.shop_id = $1 and i.topic = t.topic
                    order by received_at desc limit 1) as last_received_at,
                  (select count(*) from webhook_inbox i
                    where i.shop_id = $1 and i.topic = t.topic and i.status = 'failed') as "failed!"
             from unnest($2::text[]) as t(topic)"#,
        shop.0,
        &names
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| TopicHealth {
            topic: r.topic,
            last_received_at: r.last_received_at,
            failed: r.failed,
        })
        .collect())
}

/// A webhook stored as failed.
#[derive(Debug, Clone)]
pub struct FailedWebhook {
    pub topic: String,
    pub received_at: DateTime<Utc>,
    pub error: Option<String>,
}

pub async fn failed_webhooks(
    pool: &PgPool,
    shop: ShopId,
    limit: i64,
) -> sqlx::Result<Vec<FailedWebhook>> {
    sqlx::query_as!(
        FailedWebhook,
        "select topic, received_at, error from webhook_inbox
          where shop_id = $1 and status = 'failed' order by received_at desc limit $2",
        shop.0,
        limit
    )
    .fetch_all(pool)
    .await
}

/// Webhooks of the shop not applied yet.
pub async fn backlog(pool: &PgPool, shop: ShopId) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"select count(*) as "n!" from webhook_inbox where shop_id = $1 and status = 'pending'"#,
        shop.0
    )
    .fetch_one(pool)
    .await
}

/// Storefront (pixel) events per day since `from`.
pub async fn pixel_events_by_day(
    pool: &PgPool,
    shop: ShopId,
    from: DateTime<Utc>,
) -> sqlx::Result<Vec<(NaiveDate, i64)>> {
    let rows = sqlx::query!(
        r#"select (occurred_at at time zone 'UTC')::date as "day!", count(*) as "n!"
             from browse_event where shop_id = $1 and occurred_at >= $2
            group by 1 order by 1"#,
        shop.0,
        from
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.day, r.n)).collect())
}

/// What `shoprecs import` brought in: records per topic, how many are applied, and when the
/// last arrived.
pub async fn imports(
    pool: &PgPool,
    shop: ShopId,
) -> sqlx::Result<Vec<(String, i64, i64, Option<DateTime<Utc>>)>> {
    let rows = sqlx::query!(
        r#"select topic as "topic!", count(*) as "total!",
                  count(*) filter (where status <> 'pending') as "done!", max(received_at) as last
             from webhook_inbox where shop_id = $1 and api_version = 'csv-import'
            group by topic order by topic"#,
        shop.0
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.topic, r.total, r.done, r.last))
        .collect())
}

/// Units sold per product per day since `from`, for sparklines (what the buyers kept by the
/// order payloads; the refund ledger is left out to keep this fast).
pub async fn units_by_day(
    pool: &PgPool,
    shop: ShopId,
    product_ids: &[i64],
    from: DateTime<Utc>,
) -> sqlx::Result<Vec<(i64, NaiveDate, i64)>> {
    let rows = sqlx::query!(
        r#"select l.product_id as "product_id!", (o.created_at at time zone 'UTC')::date as "day!",
                  sum(l.current_quantity)::int8 as "units!"
             from order_line l
             join "order" o on o.shop_id = l.shop_id and o.order_id = l.order_id
            where l.shop_id = $1 and l.product_id = any($2) and o.created_at >= $3
              and not o.test and o.cancelled_at is null
            group by 1, 2"#,
        shop.0,
        product_ids,
        from
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.product_id, r.day, r.units))
        .collect())
}

/// Products whose title contains `q` (case-insensitive), for pickers.
pub async fn search_products(
    pool: &PgPool,
    shop: ShopId,
    q: &str,
    limit: i64,
) -> sqlx::Result<Vec<(i64, String)>> {
    let pattern = format!(
        "%{}%",
        q.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    let rows = sqlx::query!(
        "select product_id, title from product
          where shop_id = $1 and not deleted and title ilike $2
          order by title limit $3",
        shop.0,
        pattern,
        limit
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.product_id, r.title)).collect())
}

/// The shop's product types, most products first.
pub async fn product_types(pool: &PgPool, shop: ShopId) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar!(
        r#"select product_type as "t!" from product
            where shop_id = $1 and not deleted and product_type <> ''
            group by product_type order by count(*) desc, product_type limit 50"#,
        shop.0
    )
    .fetch_all(pool)
    .await
}

/// Titles of these products.
pub async fn titles(
    pool: &PgPool,
    shop: ShopId,
    ids: &[i64],
) -> sqlx::Result<std::collections::HashMap<i64, String>> {
    let rows = sqlx::query!(
        "select product_id, title from product where shop_id = $1 and product_id = any($2)",
        shop.0,
        ids
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.product_id, r.title)).collect())
}

/// Abandoned checkouts open and recovered, and the revenue of the recovering orders.
pub async fn checkout_counts(pool: &PgPool, shop: ShopId) -> sqlx::Result<(i64, i64, i64)> {
    let r = sqlx::query!(
        r#"select count(*) filter (where state = 'open') as "open!",
                  count(*) filter (where state = 'recovered') as "recovered!",
                  count(*) filter (where state = 'expired') as "expired!"
             from abandoned_checkout where shop_id = $1"#,
        shop.0
    )
    .fetch_one(pool)
    .await?;
    Ok((r.open, r.recovered, r.expired))
}
