//! The markdown report (pasted as is into docs/benchmarks.md).

use std::fmt::Write;

use super::{Report, NAIVE};

fn pct(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

/// Thousands separated by commas.
fn count(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// One report as markdown: the setting, segment sizes, predictors and the at-risk sweep.
pub fn render_markdown(r: &Report) -> String {
    let mut out = String::new();
    let h = r.horizon_days;
    let p = &r.policy;
    let _ = writeln!(out, "#### Cut-off {}, horizon {h} days\n", r.cutoff);
    let _ = writeln!(
        out,
        "{} customers with an order before the cut-off ({} orders, counted as purchase days); \
         {} of them (base rate) have no order in the next {h} days.",
        count(r.customers),
        count(r.orders),
        pct(r.base_rate)
    );
    let learned = if p.intervals_observed > 0 {
        format!("learned from {} gaps", count(p.intervals_observed))
    } else {
        "configured defaults (too few gaps to learn from)".to_owned()
    };
    let vip = p
        .vip_min_spent
        .map_or("nobody".to_owned(), |m| format!("${m:.2}"));
    let _ = writeln!(
        out,
        "Policy in use ({learned}, default settings): lapse window {:.0} days, shop median gap \
         {:.0} days, at-risk factor {}, own median gap used from {} gaps, VIP = top {} by \
         spend (from {vip}).\n",
        p.lapse_days,
        p.expected_days,
        p.at_risk_factor,
        p.own_history_min_gaps,
        pct(p.vip_share),
    );
    let _ = writeln!(
        out,
        "| segment at cut-off | customers | share | no order in next {h} days |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|");
    for s in &r.segments {
        let name = if s.segment == "vip" {
            "vip (flag, overlaps)".to_owned()
        } else {
            format!("`{}`", s.segment)
        };
        let _ = writeln!(
            out,
            "| {name} | {} | {} | {} |",
            count(s.customers),
            pct(s.share),
            pct(s.no_order_share)
        );
    }
    let _ = writeln!(
        out,
        "\nPredicting \"no order in the next {h} days\" (base rate {}):\n",
        pct(r.base_rate)
    );
    let _ = writeln!(
        out,
        "| predictor | flagged | precision | recall | F1 | accuracy |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|");
    for pr in &r.predictors {
        let s = &pr.scores;
        let name = if pr.predictor == NAIVE {
            format!("B: no order in the last {h} days")
        } else {
            pr.predictor.clone()
        };
        let _ = writeln!(
            out,
            "| {name} | {} | {:.3} | {:.3} | {:.3} | {:.3} |",
            count(s.flagged),
            s.precision,
            s.recall,
            s.f1,
            s.accuracy
        );
    }
    let _ = writeln!(
        out,
        "\nPredictor A with other at-risk factors (lapse window and gaps unchanged):\n"
    );
    let _ = writeln!(
        out,
        "| at-risk factor | `at_risk` | `lapsed` | precision | recall | F1 | accuracy |"
    );
    let _ = writeln!(out, "|---:|---:|---:|---:|---:|---:|---:|");
    for s in &r.sweep {
        let factor = s
            .at_risk_factor
            .map_or("none (`lapsed` only)".to_owned(), |f| {
                let mark = if (f - p.at_risk_factor).abs() < 1e-9 {
                    " (default)"
                } else {
                    ""
                };
                format!("{f:.1}{mark}")
            });
        let c = &s.scores;
        let _ = writeln!(
            out,
            "| {factor} | {} | {} | {:.3} | {:.3} | {:.3} | {:.3} |",
            count(s.at_risk),
            count(s.lapsed),
            c.precision,
            c.recall,
            c.f1,
            c.accuracy
        );
    }
    out
}
