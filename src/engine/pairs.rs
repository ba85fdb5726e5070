//! Symmetric co-occurrence tables (co-purchase and co-view).

use super::catalog::Idx;
use super::hash::{table_bytes, FxMap};

/// One direction of a pair: decayed weight and exact count. Packed to 12 bytes so a map
/// entry with its key is 16 bytes instead of 24: this is the model's largest structure.
#[derive(Clone, Copy)]
#[repr(C, packed(4))]
struct Cell {
    w: f64,
    n: u32,
}

/// Adjacency maps per product, each pair stored in both directions so a product's
/// neighbours are one map walk. Counts are exact integers: a pair disappears when its last
/// order is subtracted, so float residue never resurrects a removed pair.
#[derive(Default)]
pub(crate) struct PairTable {
    adj: Vec<FxMap<Idx, Cell>>,
    pairs: usize,
}

impl PairTable {
    fn ensure(&mut self, idx: Idx) {
        if self.adj.len() <= idx as usize {
            self.adj.resize_with(idx as usize + 1, FxMap::default);
        }
    }

    /// Adds one co-occurrence of `a` and `b` with weight `w`.
    pub(crate) fn add(&mut self, a: Idx, b: Idx, w: f64) {
        self.ensure(a.max(b));
        let mut fresh = false;
        for (x, y) in [(a, b), (b, a)] {
            let cell = self.adj[x as usize].entry(y).or_insert_with(|| {
                fresh = true;
                Cell { w: 0.0, n: 0 }
            });
            let (cw, cn) = (cell.w, cell.n);
            cell.w = cw + w;
            cell.n = cn.saturating_add(1);
        }
        if fresh {
            self.pairs += 1;
        }
    }

    /// Subtracts one co-occurrence previously added with weight `w`.
    pub(crate) fn sub(&mut self, a: Idx, b: Idx, w: f64) {
        let mut gone = false;
        for (x, y) in [(a, b), (b, a)] {
            let Some(map) = self.adj.get_mut(x as usize) else {
                return;
            };
            let Some(cell) = map.get_mut(&y) else {
                return;
            };
            let (cw, cn) = (cell.w, cell.n);
            if cn <= 1 {
                map.remove(&y);
                gone = true;
            } else {
                cell.w = (cw - w).max(0.0);
                cell.n = cn - 1;
            }
        }
        if gone {
            self.pairs = self.pairs.saturating_sub(1);
        }
    }

    /// (count, stored weight) of a pair.
    pub(crate) fn get(&self, a: Idx, b: Idx) -> Option<(u32, f64)> {
        let c = self.adj.get(a as usize)?.get(&b)?;
        Some((c.n, c.w))
    }

    /// Calls `f(neighbour, count, stored weight)` for every neighbour of `a`.
    #[inline]
    pub(crate) fn for_each_neighbour(&self, a: Idx, mut f: impl FnMut(Idx, u32, f64)) {
        if let Some(map) = self.adj.get(a as usize) {
            for (&b, c) in map {
                f(b, c.n, c.w);
            }
        }
    }

    /// Multiplies every weight (rebase).
    pub(crate) fn rescale(&mut self, f: f64) {
        for map in &mut self.adj {
            for c in map.values_mut() {
                let w = c.w;
                c.w = w * f;
            }
        }
    }

    /// Unordered pairs kept.
    pub(crate) fn pairs(&self) -> usize {
        self.pairs
    }

    pub(crate) fn approx_bytes(&self) -> usize {
        let entry = std::mem::size_of::<(Idx, Cell)>();
        self.adj.capacity() * std::mem::size_of::<FxMap<Idx, Cell>>()
            + self
                .adj
                .iter()
                .map(|m| table_bytes(m.capacity(), entry))
                .sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_then_sub_removes_pair_exactly() {
        let mut t = PairTable::default();
        t.add(1, 2, 0.7);
        t.add(2, 1, 0.3);
        assert_eq!(t.pairs(), 1);
        assert_eq!(t.get(1, 2).map(|x| x.0), Some(2));
        assert_eq!(t.get(2, 1).map(|x| x.0), Some(2));
        t.sub(1, 2, 0.7);
        let (n, w) = t.get(2, 1).expect("one co-occurrence left");
        assert_eq!(n, 1);
        assert!((w - 0.3).abs() < 1e-12);
        t.sub(1, 2, 0.3);
        assert_eq!(t.get(1, 2), None);
        assert_eq!(t.pairs(), 0);
        assert_eq!(std::mem::size_of::<(Idx, Cell)>(), 16);
    }
}
