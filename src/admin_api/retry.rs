//! When to try a failed Admin API call again: jittered exponential backoff with a cap, or the
//! server's own `Retry-After`.

use std::time::Duration;

#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
    pub max_attempts: u32,
}

impl Backoff {
    /// The delay before attempt `attempt + 1` (attempt counts from 0): full exponential step
    /// times a random factor in [0.5, 1), capped at `max`.
    pub fn delay(&self, attempt: u32, unit_random: f64) -> Duration {
        let step = self.base.as_secs_f64() * 2f64.powi(attempt.min(30) as i32);
        let jittered = step * (0.5 + unit_random.clamp(0.0, 1.0) / 2.0);
        Duration::from_secs_f64(jittered.min(self.max.as_secs_f64()))
    }

    /// The server's `Retry-After`, capped, or the backoff step when it gave none.
    pub fn after(&self, attempt: u32, retry_after: Option<Duration>, unit_random: f64) -> Duration {
        match retry_after {
            Some(wait) => wait.min(self.max),
            None => self.delay(attempt, unit_random),
        }
    }
}

/// `Retry-After` in seconds (Shopify sends a number, possibly fractional).
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let secs: f64 = value.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backoff() -> Backoff {
        Backoff {
            base: Duration::from_millis(100),
            max: Duration::from_secs(2),
            max_attempts: 5,
        }
    }

    #[test]
    fn delays_double_with_jitter_and_stop_at_the_cap() {
        let b = backoff();
        assert_eq!(b.delay(0, 0.0), Duration::from_millis(50));
        assert_eq!(b.delay(0, 1.0), Duration::from_millis(100));
        assert_eq!(b.delay(3, 1.0), Duration::from_millis(800));
        assert_eq!(b.delay(10, 0.5), Duration::from_secs(2));
        assert_eq!(b.delay(u32::MAX, 0.9), Duration::from_secs(2));
    }

    #[test]
    fn retry_after_wins_but_is_capped() {
        let b = backoff();
        assert_eq!(
            b.after(0, Some(Duration::from_secs(1)), 0.0),
            Duration::from_secs(1)
        );
        assert_eq!(
            b.after(0, Some(Duration::from_secs(60)), 0.0),
            Duration::from_secs(2)
        );
    }

    #[test]
    fn retry_after_parses_seconds_only() {
        assert_eq!(parse_retry_after("2.0"), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after(" 1 "), Some(Duration::from_secs(1)));
        assert_eq!(parse_retry_after("-1"), None);
        assert_eq!(parse_retry_after("soon"), None);
    }
}
