//! Products and variants.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;

use super::ShopId;

pub struct ProductRow {
    pub product_id: i64,
    pub title: String,
    pub handle: String,
    pub product_type: String,
    pub vendor: String,
    pub tags: Vec<String>,
    pub status: String,
    pub published_at: Option<DateTime<Utc>>,
    pub image_url: Option<String>,
    pub gift_card: bool,
    pub updated_at: DateTime<Utc>,
}

pub struct VariantRow {
    pub variant_id: i64,
    pub title: String,
    pub sku: String,
    pub price: Decimal,
    pub compare_at_price: Option<Decimal>,
    pub position: i32,
    pub inventory_policy: String,
    pub inventory_management: Option<String>,
    pub inventory_quantity: Option<i64>,
}

/// Stores the product if this state is at least as new as the one held (a delete counts as a
/// state, so an update older than the delete cannot resurrect the product).
pub async fn upsert(conn: &mut PgConnection, shop: ShopId, p: &ProductRow) -> sqlx::Result<bool> {
    let stored = sqlx::query_scalar!(
        "insert into product (shop_id, product_id, title, handle, product_type, vendor, tags, status,
                              published_at, image_url, updated_at, gift_card)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         on conflict (shop_id, product_id) do update
            set title = excluded.title, handle = excluded.handle,
                product_type = excluded.product_type, vendor = excluded.vendor,
                tags = excluded.tags, status = excluded.status,
                published_at = excluded.published_at, image_url = excluded.image_url,
                updated_at = excluded.updated_at, deleted = false, gift_card = excluded.gift_card
          where product.updated_at <= excluded.updated_at
         returning product_id",
        shop.0,
        p.product_id,
        p.title,
        p.handle,
        p.product_type,
        p.vendor,
        &p.tags,
        p.status,
        p.published_at,
        p.image_url,
        p.updated_at,
        p.gift_card
    )
    .fetch_optional(conn)
    .await?;
    Ok(stored.is_some())
}

/// Replaces the product's variants.
pub async fn replace_variants(
    conn: &mut PgConnection,
    shop: ShopId,
    product_id: i64,
    variants: &[VariantRow],
) -> sqlx::Result<()> {
    sqlx::query!(
        "delete from variant where shop_id = $1 and product_id = $2",
        shop.0,
        product_id
    )
    .execute(&mut *conn)
    .await?;
    if variants.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = variants.iter().map(|v| v.variant_id).collect();
    let titles: Vec<String> = variants.iter().map(|v| v.title.clone()).collect();
    let skus: Vec<String> = variants.iter().map(|v| v.sku.clone()).collect();
    let prices: Vec<Decimal> = variants.iter().map(|v| v.price).collect();
    let compare: Vec<Option<Decimal>> = variants.iter().map(|v| v.compare_at_price).collect();
    let positions: Vec<i32> = variants.iter().map(|v| v.position).collect();
    let policies: Vec<String> = variants
        .iter()
        .map(|v| v.inventory_policy.clone())
        .collect();
    let management: Vec<Option<String>> = variants
        .iter()
        .map(|v| v.inventory_management.clone())
        .collect();
    let quantities: Vec<Option<i64>> = variants.iter().map(|v| v.inventory_quantity).collect();
    // A variant id moved from another product (rare) is taken over by this one.
    sqlx::query!(
        "insert into variant (shop_id, variant_id, product_id, title, sku, price, compare_at_price,
                              position, inventory_policy, inventory_management, inventory_quantity)
         select $1, v.id, $2, v.title, v.sku, v.price, v.compare_at, v.position, v.policy, v.management, v.quantity
           from unnest($3::int8[], $4::text[], $5::text[], $6::numeric[], $7::numeric[], $8::int4[],
                       $9::text[], $10::text[], $11::int8[])
                as v(id, title, sku, price, compare_at, position, policy, management, quantity)
         on conflict (shop_id, variant_id) do update
            set product_id = excluded.product_id, title = excluded.title, sku = excluded.sku,
                price = excluded.price, compare_at_price = excluded.compare_at_price,
                position = excluded.position, inventory_policy = excluded.inventory_policy,
                inventory_management = excluded.inventory_management,
                inventory_quantity = excluded.inventory_quantity",
        shop.0,
        product_id,
        &ids,
        &titles,
        &skus,
        &prices,
        &compare as &[Option<Decimal>],
        &positions,
        &policies,
        &management as &[Option<String>],
        &quantities as &[Option<i64>]
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// `products/delete`: a tombstone dated `at`, and the variants go.
pub async fn mark_deleted(
    conn: &mut PgConnection,
    shop: ShopId,
    product_id: i64,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    let stored = sqlx::query_scalar!(
        "insert into product (shop_id, product_id, updated_at, deleted, status)
         values ($1, $2, $3, true, 'archived')
         on conflict (shop_id, product_id) do update
            set deleted = true, updated_at = excluded.updated_at
          where product.updated_at <= excluded.updated_at
         returning product_id",
        shop.0,
        product_id,
        at
    )
    .fetch_optional(&mut *conn)
    .await?;
    if stored.is_some() {
        sqlx::query!(
            "delete from variant where shop_id = $1 and product_id = $2",
            shop.0,
            product_id
        )
        .execute(conn)
        .await?;
    }
    Ok(())
}

/// What a shelf shows of a product: its first purchasable variant's price and id.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ProductCard {
    /// Shopify product id.
    pub product_id: i64,
    pub title: String,
    /// URL handle: the storefront page is `/products/{handle}`.
    pub handle: String,
    pub product_type: String,
    pub vendor: String,
    pub image_url: Option<String>,
    /// The first purchasable variant (for an add-to-cart button).
    pub variant_id: Option<i64>,
    /// Its price, a decimal string in the shop's currency (e.g. `"10.0000"`).
    pub price: Option<Decimal>,
    /// Its compare-at price, when it is on sale.
    pub compare_at_price: Option<Decimal>,
}

