//! A group of customers' scores summarised: size, mean, median and a ten-bucket histogram.

/// Summary of a set of scores (0–100).
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub customers: usize,
    pub mean: f64,
    pub median: f64,
    /// Customers with a score in [0,10), [10,20), …, [90,100].
    pub histogram: [usize; 10],
}

pub fn summarise(scores: &[f64]) -> Summary {
    let mut histogram = [0usize; 10];
    for s in scores {
        histogram[((s / 10.0).floor().max(0.0) as usize).min(9)] += 1;
    }
    let mean = if scores.is_empty() {
        0.0
    } else {
        scores.iter().sum::<f64>() / scores.len() as f64
    };
    Summary {
        customers: scores.len(),
        mean,
        median: super::median(scores).unwrap_or(0.0),
        histogram,
    }
}
