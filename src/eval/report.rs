//! The human-readable report.

use std::fmt::Write;

use super::{MethodScores, Report};

fn table(out: &mut String, k: usize, rows: &[MethodScores], full: bool) {
    if full {
        let _ = writeln!(
            out,
            "  {:<13} {:>8} {:>8} {:>8} {:>8} {:>9}",
            "method",
            format!("HR@{k}"),
            format!("P@{k}"),
            format!("R@{k}"),
            format!("NDCG@{k}"),
            "coverage"
        );
    } else {
        let _ = writeln!(
            out,
            "  {:<13} {:>8} {:>8} {:>9}",
            "method",
            format!("HR@{k}"),
            format!("NDCG@{k}"),
            "coverage"
        );
    }
    for m in rows {
        let s = &m.scores;
        if full {
            let _ = writeln!(
                out,
                "  {:<13} {:>8.4} {:>8.4} {:>8.4} {:>8.4} {:>9.4}",
                m.method, s.hit_rate, s.precision, s.recall, s.ndcg, s.coverage
            );
        } else {
            let _ = writeln!(
                out,
                "  {:<13} {:>8.4} {:>8.4} {:>9.4}",
                m.method, s.hit_rate, s.ndcg, s.coverage
            );
        }
    }
}

/// The report as a few aligned tables.
pub fn render_text(r: &Report) -> String {
    let mut out = String::new();
    let queries = |rows: &[MethodScores]| rows.first().map_or(0, |m| m.scores.queries);
    let _ = writeln!(
        out,
        "split {}, k = {}: {} products, {} customers, {} orders ({} cancelled left out), \
         {} train / {} test",
        r.split,
        r.k,
        r.products,
        r.customers,
        r.orders,
        r.cancelled_orders,
        r.train_orders,
        r.test_orders
    );
    let _ = writeln!(
        out,
        "\nA. next purchase ({} customers; {:.0}% of what they bought next they had bought before)",
        queries(&r.next_purchase),
        100.0 * r.repeat_share
    );
    table(&mut out, r.k, &r.next_purchase, true);
    let _ = writeln!(
        out,
        "  (popularity does not leave out past purchases; own-history = the customer's own \
         products by frequency, then popularity)"
    );
    let _ = writeln!(out, "  shoprecs' items by reason: shown / bought");
    for (kind, c) in &r.shoprecs_reasons {
        let _ = writeln!(out, "    {kind:<26} {:>7} / {}", c.shown, c.hits);
    }
    let _ = writeln!(
        out,
        "\nB. basket completion ({} orders: the last product hidden, the rest is the cart)",
        queries(&r.basket_completion)
    );
    table(&mut out, r.k, &r.basket_completion, false);
    out
}
