//! Per-query score accumulator of multi-anchor neighbour queries (cart, "for you").
//!
//! A query sums a few hundred candidates' contributions out of a catalogue of 100k products.
//! A catalogue-sized array indexed by product costs a cache miss per candidate (it is megabytes
//! and every query touches different products); this open-addressing table is sized to the
//! query (at most half full) so it stays in the L1/L2 cache, and is cleared by walking only
//! the slots used.

use super::catalog::Idx;

/// Running sum for one candidate, remembering the strongest contribution as the reason's
/// evidence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Acc {
    pub(crate) score: f64,
    /// `rank_key` of the strongest single contribution.
    pub(crate) best_key: u64,
    /// Caller-defined source of the strongest contribution (anchor and table).
    pub(crate) best: u32,
}

/// One slot: the product index plus one (0: empty) and its sum.
#[derive(Debug, Clone, Copy)]
struct Slot {
    key: u32,
    acc: Acc,
}

const EMPTY: Slot = Slot {
    key: 0,
    acc: Acc {
        score: 0.0,
        best_key: 0,
        best: 0,
    },
};

#[derive(Debug, Default)]
pub(crate) struct Accumulator {
    slots: Vec<Slot>,
    /// Slots in use, in first-touch order.
    used: Vec<u32>,
    /// This query's table is `slots[..=mask]`.
    mask: usize,
}

impl Accumulator {
    /// Empties the table and sizes it for at most `bound` distinct candidates.
    pub(crate) fn begin(&mut self, bound: usize) {
        for &s in &self.used {
            self.slots[s as usize] = EMPTY;
        }
        self.used.clear();
        // At most half full, so probes stay short and an insert always finds a free slot.
        let want = (2 * bound).next_power_of_two().max(16);
        if self.slots.len() < want {
            self.slots.clear();
            self.slots.resize(want, EMPTY);
        }
        self.mask = want - 1;
    }

    /// Slot of `b`: its own, or the empty one where it belongs. Fibonacci hashing spreads
    /// the dense indices over the table.
    #[inline]
    fn find(&self, b: Idx) -> usize {
        let key = b + 1;
        let mask = self.mask;
        let mut i = (u64::from(b).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize & mask;
        loop {
            let k = self.slots[i].key;
            if k == key || k == 0 {
                return i;
            }
            i = (i + 1) & mask;
        }
    }

    /// Adds contribution `c` (with rank key `key`, from `source`) to `b`. On a tie of keys the
    /// first source keeps the evidence. At most `bound` (see `begin`) distinct `b` per query.
    #[inline]
    pub(crate) fn add(&mut self, b: Idx, c: f64, key: u64, source: u32) {
        debug_assert!(
            self.used.len() <= self.mask / 2,
            "more candidates than the bound"
        );
        let i = self.find(b);
        let slot = &mut self.slots[i];
        if slot.key == 0 {
            self.used.push(i as u32);
            *slot = Slot {
                key: b + 1,
                acc: Acc {
                    score: 0.0,
                    best_key: key,
                    best: source,
                },
            };
        }
        let e = &mut slot.acc;
        e.score += c;
        if key > e.best_key {
            e.best_key = key;
            e.best = source;
        }
    }

    /// The sum of `b`, if it received any contribution.
    pub(crate) fn get(&self, b: Idx) -> Option<Acc> {
        let s = self.slots[self.find(b)];
        (s.key != 0).then_some(s.acc)
    }

    /// Every candidate with its sum, in first-touch order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (Idx, Acc)> + '_ {
        self.used.iter().map(|&s| {
            let slot = &self.slots[s as usize];
            (slot.key - 1, slot.acc)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn sums_like_a_map_and_keeps_the_first_strongest_source() {
        let mut acc = Accumulator::default();
        // Reused across queries of different sizes, as the thread-local one is.
        for (round, n) in [(0u32, 300usize), (1, 5), (2, 1000)] {
            acc.begin(n);
            let mut want: BTreeMap<Idx, (f64, u64, u32)> = BTreeMap::new();
            for k in 0..n as u32 {
                // Colliding indices (multiples of the capacity) and repeats.
                let b = (k * 7919 + round) % (4 * n as u32) * 16;
                let c = f64::from(k % 5);
                let key = u64::from(k % 5);
                acc.add(b, c, key, k);
                let e = want.entry(b).or_insert((0.0, key, k));
                e.0 += c;
                if key > e.1 {
                    (e.1, e.2) = (key, k);
                }
            }
            let got: BTreeMap<Idx, (f64, u64, u32)> = acc
                .iter()
                .map(|(b, a)| (b, (a.score, a.best_key, a.best)))
                .collect();
            assert_eq!(got, want);
            for (&b, &(score, _, _)) in &want {
                assert_eq!(acc.get(b).map(|a| a.score), Some(score));
            }
            assert_eq!(acc.get(3), None);
        }
    }
}
