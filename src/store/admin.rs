//! Admin dashboard access without Shopify: per-shop admin tokens and login sessions.
//! Tokens and session secrets are random 256-bit values; only their SHA-256 is stored.

use chrono::{DateTime, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use super::ShopId;

const PREFIX: &str = "sra_";

/// SHA-256 of a token or session secret, as stored.
pub fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// Creates an admin token for the shop and returns it (the only time it is visible).
pub async fn create_token(pool: &PgPool, shop: ShopId, label: &str) -> sqlx::Result<String> {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = format!("{PREFIX}{}", hex::encode(bytes));
    sqlx::query!(
        "insert into admin_token (shop_id, token_hash, token_prefix, label)
         values ($1, $2, $3, $4)",
        shop.0,
        hash(&token),
        &token[..PREFIX.len() + 6],
        label
    )
    .execute(pool)
    .await?;
    Ok(token)
}

/// The shop's tokens that are not revoked: `(token_id, token_hash)`. A shop has a handful, so
/// the caller compares every hash in constant time instead of letting an index lookup decide.
pub async fn active_tokens(pool: &PgPool, shop: ShopId) -> sqlx::Result<Vec<(i64, Vec<u8>)>> {
    let rows = sqlx::query!(
        "select token_id, token_hash from admin_token
          where shop_id = $1 and revoked_at is null
          order by token_id",
        shop.0
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.token_id, r.token_hash))
        .collect())
}

/// Opens a login session and forgets the shop's expired ones; `token_id` is the admin token it
/// was opened with (`None`: by a verified OAuth install).
pub async fn create_session(
    pool: &PgPool,
    shop: ShopId,
    token_id: Option<i64>,
    session_hash: &[u8],
    csrf: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "delete from admin_session where shop_id = $1 and expires_at <= $2",
        shop.0,
        now
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "insert into admin_session (shop_id, session_hash, token_id, csrf_token, created_at, expires_at)
         values ($1, $2, $3, $4, $5, $6)",
        shop.0,
        session_hash,
        token_id,
        csrf,
        now,
        expires_at
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "update admin_token set last_used_at = $3 where shop_id = $1 and token_id = $2",
        shop.0,
        token_id,
        now
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// A live session of an installed shop whose token is not revoked.
pub struct Session {
    pub domain: String,
    pub csrf: String,
}

/// The session with this hash, if it has not expired at `now`.
pub async fn find_session(
    pool: &PgPool,
    shop: ShopId,
    session_hash: &[u8],
    now: DateTime<Utc>,
) -> sqlx::Result<Option<Session>> {
    let found = sqlx::query!(
        "select s.domain, a.csrf_token
           from admin_session a
           join shop s using (shop_id)
           left join admin_token t using (shop_id, token_id)
          where a.shop_id = $1 and a.session_hash = $2 and a.expires_at > $3
            and s.installed and t.revoked_at is null",
        shop.0,
        session_hash,
        now
    )
    .fetch_optional(pool)
    .await?;
    Ok(found.map(|r| Session {
        domain: r.domain,
        csrf: r.csrf_token,
    }))
}

/// Logout: the session ends now.
pub async fn delete_session(pool: &PgPool, shop: ShopId, session_hash: &[u8]) -> sqlx::Result<()> {
    sqlx::query!(
        "delete from admin_session where shop_id = $1 and session_hash = $2",
        shop.0,
        session_hash
    )
    .execute(pool)
    .await?;
    Ok(())
}
