//! What shoprecs last set as customers' segment tags in Shopify (`customer_tag_sync`).

use sqlx::PgPool;

use super::ShopId;

/// A customer whose tags in Shopify may differ from their segment now.
#[derive(Debug, Clone)]
pub struct Due {
    pub customer_id: i64,
    /// The segment and VIP flag now (`None`/false when the shop stopped syncing).
    pub segment: Option<String>,
    pub vip: bool,
    /// What the tags in Shopify stand for, as last set (`None`/false when never set).
    pub synced_segment: Option<String>,
    pub synced_vip: bool,
}

/// Up to `limit` customers to sync: whose segment or VIP flag changed since their tags were
/// set, or who have a segment and were never tagged. Only Shopify customers (positive ids:
/// CSV-imported customers have pseudonymous negative ones).
pub async fn due(pool: &PgPool, shop: ShopId, limit: i64) -> sqlx::Result<Vec<Due>> {
    sqlx::query_as!(
        Due,
        r#"select c.customer_id, c.segment, c.vip,
                  t.segment as synced_segment, coalesce(t.vip, false) as "synced_vip!"
             from customer c
             left join customer_tag_sync t
               on t.shop_id = c.shop_id and t.customer_id = c.customer_id
            where c.shop_id = $1 and c.customer_id > 0 and not c.deleted
              and case when t.customer_id is null
                       then c.segment in ('new', 'returning', 'at_risk', 'lapsed') or c.vip
                       else c.segment is distinct from t.segment or c.vip <> t.vip end
            order by c.customer_id
            limit $2"#,
        shop.0,
        limit
    )
    .fetch_all(pool)
    .await
}

/// Customers whose tags must come off because the shop switched syncing off.
pub async fn to_untag(pool: &PgPool, shop: ShopId, limit: i64) -> sqlx::Result<Vec<Due>> {
    sqlx::query_as!(
        Due,
        r#"select customer_id, null::text as segment, false as "vip!",
                  segment as synced_segment, vip as synced_vip
             from customer_tag_sync
            where shop_id = $1
            order by customer_id
            limit $2"#,
        shop.0,
        limit
    )
    .fetch_all(pool)
    .await
}

/// One customer's outcome.
pub struct Synced<'a> {
    pub customer_id: i64,
    pub segment: Option<&'a str>,
    pub vip: bool,
    pub error: Option<String>,
}

/// Records what the customers' tags now stand for.
pub async fn record(pool: &PgPool, shop: ShopId, synced: &[Synced<'_>]) -> sqlx::Result<()> {
    let ids: Vec<i64> = synced.iter().map(|s| s.customer_id).collect();
    let segments: Vec<Option<String>> = synced
        .iter()
        .map(|s| s.segment.map(str::to_owned))
        .collect();
    let vip: Vec<bool> = synced.iter().map(|s| s.vip).collect();
    let errors: Vec<Option<String>> = synced.iter().map(|s| s.error.clone()).collect();
    sqlx::query!(
        "insert into customer_tag_sync (shop_id, customer_id, segment, vip, error, synced_at)
         select $1, u.id, u.segment, u.vip, u.error, now()
           from unnest($2::int8[], $3::text[], $4::bool[], $5::text[]) as u(id, segment, vip, error)
         on conflict (shop_id, customer_id) do update
            set segment = excluded.segment, vip = excluded.vip, error = excluded.error,
                synced_at = excluded.synced_at",
        shop.0,
        &ids,
        &segments as &[Option<String>],
        &vip,
        &errors as &[Option<String>]
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Forgets customers whose shoprecs tags were all removed.
pub async fn forget(pool: &PgPool, shop: ShopId, customer_ids: &[i64]) -> sqlx::Result<()> {
    sqlx::query!(
        "delete from customer_tag_sync where shop_id = $1 and customer_id = any($2)",
        shop.0,
        customer_ids
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// The shop's tag sync at a glance: customers tagged, and how many had errors.
pub async fn summary(pool: &PgPool, shop: ShopId) -> sqlx::Result<(i64, i64)> {
    let row = sqlx::query!(
        r#"select count(*) as "tagged!", count(error) as "errors!"
             from customer_tag_sync where shop_id = $1"#,
        shop.0
    )
    .fetch_one(pool)
    .await?;
    Ok((row.tagged, row.errors))
}
