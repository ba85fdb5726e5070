//! A job's progress as people and tools see it: phase, done of total, rate and estimate.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::jobs::{Job, Phase};

/// The latest backfill of the shop.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Progress {
    pub job_id: i64,
    /// `queued`, `running`, `applying`, `done` or `failed`.
    pub status: String,
    /// `products` or `orders` (bulk query and download), `applying`, or `done`.
    pub phase: String,
    /// Objects done in this phase: result lines staged while fetching, products and orders
    /// applied while applying.
    pub done: i64,
    /// Objects of this phase, once known (Shopify counts a result when it completes).
    pub total: Option<i64>,
    /// `done` per second since the phase started.
    pub rate_per_sec: Option<f64>,
    /// Seconds left at that rate, when the total is known.
    pub eta_secs: Option<i64>,
    /// The phase's bulk operation and its status (`RUNNING`, `COMPLETED`, `FAILED`…).
    pub operation_id: Option<String>,
    pub operation_status: Option<String>,
    /// Why the job failed, or the last step that had to be tried again.
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl Progress {
    pub fn of(job: &Job, now: DateTime<Utc>) -> Self {
        let (done, total) = match job.phase {
            Phase::Products | Phase::Orders => (job.objects_staged, job.object_count),
            Phase::Applying | Phase::Done => (job.roots_applied, Some(job.roots_total)),
        };
        let until = job.finished_at.unwrap_or(now);
        let elapsed = job
            .phase_started_at
            .map(|t| (until - t).num_milliseconds() as f64 / 1000.0)
            .filter(|s| *s > 0.0);
        let rate = elapsed.map(|s| done as f64 / s).filter(|r| *r > 0.0);
        let eta = match (rate, total, job.is_active()) {
            (Some(rate), Some(total), true) => {
                Some(((total - done).max(0) as f64 / rate).ceil() as i64)
            }
            _ => None,
        };
        Self {
            job_id: job.job_id,
            status: job.status.clone(),
            phase: job.phase.as_str().to_owned(),
            done,
            total,
            rate_per_sec: rate.map(|r| (r * 10.0).round() / 10.0),
            eta_secs: eta,
            operation_id: job.operation_id.clone(),
            operation_status: job.operation_status.clone(),
            error: job.last_error.clone(),
            created_at: job.created_at,
            started_at: job.started_at,
            finished_at: job.finished_at,
        }
    }

    /// Done as a percentage of the total (0 while the total is unknown).
    pub fn percent(&self) -> i64 {
        match self.total {
            Some(t) if t > 0 => (self.done * 100 / t).clamp(0, 100),
            Some(_) => 100,
            None => 0,
        }
    }

    /// One line for people: "orders: 1200 of 5000 (40/s, about 2 min left)".
    pub fn summary(&self) -> String {
        let mut line = match (self.status.as_str(), self.total) {
            ("queued", _) => "queued".to_owned(),
            ("done", _) => format!("done: {} products and orders applied", self.done),
            ("failed", _) => format!("failed during {}", self.phase),
            (_, Some(total)) => format!("{}: {} of {}", self.phase, self.done, total),
            (_, None) => format!("{}: {} so far", self.phase, self.done),
        };
        if let (Some(rate), true) = (self.rate_per_sec, self.status != "done") {
            line.push_str(&format!(" ({rate}/s"));
            if let Some(eta) = self.eta_secs {
                line.push_str(&format!(", about {} left", human(eta)));
            }
            line.push(')');
        }
        line
    }
}

fn human(secs: i64) -> String {
    match secs {
        s if s < 90 => format!("{s} s"),
        s if s < 5400 => format!("{} min", (s + 30) / 60),
        s => format!("{} h", (s + 1800) / 3600),
    }
}
