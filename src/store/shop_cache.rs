//! Shop domain → id, cached: the webhook hot path should not look the shop up every time, and
//! must not lock the shop row (that would serialise every webhook of a shop).

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use sqlx::PgPool;

use super::single_flight::{Lookup, SingleFlight};
use super::{shops, ShopId};
use crate::shopify::ShopDomain;

#[derive(Default)]
pub struct ShopCache {
    ids: RwLock<HashMap<ShopDomain, ShopId>>,
    /// Whether a shop has the app installed, as last read, and when.
    installed: RwLock<HashMap<ShopDomain, (Option<ShopId>, Instant)>>,
    refreshing: SingleFlight<ShopDomain>,
}

/// How long an install state is trusted: an uninstall takes effect on the storefront within
/// this, and a busy storefront costs one database read per shop per interval.
const INSTALLED_TTL: Duration = Duration::from_secs(5);

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

    /// The shop's id if it has the app installed (read through a short-lived cache).
    pub async fn installed(
        &self,
        pool: &PgPool,
        domain: &ShopDomain,
    ) -> sqlx::Result<Option<ShopId>> {
        let cached = self
            .installed
            .read()
            .ok()
            .and_then(|m| m.get(domain).copied());
        let _claim = match self.refreshing.lookup(domain, cached, INSTALLED_TTL) {
            Lookup::Use(id) => return Ok(id),
            Lookup::Refresh(claim) => claim,
        };
        let id = shops::find_installed(pool, domain).await?;
        if let Ok(mut m) = self.installed.write() {
            if m.len() > 100_000 {
                m.clear();
            }
            m.insert(domain.clone(), (id, Instant::now()));
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
