//! The `shop` table: tenants and their install state.

use sqlx::{PgConnection, PgPool};

use super::ShopId;
use crate::shopify::ShopDomain;

/// The shop's id, creating the row for a shop seen for the first time (a verified webhook
/// proves the shop has the app installed).
pub async fn resolve_or_create(pool: &PgPool, domain: &ShopDomain) -> sqlx::Result<ShopId> {
    if let Some(id) = find(pool, domain).await? {
        return Ok(id);
    }
    let inserted = sqlx::query_scalar!(
        "insert into shop (domain) values ($1) on conflict (domain) do nothing returning shop_id",
        domain.as_str()
    )
    .fetch_optional(pool)
    .await?;
    match inserted {
        Some(id) => Ok(ShopId(id)),
        None => find(pool, domain).await?.ok_or(sqlx::Error::RowNotFound),
    }
}

pub async fn find(pool: &PgPool, domain: &ShopDomain) -> sqlx::Result<Option<ShopId>> {
    let id = sqlx::query_scalar!(
        "select shop_id from shop where domain = $1",
        domain.as_str()
    )
    .fetch_optional(pool)
    .await?;
    Ok(id.map(ShopId))
}

/// The shop's id if it is known and has the app installed.
pub async fn find_installed(pool: &PgPool, domain: &ShopDomain) -> sqlx::Result<Option<ShopId>> {
    let id = sqlx::query_scalar!(
        "select shop_id from shop where domain = $1 and installed",
        domain.as_str()
    )
    .fetch_optional(pool)
    .await?;
    Ok(id.map(ShopId))
}

/// `app/uninstalled`: the access token is revoked by Shopify; forget it and stop serving.
pub async fn mark_uninstalled(conn: &mut PgConnection, shop: ShopId) -> sqlx::Result<()> {
    sqlx::query!(
        "update shop set installed = false, uninstalled_at = now(),
                access_token_ciphertext = null, access_token_key_id = null
          where shop_id = $1",
        shop.0
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// `shop/redact`: every row of the shop goes (all tables cascade from `shop`).
pub async fn delete(conn: &mut PgConnection, shop: ShopId) -> sqlx::Result<()> {
    sqlx::query!("delete from shop where shop_id = $1", shop.0)
        .execute(conn)
        .await?;
    Ok(())
}

/// Every shop with the app installed.
pub async fn installed(pool: &PgPool) -> sqlx::Result<Vec<ShopId>> {
    let ids = sqlx::query_scalar!("select shop_id from shop where installed order by shop_id")
        .fetch_all(pool)
        .await?;
    Ok(ids.into_iter().map(ShopId).collect())
}

/// The shop's myshopify.com domain.
pub async fn domain(pool: &PgPool, shop: ShopId) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!("select domain from shop where shop_id = $1", shop.0)
        .fetch_optional(pool)
        .await
}
