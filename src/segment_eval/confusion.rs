//! How a yes/no prediction did against the truth.

use serde::Serialize;

/// Counts of a binary prediction; "positive" = predicted / actually no order in the horizon.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Confusion {
    pub true_pos: usize,
    pub false_pos: usize,
    pub false_neg: usize,
    pub true_neg: usize,
}

impl Confusion {
    /// Counts one customer.
    pub fn add(&mut self, predicted: bool, actual: bool) {
        match (predicted, actual) {
            (true, true) => self.true_pos += 1,
            (true, false) => self.false_pos += 1,
            (false, true) => self.false_neg += 1,
            (false, false) => self.true_neg += 1,
        }
    }

    pub fn total(&self) -> usize {
        self.true_pos + self.false_pos + self.false_neg + self.true_neg
    }

    /// The rates; a rate whose denominator is zero is 0.
    pub fn scores(&self) -> Scores {
        let precision = ratio(self.true_pos, self.true_pos + self.false_pos);
        let recall = ratio(self.true_pos, self.true_pos + self.false_neg);
        let f1 = if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        };
        Scores {
            flagged: self.true_pos + self.false_pos,
            precision,
            recall,
            f1,
            accuracy: ratio(self.true_pos + self.true_neg, self.total()),
            base_rate: ratio(self.true_pos + self.false_neg, self.total()),
            counts: *self,
        }
    }
}

/// The usual rates of a [`Confusion`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Scores {
    /// Customers predicted positive.
    pub flagged: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub accuracy: f64,
    /// Share actually positive (what "always yes" would get as precision).
    pub base_rate: f64,
    pub counts: Confusion,
}

fn ratio(num: usize, den: usize) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}
