//! Widget impressions and clicks, and what they earned (attribution).

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::{PgConnection, PgPool};

use super::ShopId;

pub struct WidgetEvent<'a> {
    pub kind: &'a str,
    pub token: &'a str,
    pub placement: &'a str,
    pub list: &'a str,
    pub product_id: Option<i64>,
    pub position: Option<i32>,
    pub client_id: Option<&'a str>,
    pub customer_id: Option<i64>,
    pub occurred_at: DateTime<Utc>,
}

/// Stores the event; the same impression of a list (or click on a product of it) counts once.
pub async fn insert(pool: &PgPool, shop: ShopId, e: &WidgetEvent<'_>) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "insert into widget_event (shop_id, kind, token, placement, list, product_id, position, client_id,
                                   customer_id, occurred_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         on conflict (shop_id, token, kind, coalesce(product_id, 0)) do nothing",
        shop.0,
        e.kind,
        e.token,
        e.placement,
        e.list,
        e.product_id,
        e.position,
        e.client_id,
        e.customer_id,
        e.occurred_at
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Privacy redaction: the customer's widget events, and those of the devices they used.
pub async fn delete_for_customer(
    conn: &mut PgConnection,
    shop: ShopId,
    customer_id: i64,
) -> sqlx::Result<u64> {
    let done = sqlx::query!(
        "delete from widget_event
          where shop_id = $1
            and (customer_id = $2
                 or client_id in (select client_id from browse_event where shop_id = $1 and customer_id = $2)
                 or client_id in (select client_id from widget_event where shop_id = $1 and customer_id = $2))",
        shop.0,
        customer_id
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// One widget's day.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct WidgetDay {
    /// The day (UTC).
    pub day: NaiveDate,
    /// Where the widget is (`product`, `cart`, `home`...).
    pub placement: String,
    /// The list it showed.
    pub list: String,
    pub impressions: i64,
    pub clicks: i64,
    /// clicks / impressions (0 when there were no impressions).
    pub ctr: f64,
    pub attributed_orders: i64,
    /// Net revenue of the clicked products in attributed orders, in shop currency.
    pub attributed_revenue: Decimal,
}

/// clicks / impressions, 0 without impressions.
pub fn ctr(clicks: i64, impressions: i64) -> f64 {
    if impressions > 0 {
        clicks as f64 / impressions as f64
    } else {
        0.0
    }
}

/// Impressions, clicks, CTR and attributed orders and revenue per widget per day (UTC) for
/// `[from, to)`. An order is attributed to the widget whose click on one of its products by the
/// same shopper (same customer, or same browser through its checkout) came last within the
/// window before the order.
pub async fn daily(
    pool: &PgPool,
    shop: ShopId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    window_hours: i64,
) -> sqlx::Result<Vec<WidgetDay>> {
    let rows = sqlx::query!(
        r#"with clicks as (
               select * from widget_event
                where shop_id = $1 and kind = 'click'
                  and occurred_at >= $2::timestamptz - make_interval(hours => $4::int) and occurred_at < $3::timestamptz),
           attributed as (
               select distinct on (o.order_id, l.product_id)
                      o.order_id, c.placement, c.list,
                      (coalesce(o.processed_at, o.created_at) at time zone 'UTC')::date as day,
                      l.price * l.net_quantity as revenue
                 from "order" o
                 join order_line_net l on l.shop_id = o.shop_id and l.order_id = o.order_id and l.net_quantity > 0
                 join clicks c on c.product_id = l.product_id
                  and c.occurred_at <= coalesce(o.processed_at, o.created_at)
                  and coalesce(o.processed_at, o.created_at) <= c.occurred_at + make_interval(hours => $4::int)
                  and ((c.customer_id is not null and c.customer_id = o.customer_id)
                       or (c.client_id is not null and o.checkout_token is not null and exists (
                              select 1 from browse_event b
                               where b.shop_id = $1 and b.client_id = c.client_id
                                 and b.checkout_token = o.checkout_token)))
                where o.shop_id = $1 and not o.test and o.cancelled_at is null
                  and coalesce(o.processed_at, o.created_at) >= $2 and coalesce(o.processed_at, o.created_at) < $3
                order by o.order_id, l.product_id, c.occurred_at desc),
           shown as (
               select (occurred_at at time zone 'UTC')::date as day, placement, list,
                      count(*) filter (where kind = 'impression') as impressions,
                      count(*) filter (where kind = 'click') as clicks
                 from widget_event
                where shop_id = $1 and occurred_at >= $2 and occurred_at < $3
                group by 1, 2, 3),
           earned as (
               select day, placement, list, count(distinct order_id) as orders, sum(revenue) as revenue
                 from attributed group by 1, 2, 3)
           select coalesce(s.day, e.day) as "day!", coalesce(s.placement, e.placement) as "placement!",
                  coalesce(s.list, e.list) as "list!",
                  coalesce(s.impressions, 0) as "impressions!", coalesce(s.clicks, 0) as "clicks!",
                  coalesce(e.orders, 0) as "orders!", coalesce(e.revenue, 0) as "revenue!"
             from shown s full join earned e using (day, placement, list)
            order by 1, 2, 3"#,
        shop.0,
        from,
        to,
        window_hours as i32
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| WidgetDay {
            ctr: ctr(r.clicks, r.impressions),
            day: r.day,
            placement: r.placement,
            list: r.list,
            impressions: r.impressions,
            clicks: r.clicks,
            attributed_orders: r.orders,
            attributed_revenue: r.revenue,
        })
        .collect())
}
