//! The Shopify Admin API client: OAuth code and token exchange, and GraphQL with Shopify's
//! cost-based throttling (SHOPIFY.md §6, §7).
//!
//! Every shop URL comes from `admin_api.url` (`https://{shop}` in production; tests and the
//! demo point it at [`crate::shopify_fake`]). The API version is pinned by
//! `shopify.api_version`. Being a good citizen:
//! - each response's `extensions.cost.throttleStatus` updates a per-shop bucket estimate and a
//!   request waits until its estimated cost fits, so the client slows down before Shopify
//!   throttles it; a `THROTTLED` error waits for the missing points and tries again;
//! - 429 honours `Retry-After`; 5xx, timeouts and connection errors are retried with jittered
//!   exponential backoff, capped, up to `admin_api.max_attempts`;
//! - 401 (revoked or expired token) is never retried: it surfaces as
//!   [`AdminApiError::Unauthorized`] and the caller marks the shop as needing re-auth.
//!
//! Access tokens are passed in as `SecretString` and never logged.

mod client;
mod error;
pub mod retry;
pub mod throttle;

pub use client::{AccessToken, AdminApi, ApiConfig};
pub use error::AdminApiError;
