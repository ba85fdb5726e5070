//! The thresholds a shop's segments use, derived from its own order history unless the
//! merchant overrides them.

use serde::{Deserialize, Serialize};

/// How defaults are derived (from `[segments]` in the configuration).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySettings {
    /// The lapse window is this percentile of the shop's gaps between a customer's orders...
    pub lapse_percentile: f64,
    /// ...bounded below and above (days).
    pub lapse_min_days: f64,
    pub lapse_max_days: f64,
    /// Used while the shop has fewer gaps than `min_intervals` to learn from.
    pub default_lapse_days: f64,
    pub default_expected_days: f64,
    pub min_intervals: usize,
    /// A customer is at risk once the time since their last order exceeds their expected gap
    /// times this factor.
    pub at_risk_factor: f64,
    /// A customer's own median gap is used from this many gaps (orders − 1) on.
    pub own_history_min_gaps: u32,
    /// Share of the shop's buying customers flagged VIP, by net spend.
    pub vip_share: f64,
}

impl Default for PolicySettings {
    fn default() -> Self {
        Self {
            lapse_percentile: 0.9,
            lapse_min_days: 30.0,
            lapse_max_days: 365.0,
            default_lapse_days: 180.0,
            default_expected_days: 45.0,
            min_intervals: 20,
            at_risk_factor: 1.5,
            own_history_min_gaps: 2,
            vip_share: 0.05,
        }
    }
}

/// A merchant's per-shop overrides (any may be absent).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overrides {
    pub lapse_days: Option<f64>,
    pub at_risk_factor: Option<f64>,
    pub vip_share: Option<f64>,
}

/// The values in use for one shop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    /// No order for longer than this → lapsed.
    pub lapse_days: f64,
    /// The shop's median gap between a customer's consecutive orders.
    pub expected_days: f64,
    pub at_risk_factor: f64,
    pub own_history_min_gaps: u32,
    /// Net spend from which a customer is VIP (`None`: nobody has bought yet).
    pub vip_min_spent: Option<f64>,
    pub vip_share: f64,
    /// The shop's median net spend of buying customers (scales the engagement score's money part).
    pub median_spent: f64,
    /// How many gaps the values were learned from (0: configured defaults).
    pub intervals_observed: usize,
    /// Whether `lapse_days` is the merchant's override.
    pub lapse_overridden: bool,
    /// How many buying customers the values were learned from.
    #[serde(default)]
    pub buyers: usize,
}

/// The median of `values` (`None` when empty). Sorts a copy.
pub fn median(values: &[f64]) -> Option<f64> {
    percentile(values, 0.5)
}

fn percentile(values: &[f64], p: f64) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let rank = p.clamp(0.0, 1.0) * (v.len() - 1) as f64;
    let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
    Some(v[lo] + (v[hi] - v[lo]) * (rank - lo as f64))
}

/// Derives the policy from the shop's gaps between consecutive orders of the same customer
/// (days) and the net spend of each buying customer.
pub fn derive(
    gaps_days: &[f64],
    spends: &[f64],
    settings: &PolicySettings,
    overrides: &Overrides,
) -> Policy {
    let learned = gaps_days.len() >= settings.min_intervals;
    let (lapse, expected) = if learned {
        let lapse = percentile(gaps_days, settings.lapse_percentile)
            .unwrap_or(settings.default_lapse_days)
            .clamp(settings.lapse_min_days, settings.lapse_max_days);
        let expected = median(gaps_days).unwrap_or(settings.default_expected_days);
        (lapse, expected.max(1.0))
    } else {
        (settings.default_lapse_days, settings.default_expected_days)
    };
    let vip_share = overrides
        .vip_share
        .unwrap_or(settings.vip_share)
        .clamp(0.0, 1.0);
    let buyers: Vec<f64> = spends.iter().copied().filter(|s| *s > 0.0).collect();
    let vip_min_spent = (vip_share > 0.0 && !buyers.is_empty())
        .then(|| percentile(&buyers, 1.0 - vip_share))
        .flatten();
    Policy {
        lapse_days: overrides.lapse_days.filter(|d| *d > 0.0).unwrap_or(lapse),
        expected_days: expected,
        at_risk_factor: overrides
            .at_risk_factor
            .filter(|f| *f > 0.0)
            .unwrap_or(settings.at_risk_factor),
        own_history_min_gaps: settings.own_history_min_gaps,
        vip_min_spent,
        vip_share,
        median_spent: median(&buyers).unwrap_or(0.0),
        intervals_observed: if learned { gaps_days.len() } else { 0 },
        lapse_overridden: overrides.lapse_days.is_some_and(|d| d > 0.0),
        buyers: buyers.len(),
    }
}

impl Policy {
    /// Whether values learned from `self.buyers` buying customers still hold for `buyers`
    /// (within a tenth, or a few while the shop is small).
    pub fn still_fits(&self, buyers: usize) -> bool {
        self.buyers.abs_diff(buyers) <= (self.buyers / 10).max(2)
    }

    pub fn is_vip(&self, net_spent: f64) -> bool {
        self.vip_min_spent
            .is_some_and(|min| net_spent > 0.0 && net_spent >= min)
    }
}
