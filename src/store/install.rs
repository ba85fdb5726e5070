//! Install bookkeeping: spent OAuth state nonces, the shop's connection state, and how each
//! post-install step last ended.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::ShopId;
use crate::shopify::ShopDomain;

/// Spends an OAuth state nonce (its hash) for the shop: `false` when it was spent before.
/// Expired nonces of the shop are purged on the way (the cookie's expiry refuses them anyway).
pub async fn spend_state(
    pool: &PgPool,
    shop: ShopId,
    nonce_hash: &[u8],
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    sqlx::query!(
        "delete from oauth_state_used where shop_id = $1 and expires_at < $2",
        shop.0,
        now
    )
    .execute(pool)
    .await?;
    let inserted = sqlx::query!(
        "insert into oauth_state_used (shop_id, nonce_hash, expires_at) values ($1, $2, $3)
         on conflict do nothing",
        shop.0,
        nonce_hash,
        expires_at
    )
    .execute(pool)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

/// What shoprecs holds for a shop that opened the embedded app.
#[derive(Debug, Clone, Copy)]
pub struct TokenState {
    pub shop: ShopId,
    pub installed: bool,
    pub has_token: bool,
    pub reauth_required: bool,
}

impl TokenState {
    /// Installed with a token Shopify has not refused.
    pub fn usable(&self) -> bool {
        self.installed && self.has_token && !self.reauth_required
    }
}

pub async fn token_state(pool: &PgPool, domain: &ShopDomain) -> sqlx::Result<Option<TokenState>> {
    let row = sqlx::query!(
        r#"select shop_id, installed,
                  access_token_ciphertext is not null as "has_token!",
                  reauth_required_at is not null as "reauth_required!"
             from shop where domain = $1"#,
        domain.as_str()
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| TokenState {
        shop: ShopId(r.shop_id),
        installed: r.installed,
        has_token: r.has_token,
        reauth_required: r.reauth_required,
    }))
}

/// The shop's connection as the health page shows it.
pub struct Connection {
    pub has_token: bool,
    pub reauth_required_at: Option<DateTime<Utc>>,
    pub token_saved_at: Option<DateTime<Utc>>,
    pub scopes: String,
}

pub async fn connection(pool: &PgPool, shop: ShopId) -> sqlx::Result<Option<Connection>> {
    let row = sqlx::query!(
        r#"select access_token_ciphertext is not null as "has_token!", reauth_required_at,
                  token_saved_at, coalesce(scopes, '') as "scopes!"
             from shop where shop_id = $1"#,
        shop.0
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| Connection {
        has_token: r.has_token,
        reauth_required_at: r.reauth_required_at,
        token_saved_at: r.token_saved_at,
        scopes: r.scopes,
    }))
}

/// How a post-install step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepStatus {
    Ok,
    Failed,
    /// Not attempted: a scope it needs was not granted.
    Skipped,
}

impl StepStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
        }
    }
}

/// Records the outcome of one step; `succeeded_at` keeps the last success through failures.
pub async fn record_step(
    pool: &PgPool,
    shop: ShopId,
    step: &str,
    status: StepStatus,
    message: &str,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    let ok = status == StepStatus::Ok;
    sqlx::query!(
        "insert into install_step (shop_id, step, status, message, attempted_at, succeeded_at)
         values ($1, $2, $3, $4, $5::timestamptz, case when $6::boolean then $5::timestamptz end)
         on conflict (shop_id, step) do update
            set status = excluded.status, message = excluded.message,
                attempted_at = excluded.attempted_at,
                succeeded_at = case when $6::boolean then excluded.attempted_at
                                    else install_step.succeeded_at end",
        shop.0,
        step,
        status.as_str(),
        message,
        at,
        ok
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// One step's last outcome.
pub struct Step {
    pub step: String,
    pub status: String,
    pub message: String,
    pub attempted_at: DateTime<Utc>,
    pub succeeded_at: Option<DateTime<Utc>>,
}

pub async fn steps(pool: &PgPool, shop: ShopId) -> sqlx::Result<Vec<Step>> {
    sqlx::query_as!(
        Step,
        "select step, status, message, attempted_at, succeeded_at
           from install_step where shop_id = $1 order by step",
        shop.0
    )
    .fetch_all(pool)
    .await
}
