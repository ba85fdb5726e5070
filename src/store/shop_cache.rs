//! Shop domain → id, cached: the webhook hot path should not look the shop up every time, and
//! must not lock the shop row (that would serialise every webhook of a shop).

use std::collections::HashMap;
use std::sync::RwLock;

use sqlx::PgPool;

use super::{shops, ShopId};
use crate::shopify::ShopDomain;

#[derive(Default)]
pub struct ShopCache {
    ids: RwLock<HashMap<ShopDomain, ShopId>>,
}

impl ShopCache {
    pub async fn resolve_or_create(
        &self,
        pool: &PgPool,
        domain: &ShopDomain,
    ) -> sqlx::Result<ShopId> {
        if let Some(id) = self
            .ids
            .read()
            .ok()
            .and_then(|ids| ids.get(domain).copied())
        {
            return Ok(id);
        }
        let id = shops::resolve_or_create(pool, domain).await?;
        if let Ok(mut ids) = self.ids.write() {
            ids.insert(domain.clone(), id);
        }
        Ok(id)
    }

    /// Drops a stale entry (the shop was deleted by shop/redact).
    pub fn forget(&self, domain: &ShopDomain) {
        if let Ok(mut ids) = self.ids.write() {
            ids.remove(domain);
        }
    }
}
