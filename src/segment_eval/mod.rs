//! `shoprecs eval-segments`: how well the lifecycle segments foresee customers going quiet, on
//! a real purchase log (CDNOW).
//!
//! Pure: no database, no clock. At a cut-off date C only orders before C are seen: the shop's
//! [`Policy`] is derived from them exactly as the server derives it (`segments::derive`), and
//! each customer is classified with `segments::segment_at` at C (midnight UTC). The label is
//! "no order in [C, C + horizon)". Two predictors of it are scored:
//! - A, the segments: `at_risk` or `lapsed` at C;
//! - B, the naive rule: no order in the `horizon` days before C;
//!
//! next to flagging everyone, the reference any rule must beat.
//!
//! A sweep over the at-risk factor (all else as derived) shows how the default was chosen.
//! Only customers with at least one order before C count.

pub mod cdnow;
pub mod command;
pub mod confusion;
mod report;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;

use crate::segments::{self, Facts, Overrides, Policy, PolicySettings, Segment};
use cdnow::Customer;
use confusion::{Confusion, Scores};

pub use report::render_markdown;

/// One segment's size at the cut-off and what became of it.
#[derive(Debug, Clone, Serialize)]
pub struct SegmentRow {
    /// A segment name, or "vip" for the flag.
    pub segment: String,
    pub customers: usize,
    /// Of the customers counted.
    pub share: f64,
    /// Share of this segment with no order in the horizon.
    pub no_order_share: f64,
}

/// A predictor and how it did.
#[derive(Debug, Clone, Serialize)]
pub struct PredictorRow {
    pub predictor: String,
    #[serde(flatten)]
    pub scores: Scores,
}

/// Predictor A with another at-risk factor.
#[derive(Debug, Clone, Serialize)]
pub struct SweepRow {
    /// `None`: no at-risk segment at all (predictor = lapsed only).
    pub at_risk_factor: Option<f64>,
    pub at_risk: usize,
    pub lapsed: usize,
    #[serde(flatten)]
    pub scores: Scores,
}

/// Everything measured at one cut-off.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub cutoff: NaiveDate,
    pub horizon_days: u32,
    /// Customers with an order before the cut-off.
    pub customers: usize,
    /// Their orders (purchase days) before the cut-off.
    pub orders: usize,
    /// The policy in use (derived with the default settings).
    pub policy: Policy,
    /// Share of customers with no order in the horizon.
    pub base_rate: f64,
    pub segments: Vec<SegmentRow>,
    pub predictors: Vec<PredictorRow>,
    pub sweep: Vec<SweepRow>,
}

/// A customer as seen at the cut-off.
struct Seen {
    facts: Facts,
    spent: f64,
    /// No order in [C, C + horizon): the label.
    quiet_after: bool,
    /// No order in [C − horizon, C): the naive rule.
    quiet_before: bool,
}

/// Name of predictor A.
pub const SEGMENTS: &str = "A: at_risk + lapsed";
/// Name of predictor B.
pub const NAIVE: &str = "B: no order in the last horizon days";
/// The reference that flags every customer: its precision is the base rate, so F1 alone
/// flatters any rule when most customers go quiet.
pub const EVERYONE: &str = "reference: flag everyone";

fn midnight(d: NaiveDate) -> DateTime<Utc> {
    d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
}

