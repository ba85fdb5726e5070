use chrono::{DateTime, Duration, TimeZone, Utc};

use super::*;

fn day(d: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("valid")
        + Duration::days(d)
}

fn policy() -> Policy {
    // Shop median gap 20 days, lapse 100 days, at risk after 1.5 × the expected gap.
    Policy {
        lapse_days: 100.0,
        expected_days: 20.0,
        at_risk_factor: 1.5,
        own_history_min_gaps: 2,
        vip_min_spent: Some(500.0),
        vip_share: 0.05,
        median_spent: 100.0,
        intervals_observed: 50,
        lapse_overridden: false,
        buyers: 100,
    }
}

fn facts(orders: u32, last: Option<i64>, gap: Option<f64>) -> Facts {
    Facts {
        orders,
        last_order_at: last.map(day),
        median_gap_days: gap,
        known_since: Some(day(0)),
    }
}

#[test]
fn one_order_is_new_then_at_risk_after_the_shops_gap_then_lapsed() {
    let f = facts(1, Some(10), None);
    let p = policy();
    assert_eq!(segment_at(&f, &p, day(10)), Segment::New);
    assert_eq!(segment_at(&f, &p, day(39)), Segment::New);
    // 10 + 20 × 1.5 = day 40.
    assert_eq!(segment_at(&f, &p, day(40)), Segment::AtRisk);
    assert_eq!(segment_at(&f, &p, day(109)), Segment::AtRisk);
    assert_eq!(segment_at(&f, &p, day(110)), Segment::Lapsed);
}

#[test]
fn a_frequent_buyer_is_at_risk_by_their_own_rhythm() {
    // Buys every 4 days: at risk after 6 days, long before the shop's 30.
    let f = facts(5, Some(10), Some(4.0));
    assert_eq!(segment_at(&f, &policy(), day(15)), Segment::Returning);
    assert_eq!(segment_at(&f, &policy(), day(16)), Segment::AtRisk);
    // With only one gap the shop's median is used.
    let f = facts(2, Some(10), Some(4.0));
    assert_eq!(segment_at(&f, &policy(), day(16)), Segment::Returning);
}

#[test]
fn no_orders_is_a_prospect() {
    assert_eq!(
        segment_at(&facts(0, None, None), &policy(), day(300)),
        Segment::Prospect
    );
}

#[test]
fn transitions_are_dated_when_they_happened_not_when_computed() {
    let p = policy();
    let f = facts(1, Some(10), None);
    // Recorded as new on day 10; computed only on day 200.
    let t = transitions(Some((Segment::New, day(10))), &f, &p, day(200));
    assert_eq!(
        t,
        vec![
            Transition {
                from: Some(Segment::New),
                to: Segment::AtRisk,
                at: day(40)
            },
            Transition {
                from: Some(Segment::AtRisk),
                to: Segment::Lapsed,
                at: day(110)
            },
        ]
    );
    // Nothing more to record afterwards.
    assert!(transitions(Some((Segment::Lapsed, day(110))), &f, &p, day(300)).is_empty());
}

#[test]
fn a_lapsed_customer_who_orders_again_is_returning_from_that_order() {
    let p = policy();
    let f = facts(2, Some(250), Some(240.0));
    let t = transitions(Some((Segment::Lapsed, day(110))), &f, &p, day(251));
    assert_eq!(
        t,
        vec![Transition {
            from: Some(Segment::Lapsed),
            to: Segment::Returning,
            at: day(250)
        }]
    );
}

#[test]
fn a_cancelled_order_moves_the_segment_back_dated_now() {
    let p = policy();
    // Was returning since day 50; the day-50 order was cancelled, only day 10 remains.
    let f = facts(1, Some(10), None);
    let t = transitions(Some((Segment::Returning, day(50))), &f, &p, day(60));
    assert_eq!(
        t,
        vec![Transition {
            from: Some(Segment::Returning),
            to: Segment::AtRisk,
            at: day(60)
        }]
    );
}

