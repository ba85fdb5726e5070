//! Charts for the dashboard, rendered on the server as inline SVG (no script, nothing from a
//! CDN). Each chart is decorative for assistive technology (`aria-hidden`); the page puts the
//! same numbers in a table next to it.

use std::fmt::Write;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 28.0;

/// One named series of values, one per label.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub values: Vec<f64>,
}

/// A palette that reads on white and in Polaris' admin.
const COLOURS: [&str; 8] = [
    "#2c6ecb", "#d8a016", "#47b881", "#d82c0d", "#8a61c9", "#00a0ac", "#916a00", "#6d7175",
];

pub fn colour(i: usize) -> &'static str {
    COLOURS[i % COLOURS.len()]
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A round upper bound for the axis and its step (1, 2 or 5 × 10^k).
fn nice_max(max: f64) -> (f64, f64) {
    if !(max.is_finite()) || max <= 0.0 {
        return (1.0, 0.25);
    }
    let raw = max / 4.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| *s * 4.0 >= max)
        .unwrap_or(magnitude * 10.0);
    (step * 4.0, step)
}

fn number(v: f64) -> String {
    if v.abs() >= 1_000_000.0 {
        format!("{:.1}M", v / 1_000_000.0)
    } else if v.abs() >= 10_000.0 {
        format!("{:.0}k", v / 1_000.0)
    } else if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

struct Frame {
    n: usize,
    max: f64,
}

impl Frame {
    fn x(&self, i: usize) -> f64 {
        let inner = WIDTH - LEFT - RIGHT;
        if self.n <= 1 {
            LEFT + inner / 2.0
        } else {
            LEFT + inner * i as f64 / (self.n - 1) as f64
        }
    }

    fn y(&self, v: f64) -> f64 {
        let inner = HEIGHT - TOP - BOTTOM;
        TOP + inner * (1.0 - (v / self.max).clamp(0.0, 1.0))
    }
}

fn open(out: &mut String, title: &str) {
    let _ = write!(
        out,
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" preserveAspectRatio="xMidYMid meet" role="img" aria-hidden="true" focusable="false" xmlns="http://www.w3.org/2000/svg"><title>{}</title>"#,
        esc(title)
    );
}

fn axes(out: &mut String, frame: &Frame, step: f64, labels: &[String]) {
    let mut v = 0.0;
    while v <= frame.max + step / 2.0 {
        let y = frame.y(v);
        let _ = write!(
            out,
            r##"<line x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#e1e3e5" stroke-width="1"/><text x="{}" y="{:.1}" font-size="11" text-anchor="end" fill="#6d7175">{}</text>"##,
            WIDTH - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            number(v)
        );
        v += step;
    }
    // At most about eight labels along the bottom.
    let every = labels.len().div_ceil(8).max(1);
    let last = labels.len().saturating_sub(1);
    for (i, label) in labels.iter().enumerate() {
        // The last label always shows; one too close before it would overlap it.
        if i == last || (i % every == 0 && last - i >= every) {
            let _ = write!(
                out,
                r##"<text x="{:.1}" y="{}" font-size="11" text-anchor="middle" fill="#6d7175">{}</text>"##,
                frame.x(i),
                HEIGHT - 8.0,
                esc(label)
            );
        }
    }
}

/// Lines, one per series, over the labels (e.g. days).
pub fn lines(title: &str, labels: &[String], series: &[Series]) -> String {
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .fold(0.0, f64::max);
    let (max, step) = nice_max(max);
    let frame = Frame {
        n: labels.len(),
        max,
    };
    let mut out = String::with_capacity(4096);
    open(&mut out, title);
    axes(&mut out, &frame, step, labels);
    for (k, s) in series.iter().enumerate() {
        let points: Vec<String> = s
            .values
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{:.1},{:.1}", frame.x(i), frame.y(*v)))
            .collect();
        let _ = write!(
            out,
            r#"<polyline fill="none" stroke="{}" stroke-width="2" stroke-linejoin="round" points="{}"/>"#,
            colour(k),
            points.join(" ")
        );
    }
    out.push_str("</svg>");
    out
}

/// Stacked areas (e.g. customers per segment over time), first series at the bottom.
pub fn stacked(title: &str, labels: &[String], series: &[Series]) -> String {
    let n = labels.len();
    let totals: Vec<f64> = (0..n)
        .map(|i| {
            series
                .iter()
                .map(|s| s.values.get(i).copied().unwrap_or(0.0))
                .sum()
        })
        .collect();
    let (max, step) = nice_max(totals.iter().copied().fold(0.0, f64::max));
    let frame = Frame { n, max };
    let mut out = String::with_capacity(4096);
    open(&mut out, title);
    axes(&mut out, &frame, step, labels);
    let mut below = vec![0.0; n];
    for (k, s) in series.iter().enumerate() {
        let above: Vec<f64> = (0..n)
            .map(|i| below[i] + s.values.get(i).copied().unwrap_or(0.0))
            .collect();
        let mut points: Vec<String> = (0..n)
            .map(|i| format!("{:.1},{:.1}", frame.x(i), frame.y(above[i])))
            .collect();
        points.extend(
            (0..n)
                .rev()
                .map(|i| format!("{:.1},{:.1}", frame.x(i), frame.y(below[i]))),
        );
        let _ = write!(
            out,
            r#"<polygon fill="{}" fill-opacity="0.85" stroke="white" stroke-width="0.5" points="{}"/>"#,
            colour(k),
            points.join(" ")
        );
        below = above;
    }
    out.push_str("</svg>");
    out
}

/// Vertical bars, one per label.
pub fn bars(title: &str, labels: &[String], values: &[f64]) -> String {
    let (max, step) = nice_max(values.iter().copied().fold(0.0, f64::max));
    let n = labels.len().max(1);
    let frame = Frame { n, max };
    let slot = (WIDTH - LEFT - RIGHT) / n as f64;
    let mut out = String::with_capacity(2048);
    open(&mut out, title);
    axes(&mut out, &Frame { n: 0, max }, step, &[]);
    for (i, (label, v)) in labels.iter().zip(values).enumerate() {
        let x = LEFT + slot * i as f64 + slot * 0.15;
        let y = frame.y(*v);
        let _ = write!(
            out,
            r##"<rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="{}"/><text x="{:.1}" y="{}" font-size="11" text-anchor="middle" fill="#6d7175">{}</text>"##,
            slot * 0.7,
            (HEIGHT - BOTTOM - y).max(0.0),
            colour(0),
            x + slot * 0.35,
            HEIGHT - 8.0,
            esc(label)
        );
    }
    out.push_str("</svg>");
    out
}

/// A small trend line without axes, for tables.
pub fn sparkline(values: &[f64]) -> String {
    let (w, h) = (96.0, 24.0);
    let max = values.iter().copied().fold(0.0, f64::max).max(1e-9);
    let n = values.len().max(2) - 1;
    let points: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            format!(
                "{:.1},{:.1}",
                w * i as f64 / n as f64,
                h - 2.0 - (h - 4.0) * (v / max).clamp(0.0, 1.0)
            )
        })
        .collect();
    format!(
        r##"<svg class="sparkline" viewBox="0 0 {w} {h}" width="{w}" height="{h}" aria-hidden="true" focusable="false" xmlns="http://www.w3.org/2000/svg"><polyline fill="none" stroke="#2c6ecb" stroke-width="1.5" points="{}"/></svg>"##,
        points.join(" ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("d{i}")).collect()
    }

    #[test]
    fn axis_tops_are_round_and_cover_the_data() {
        assert_eq!(nice_max(7.0), (8.0, 2.0));
        assert_eq!(nice_max(100.0), (100.0, 25.0));
        assert_eq!(nice_max(0.0), (1.0, 0.25));
        let (top, _) = nice_max(12_345.0);
        assert!((12_345.0..=20_000.0).contains(&top));
    }

    #[test]
    fn lines_plot_every_point_inside_the_frame_and_escape_text() {
        let svg = lines(
            "Orders <daily>",
            &labels(3),
            &[Series {
                name: "a".into(),
                values: vec![0.0, 5.0, 10.0],
            }],
        );
        assert!(svg.contains("<title>Orders &lt;daily&gt;</title>"));
        assert!(svg.contains("aria-hidden=\"true\""));
        let points = svg
            .split("points=\"")
            .nth(1)
            .and_then(|p| p.split('"').next())
            .expect("points");
        let ys: Vec<f64> = points
            .split(' ')
            .map(|p| p.split(',').nth(1).and_then(|y| y.parse().ok()).expect("y"))
            .collect();
        assert_eq!(ys.len(), 3);
        assert!(
            ys[0] > ys[1] && ys[1] > ys[2],
            "higher values sit higher: {ys:?}"
        );
        assert!(ys.iter().all(|y| (TOP..=HEIGHT - BOTTOM).contains(y)));
    }

    #[test]
    fn stacked_areas_sit_on_each_other() {
        let svg = stacked(
            "Segments",
            &labels(2),
            &[
                Series {
                    name: "a".into(),
                    values: vec![1.0, 1.0],
                },
                Series {
                    name: "b".into(),
                    values: vec![1.0, 1.0],
                },
            ],
        );
        assert_eq!(svg.matches("<polygon").count(), 2);
        assert!(!svg.contains("NaN"));
    }

    #[test]
    fn empty_data_draws_an_empty_chart_not_garbage() {
        for svg in [
            lines("x", &[], &[]),
            stacked("x", &[], &[]),
            bars("x", &[], &[]),
            sparkline(&[]),
        ] {
            assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
            assert!(!svg.contains("NaN") && !svg.contains("inf"));
        }
    }
}
