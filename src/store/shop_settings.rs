//! A shop's own settings from the dashboard (`shop.settings.dashboard`): each overrides the
//! configured default when present.

use serde::{Deserialize, Serialize};
use sqlx::PgPool;

use super::single_flight::Lookup;
use super::ShopId;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ShopSettings {
    /// Widget headings used when the theme block does not set one.
    pub heading_product: Option<String>,
    pub heading_cart: Option<String>,
    pub heading_home: Option<String>,
    /// Products per widget when the block does not say (1–24).
    pub widget_limit: Option<usize>,
    /// Share of anonymous shoppers held out (0–1).
    pub holdout_share: Option<f64>,
    /// Decay half-lives of this shop's model, in days.
    pub bestseller_half_life_days: Option<f64>,
    pub pair_half_life_days: Option<f64>,
    /// Keep segment tags on customers in Shopify (`crate::writeback`); off unless switched on.
    pub sync_segment_tags: Option<bool>,
}

pub async fn get(pool: &PgPool, shop: ShopId) -> sqlx::Result<ShopSettings> {
    let v = sqlx::query_scalar!(
        r#"select coalesce(settings -> 'dashboard', '{}'::jsonb) as "v!" from shop where shop_id = $1"#,
        shop.0
    )
    .fetch_optional(pool)
    .await?;
    Ok(v.and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default())
}

pub async fn set(pool: &PgPool, shop: ShopId, s: &ShopSettings) -> sqlx::Result<()> {
    let v = serde_json::to_value(s).unwrap_or_default();
    sqlx::query!(
        "update shop set settings = jsonb_set(settings, '{dashboard}', $2) where shop_id = $1",
        shop.0,
        v
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Shops' settings in memory for the storefront's hot path, each read again after a few
/// seconds (and at once in this process after the dashboard saves them).
#[derive(Default)]
pub struct SettingsCache {
    entries: std::sync::RwLock<
        std::collections::HashMap<ShopId, (std::time::Instant, std::sync::Arc<ShopSettings>)>,
    >,
    refreshing: super::single_flight::SingleFlight<ShopId>,
}

const FRESH: std::time::Duration = std::time::Duration::from_secs(5);

impl SettingsCache {
    pub async fn get(
        &self,
        pool: &PgPool,
        shop: ShopId,
    ) -> sqlx::Result<std::sync::Arc<ShopSettings>> {
        let cached = self
            .entries
            .read()
            .ok()
            .and_then(|entries| entries.get(&shop).cloned());
        let _claim = match self
            .refreshing
            .lookup(&shop, cached.map(|(at, s)| (s, at)), FRESH)
        {
            Lookup::Use(s) => return Ok(s),
            Lookup::Refresh(claim) => claim,
        };
        let s = std::sync::Arc::new(get(pool, shop).await?);
        if let Ok(mut entries) = self.entries.write() {
            entries.insert(shop, (std::time::Instant::now(), s.clone()));
        }
        Ok(s)
    }

    pub fn forget(&self, shop: ShopId) {
        if let Ok(mut entries) = self.entries.write() {
            entries.remove(&shop);
        }
    }
}