#[test]
fn history_replays_every_change_from_the_orders() {
    let p = policy();
    let orders = [day(10), day(200), day(205)];
    let h = history_from_orders(&orders, Some(day(0)), &p, day(400));
    let got: Vec<(Segment, DateTime<Utc>)> = h.iter().map(|t| (t.to, t.at)).collect();
    assert_eq!(
        got,
        vec![
            (Segment::Prospect, day(0)),
            (Segment::New, day(10)),
            (Segment::AtRisk, day(40)),
            (Segment::Lapsed, day(110)),
            (Segment::Returning, day(200)),
            // Two gaps (190, 5): own median 97.5 days × 1.5 > lapse window → straight to lapsed.
            (Segment::Lapsed, day(305)),
        ]
    );
    for pair in h.windows(2) {
        assert_eq!(pair[1].from, Some(pair[0].to), "history is a chain");
        assert!(pair[0].at <= pair[1].at);
    }
}

#[test]
fn policy_is_learned_from_the_shops_gaps_and_bounded() {
    let settings = PolicySettings::default();
    let gaps: Vec<f64> = (1..=100).map(f64::from).collect();
    let spends: Vec<f64> = (1..=100).map(|x| f64::from(x) * 10.0).collect();
    let p = derive(&gaps, &spends, &settings, &Overrides::default());
    assert!((p.expected_days - 50.5).abs() < 1e-9);
    assert!((p.lapse_days - 90.1).abs() < 1e-9, "{}", p.lapse_days);
    assert!(p.is_vip(1000.0) && p.is_vip(960.0) && !p.is_vip(900.0));
    assert!(p.still_fits(110) && p.still_fits(90) && !p.still_fits(111));
    // Huge gaps are bounded by the maximum window; too few gaps use the defaults.
    let huge: Vec<f64> = vec![5000.0; 30];
    assert_eq!(
        derive(&huge, &[], &settings, &Overrides::default()).lapse_days,
        365.0
    );
    let few = derive(&[3.0], &[], &settings, &Overrides::default());
    assert_eq!(few.lapse_days, settings.default_lapse_days);
    assert_eq!(few.intervals_observed, 0);
    // The merchant's override wins.
    let o = Overrides {
        lapse_days: Some(60.0),
        ..Default::default()
    };
    let p = derive(&gaps, &spends, &settings, &o);
    assert_eq!(p.lapse_days, 60.0);
    assert!(p.lapse_overridden);
}

#[test]
fn engagement_rises_when_a_customer_comes_back_and_decays_when_quiet() {
    let w = Weights::default();
    let mut i = EngagementInputs {
        orders: 2,
        last_order_at: Some(day(0)),
        net_spent: 100.0,
        activity: 0.0,
        activity_at: None,
    };
    let fresh = score(&i, &w, 100.0, day(0));
    let month = score(&i, &w, 100.0, day(30));
    let half_year = score(&i, &w, 100.0, day(180));
    assert!(
        fresh > month && month > half_year,
        "{fresh} {month} {half_year}"
    );
    // Browsing today lifts a quiet customer...
    i.activity = 10.0;
    i.activity_at = Some(day(180));
    let browsing = score(&i, &w, 100.0, day(180));
    assert!(browsing > half_year + 10.0, "{browsing} vs {half_year}");
    // ...and an order lifts them more.
    i.orders = 3;
    i.last_order_at = Some(day(181));
    i.net_spent = 150.0;
    let back = score(&i, &w, 100.0, day(181));
    assert!(back > browsing);
    assert!((0.0..=100.0).contains(&back));
    // Nobody: zero.
    assert_eq!(score(&EngagementInputs::default(), &w, 100.0, day(0)), 0.0);
}

#[test]
fn activity_decays_by_half_every_half_life() {
    let v = decay_activity(8.0, day(0), day(14), 7.0);
    assert!((v - 2.0).abs() < 1e-9);
    assert_eq!(activity_weight("checkout_started"), 5.0);
    assert_eq!(activity_weight("something_else"), 0.0);
}

#[test]
fn summary_counts_buckets_and_middle() {
    let s = summarise(&[0.0, 9.9, 10.0, 55.0, 100.0]);
    assert_eq!(s.customers, 5);
    assert_eq!(s.histogram, [2, 1, 0, 0, 0, 1, 0, 0, 0, 1]);
    assert_eq!(s.median, 10.0);
    assert!((s.mean - 34.98).abs() < 1e-9);
    assert_eq!(summarise(&[]).customers, 0);
}
