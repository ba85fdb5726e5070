//! Applying verified events to the store: the webhook applier and one module per resource.
//!
//! Every apply is idempotent and order-independent: resource `updated_at` decides which state
//! wins, deletes are dated tombstones, refunds are keyed by refund line, and privacy redaction
//! leaves a hashed tombstone so late retries cannot bring a customer back.

mod apply;
mod carts;
mod catalog;
mod customers;
pub mod orders;
mod privacy;
pub mod topic;
pub mod worker;
pub mod writer;

pub use apply::{apply, order_state, ApplyError};
pub use worker::{Applier, ApplierHandle};
