//! The policy a shop's segments use: learned from its orders at most once a day, with the
//! merchant's overrides.

use chrono::{DateTime, Duration, Utc};
use sqlx::PgConnection;

use super::LifecycleConfig;
use crate::segments::{derive, Overrides, Policy};
use crate::store::segments;
use crate::store::ShopId;

/// The stored policy when it is less than a day old and the shop has about as many buying
/// customers as it was learned from; else a freshly derived (and stored) one.
pub async fn current_policy(
    conn: &mut PgConnection,
    shop: ShopId,
    config: &LifecycleConfig,
    now: DateTime<Utc>,
    force: bool,
) -> sqlx::Result<Policy> {
    if !force {
        if let Some((json, at)) = segments::policy(conn, shop).await? {
            if now - at < Duration::days(1) && at <= now {
                if let Ok(policy) = serde_json::from_value::<Policy>(json) {
                    let buyers = segments::buyers(conn, shop).await?;
                    if policy.still_fits(buyers as usize) {
                        return Ok(policy);
                    }
                }
            }
        }
    }
    let overrides: Overrides =
        serde_json::from_value(segments::overrides(conn, shop).await?).unwrap_or_default();
    let (gaps, spends) = segments::gaps_and_spends(conn, shop).await?;
    let policy = derive(&gaps, &spends, &config.policy, &overrides);
    let json = serde_json::to_value(&policy).unwrap_or_default();
    segments::save_policy(conn, shop, &json, now).await?;
    Ok(policy)
}

/// For pages and the API: the stored policy when it is less than a day old (without checking
/// how many buyers it was learned from: the applier and the sweep keep it current), else as
/// [`current_policy`].
pub async fn policy_for_reading(
    conn: &mut PgConnection,
    shop: ShopId,
    config: &LifecycleConfig,
    now: DateTime<Utc>,
) -> sqlx::Result<Policy> {
    if let Some((json, at)) = segments::policy(conn, shop).await? {
        if now - at < Duration::days(1) && at <= now {
            if let Ok(policy) = serde_json::from_value::<Policy>(json) {
                return Ok(policy);
            }
        }
    }
    current_policy(conn, shop, config, now, false).await
}