/// Evaluates the segments at `cutoff` with default settings, sweeping `at_risk_factors`.
pub fn evaluate(
    customers: &[Customer],
    cutoff: NaiveDate,
    horizon_days: u32,
    at_risk_factors: &[f64],
) -> Report {
    let horizon = Duration::days(i64::from(horizon_days));
    let mut gaps: Vec<f64> = Vec::new();
    let mut seen: Vec<Seen> = Vec::new();
    for c in customers {
        let k = c.orders.partition_point(|o| o.day < cutoff);
        let (before, after) = c.orders.split_at(k);
        let (Some(first), Some(last)) = (before.first(), before.last()) else {
            continue;
        };
        let own: Vec<f64> = before
            .windows(2)
            .map(|w| (w[1].day - w[0].day).num_days() as f64)
            .collect();
        gaps.extend_from_slice(&own);
        seen.push(Seen {
            facts: Facts {
                orders: u32::try_from(before.len()).unwrap_or(u32::MAX),
                last_order_at: Some(midnight(last.day)),
                median_gap_days: segments::median(&own),
                known_since: Some(midnight(first.day)),
            },
            spent: before.iter().map(|o| o.amount).sum(),
            quiet_after: after.first().is_none_or(|o| o.day >= cutoff + horizon),
            quiet_before: last.day < cutoff - horizon,
        });
    }
    let spends: Vec<f64> = seen.iter().map(|s| s.spent).collect();
    let settings = PolicySettings::default();
    let policy = segments::derive(&gaps, &spends, &settings, &Overrides::default());
    let at = midnight(cutoff);
    let classes: Vec<Segment> = seen
        .iter()
        .map(|s| segments::segment_at(&s.facts, &policy, at))
        .collect();

    let n = seen.len();
    let share = |k: usize| if n == 0 { 0.0 } else { k as f64 / n as f64 };
    let row = |name: &str, member: &dyn Fn(usize) -> bool| {
        let members: Vec<&Seen> = (0..n).filter(|&i| member(i)).map(|i| &seen[i]).collect();
        let count = members.len();
        let quiet = members.iter().filter(|s| s.quiet_after).count();
        SegmentRow {
            segment: name.to_owned(),
            customers: count,
            share: share(count),
            no_order_share: if count == 0 {
                0.0
            } else {
                quiet as f64 / count as f64
            },
        }
    };
    let mut rows: Vec<SegmentRow> = Segment::ALL
        .into_iter()
        .filter(|g| *g != Segment::Prospect)
        .map(|g| row(g.as_str(), &|i| classes[i] == g))
        .collect();
    rows.push(row("vip", &|i| policy.is_vip(seen[i].spent)));

    let score = |flag: &dyn Fn(usize) -> bool| {
        let mut c = Confusion::default();
        for (i, s) in seen.iter().enumerate() {
            c.add(flag(i), s.quiet_after);
        }
        c.scores()
    };
    let flagged = |g: Segment| matches!(g, Segment::AtRisk | Segment::Lapsed);
    let segments_scores = score(&|i| flagged(classes[i]));
    let predictors = vec![
        PredictorRow {
            predictor: SEGMENTS.to_owned(),
            scores: segments_scores,
        },
        PredictorRow {
            predictor: NAIVE.to_owned(),
            scores: score(&|i| seen[i].quiet_before),
        },
        PredictorRow {
            predictor: EVERYONE.to_owned(),
            scores: score(&|_| true),
        },
    ];

    let mut sweep: Vec<SweepRow> = at_risk_factors
        .iter()
        .map(|&f| {
            let p = segments::derive(
                &gaps,
                &spends,
                &settings,
                &Overrides {
                    at_risk_factor: Some(f),
                    ..Overrides::default()
                },
            );
            let cls: Vec<Segment> = seen
                .iter()
                .map(|s| segments::segment_at(&s.facts, &p, at))
                .collect();
            SweepRow {
                at_risk_factor: Some(p.at_risk_factor),
                at_risk: cls.iter().filter(|g| **g == Segment::AtRisk).count(),
                lapsed: cls.iter().filter(|g| **g == Segment::Lapsed).count(),
                scores: score(&|i| flagged(cls[i])),
            }
        })
        .collect();
    sweep.push(SweepRow {
        at_risk_factor: None,
        at_risk: 0,
        lapsed: classes.iter().filter(|g| **g == Segment::Lapsed).count(),
        scores: score(&|i| classes[i] == Segment::Lapsed),
    });

    Report {
        cutoff,
        horizon_days,
        customers: n,
        orders: seen.iter().map(|s| s.facts.orders as usize).sum(),
        policy,
        base_rate: segments_scores.base_rate,
        segments: rows,
        predictors,
        sweep,
    }
}

#[cfg(test)]
mod tests;
