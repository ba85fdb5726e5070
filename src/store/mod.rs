//! Queries, one file per aggregate. Every function takes the `ShopId` it works on: no query
//! spans shops.

pub mod abandoned;
pub mod access_tokens;
pub mod admin;
pub mod api_keys;
pub mod carts;
pub mod catalog;
pub mod customers;
pub mod dashboard;
pub mod events;
pub mod facts;
pub mod inbox;
pub mod install;
pub mod model_log;
pub mod orders;
pub mod outbox;
pub mod privacy;
pub mod rollups;
pub mod rules;
pub mod segments;
pub mod shop_cache;
pub mod shop_settings;
pub mod shops;
pub mod single_flight;
pub mod tag_sync;
pub mod widget_events;

/// Internal id of a shop (the tenant key of every table).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct ShopId(pub i64);
