//! Exponential decay without rescans.
//!
//! An event at time `t` is stored with weight `exp(λ·(t − t₀))`; at query time the sum is
//! multiplied by `exp(−λ·(now − t₀))`. Adding an event is O(1) and never touches other
//! weights. When new events push the exponent towards overflow we rebase `t₀` (multiply every
//! stored weight once), which happens every few years of data at the default half-lives.

use super::types::{EngineConfig, Ts};

const SECS_PER_DAY: i64 = 86_400;
/// Rebase once a new event's exponent passes this: e^64 ≈ 6e27 leaves ~10^280 of headroom for
/// sums over billions of events, and rebasing sooner would only cost more rescans.
const REBASE_EXPONENT: f64 = 64.0;
/// Clamp on the query-time exponent so a `now` far from `t₀` scales instead of underflowing
/// everything to zero (ranks within one list are unaffected: all items share the factor).
const MAX_QUERY_EXPONENT: f64 = 600.0;

/// Decay rate (per second) for a half-life in days.
pub(crate) fn rate(half_life_days: f64) -> f64 {
    std::f64::consts::LN_2 / (half_life_days * SECS_PER_DAY as f64)
}

/// Decay rates of every signal, per second.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rates {
    pub(crate) pop: f64,
    pub(crate) short: f64,
    pub(crate) pair: f64,
    pub(crate) view: f64,
    pub(crate) profile: f64,
}

impl Rates {
    pub(crate) fn new(cfg: &EngineConfig) -> Self {
        Self {
            pop: rate(cfg.bestseller_half_life_days),
            short: rate(cfg.trending_short_half_life_days),
            pair: rate(cfg.pair_half_life_days),
            view: rate(cfg.view_half_life_days),
            profile: rate(cfg.profile_half_life_days),
        }
    }

    fn max(&self) -> f64 {
        [self.pop, self.short, self.pair, self.view, self.profile]
            .into_iter()
            .fold(0.0, f64::max)
    }
}

/// The shared reference time `t₀` of all stored weights.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Clock {
    t0: Option<Ts>,
}

impl Clock {
    pub(crate) fn t0(&self) -> Ts {
        self.t0.unwrap_or(0)
    }

    /// Sets `t₀` from the first event seen; returns `Some(new_t0)` when an event at `t` needs a
    /// rebase first. `t₀` sits on day boundaries only to keep the numbers readable in debugging.
    pub(crate) fn prepare(&mut self, t: Ts, rates: &Rates) -> Option<Ts> {
        match self.t0 {
            None => {
                self.t0 = Some(t.div_euclid(SECS_PER_DAY) * SECS_PER_DAY);
                None
            }
            Some(t0) if (t.saturating_sub(t0)) as f64 * rates.max() > REBASE_EXPONENT => {
                Some(t.div_euclid(SECS_PER_DAY) * SECS_PER_DAY)
            }
            Some(_) => None,
        }
    }

    pub(crate) fn set_t0(&mut self, t0: Ts) {
        self.t0 = Some(t0);
    }

    /// Stored weight of one event at `t`.
    pub(crate) fn weight(&self, rate: f64, t: Ts) -> f64 {
        (rate * t.saturating_sub(self.t0()) as f64).exp()
    }

    /// Factor turning a stored weight into its decayed value at `now`.
    pub(crate) fn decay_to(&self, rate: f64, now: Ts) -> f64 {
        (-(rate * now.saturating_sub(self.t0()) as f64))
            .clamp(-MAX_QUERY_EXPONENT, MAX_QUERY_EXPONENT)
            .exp()
    }

    /// Factor applied to stored weights when `t₀` moves to `new_t0`.
    pub(crate) fn rebase_factor(&self, rate: f64, new_t0: Ts) -> f64 {
        (-(rate * new_t0.saturating_sub(self.t0()) as f64)).exp()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weight_halves_after_one_half_life() {
        let cfg = EngineConfig::default();
        let rates = Rates::new(&cfg);
        let mut c = Clock::default();
        assert_eq!(c.prepare(1_000_000, &rates), None);
        let w = c.weight(rates.pop, 1_000_000) * c.decay_to(rates.pop, 1_000_000 + 14 * 86_400);
        assert!((w - 0.5).abs() < 1e-12, "{w}");
    }

    #[test]
    fn far_future_event_asks_for_rebase_and_factor_preserves_decayed_value() {
        let rates = Rates::new(&EngineConfig::default());
        let mut c = Clock::default();
        c.prepare(0, &rates);
        let t = 10 * 365 * 86_400;
        let target = c
            .prepare(t, &rates)
            .expect("ten years at a 3-day half-life must rebase");
        let stored = c.weight(rates.pop, 86_400);
        let f = c.rebase_factor(rates.pop, target);
        let before = stored * c.decay_to(rates.pop, 2 * 86_400);
        c.set_t0(target);
        let after = stored * f * c.decay_to(rates.pop, 2 * 86_400);
        assert!(
            (before - after).abs() <= 1e-9 * before,
            "{before} vs {after}"
        );
    }
}
