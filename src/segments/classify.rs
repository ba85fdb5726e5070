//! Which segment a customer is in at a given time, and when that changed.

use chrono::{DateTime, Duration, Utc};

use super::{median, Policy, Segment};

/// What classification needs to know about one customer.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    /// Orders that count (not test, not cancelled).
    pub orders: u32,
    pub last_order_at: Option<DateTime<Utc>>,
    /// Median gap between this customer's consecutive orders, in days.
    pub median_gap_days: Option<f64>,
    /// When the customer became known (signed up or first seen); a prospect's start.
    pub known_since: Option<DateTime<Utc>>,
}

/// A change of segment and the moment it happened.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub from: Option<Segment>,
    pub to: Segment,
    pub at: DateTime<Utc>,
}

fn days(d: f64) -> Duration {
    Duration::milliseconds((d * 86_400_000.0).round() as i64)
}

/// The gap after which this customer would normally have ordered again: their own median gap
/// once they have enough history, else the shop's.
fn expected_gap_days(facts: &Facts, policy: &Policy) -> f64 {
    let gaps = facts.orders.saturating_sub(1);
    match facts.median_gap_days {
        Some(own) if gaps >= policy.own_history_min_gaps.max(1) && own > 0.0 => own,
        _ => policy.expected_days,
    }
}

/// The customer's segments from their last order on, as (from when, segment), oldest first.
/// The segment can only change at an order or at these thresholds, so this is the whole story
/// until the next order.
pub fn timeline(facts: &Facts, policy: &Policy) -> Vec<(DateTime<Utc>, Segment)> {
    let (Some(last), true) = (facts.last_order_at, facts.orders > 0) else {
        let since = facts.known_since.unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
        return vec![(since, Segment::Prospect)];
    };
    let base = if facts.orders == 1 {
        Segment::New
    } else {
        Segment::Returning
    };
    let lapse = last + days(policy.lapse_days);
    let risk = last + days(expected_gap_days(facts, policy) * policy.at_risk_factor);
    let mut out = vec![(last, base)];
    if risk < lapse {
        out.push((risk, Segment::AtRisk));
    }
    out.push((lapse, Segment::Lapsed));
    out
}

/// The segment at time `t` (given the orders known; thresholds are inclusive).
pub fn segment_at(facts: &Facts, policy: &Policy, t: DateTime<Utc>) -> Segment {
    let line = timeline(facts, policy);
    line.iter()
        .rev()
        .find(|(at, _)| *at <= t)
        .or(line.first())
        .map_or(Segment::Prospect, |(_, s)| *s)
}

/// The changes to record for a customer last recorded as `stored` (segment, since when), now.
/// Changes that follow from the facts are dated when they happened; if the facts moved back
/// (an order cancelled), the correction is dated `now`.
pub fn transitions(
    stored: Option<(Segment, DateTime<Utc>)>,
    facts: &Facts,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Vec<Transition> {
    let mut current = stored.map(|(s, _)| s);
    let since = stored.map(|(_, t)| t);
    let mut out = Vec::new();
    for (at, segment) in timeline(facts, policy) {
        if at > now || since.is_some_and(|s| at <= s) {
            continue;
        }
        if current != Some(segment) {
            out.push(Transition {
                from: current,
                to: segment,
                at,
            });
            current = Some(segment);
        }
    }
    let now_segment = segment_at(facts, policy, now);
    if current != Some(now_segment) {
        out.push(Transition {
            from: current,
            to: now_segment,
            at: now,
        });
    }
    out
}

/// The whole segment history of a customer replayed from their order times (sorted or not),
/// up to `now`: used to rebuild history after an import or backfill.
pub fn history_from_orders(
    order_times: &[DateTime<Utc>],
    known_since: Option<DateTime<Utc>>,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Vec<Transition> {
    let mut times: Vec<DateTime<Utc>> = order_times.iter().copied().filter(|t| *t <= now).collect();
    times.sort_unstable();
    let mut out: Vec<Transition> = Vec::new();
    let mut current = None;
    let mut push = |at: DateTime<Utc>, to: Segment, out: &mut Vec<Transition>| {
        if current != Some(to) {
            out.push(Transition {
                from: current,
                to,
                at,
            });
            current = Some(to);
        }
    };
    if let Some(since) = known_since.filter(|s| times.first().is_none_or(|first| s < first)) {
        push(since, Segment::Prospect, &mut out);
    }
    for (k, at) in times.iter().enumerate() {
        let gaps: Vec<f64> = times[..=k]
            .windows(2)
            .map(|w| (w[1] - w[0]).num_seconds() as f64 / 86_400.0)
            .collect();
        let facts = Facts {
            orders: k as u32 + 1,
            last_order_at: Some(*at),
            median_gap_days: median(&gaps),
            known_since,
        };
        let until = times.get(k + 1).copied().unwrap_or(now);
        for (from, segment) in timeline(&facts, policy) {
            let in_range = from >= *at && (from < until || (k + 1 == times.len() && from <= now));
            if in_range {
                push(from, segment, &mut out);
            }
        }
    }
    out
}
