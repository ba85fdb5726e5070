//! The engagement score: 0–100 from recency, frequency and money of orders and recent browsing.
//!
//! ```text
//! recency   R = 0.5 ^ (days since last order / recency half-life)        (0 without orders)
//! frequency F = 1 − 0.5 ^ (orders / frequency half-orders)
//! money     M = spent / (spent + the shop's median spend of buying customers)
//! browsing  B = 1 − e ^ (−activity / browse saturation), where activity is the sum of event
//!               weights (view 1, add to cart 3, checkout started 5, …) decayed with the
//!               browse half-life
//! score = 100 × (wR·R + wF·F + wM·M + wB·B) / (wR + wF + wM + wB)
//! ```
//! A new order sets R to 1 and raises F and M; browsing raises B; silence decays R and B, so
//! the score rises when a customer comes back and falls while they are quiet.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Weights and decay (from `[engagement]` in the configuration).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Weights {
    pub recency: f64,
    pub frequency: f64,
    pub money: f64,
    pub browsing: f64,
    pub recency_half_life_days: f64,
    pub frequency_half_orders: f64,
    pub browse_half_life_days: f64,
    pub browse_saturation: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Self {
            recency: 0.35,
            frequency: 0.20,
            money: 0.15,
            browsing: 0.30,
            recency_half_life_days: 30.0,
            frequency_half_orders: 2.0,
            browse_half_life_days: 7.0,
            browse_saturation: 10.0,
        }
    }
}

/// What the score is computed from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EngagementInputs {
    pub orders: u32,
    pub last_order_at: Option<DateTime<Utc>>,
    pub net_spent: f64,
    /// Browsing activity as of `activity_at` (see [`decay_activity`]).
    pub activity: f64,
    pub activity_at: Option<DateTime<Utc>>,
}

/// The weight one storefront event adds to a customer's browsing activity.
pub fn activity_weight(event_name: &str) -> f64 {
    match event_name {
        "checkout_started" => 5.0,
        "product_added_to_cart" => 3.0,
        "product_viewed" => 1.0,
        "collection_viewed" | "search_submitted" => 0.5,
        "page_viewed" => 0.2,
        _ => 0.0,
    }
}

fn days_between(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    ((to - from).num_seconds() as f64 / 86_400.0).max(0.0)
}

/// `value` as of `from`, decayed to `to` with the given half-life.
pub fn decay_activity(
    value: f64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    half_life_days: f64,
) -> f64 {
    if half_life_days <= 0.0 {
        return 0.0;
    }
    value * 0.5f64.powf(days_between(from, to) / half_life_days)
}

/// The score at `now`, 0–100 with one decimal.
pub fn score(
    inputs: &EngagementInputs,
    weights: &Weights,
    median_spent: f64,
    now: DateTime<Utc>,
) -> f64 {
    let recency = match (inputs.orders, inputs.last_order_at) {
        (0, _) | (_, None) => 0.0,
        (_, Some(last)) if weights.recency_half_life_days > 0.0 => {
            0.5f64.powf(days_between(last, now) / weights.recency_half_life_days)
        }
        _ => 0.0,
    };
    let frequency = if weights.frequency_half_orders > 0.0 {
        1.0 - 0.5f64.powf(f64::from(inputs.orders) / weights.frequency_half_orders)
    } else {
        0.0
    };
    let spent = inputs.net_spent.max(0.0);
    let money = if spent <= 0.0 {
        0.0
    } else if median_spent > 0.0 {
        spent / (spent + median_spent)
    } else {
        0.5
    };
    let activity = match inputs.activity_at {
        Some(at) => decay_activity(inputs.activity, at, now, weights.browse_half_life_days),
        None => 0.0,
    };
    let browsing = if weights.browse_saturation > 0.0 {
        1.0 - (-activity.max(0.0) / weights.browse_saturation).exp()
    } else {
        0.0
    };
    let total = weights.recency + weights.frequency + weights.money + weights.browsing;
    if total <= 0.0 {
        return 0.0;
    }
    let raw = (weights.recency * recency
        + weights.frequency * frequency
        + weights.money * money
        + weights.browsing * browsing)
        / total;
    (raw.clamp(0.0, 1.0) * 1000.0).round() / 10.0
}
