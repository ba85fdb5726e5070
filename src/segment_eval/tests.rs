use chrono::NaiveDate;

use super::cdnow::{parse, ParseError};
use super::confusion::Confusion;
use super::*;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

/// Cut-off 1997-04-01, horizon 30 days (label: no order in 04-01..=04-30; naive rule: no
/// order since 03-02). Too few gaps to learn from, so the policy is the defaults: lapse 180
/// days, shop gap 45 days, at risk after 1.5 × 45 = 67.5 days.
const SAMPLE: &str = " customer_id  date number_of_cds  dollar_value\r
 00001 19970101  1   11.77\r
 00002 19970320  1   12.00\r
 00002 19970320  5   77.00\r
 00002 19970410  1   10.00\r

 00003 19970331  2   20.76\r
 00003 19970501  1   10.00\r
 00004 19970401  1   10.00\r
 00005 19970110  1   100.00\r
 00005 19970210  1   100.00\r
 00005 19970310  1   400.00\r
 00005 19970405  1   10.00\r
 00006 19970225  1   15.00\r
 00007 19970201  1   15.00\r
 00007 19970415  1   15.00\r
";

fn report() -> Report {
    let log = parse(SAMPLE.as_bytes()).expect("sample parses");
    evaluate(&log.customers, date(1997, 4, 1), 30, &[1.0, 1.5])
}

#[test]
fn parses_skipping_header_and_blank_lines_merging_same_day_lines() {
    let log = parse(SAMPLE.as_bytes()).expect("sample parses");
    assert_eq!(log.lines, 14);
    assert_eq!(log.customers.len(), 7);
    assert_eq!(log.orders(), 13);
    let two = &log.customers[1];
    assert_eq!(two.id, 2);
    assert_eq!(two.orders.len(), 2);
    assert_eq!(two.orders[0].day, date(1997, 3, 20));
    assert_eq!(two.orders[0].quantity, 6);
    assert!((two.orders[0].amount - 89.0).abs() < 1e-9);
}

#[test]
fn orders_come_out_sorted_whatever_the_line_order() {
    let log = parse("2 19970305 1 1\n1 19970102 1 1\n2 19970101 1 1\n".as_bytes()).expect("ok");
    let ids: Vec<u64> = log.customers.iter().map(|c| c.id).collect();
    assert_eq!(ids, [1, 2]);
    let days: Vec<NaiveDate> = log.customers[1].orders.iter().map(|o| o.day).collect();
    assert_eq!(days, [date(1997, 1, 1), date(1997, 3, 5)]);
}

#[test]
fn bad_lines_are_reported_with_their_line_number() {
    let err = |text: &str| parse(text.as_bytes()).expect_err("should fail");
    let e = err("1 19970101 1 1.0\n\n1 19970102 1\n");
    assert_eq!(e.line, 3);
    assert!(e.reason.contains("expected 4 fields"), "{e}");
    assert_eq!(err("1 19970230 1 1.0\n").line, 1);
    assert!(err("1 1997-01-01 1 1.0\n").reason.contains("YYYYMMDD"));
    assert!(err("x 19970101 1 1.0\n").reason.contains("customer id"));
    assert!(err("1 19970101 1.5 1.0\n").reason.contains("quantity"));
    assert!(err("1 19970101 1 NaN\n").reason.contains("amount"));
    let e: ParseError = err("1 19970101 1 1.0\n2 19970101 1 $3\n");
    assert_eq!(e.to_string(), "line 2: amount \"$3\" is not a number");
}

#[test]
fn a_header_is_only_skipped_on_the_first_line() {
    assert_eq!(
        parse("1 19970101 1 1.0\ncustomer_id date n v\n".as_bytes())
            .expect_err("header later is an error")
            .line,
        2
    );
}

#[test]
fn counts_only_customers_with_an_order_before_the_cutoff() {
    let r = report();
    // Customer 4's first order is on the cut-off day itself.
    assert_eq!(r.customers, 6);
    assert_eq!(r.orders, 8);
    assert_eq!(r.policy.intervals_observed, 0);
    assert_eq!(r.policy.lapse_days, 180.0);
}

#[test]
fn labels_no_order_in_the_half_open_horizon() {
    // Quiet after the cut-off: 1 (never again), 3 (next order on day 30, outside), 6 (never).
    // Not quiet: 2 (day 9), 5 (day 4), 7 (day 14).
    let r = report();
    assert_eq!(r.base_rate, 0.5);
    let a = &r.predictors[0].scores;
    assert_eq!(a.counts.true_pos + a.counts.false_neg, 3);
}

