//! The shop's offline Admin API token, sealed by `crate::token_cipher` (never stored or logged
//! in the clear).

use sqlx::PgPool;

use super::ShopId;
use crate::token_cipher::Sealed;

/// A shop's stored token and what Shopify granted with it.
pub struct StoredToken {
    pub sealed: Sealed,
    pub scopes: String,
    /// Shopify refused the token since it was stored.
    pub reauth_required: bool,
}

/// Stores a newly issued token: the shop is (again) installed and needs no re-auth.
pub async fn save(pool: &PgPool, shop: ShopId, sealed: &Sealed, scopes: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "update shop
            set access_token_ciphertext = $2, access_token_key_id = $3, scopes = $4,
                token_saved_at = now(), reauth_required_at = null,
                installed = true, uninstalled_at = null
          where shop_id = $1",
        shop.0,
        sealed.ciphertext,
        sealed.key_id,
        scopes
    )
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn load(pool: &PgPool, shop: ShopId) -> sqlx::Result<Option<StoredToken>> {
    let row = sqlx::query!(
        r#"select access_token_ciphertext as "ciphertext?", access_token_key_id as "key_id?",
                  coalesce(scopes, '') as "scopes!", reauth_required_at
             from shop where shop_id = $1 and installed"#,
        shop.0
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.and_then(|r| {
        Some(StoredToken {
            sealed: Sealed {
                ciphertext: r.ciphertext?,
                key_id: r.key_id?,
            },
            scopes: r.scopes,
            reauth_required: r.reauth_required_at.is_some(),
        })
    }))
}

/// Shopify refused the token (401): stop calling until the shop re-authorizes.
pub async fn mark_reauth_required(pool: &PgPool, shop: ShopId) -> sqlx::Result<()> {
    sqlx::query!(
        "update shop set reauth_required_at = coalesce(reauth_required_at, now()) where shop_id = $1",
        shop.0
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Re-seals a token with the current key after a key rotation.
pub async fn reseal(pool: &PgPool, shop: ShopId, sealed: &Sealed) -> sqlx::Result<()> {
    sqlx::query!(
        "update shop set access_token_ciphertext = $2, access_token_key_id = $3 where shop_id = $1",
        shop.0,
        sealed.ciphertext,
        sealed.key_id
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Whether the shop has a usable token (stored, not refused since) granting `scope` (a
/// `write_x` scope also grants `read_x`).
pub async fn can_use_scope(pool: &PgPool, shop: ShopId, scope: &str) -> sqlx::Result<bool> {
    let scopes = sqlx::query_scalar!(
        "select scopes from shop
          where shop_id = $1 and installed and access_token_ciphertext is not null
            and reauth_required_at is null",
        shop.0
    )
    .fetch_optional(pool)
    .await?
    .flatten();
    Ok(scopes.is_some_and(|s| scope_granted(&s, scope)))
}

/// Whether the comma-separated `granted` scopes include `scope`.
pub fn scope_granted(granted: &str, scope: &str) -> bool {
    let implied = scope
        .strip_prefix("read_")
        .map(|rest| format!("write_{rest}"));
    granted
        .split(',')
        .map(str::trim)
        .any(|s| s == scope || implied.as_deref() == Some(s))
}
