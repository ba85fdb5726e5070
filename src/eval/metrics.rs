//! Ranking metrics over the full catalogue (no sampled negatives), binary relevance.
//!
//! Definitions (also used by `scripts/eval-instacart`, which must stay identical):
//! - HitRate@k: 1 when any relevant item is in the top k, else 0.
//! - Precision@k: relevant items in the top k / k (a shorter list still divides by k).
//! - Recall@k: relevant items in the top k / number of relevant items.
//! - NDCG@k: Σ 1/log2(rank+1) over relevant items at rank 1..k, divided by the ideal
//!   Σ_{rank=1..min(k,|relevant|)} 1/log2(rank+1).
//! - Coverage: distinct items recommended over all queries / catalogue size.
//!
//! Per-query values are averaged over queries (macro average).

use std::collections::HashSet;

use serde::Serialize;

use crate::engine::ProductId;

/// Averages of one method on one task.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Scores {
    /// Queries averaged over.
    pub queries: usize,
    /// HitRate@k.
    pub hit_rate: f64,
    /// Precision@k.
    pub precision: f64,
    /// Recall@k.
    pub recall: f64,
    /// NDCG@k.
    pub ndcg: f64,
    /// Distinct recommended items / catalogue size.
    pub coverage: f64,
}

/// One query's values: (hit, precision, recall, ndcg).
pub fn query_scores(recs: &[ProductId], relevant: &[ProductId], k: usize) -> (f64, f64, f64, f64) {
    if k == 0 || relevant.is_empty() {
        return (0.0, 0.0, 0.0, 0.0);
    }
    let rel: HashSet<ProductId> = relevant.iter().copied().collect();
    let mut hits = 0usize;
    let mut dcg = 0.0;
    let mut seen = HashSet::new();
    for (i, p) in recs.iter().take(k).enumerate() {
        // A duplicate in a list counts once (the engine never repeats, baselines might).
        if rel.contains(p) && seen.insert(*p) {
            hits += 1;
            dcg += 1.0 / ((i + 2) as f64).log2();
        }
    }
    let ideal: f64 = (0..k.min(rel.len()))
        .map(|i| 1.0 / ((i + 2) as f64).log2())
        .sum();
    let hit = if hits > 0 { 1.0 } else { 0.0 };
    (
        hit,
        hits as f64 / k as f64,
        hits as f64 / rel.len() as f64,
        dcg / ideal,
    )
}

/// Averages over queries; `recs[i]` answers the query whose relevant items are `relevant[i]`.
pub fn score(
    recs: &[Vec<ProductId>],
    relevant: &[Vec<ProductId>],
    k: usize,
    catalogue: usize,
) -> Scores {
    let n = recs.len().min(relevant.len());
    let mut sum = (0.0, 0.0, 0.0, 0.0);
    let mut shown: HashSet<ProductId> = HashSet::new();
    for (r, rel) in recs.iter().zip(relevant) {
        let q = query_scores(r, rel, k);
        sum = (sum.0 + q.0, sum.1 + q.1, sum.2 + q.2, sum.3 + q.3);
        shown.extend(r.iter().take(k));
    }
    let avg = |x: f64| if n == 0 { 0.0 } else { x / n as f64 };
    Scores {
        queries: n,
        hit_rate: avg(sum.0),
        precision: avg(sum.1),
        recall: avg(sum.2),
        ndcg: avg(sum.3),
        coverage: if catalogue == 0 {
            0.0
        } else {
            shown.len() as f64 / catalogue as f64
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn two_relevant_at_ranks_one_and_three() {
        let (hit, p, r, ndcg) = query_scores(&[1, 9, 2, 8], &[1, 2], 10);
        assert!(close(hit, 1.0));
        assert!(close(p, 0.2));
        assert!(close(r, 1.0));
        // DCG = 1/log2(2) + 1/log2(4) = 1.5; IDCG = 1 + 1/log2(3).
        assert!(close(ndcg, 1.5 / (1.0 + 1.0 / 3f64.log2())));
    }

    #[test]
    fn ideal_dcg_is_capped_at_k() {
        // 5 relevant, k = 2, both slots relevant: perfect.
        let (_, p, r, ndcg) = query_scores(&[1, 2, 3], &[1, 2, 3, 4, 5], 2);
        assert!(close(ndcg, 1.0));
        assert!(close(p, 1.0));
        assert!(close(r, 0.4));
    }

    #[test]
    fn a_single_relevant_item_at_rank_two() {
        let (hit, p, r, ndcg) = query_scores(&[7, 3], &[3], 10);
        assert_eq!((hit, r), (1.0, 1.0));
        assert!(close(p, 0.1));
        assert!(close(ndcg, 1.0 / 3f64.log2()));
    }

    #[test]
    fn a_miss_and_items_beyond_k_score_nothing() {
        assert_eq!(query_scores(&[1, 2, 3], &[3], 2), (0.0, 0.0, 0.0, 0.0));
        assert_eq!(query_scores(&[], &[3], 10), (0.0, 0.0, 0.0, 0.0));
        assert_eq!(query_scores(&[3, 3], &[3], 10).2, 1.0);
    }

    #[test]
    fn averages_and_coverage() {
        let recs = vec![vec![1, 2], vec![2, 3]];
        let rel = vec![vec![1], vec![4]];
        let s = score(&recs, &rel, 2, 10);
        assert_eq!(s.queries, 2);
        assert!(close(s.hit_rate, 0.5));
        assert!(close(s.precision, 0.25));
        assert!(close(s.recall, 0.5));
        assert!(close(s.ndcg, 0.5));
        assert!(close(s.coverage, 0.3));
    }
}
