//! Per-shop API keys: random 256-bit secrets, shown once, stored as SHA-256.

use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use super::ShopId;

const PREFIX: &str = "srk_";

fn hash(key: &str) -> Vec<u8> {
    Sha256::digest(key.as_bytes()).to_vec()
}

/// Creates a key and returns it (the only time it is visible).
pub async fn create(pool: &PgPool, shop: ShopId, label: &str) -> sqlx::Result<String> {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let key = format!("{PREFIX}{}", hex::encode(bytes));
    sqlx::query!(
        "insert into api_key (shop_id, key_hash, key_prefix, label) values ($1, $2, $3, $4)",
        shop.0,
        hash(&key),
        &key[..PREFIX.len() + 6],
        label
    )
    .execute(pool)
    .await?;
    Ok(key)
}

/// The shop a (non-revoked) key belongs to, and whether that shop has the app installed.
/// Keys are 256-bit random, so looking up their hash is safe against guessing.
pub async fn lookup(pool: &PgPool, key: &str) -> sqlx::Result<Option<(ShopId, bool)>> {
    if !key.starts_with(PREFIX) || key.len() > 100 {
        return Ok(None);
    }
    let found = sqlx::query!(
        r#"select k.shop_id, k.key_id, s.installed,
                  (k.last_used_at is null or k.last_used_at < now() - interval '1 minute') as "stale!"
             from api_key k join shop s using (shop_id)
            where k.key_hash = $1 and k.revoked_at is null"#,
        hash(key)
    )
    .fetch_optional(pool)
    .await?;
    let Some(found) = found else { return Ok(None) };
    if found.stale {
        // Recorded at most once a minute, so a busy key costs no write per request.
        sqlx::query!(
            "update api_key set last_used_at = now() where shop_id = $1 and key_id = $2",
            found.shop_id,
            found.key_id
        )
        .execute(pool)
        .await?;
    }
    Ok(Some((ShopId(found.shop_id), found.installed)))
}
