//! Lifecycle segments: the customers' facts and segments, their history, the shop's policy,
//! and engagement snapshots.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;

use super::ShopId;

/// What segments and the engagement score are computed from, for one customer.
#[derive(Debug, Clone)]
pub struct CustomerFacts {
    pub customer_id: i64,
    pub orders_count: i32,
    pub total_spent: f64,
    pub first_order_at: Option<DateTime<Utc>>,
    pub last_order_at: Option<DateTime<Utc>>,
    pub median_gap_days: Option<f64>,
    pub created_at: Option<DateTime<Utc>>,
    pub segment: Option<String>,
    pub segment_since: Option<DateTime<Utc>>,
    pub vip: bool,
    pub activity: f64,
    pub activity_at: Option<DateTime<Utc>>,
    pub last_seen_at: Option<DateTime<Utc>>,
    pub accepts_email_marketing: bool,
    pub accepts_sms_marketing: bool,
}

/// The facts of the given customers, or of every customer of the shop after `after` (paged by
/// id) when `ids` is `None`. Deleted customers are left out.
pub async fn facts(
    conn: &mut PgConnection,
    shop: ShopId,
    ids: Option<&[i64]>,
    after: i64,
    limit: i64,
) -> sqlx::Result<Vec<CustomerFacts>> {
    sqlx::query_as!(
        CustomerFacts,
        r#"select customer_id, orders_count, total_spent::float8 as "total_spent!",
                  first_order_at, last_order_at, median_gap_days, created_at, segment,
                  segment_since, vip, activity, activity_at, last_seen_at,
                  accepts_email_marketing, accepts_sms_marketing
             from customer
            where shop_id = $1 and not deleted
              and ($2::int8[] is null or customer_id = any($2))
              and customer_id > $3
            order by customer_id
            limit $4"#,
        shop.0,
        ids as Option<&[i64]>,
        after,
        limit
    )
    .fetch_all(conn)
    .await
}

/// The members of a segment (all customers with a segment when `segment` is `None`), paged by id.
pub async fn members(
    conn: &mut PgConnection,
    shop: ShopId,
    segment: Option<&str>,
    vip_only: bool,
    after: i64,
    limit: i64,
) -> sqlx::Result<Vec<CustomerFacts>> {
    sqlx::query_as!(
        CustomerFacts,
        r#"select customer_id, orders_count, total_spent::float8 as "total_spent!",
                  first_order_at, last_order_at, median_gap_days, created_at, segment,
                  segment_since, vip, activity, activity_at, last_seen_at,
                  accepts_email_marketing, accepts_sms_marketing
             from customer
            where shop_id = $1 and not deleted and segment is not null
              and ($2::text is null or segment = $2)
              and (not $3 or vip)
              and customer_id > $4
            order by customer_id
            limit $5"#,
        shop.0,
        segment,
        vip_only,
        after,
        limit
    )
    .fetch_all(conn)
    .await
}

/// Every gap (days) between consecutive counted orders of the same customer, and the net
/// spend of every buying customer: what the shop's policy is learned from.
pub async fn gaps_and_spends(
    conn: &mut PgConnection,
    shop: ShopId,
) -> sqlx::Result<(Vec<f64>, Vec<f64>)> {
    let gaps = sqlx::query_scalar!(
        r#"select gap as "gap!" from (
             select extract(epoch from t - lag(t) over (partition by customer_id order by t))::float8 / 86400.0 as gap
               from (select customer_id, coalesce(processed_at, created_at) as t
                       from "order"
                      where shop_id = $1 and customer_id is not null and not test
                        and cancelled_at is null) o) x
            where gap is not null"#,
        shop.0
    )
    .fetch_all(&mut *conn)
    .await?;
    let spends = sqlx::query_scalar!(
        r#"select total_spent::float8 as "spent!" from customer
            where shop_id = $1 and not deleted and orders_count > 0"#,
        shop.0
    )
    .fetch_all(conn)
    .await?;
    Ok((gaps, spends))
}

/// The merchant's overrides (`settings.segments` of the shop), as stored JSON.
pub async fn overrides(conn: &mut PgConnection, shop: ShopId) -> sqlx::Result<serde_json::Value> {
    let v = sqlx::query_scalar!(
        r#"select coalesce(settings -> 'segments', '{}'::jsonb) as "v!" from shop where shop_id = $1"#,
        shop.0
    )
    .fetch_optional(conn)
    .await?;
    Ok(v.unwrap_or_else(|| serde_json::json!({})))
}

