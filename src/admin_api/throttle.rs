//! Shopify's GraphQL cost limit, as the client sees it: a leaky bucket per shop whose state
//! every response reports in `extensions.cost.throttleStatus`. The client waits *before* a
//! request whose estimated cost exceeds what the bucket will hold by then, so it slows down
//! instead of being throttled.

use std::time::{Duration, Instant};

use serde::Deserialize;

/// `extensions.cost.throttleStatus` of a response.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ThrottleStatus {
    pub maximum_available: f64,
    pub currently_available: f64,
    pub restore_rate: f64,
}

/// `extensions.cost` of a response.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct QueryCost {
    pub requested_query_cost: Option<f64>,
    pub actual_query_cost: Option<f64>,
    pub throttle_status: ThrottleStatus,
}

/// What the client knows of one shop's bucket.
#[derive(Debug, Clone, Copy)]
pub struct Bucket {
    status: ThrottleStatus,
    at: Instant,
}

impl Bucket {
    pub fn new(status: ThrottleStatus, at: Instant) -> Self {
        Self { status, at }
    }

    /// Points available at `now`, counting what has leaked back since the last report.
    pub fn available(&self, now: Instant) -> f64 {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        (self.status.currently_available + elapsed * self.status.restore_rate)
            .min(self.status.maximum_available)
    }

    /// How long to wait before spending `cost` points (zero when they are there).
    pub fn wait_for(&self, cost: f64, now: Instant) -> Duration {
        let cost = cost.min(self.status.maximum_available);
        let missing = cost - self.available(now);
        if missing <= 0.0 || self.status.restore_rate <= 0.0 {
            return Duration::ZERO;
        }
        Duration::from_secs_f64(missing / self.status.restore_rate)
    }

    /// Reserves `cost` points for a request about to be sent, so concurrent requests for the
    /// same shop do not all see the same headroom.
    pub fn spend(&mut self, cost: f64, now: Instant) {
        self.status.currently_available = self.available(now) - cost;
        self.at = now;
    }

    /// The server's report replaces the estimate.
    pub fn observe(&mut self, status: ThrottleStatus, now: Instant) {
        self.status = status;
        self.at = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(available: f64) -> ThrottleStatus {
        ThrottleStatus {
            maximum_available: 1000.0,
            currently_available: available,
            restore_rate: 50.0,
        }
    }

    #[test]
    fn enough_points_means_no_wait() {
        let now = Instant::now();
        let bucket = Bucket::new(status(500.0), now);
        assert_eq!(bucket.wait_for(100.0, now), Duration::ZERO);
    }

    #[test]
    fn missing_points_wait_for_the_restore_rate() {
        let now = Instant::now();
        let bucket = Bucket::new(status(10.0), now);
        assert_eq!(bucket.wait_for(110.0, now), Duration::from_secs(2));
        // One second later half of it has leaked back.
        let later = now + Duration::from_secs(1);
        assert_eq!(bucket.wait_for(110.0, later), Duration::from_secs(1));
    }

    #[test]
    fn the_bucket_never_refills_past_its_maximum() {
        let now = Instant::now();
        let bucket = Bucket::new(status(990.0), now);
        assert_eq!(bucket.available(now + Duration::from_secs(60)), 1000.0);
        // A cost above the maximum waits only for a full bucket, never forever.
        assert_eq!(bucket.wait_for(5000.0, now), Duration::from_millis(200));
    }

    #[test]
    fn spending_reserves_points_for_the_next_caller() {
        let now = Instant::now();
        let mut bucket = Bucket::new(status(150.0), now);
        bucket.spend(100.0, now);
        assert_eq!(bucket.wait_for(100.0, now), Duration::from_secs(1));
    }
}
