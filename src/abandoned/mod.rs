//! Abandoned checkouts and bundle offers.
//!
//! A checkout with a known customer (or, from a webhook, an e-mail) that is neither completed
//! nor ordered `abandon_after_minutes` after its last change is *abandoned* from that moment.
//! The sweep records it once, with a bundle offer (its items plus the engine's best
//! complementary product and a suggested discount), and sends `checkout.abandoned`. A later
//! order with the same checkout or cart token marks it *recovered* (`checkout.recovered`); an
//! open one *expires* after `expire_after_days`. Every step is idempotent: a second sweep at
//! the same time changes nothing and sends nothing.
//!
//! When the shop granted `write_discounts`, each offer also gets a real single-use discount
//! code: the offer waits as `discount_state = 'pending'` and its `checkout.abandoned` event is
//! sent by `crate::writeback::discounts` once the code exists in Shopify (or without a code
//! after `writeback.discount_max_attempts` failed attempts).

mod offer;
mod sweep;

pub use offer::{abandoned_at, bundle_products, checkout_product_ids, pixel_product_ids};
pub use sweep::{abandoned_event, sweep, sweep_shop, SweepReport};