pub async fn set_overrides(
    conn: &mut PgConnection,
    shop: ShopId,
    overrides: &serde_json::Value,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update shop set settings = jsonb_set(settings, '{segments}', $2) where shop_id = $1",
        shop.0,
        overrides
    )
    .execute(&mut *conn)
    .await?;
    // The policy in use is recomputed with the new values at the next sweep.
    sqlx::query!("delete from segment_policy where shop_id = $1", shop.0)
        .execute(conn)
        .await?;
    Ok(())
}

/// The stored policy (JSON) and when it was computed.
pub async fn policy(
    conn: &mut PgConnection,
    shop: ShopId,
) -> sqlx::Result<Option<(serde_json::Value, DateTime<Utc>)>> {
    let row = sqlx::query!(
        "select policy, computed_at from segment_policy where shop_id = $1",
        shop.0
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| (r.policy, r.computed_at)))
}

pub async fn save_policy(
    conn: &mut PgConnection,
    shop: ShopId,
    policy: &serde_json::Value,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into segment_policy (shop_id, policy, computed_at) values ($1, $2, $3)
         on conflict (shop_id) do update set policy = excluded.policy, computed_at = excluded.computed_at",
        shop.0,
        policy,
        at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A customer's new state and the changes that led to it.
pub struct SegmentUpdate {
    pub customer_id: i64,
    pub segment: String,
    pub since: DateTime<Utc>,
    pub vip: bool,
    pub changes: Vec<Change>,
}

/// One row of history to append.
pub struct Change {
    pub from: Option<String>,
    pub to: String,
    pub vip: bool,
    pub at: DateTime<Utc>,
}

impl Change {
    pub fn of(t: &crate::segments::Transition, vip: bool) -> Self {
        Self {
            from: t.from.map(|s| s.to_string()),
            to: t.to.to_string(),
            vip,
            at: t.at,
        }
    }
}

/// Stores the customers' segments and appends their history.
pub async fn apply_updates(
    conn: &mut PgConnection,
    shop: ShopId,
    updates: &[SegmentUpdate],
) -> sqlx::Result<()> {
    if updates.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = updates.iter().map(|u| u.customer_id).collect();
    let segments: Vec<String> = updates.iter().map(|u| u.segment.clone()).collect();
    let since: Vec<DateTime<Utc>> = updates.iter().map(|u| u.since).collect();
    let vip: Vec<bool> = updates.iter().map(|u| u.vip).collect();
    sqlx::query!(
        "update customer c set segment = u.segment, segment_since = u.since, vip = u.vip
           from unnest($2::int8[], $3::text[], $4::timestamptz[], $5::bool[]) as u(id, segment, since, vip)
          where c.shop_id = $1 and c.customer_id = u.id",
        shop.0,
        &ids,
        &segments,
        &since,
        &vip
    )
    .execute(&mut *conn)
    .await?;
    let changes: Vec<(i64, &Change)> = updates
        .iter()
        .flat_map(|u| u.changes.iter().map(move |c| (u.customer_id, c)))
        .collect();
    if changes.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = changes.iter().map(|(id, _)| *id).collect();
    let from: Vec<Option<String>> = changes.iter().map(|(_, c)| c.from.clone()).collect();
    let to: Vec<String> = changes.iter().map(|(_, c)| c.to.clone()).collect();
    let vip: Vec<bool> = changes.iter().map(|(_, c)| c.vip).collect();
    let at: Vec<DateTime<Utc>> = changes.iter().map(|(_, c)| c.at).collect();
    sqlx::query!(
        "insert into segment_change (shop_id, customer_id, from_segment, to_segment, vip, changed_at)
         select $1, * from unnest($2::int8[], $3::text[], $4::text[], $5::bool[], $6::timestamptz[])",
        shop.0,
        &ids,
        &from as &[Option<String>],
        &to,
        &vip,
        &at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Forgets the shop's segment history (before it is rebuilt from the orders).
pub async fn clear_history(conn: &mut PgConnection, shop: ShopId) -> sqlx::Result<()> {
    sqlx::query!("delete from segment_change where shop_id = $1", shop.0)
        .execute(&mut *conn)
        .await?;
    sqlx::query!(
        "update customer set segment = null, segment_since = null, vip = false where shop_id = $1",
        shop.0
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// One row of a customer's history.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ChangeRow {
    pub from_segment: Option<String>,
    pub to_segment: String,
    pub vip: bool,
    pub changed_at: DateTime<Utc>,
}

pub async fn history(
    conn: &mut PgConnection,
    shop: ShopId,
    customer_id: i64,
) -> sqlx::Result<Vec<ChangeRow>> {
    sqlx::query_as!(
        ChangeRow,
        "select from_segment, to_segment, vip, changed_at from segment_change
          where shop_id = $1 and customer_id = $2 order by changed_at, change_id",
        shop.0,
        customer_id
    )
    .fetch_all(conn)
    .await
}

/// Customers in every segment now (zero included), and how many of them are VIP.
pub async fn counts(
    conn: &mut PgConnection,
    shop: ShopId,
) -> sqlx::Result<Vec<(crate::segments::Segment, i64, i64)>> {
    let rows = sqlx::query!(
        r#"select segment as "segment!", count(*) as "n!", count(*) filter (where vip) as "vip!"
             from customer where shop_id = $1 and not deleted and segment is not null
            group by segment"#,
        shop.0
    )
    .fetch_all(conn)
    .await?;
    Ok(crate::segments::Segment::ALL
        .into_iter()
        .map(|s| {
            rows.iter()
                .find(|r| r.segment == s.as_str())
                .map_or((s, 0, 0), |r| (s, r.n, r.vip))
        })
        .collect())
}

/// Moves between segments in `[from, to)`: (from, to, moves).
pub async fn flows(
    conn: &mut PgConnection,
    shop: ShopId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> sqlx::Result<Vec<(Option<String>, String, i64)>> {
    let rows = sqlx::query!(
        r#"select from_segment, to_segment, count(*) as "n!"
             from segment_change
            where shop_id = $1 and changed_at >= $2 and changed_at < $3
              and from_segment is distinct from to_segment
            group by from_segment, to_segment order by 3 desc"#,
        shop.0,
        from,
        to
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.from_segment, r.to_segment, r.n))
        .collect())
}

/// Adds browsing activity (already summed and decayed per customer to `at`) to customers,
/// creating rows for customers first seen browsing (prospects). The decay is
/// `segments::decay_activity`, written in SQL so one statement serves a whole batch.
pub async fn record_activity(
    conn: &mut PgConnection,
    shop: ShopId,
    items: &[(i64, f64, DateTime<Utc>)],
    half_life_days: f64,
) -> sqlx::Result<()> {
    if items.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = items.iter().map(|i| i.0).collect();
    let weights: Vec<f64> = items.iter().map(|i| i.1).collect();
    let at: Vec<DateTime<Utc>> = items.iter().map(|i| i.2).collect();
    sqlx::query!(
        "insert into customer (shop_id, customer_id, updated_at, created_at, activity, activity_at, last_seen_at)
         select $1, id, 'epoch', at, w, at, at
           from unnest($2::int8[], $3::float8[], $4::timestamptz[]) as u(id, w, at)
         on conflict (shop_id, customer_id) do update set
            activity = case
                when customer.activity_at is null then excluded.activity
                when excluded.activity_at >= customer.activity_at then
                    customer.activity * power(0.5, extract(epoch from excluded.activity_at - customer.activity_at)::float8 / 86400.0 / $5)
                    + excluded.activity
                else customer.activity
                    + excluded.activity * power(0.5, extract(epoch from customer.activity_at - excluded.activity_at)::float8 / 86400.0 / $5)
            end,
            activity_at = greatest(customer.activity_at, excluded.activity_at),
            last_seen_at = greatest(customer.last_seen_at, excluded.last_seen_at)
          where not customer.deleted",
        shop.0,
        &ids,
        &weights,
        &at,
        half_life_days.max(0.001)
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Replaces the day's engagement snapshot of these customers.
pub async fn write_snapshot(
    conn: &mut PgConnection,
    shop: ShopId,
    day: NaiveDate,
    ids: &[i64],
    scores: &[f32],
    segments: &[String],
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into engagement_snapshot (shop_id, customer_id, day, score, segment)
         select $1, id, $2, score, segment
           from unnest($3::int8[], $4::float4[], $5::text[]) as u(id, score, segment)
         on conflict (shop_id, customer_id, day) do update
            set score = excluded.score, segment = excluded.segment",
        shop.0,
        day,
        ids,
        scores,
        segments
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The shop's summary of one day and segment.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DailyRow {
    pub day: NaiveDate,
    pub segment: String,
    pub customers: i32,
    pub vip: i32,
    pub mean_score: f32,
    pub median_score: f32,
    pub histogram: Vec<i32>,
}

/// Replaces the summaries of the days in `rows`.
pub async fn write_daily(
    conn: &mut PgConnection,
    shop: ShopId,
    rows: &[DailyRow],
) -> sqlx::Result<()> {
    let mut days: Vec<NaiveDate> = rows.iter().map(|r| r.day).collect();
    days.dedup();
    sqlx::query!(
        "delete from engagement_daily where shop_id = $1 and day = any($2)",
        shop.0,
        &days
    )
    .execute(&mut *conn)
    .await?;
    for r in rows {
        sqlx::query!(
            "insert into engagement_daily (shop_id, day, segment, customers, vip, mean_score, median_score, histogram)
             values ($1, $2, $3, $4, $5, $6, $7, $8)
             on conflict (shop_id, day, segment) do update
                set customers = excluded.customers, vip = excluded.vip, mean_score = excluded.mean_score,
                    median_score = excluded.median_score, histogram = excluded.histogram",
            shop.0,
            r.day,
            r.segment,
            r.customers,
            r.vip,
            r.mean_score,
            r.median_score,
            &r.histogram
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Whether the day's summary exists.
pub async fn has_daily(
    conn: &mut PgConnection,
    shop: ShopId,
    day: NaiveDate,
) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"select exists(select 1 from engagement_daily where shop_id = $1 and day = $2) as "e!""#,
        shop.0,
        day
    )
    .fetch_one(conn)
    .await
}

/// The shop's daily summaries from `from` on, oldest first.
pub async fn daily(
    conn: &mut PgConnection,
    shop: ShopId,
    from: NaiveDate,
) -> sqlx::Result<Vec<DailyRow>> {
    sqlx::query_as!(
        DailyRow,
        "select day, segment, customers, vip, mean_score, median_score, histogram
           from engagement_daily where shop_id = $1 and day >= $2 order by day, segment",
        shop.0,
        from
    )
    .fetch_all(conn)
    .await
}

/// A customer's daily scores from `from` on, oldest first.
pub async fn customer_scores(
    conn: &mut PgConnection,
    shop: ShopId,
    customer_id: i64,
    from: NaiveDate,
) -> sqlx::Result<Vec<(NaiveDate, f32, String)>> {
    let rows = sqlx::query!(
        "select day, score, segment from engagement_snapshot
          where shop_id = $1 and customer_id = $2 and day >= $3 order by day",
        shop.0,
        customer_id,
        from
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.day, r.score, r.segment))
        .collect())
}

/// Removes the customer's segment history and scores (privacy redaction).
pub async fn delete_for_customer(
    conn: &mut PgConnection,
    shop: ShopId,
    customer_id: i64,
) -> sqlx::Result<()> {
    sqlx::query!(
        "delete from segment_change where shop_id = $1 and customer_id = $2",
        shop.0,
        customer_id
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "delete from engagement_snapshot where shop_id = $1 and customer_id = $2",
        shop.0,
        customer_id
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Customer ids of these orders (to refresh their segments after the orders changed).
pub async fn customers_of_orders(
    conn: &mut PgConnection,
    shop: ShopId,
    order_ids: &[i64],
) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar!(
        r#"select distinct customer_id as "id!" from "order"
            where shop_id = $1 and order_id = any($2) and customer_id is not null"#,
        shop.0,
        order_ids
    )
    .fetch_all(conn)
    .await
}

/// Every counted order time of every customer, for rebuilding history: (customer, times).
pub async fn order_times(
    conn: &mut PgConnection,
    shop: ShopId,
) -> sqlx::Result<Vec<(i64, DateTime<Utc>, f64)>> {
    let rows = sqlx::query!(
        r#"select customer_id as "customer_id!", coalesce(processed_at, created_at) as "t!",
                  coalesce(current_total_price, total_price)::float8 as "amount!"
             from "order"
            where shop_id = $1 and customer_id is not null and not test and cancelled_at is null
            order by customer_id, 2"#,
        shop.0
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.customer_id, r.t, r.amount))
        .collect())
}

/// How many customers have bought (what the policy's VIP threshold was learned from).
pub async fn buyers(conn: &mut PgConnection, shop: ShopId) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"select count(*) as "n!" from customer where shop_id = $1 and not deleted and orders_count > 0"#,
        shop.0
    )
    .fetch_one(conn)
    .await
}
