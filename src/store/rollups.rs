//! Daily totals of orders and widget performance, computed from the store and kept for the
//! dashboard (see migrations/…_rollups.sql).

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::PgPool;

use super::widget_events::{self, WidgetDay};
use super::{dashboard, ShopId};

fn start_of(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
}

/// Computes the days `from..=to` from the store and stores them, replacing what was there.
pub async fn refresh(
    pool: &PgPool,
    shop: ShopId,
    from: NaiveDate,
    to: NaiveDate,
    window_hours: i64,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let (start, end) = (start_of(from), start_of(to + Duration::days(1)));
    let orders = dashboard::orders_by_day(pool, shop, start, end).await?;
    let widgets = widget_events::daily(pool, shop, start, end, window_hours).await?;
    let mut days = Vec::new();
    let mut d = from;
    while d <= to {
        days.push(d);
        d += Duration::days(1);
    }
    let counts: Vec<i32> = days
        .iter()
        .map(|d| orders.iter().find(|o| o.0 == *d).map_or(0, |o| o.1 as i32))
        .collect();
    let revenue: Vec<Decimal> = days
        .iter()
        .map(|d| {
            orders
                .iter()
                .find(|o| o.0 == *d)
                .and_then(|o| Decimal::from_f64_retain(o.2))
                .unwrap_or_default()
        })
        .collect();
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "insert into daily_orders (shop_id, day, orders, revenue, computed_at)
         select $1, * , $5 from unnest($2::date[], $3::int4[], $4::numeric[])
         on conflict (shop_id, day) do update
            set orders = excluded.orders, revenue = excluded.revenue, computed_at = excluded.computed_at",
        shop.0,
        &days,
        &counts,
        &revenue,
        now
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "delete from daily_widgets where shop_id = $1 and day between $2 and $3",
        shop.0,
        from,
        to
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "delete from daily_products where shop_id = $1 and day between $2 and $3",
        shop.0,
        from,
        to
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        r#"insert into daily_products (shop_id, day, product_id, units)
           select $1, (o.created_at at time zone 'UTC')::date, l.product_id, sum(l.current_quantity)
             from "order" o
             join order_line l on l.shop_id = o.shop_id and l.order_id = o.order_id
            where o.shop_id = $1 and o.created_at >= $2 and o.created_at < $3
              and not o.test and o.cancelled_at is null and l.product_id is not null
            group by 2, 3"#,
        shop.0,
        start,
        end
    )
    .execute(&mut *tx)
    .await?;
    for w in &widgets {
        sqlx::query!(
            "insert into daily_widgets (shop_id, day, placement, list, impressions, clicks,
                                        attributed_orders, attributed_revenue)
             values ($1, $2, $3, $4, $5, $6, $7, $8)",
            shop.0,
            w.day,
            w.placement,
            w.list,
            w.impressions,
            w.clicks,
            w.attributed_orders,
            w.attributed_revenue
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

/// What is stored for `from..=to`: the days computed, orders per day and widget days.
pub struct Stored {
    pub computed: BTreeSet<NaiveDate>,
    pub orders: Vec<(NaiveDate, i64, f64)>,
    pub widgets: Vec<WidgetDay>,
}

pub async fn read(
    pool: &PgPool,
    shop: ShopId,
    from: NaiveDate,
    to: NaiveDate,
) -> sqlx::Result<Stored> {
    let orders = sqlx::query!(
        r#"select day, orders, revenue::float8 as "revenue!" from daily_orders
            where shop_id = $1 and day between $2 and $3 order by day"#,
        shop.0,
        from,
        to
    )
    .fetch_all(pool)
    .await?;
    let widgets = sqlx::query!(
        "select day, placement, list, impressions, clicks, attributed_orders, attributed_revenue
           from daily_widgets where shop_id = $1 and day between $2 and $3 order by day",
        shop.0,
        from,
        to
    )
    .fetch_all(pool)
    .await?;
    Ok(Stored {
        computed: orders.iter().map(|r| r.day).collect(),
        orders: orders
            .iter()
            .map(|r| (r.day, i64::from(r.orders), r.revenue))
            .collect(),
        widgets: widgets
            .into_iter()
            .map(|r| WidgetDay {
                ctr: widget_events::ctr(r.clicks, r.impressions),
                day: r.day,
                placement: r.placement,
                list: r.list,
                impressions: r.impressions,
                clicks: r.clicks,
                attributed_orders: r.attributed_orders,
                attributed_revenue: r.attributed_revenue,
            })
            .collect(),
    })
}

/// Days before `today` (back to `oldest`) not yet computed, or computed when they could still
/// change (less than two days after they ended), newest first, at most `limit`.
pub async fn stale_days(
    pool: &PgPool,
    shop: ShopId,
    oldest: NaiveDate,
    today: NaiveDate,
    limit: i64,
) -> sqlx::Result<Vec<NaiveDate>> {
    sqlx::query_scalar!(
        r#"select d::date as "day!"
             from generate_series($2::date, $3::date - 1, interval '1 day') as d
             left join daily_orders r on r.shop_id = $1 and r.day = d::date
            where r.day is null or r.computed_at < d::date + interval '3 days'
            order by d desc limit $4"#,
        shop.0,
        oldest,
        today,
        limit
    )
    .fetch_all(pool)
    .await
}

/// Brings up to `limit` stale days of the last 400 up to date, newest first (a year of history
/// fills in over a few runs). Returns how many days were computed.
pub async fn refresh_stale(
    pool: &PgPool,
    shop: ShopId,
    window_hours: i64,
    now: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<usize> {
    let today = now.date_naive();
    let days = stale_days(pool, shop, today - Duration::days(400), today, limit).await?;
    // Consecutive days in one computation each.
    let mut ranges: Vec<(NaiveDate, NaiveDate)> = Vec::new();
    for day in &days {
        match ranges.last_mut() {
            Some((from, _)) if *from - Duration::days(1) == *day => *from = *day,
            _ => ranges.push((*day, *day)),
        }
    }
    for (from, to) in &ranges {
        refresh(pool, shop, *from, *to, window_hours, now).await?;
    }
    Ok(days.len())
}

/// Units per product per day stored for `from..=to`.
pub async fn product_units(
    pool: &PgPool,
    shop: ShopId,
    product_ids: &[i64],
    from: NaiveDate,
    to: NaiveDate,
) -> sqlx::Result<Vec<(i64, NaiveDate, i64)>> {
    let rows = sqlx::query!(
        "select product_id, day, units from daily_products
          where shop_id = $1 and product_id = any($2) and day between $3 and $4",
        shop.0,
        product_ids,
        from,
        to
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.product_id, r.day, r.units))
        .collect())
}

/// The first day from `from` on (up to `today`) that is not stored: from there on, compute live.
pub async fn first_missing(
    pool: &PgPool,
    shop: ShopId,
    from: NaiveDate,
    today: NaiveDate,
) -> sqlx::Result<NaiveDate> {
    let stored: BTreeSet<NaiveDate> = sqlx::query_scalar!(
        "select day from daily_orders where shop_id = $1 and day >= $2 and day < $3",
        shop.0,
        from,
        today
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .collect();
    let mut day = from;
    while day < today && stored.contains(&day) {
        day += Duration::days(1);
    }
    Ok(day)
}

/// Forgets the stored totals of the days these orders were placed on, so they are computed
/// again (an order imported or updated late changes a past day).
pub async fn invalidate_orders(pool: &PgPool, shop: ShopId, order_ids: &[i64]) -> sqlx::Result<()> {
    sqlx::query!(
        r#"delete from daily_orders
            where shop_id = $1
              and day in (select distinct (created_at at time zone 'UTC')::date from "order"
                           where shop_id = $1 and order_id = any($2))"#,
        shop.0,
        order_ids
    )
    .execute(pool)
    .await?;
    Ok(())
}
