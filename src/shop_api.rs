//! One shop's Admin API connection: its sealed token from the store, opened with the
//! configured key, and every call's 401 turned into "this shop must re-authorize" so nothing
//! retries a revoked token forever.

use std::sync::Arc;

use secrecy::SecretString;
use serde::de::DeserializeOwned;
use serde_json::Value;
use sqlx::PgPool;

use crate::admin_api::{AccessToken, AdminApi, AdminApiError};
use crate::config::{Secrets, Settings};
use crate::shopify::ShopDomain;
use crate::store::{access_tokens, shops, ShopId};
use crate::token_cipher::TokenCipher;

/// Why a shop cannot be called.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("the shop is not installed")]
    NotInstalled,
    #[error(
        "the shop has no Admin API token yet (install the app, or open it from Shopify admin)"
    )]
    NoToken,
    #[error("Shopify refused the shop's token: the shop must re-authorize (open the app in Shopify admin, or /auth?shop=…)")]
    ReauthRequired,
    #[error("SHOPRECS_ENCRYPTION_KEY is not set: Admin API tokens cannot be stored or read")]
    NoKey,
    #[error(transparent)]
    Cipher(#[from] crate::token_cipher::CipherError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Api(#[from] AdminApiError),
}

/// Shared by the server and CLI commands.
#[derive(Clone)]
pub struct ShopApi {
    pub api: AdminApi,
    cipher: Option<Arc<TokenCipher>>,
    pool: PgPool,
}

impl ShopApi {
    pub fn new(settings: &Settings, secrets: &Secrets, pool: PgPool) -> anyhow::Result<Self> {
        let cipher = secrets
            .encryption_key
            .as_ref()
            .map(|key| TokenCipher::from_secrets(key, secrets.encryption_key_previous.as_ref()))
            .transpose()?
            .map(Arc::new);
        Ok(Self {
            api: AdminApi::from_settings(settings, secrets),
            cipher,
            pool,
        })
    }

    fn cipher(&self) -> Result<&TokenCipher, ConnectError> {
        self.cipher.as_deref().ok_or(ConnectError::NoKey)
    }

    /// Seals and stores a token Shopify just issued.
    pub async fn store_token(&self, shop: ShopId, token: &AccessToken) -> Result<(), ConnectError> {
        let sealed = self.cipher()?.seal(shop.0, &token.token);
        access_tokens::save(&self.pool, shop, &sealed, &token.scope).await?;
        Ok(())
    }

    /// A connection for the shop, or why there is none.
    pub async fn connect(&self, shop: ShopId) -> Result<Connected, ConnectError> {
        let domain = shops::domain(&self.pool, shop)
            .await?
            .and_then(|d| ShopDomain::parse(&d).ok())
            .ok_or(ConnectError::NotInstalled)?;
        // After app/uninstalled the shop stays (its data until shop/redact), its token not.
        if shops::find_installed(&self.pool, &domain).await?.is_none() {
            return Err(ConnectError::NotInstalled);
        }
        let stored = access_tokens::load(&self.pool, shop)
            .await?
            .ok_or(ConnectError::NoToken)?;
        if stored.reauth_required {
            return Err(ConnectError::ReauthRequired);
        }
        let cipher = self.cipher()?;
        let token = cipher.open(shop.0, &stored.sealed)?;
        if cipher.needs_rotation(&stored.sealed.key_id) {
            let resealed = cipher.seal(shop.0, &token);
            access_tokens::reseal(&self.pool, shop, &resealed).await?;
        }
        Ok(Connected {
            api: self.api.clone(),
            pool: self.pool.clone(),
            shop,
            domain,
            token,
            scopes: stored.scopes,
        })
    }
}

/// A shop ready to be called.
pub struct Connected {
    api: AdminApi,
    pool: PgPool,
    pub shop: ShopId,
    pub domain: ShopDomain,
    token: SecretString,
    pub scopes: String,
}

impl Connected {
    /// Whether Shopify granted `scope` (a `write_x` scope implies `read_x`).
    pub fn has_scope(&self, scope: &str) -> bool {
        access_tokens::scope_granted(&self.scopes, scope)
    }

    /// A GraphQL call; a refused token marks the shop as needing re-auth.
    pub async fn graphql<T: DeserializeOwned>(
        &self,
        query: &str,
        variables: Value,
    ) -> Result<T, ConnectError> {
        match self
            .api
            .graphql(&self.domain, &self.token, query, variables)
            .await
        {
            Ok(data) => Ok(data),
            Err(AdminApiError::Unauthorized) => {
                tracing::warn!(
                    shop = self.domain.as_str(),
                    "Shopify refused the access token; the shop must re-authorize"
                );
                access_tokens::mark_reauth_required(&self.pool, self.shop).await?;
                Err(ConnectError::ReauthRequired)
            }
            Err(e) => Err(e.into()),
        }
    }
}
