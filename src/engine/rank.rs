//! Deterministic ranking: quantised scores, ties broken by product id, bounded top-k.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::catalog::Idx;
use super::types::ProductId;

/// Ranking key of a score. Scores that are equal in exact arithmetic can differ in the last
/// bits depending on the order events were summed in; dropping the low 29 mantissa bits
/// (keeping ~7 significant digits) makes such near-ties real ties, which the product id then
/// breaks, so results do not depend on event order. Positive floats order like their bits.
pub(crate) fn rank_key(score: f64) -> u64 {
    let s = if score.is_finite() && score > 0.0 {
        score
    } else {
        0.0
    };
    (s.to_bits() + (1 << 28)) >> 29
}

/// Total order of candidates: higher key first, then lower product id.
pub(crate) fn cmp_ranked(ka: u64, ida: ProductId, kb: u64, idb: ProductId) -> Ordering {
    kb.cmp(&ka).then(ida.cmp(&idb))
}

/// One ranked candidate.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ranked {
    pub(crate) key: u64,
    pub(crate) id: ProductId,
    pub(crate) idx: Idx,
    pub(crate) score: f64,
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Ranked {}
impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Ranked {
    /// Better candidates compare as smaller, so a max-heap keeps the worst on top.
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_ranked(self.key, self.id, other.key, other.id)
    }
}

/// Keeps the best `k` candidates seen, in O(n log k).
pub(crate) struct TopK {
    k: usize,
    heap: BinaryHeap<Ranked>,
}

impl TopK {
    pub(crate) fn new(k: usize) -> Self {
        Self {
            k,
            heap: BinaryHeap::with_capacity(k.min(1024) + 1),
        }
    }

    pub(crate) fn push(&mut self, idx: Idx, id: ProductId, score: f64) {
        self.push_with(idx, score, || id);
    }

    /// Would a candidate with this score get in? False only when it ranks below the current
    /// k-th on the score alone, so a caller can skip costlier checks (filters, id lookups).
    #[inline]
    pub(crate) fn admits(&self, score: f64) -> bool {
        self.k > 0
            && (self.heap.len() < self.k
                || self.heap.peek().is_none_or(|w| rank_key(score) >= w.key))
    }

    /// `push` that looks the product id up only when it is needed: to break a tie with the
    /// current k-th, or to keep the candidate. Most candidates of a large set lose on the
    /// score alone, and an id lookup is a cache miss into a catalog-sized vector.
    #[inline]
    pub(crate) fn push_with(&mut self, idx: Idx, score: f64, id: impl FnOnce() -> ProductId) {
        if !self.admits(score) {
            return;
        }
        let r = Ranked {
            key: rank_key(score),
            id: id(),
            idx,
            score,
        };
        if self.heap.len() < self.k {
            self.heap.push(r);
        } else if let Some(worst) = self.heap.peek() {
            if r < *worst {
                self.heap.pop();
                self.heap.push(r);
            }
        }
    }

    /// Best first.
    pub(crate) fn into_sorted(self) -> Vec<Ranked> {
        self.heap.into_sorted_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topk_keeps_best_and_breaks_ties_by_id() {
        let mut t = TopK::new(3);
        for (idx, (id, s)) in [(5, 1.0), (3, 2.0), (9, 2.0), (1, 0.5), (2, 2.0)]
            .into_iter()
            .enumerate()
        {
            t.push(idx as Idx, id, s);
        }
        let ids: Vec<_> = t.into_sorted().into_iter().map(|r| r.id).collect();
        assert_eq!(ids, vec![2, 3, 9]);
    }

    #[test]
    fn push_with_matches_push_and_skips_id_lookups_of_losers() {
        let scores = [0.5, 3.0, 1.0, 3.0, 0.2, 2.0, 3.0, 0.1, 2.0];
        let (mut a, mut b) = (TopK::new(4), TopK::new(4));
        let mut lookups = 0;
        for (i, &s) in scores.iter().enumerate() {
            let id = 100 - i as ProductId;
            a.push(i as Idx, id, s);
            b.push_with(i as Idx, s, || {
                lookups += 1;
                id
            });
        }
        let ids = |t: TopK| {
            t.into_sorted()
                .into_iter()
                .map(|r| r.id)
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(a), ids(b));
        // 0.2 and 0.1 arrive when the k-th already scores higher: no lookup.
        assert_eq!(lookups, scores.len() - 2);
        assert!(!TopK::new(0).admits(1.0));
    }

    #[test]
    fn rank_key_merges_last_bit_noise_but_keeps_real_differences() {
        let a = 0.1 + 0.2;
        let b = 0.3;
        assert_ne!(a, b);
        assert_eq!(rank_key(a), rank_key(b));
        assert!(rank_key(0.3001) > rank_key(0.3));
        assert_eq!(rank_key(f64::NAN), 0);
        assert_eq!(rank_key(-1.0), 0);
    }
}
