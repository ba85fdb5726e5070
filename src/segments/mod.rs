//! Lifecycle segments and the engagement score: pure logic, no database, no clock of its own.
//!
//! Every known customer of a shop is in exactly one [`Segment`] at any moment, a function of
//! their order history, the shop's [`Policy`] and the time. Because the segment only changes at
//! an order or when a threshold passes, [`transitions`] can say exactly *when* each change
//! happened, so history is recorded at the right date however rarely it is computed.

mod classify;
mod engagement;
mod policy;
mod segment;
mod summary;

pub use classify::{history_from_orders, segment_at, timeline, transitions, Facts, Transition};
pub use engagement::{activity_weight, decay_activity, score, EngagementInputs, Weights};
pub use policy::{derive, median, Overrides, Policy, PolicySettings};
pub use segment::Segment;
pub use summary::{summarise, Summary};

#[cfg(test)]
mod tests;
