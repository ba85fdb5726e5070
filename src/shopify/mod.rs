//! Shopify's platform contracts: shop domains, signatures, ids and payload shapes.

pub mod app_proxy;
pub mod domain;
pub mod ids;
pub mod oauth_query;
pub mod payloads;
pub mod webhook_hmac;

pub use domain::ShopDomain;