#[test]
fn segments_at_the_cutoff_use_the_product_rules() {
    let r = report();
    let size = |name: &str| {
        r.segments
            .iter()
            .find(|s| s.segment == name)
            .map(|s| s.customers)
            .expect("row")
    };
    // 1: 90 days since its only order > 67.5 → at risk. 5: three orders, own median gap 29.5
    // days × 1.5, 22 days since → returning. 2, 3, 6 (35 days), 7 (59 days) → new.
    assert_eq!(size("new"), 4);
    assert_eq!(size("returning"), 1);
    assert_eq!(size("at_risk"), 1);
    assert_eq!(size("lapsed"), 0);
    // VIP = top 5% by spend: customer 5 (600 before the cut-off).
    assert_eq!(size("vip"), 1);
    let at_risk = r.segments.iter().find(|s| s.segment == "at_risk");
    assert_eq!(at_risk.map(|s| s.no_order_share), Some(1.0));
}

#[test]
fn scores_both_predictors() {
    let r = report();
    let a = r.predictors[0].scores;
    assert_eq!(r.predictors[0].predictor, SEGMENTS);
    // A flags customer 1 only: right, and misses 3 and 6.
    assert_eq!(
        a.counts,
        Confusion {
            true_pos: 1,
            false_pos: 0,
            false_neg: 2,
            true_neg: 3
        }
    );
    // B flags 1, 6 (35 days) and 7 (59 days, but it came back).
    let b = r.predictors[1].scores;
    assert_eq!(
        b.counts,
        Confusion {
            true_pos: 2,
            false_pos: 1,
            false_neg: 1,
            true_neg: 2
        }
    );
    assert!((b.precision - 2.0 / 3.0).abs() < 1e-9);
    assert!((b.recall - 2.0 / 3.0).abs() < 1e-9);
    let everyone = r.predictors[2].scores;
    assert_eq!((everyone.flagged, everyone.recall), (6, 1.0));
    assert_eq!(everyone.precision, r.base_rate);
}

#[test]
fn the_sweep_moves_only_the_at_risk_threshold() {
    let r = report();
    // Factor 1.0: at risk after 45 days catches 7 (59 days) too; then `lapsed` only.
    let factors: Vec<Option<f64>> = r.sweep.iter().map(|s| s.at_risk_factor).collect();
    assert_eq!(factors, [Some(1.0), Some(1.5), None]);
    assert_eq!(r.sweep[0].at_risk, 2);
    assert_eq!(r.sweep[0].scores.counts.false_pos, 1);
    assert_eq!(r.sweep[1].scores.counts, r.predictors[0].scores.counts);
    assert_eq!(r.sweep[2].scores.flagged, 0);
}

#[test]
fn precision_recall_f1_arithmetic() {
    let mut c = Confusion::default();
    for (predicted, actual, times) in [
        (true, true, 3),
        (true, false, 1),
        (false, true, 2),
        (false, false, 4),
    ] {
        for _ in 0..times {
            c.add(predicted, actual);
        }
    }
    let s = c.scores();
    assert_eq!(s.flagged, 4);
    assert!((s.precision - 0.75).abs() < 1e-12);
    assert!((s.recall - 0.6).abs() < 1e-12);
    assert!((s.f1 - 2.0 * 0.75 * 0.6 / 1.35).abs() < 1e-12);
    assert!((s.accuracy - 0.7).abs() < 1e-12);
    assert!((s.base_rate - 0.5).abs() < 1e-12);
}

#[test]
fn empty_denominators_score_zero() {
    let s = Confusion::default().scores();
    assert_eq!(
        (s.precision, s.recall, s.f1, s.accuracy),
        (0.0, 0.0, 0.0, 0.0)
    );
    let mut never = Confusion::default();
    never.add(false, true);
    assert_eq!(never.scores().precision, 0.0);
    assert_eq!(never.scores().recall, 0.0);
}

#[test]
fn the_markdown_names_the_policy_and_both_predictors() {
    let md = render_markdown(&report());
    assert!(
        md.contains("#### Cut-off 1997-04-01, horizon 30 days"),
        "{md}"
    );
    assert!(md.contains("lapse window 180 days"), "{md}");
    assert!(
        md.contains("| A: at_risk + lapsed | 1 | 1.000 | 0.333 | 0.500 | 0.667 |"),
        "{md}"
    );
    assert!(
        md.contains("| B: no order in the last 30 days | 3 |"),
        "{md}"
    );
    assert!(md.contains("| 1.5 (default) |"), "{md}");
}