/// Cards for the given products, or all of the shop's when `ids` is `None` (missing or deleted
/// ones are absent).
pub async fn cards(
    pool: &sqlx::PgPool,
    shop: ShopId,
    ids: Option<&[i64]>,
) -> sqlx::Result<std::collections::HashMap<i64, ProductCard>> {
    let rows = sqlx::query!(
        r#"select p.product_id, p.title, p.handle, p.product_type, p.vendor, p.image_url,
                  v.variant_id as "variant_id?", v.price as "price?", v.compare_at_price
             from product p
             left join lateral (
                  select variant_id, price, compare_at_price from variant v
                   where v.shop_id = p.shop_id and v.product_id = p.product_id
                   order by (v.inventory_policy = 'continue' or v.inventory_management is null
                             or coalesce(v.inventory_quantity, 0) > 0) desc, v.position, v.variant_id
                   limit 1) v on true
            where p.shop_id = $1 and ($2::int8[] is null or p.product_id = any($2)) and not p.deleted"#,
        shop.0,
        ids as Option<&[i64]>
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.product_id,
                ProductCard {
                    product_id: r.product_id,
                    title: r.title,
                    handle: r.handle,
                    product_type: r.product_type,
                    vendor: r.vendor,
                    image_url: r.image_url,
                    variant_id: r.variant_id,
                    price: r.price,
                    compare_at_price: r.compare_at_price,
                },
            )
        })
        .collect())
}

/// Whether the shop has this (non-deleted) product.
pub async fn exists(pool: &sqlx::PgPool, shop: ShopId, product_id: i64) -> sqlx::Result<bool> {
    let found = sqlx::query_scalar!(
        "select 1 as one from product where shop_id = $1 and product_id = $2 and not deleted",
        shop.0,
        product_id
    )
    .fetch_optional(pool)
    .await?;
    Ok(found.is_some())
}

/// The currency the shop sells in, as seen on its latest order ("" before the first order).
pub async fn currency(pool: &sqlx::PgPool, shop: ShopId) -> sqlx::Result<String> {
    let currency = sqlx::query_scalar!(
        r#"select currency from "order" where shop_id = $1 and currency <> '' order by created_at desc limit 1"#,
        shop.0
    )
    .fetch_optional(pool)
    .await?;
    Ok(currency.unwrap_or_default())
}
