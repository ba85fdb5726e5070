//! Customers: Shopify ids, marketing consent flags and order statistics. Nothing personal.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::ShopId;

pub struct CustomerRow {
    pub customer_id: i64,
    pub state: Option<String>,
    pub accepts_email_marketing: bool,
    pub accepts_sms_marketing: bool,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

/// Stores the customer if this state is at least as new as the one held.
pub async fn upsert(conn: &mut PgConnection, shop: ShopId, c: &CustomerRow) -> sqlx::Result<bool> {
    let stored = sqlx::query_scalar!(
        "insert into customer (shop_id, customer_id, state, accepts_email_marketing,
                               accepts_sms_marketing, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, $7)
         on conflict (shop_id, customer_id) do update
            set state = excluded.state,
                accepts_email_marketing = excluded.accepts_email_marketing,
                accepts_sms_marketing = excluded.accepts_sms_marketing,
                created_at = coalesce(excluded.created_at, customer.created_at),
                updated_at = excluded.updated_at, deleted = false
          where customer.updated_at <= excluded.updated_at
         returning customer_id",
        shop.0,
        c.customer_id,
        c.state,
        c.accepts_email_marketing,
        c.accepts_sms_marketing,
        c.created_at,
        c.updated_at
    )
    .fetch_optional(conn)
    .await?;
    Ok(stored.is_some())
}

/// Makes sure rows exist for customers first seen on orders; any real customer webhook (newer
/// than the epoch) replaces them.
pub async fn ensure_many(
    conn: &mut PgConnection,
    shop: ShopId,
    customer_ids: &[i64],
) -> sqlx::Result<()> {
    if customer_ids.is_empty() {
        return Ok(());
    }
    sqlx::query!(
        "insert into customer (shop_id, customer_id, updated_at)
         select $1, id, 'epoch' from unnest($2::int8[]) as id
         on conflict do nothing",
        shop.0,
        customer_ids
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// `customers/delete`: kept as a tombstone so an older update cannot bring it back.
pub async fn mark_deleted(
    conn: &mut PgConnection,
    shop: ShopId,
    customer_id: i64,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into customer (shop_id, customer_id, updated_at, deleted) values ($1, $2, $3, true)
         on conflict (shop_id, customer_id) do update
            set deleted = true, updated_at = excluded.updated_at
          where customer.updated_at <= excluded.updated_at",
        shop.0,
        customer_id,
        at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Recomputes the customers' order statistics from the orders held (test and cancelled
/// orders do not count; spend is what they kept after refunds), including the median gap
/// between their orders that lifecycle segments use.
pub async fn refresh_stats(
    conn: &mut PgConnection,
    shop: ShopId,
    customer_ids: &[i64],
) -> sqlx::Result<()> {
    if customer_ids.is_empty() {
        return Ok(());
    }
    sqlx::query!(
        r#"update customer c
              set orders_count = coalesce(s.n, 0), total_spent = coalesce(s.spent, 0),
                  first_order_at = s.first_at, last_order_at = s.last_at,
                  median_gap_days = g.median_gap
             from unnest($2::int8[]) as ids(id)
             left join (select customer_id, count(*)::int as n,
                               sum(coalesce(current_total_price, total_price)) as spent,
                               min(coalesce(processed_at, created_at)) as first_at,
                               max(coalesce(processed_at, created_at)) as last_at
                          from "order"
                         where shop_id = $1 and customer_id = any($2) and not test and cancelled_at is null
                         group by customer_id) s on s.customer_id = ids.id
             left join (select customer_id,
                               percentile_cont(0.5) within group (order by gap) as median_gap
                          from (select customer_id,
                                       extract(epoch from t - lag(t) over (partition by customer_id order by t)) / 86400.0 as gap
                                  from (select customer_id, coalesce(processed_at, created_at) as t
                                          from "order"
                                         where shop_id = $1 and customer_id = any($2) and not test
                                           and cancelled_at is null) o) x
                         where gap is not null
                         group by customer_id) g on g.customer_id = ids.id
            where c.shop_id = $1 and c.customer_id = ids.id"#,
        shop.0,
        customer_ids
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes the customer row (privacy redaction).
pub async fn delete(conn: &mut PgConnection, shop: ShopId, customer_id: i64) -> sqlx::Result<()> {
    sqlx::query!(
        "delete from customer where shop_id = $1 and customer_id = $2",
        shop.0,
        customer_id
    )
    .execute(conn)
    .await?;
    Ok(())
}
