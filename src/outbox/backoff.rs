//! When to try a failed delivery again: exponential backoff with jitter.

use std::time::Duration;

/// The wait after the `attempts`-th failed attempt (1 = the first): `base · 2^(attempts-1)`,
/// capped at `max`, then scaled into [half, all] of that by `jitter` (a random number in
/// [0, 1)), so that receivers coming back up are not hit by every retry at once.
pub fn delay(attempts: i32, base_secs: f64, max_secs: f64, jitter: f64) -> Duration {
    let exponent = attempts.saturating_sub(1).clamp(0, 62);
    let full = (base_secs * 2f64.powi(exponent)).min(max_secs).max(0.0);
    let jitter = if jitter.is_finite() {
        jitter.clamp(0.0, 1.0)
    } else {
        0.0
    };
    Duration::try_from_secs_f64(full * (0.5 + 0.5 * jitter)).unwrap_or(Duration::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_from_the_base_within_jitter_bounds() {
        for (attempts, full) in [(1, 30.0), (2, 60.0), (3, 120.0), (5, 480.0)] {
            assert_eq!(delay(attempts, 30.0, 3600.0, 0.0).as_secs_f64(), full / 2.0);
            assert_eq!(delay(attempts, 30.0, 3600.0, 1.0).as_secs_f64(), full);
            let mid = delay(attempts, 30.0, 3600.0, 0.5).as_secs_f64();
            assert!(mid > full / 2.0 && mid < full, "{attempts}: {mid}");
        }
    }

    #[test]
    fn never_exceeds_the_cap_even_after_many_attempts() {
        for attempts in [8, 12, 100, i32::MAX] {
            let d = delay(attempts, 30.0, 3600.0, 1.0);
            assert_eq!(d, Duration::from_secs(3600), "{attempts}");
            assert!(delay(attempts, 30.0, 3600.0, 0.0) >= Duration::from_secs(1800));
        }
    }

    #[test]
    fn odd_inputs_give_a_sane_delay() {
        assert_eq!(delay(0, 30.0, 3600.0, 1.0), Duration::from_secs(30));
        assert_eq!(delay(-5, 30.0, 3600.0, 1.0), Duration::from_secs(30));
        assert_eq!(delay(1, 30.0, 3600.0, f64::NAN), Duration::from_secs(15));
        assert_eq!(delay(1, 30.0, 3600.0, 7.0), Duration::from_secs(30));
    }
}
