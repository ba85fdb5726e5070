//! Symmetric co-occurrence tables (co-purchase and co-view), with a bulk-load path.

use std::hint::black_box;

use super::catalog::Idx;
use super::hash::{table_bytes, FxMap};
use super::neighbours::{Lists, Ranker};

/// One direction of a pair: decayed weight and exact count. Packed to 12 bytes so a map
/// entry with its key is 16 bytes instead of 24: this is the model's largest structure.
#[derive(Clone, Copy)]
#[repr(C, packed(4))]
pub(crate) struct Cell {
    w: f64,
    n: u32,
}

impl Cell {
    pub(crate) fn n(&self) -> u32 {
        self.n
    }
    pub(crate) fn w(&self) -> f64 {
        self.w
    }
}

pub(crate) type Adjacency = FxMap<Idx, Cell>;

/// Adds one co-occurrence to one direction; true when the pair is new.
#[inline]
fn add_dir(map: &mut Adjacency, y: Idx, w: f64) -> bool {
    let mut fresh = false;
    let cell = map.entry(y).or_insert_with(|| {
        fresh = true;
        Cell { w: 0.0, n: 0 }
    });
    let (cw, cn) = (cell.w, cell.n);
    cell.w = cw + w;
    cell.n = cn.saturating_add(1);
    fresh
}

/// Subtracts one co-occurrence from one direction; true when the pair is gone.
#[inline]
fn sub_dir(map: &mut Adjacency, y: Idx, w: f64) -> bool {
    let Some(cell) = map.get_mut(&y) else {
        return false;
    };
    let (cw, cn) = (cell.w, cell.n);
    if cn <= 1 {
        map.remove(&y);
        true
    } else {
        cell.w = (cw - w).max(0.0);
        cell.n = cn - 1;
        false
    }
}

/// Directed updates buffered during a bulk load: 4M entries (64 MB) per flush keeps the
/// transient memory bounded while each flush still finds many entries per product.
const BULK_CHUNK: usize = 1 << 22;

/// Buffered updates: `key = a << 32 | b`, weight with its sign bit meaning "subtract".
/// Random upserts into 100k hash maps miss the cache twice per pair; bucketing a chunk by
/// product first (a counting sort) makes the inserts walk one map at a time.
#[derive(Default)]
struct Bulk {
    buf: Vec<(u64, f64)>,
    sorted: Vec<(Idx, f64)>,
    starts: Vec<u32>,
}

/// Adjacency maps per product, each pair stored in both directions so a product's
/// neighbours are one map walk. Counts are exact integers: a pair disappears when its last
/// order is subtracted, so float residue never resurrects a removed pair.
#[derive(Default)]
pub(crate) struct PairTable {
    adj: Vec<Adjacency>,
    pairs: usize,
    bulk: Option<Bulk>,
    /// Bounded best-neighbour lists of high-degree products (see `neighbours`).
    lists: Lists,
}

impl PairTable {
    fn ensure(&mut self, idx: Idx) {
        if self.adj.len() <= idx as usize {
            self.adj.resize_with(idx as usize + 1, FxMap::default);
        }
    }

    /// Adds one co-occurrence of `a` and `b` with weight `w`.
    pub(crate) fn add(&mut self, a: Idx, b: Idx, w: f64) {
        if let Some(bulk) = &mut self.bulk {
            bulk.buf
                .push(((u64::from(a) << 32) | u64::from(b), w.abs()));
            bulk.buf
                .push(((u64::from(b) << 32) | u64::from(a), w.abs()));
            if bulk.buf.len() >= BULK_CHUNK {
                self.flush();
            }
            return;
        }
        self.ensure(a.max(b));
        let fresh = add_dir(&mut self.adj[a as usize], b, w);
        add_dir(&mut self.adj[b as usize], a, w);
        if fresh {
            self.pairs += 1;
        }
    }

    /// Adds one co-occurrence of every pair of `lines` (distinct products, an order's basket)
    /// with weight `w` and keeps the neighbour lists current. Same result as `add(a, b, w)`
    /// then `touch(a, b, r)` for each pair `i < j` in order, but grouped by product: a
    /// product's map and list change only through its own pairs and `r` is fixed meanwhile,
    /// so product `x` seeing its partners in line order is all that matters. Each map and list
    /// is then walked while it is in cache, and every bucket is looked up first (`warm`) so
    /// the cache misses of the order's pairs overlap instead of queueing.
    pub(crate) fn add_basket(&mut self, lines: &[(Idx, u32)], w: f64, r: &Ranker) {
        if self.bulk.is_some() {
            for (i, &(a, _)) in lines.iter().enumerate() {
                for &(b, _) in &lines[i + 1..] {
                    self.add(a, b, w);
                }
            }
            return;
        }
        if lines.len() < 2 {
            return;
        }
        if let Some(max) = lines.iter().map(|l| l.0).max() {
            self.ensure(max);
        }
        self.warm(lines);
        for (i, &(x, _)) in lines.iter().enumerate() {
            for (j, &(y, _)) in lines.iter().enumerate() {
                if i == j {
                    continue;
                }
                let map = &mut self.adj[x as usize];
                // Each unordered pair is counted once, from its earlier line.
                if add_dir(map, y, w) && i < j {
                    self.pairs += 1;
                }
                self.lists.touch(x, y, map, r);
            }
        }
    }

    /// Looks up every directed pair of `lines` and the head of each product's list (reads
    /// only, results discarded): the lookups are independent, so their cache misses overlap.
    fn warm(&self, lines: &[(Idx, u32)]) {
        for &(a, _) in lines {
            if let Some(map) = self.adj.get(a as usize) {
                for &(b, _) in lines {
                    if a != b {
                        black_box(map.get(&b).map(|c| c.n));
                    }
                }
            }
            if let Some(items) = self.lists.items(a) {
                black_box(items.first().map(|e| e.b));
            }
        }
    }

    /// Subtracts one co-occurrence previously added with weight `w`.
    pub(crate) fn sub(&mut self, a: Idx, b: Idx, w: f64) {
        if let Some(bulk) = &mut self.bulk {
            bulk.buf
                .push(((u64::from(a) << 32) | u64::from(b), -w.abs()));
            bulk.buf
                .push(((u64::from(b) << 32) | u64::from(a), -w.abs()));
            if bulk.buf.len() >= BULK_CHUNK {
                self.flush();
            }
            return;
        }
        let n = self.adj.len();
        let Some(ma) = self.adj.get_mut(a as usize) else {
            return;
        };
        if (b as usize) >= n || !ma.contains_key(&b) {
            return;
        }
        let gone = sub_dir(ma, b, w);
        sub_dir(&mut self.adj[b as usize], a, w);
        if gone {
            self.pairs = self.pairs.saturating_sub(1);
        }
    }

    /// Starts buffering updates (see `Bulk`). Reads are not allowed until `end_bulk`.
    pub(crate) fn begin_bulk(&mut self) {
        if self.bulk.is_none() {
            self.bulk = Some(Bulk::default());
        }
    }

    /// Applies the buffered updates and rebuilds every neighbour list from the final table.
    pub(crate) fn end_bulk(&mut self, r: &Ranker) {
        self.flush();
        self.bulk = None;
        self.lists.rebuild_all(&self.adj, r);
    }

    /// Applies the buffered updates, bucketed by first product. The counting sort is stable,
    /// so each direction sees its updates in arrival order, exactly as direct calls would.
    fn flush(&mut self) {
        let Some(mut bulk) = self.bulk.take() else {
            return;
        };
        if let Some(max) = bulk.buf.iter().map(|e| (e.0 >> 32) as Idx).max() {
            self.ensure(max);
        }
        let n = self.adj.len();
        bulk.starts.clear();
        bulk.starts.resize(n + 1, 0);
        for e in &bulk.buf {
            bulk.starts[(e.0 >> 32) as usize + 1] += 1;
        }
        for i in 0..n {
            bulk.starts[i + 1] += bulk.starts[i];
        }
        bulk.sorted.clear();
        bulk.sorted.resize(bulk.buf.len(), (0, 0.0));
        {
            // Write cursors: `starts[a]` advances as bucket `a` fills, ending at the next start.
            let mut next = bulk.starts.clone();
            for &(key, w) in &bulk.buf {
                let a = (key >> 32) as usize;
                bulk.sorted[next[a] as usize] = (key as Idx, w);
                next[a] += 1;
            }
        }
        for a in 0..n {
            let (lo, hi) = (bulk.starts[a] as usize, bulk.starts[a + 1] as usize);
            if lo == hi {
                continue;
            }
            let map = &mut self.adj[a];
            for &(b, w) in &bulk.sorted[lo..hi] {
                // Each unordered pair is counted once, from its lower end.
                if w.is_sign_negative() {
                    if sub_dir(map, b, -w) && (a as Idx) < b {
                        self.pairs = self.pairs.saturating_sub(1);
                    }
                } else if add_dir(map, b, w) && (a as Idx) < b {
                    self.pairs += 1;
                }
            }
        }
        bulk.buf.clear();
        self.bulk = Some(bulk);
    }

    /// Keeps the neighbour lists of `a` and `b` current after their pair changed. Call after
    /// the candidates' normalisers (`r.inv`) were updated for the same event.
    pub(crate) fn touch(&mut self, a: Idx, b: Idx, r: &Ranker) {
        if self.bulk.is_some() {
            return;
        }
        for (x, y) in [(a, b), (b, a)] {
            if let Some(map) = self.adj.get(x as usize) {
                self.lists.touch(x, y, map, r);
            }
        }
    }

    /// Recomputes every neighbour list exactly (after a rebase, or to shed drift).
    pub(crate) fn rebuild_lists(&mut self, r: &Ranker) {
        if self.bulk.is_none() {
            self.lists.rebuild_all(&self.adj, r);
        }
    }

    /// (count, stored weight) of a pair.
    pub(crate) fn get(&self, a: Idx, b: Idx) -> Option<(u32, f64)> {
        let c = self.adj.get(a as usize)?.get(&b)?;
        Some((c.n, c.w))
    }

    /// Calls `f(neighbour, count, stored weight)` for the candidates of `a`: its bounded list
    /// when it has one, otherwise every neighbour (there are few). The cost is bounded by
    /// `neighbours::SCAN_MAX` whatever the product's degree.
    #[inline]
    pub(crate) fn for_each_candidate(&self, a: Idx, mut f: impl FnMut(Idx, u32, f64)) {
        let Some(map) = self.adj.get(a as usize) else {
            return;
        };
        if let Some(items) = self.lists.items(a) {
            // Cached count and weight are exact (see `neighbours`): no map probe needed.
            for e in items {
                f(e.b, e.n, e.w);
            }
        } else {
            for (&b, c) in map {
                f(b, c.n, c.w);
            }
        }
    }

    /// How many candidates `for_each_candidate(a, ..)` visits at most.
    pub(crate) fn candidate_count(&self, a: Idx) -> usize {
        match self.lists.items(a) {
            Some(items) => items.len(),
            None => self.adj.get(a as usize).map_or(0, |m| m.len()),
        }
    }

    /// Multiplies every weight (rebase). Lists must be rebuilt afterwards (`rebuild_lists`):
    /// their cached scores are in the old scale.
    pub(crate) fn rescale(&mut self, f: f64) {
        self.flush();
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

    /// Heap bytes of the maps and of the neighbour lists.
    pub(crate) fn approx_bytes(&self) -> usize {
        let entry = std::mem::size_of::<(Idx, Cell)>();
        self.adj.capacity() * std::mem::size_of::<Adjacency>()
            + self
                .adj
                .iter()
                .map(|m| table_bytes(m.capacity(), entry))
                .sum::<usize>()
            + self.lists.approx_bytes()
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

    #[test]
    fn bulk_load_matches_direct_updates() {
        let ops: Vec<(Idx, Idx, f64, bool)> = (0..500u32)
            .map(|i| {
                (
                    (i * 7) % 13,
                    (i * 11) % 17 + 13,
                    1.0 + f64::from(i % 5),
                    i % 9 != 4,
                )
            })
            .collect();
        let mut direct = PairTable::default();
        let mut bulk = PairTable::default();
        bulk.begin_bulk();
        for &(a, b, w, add) in &ops {
            for t in [&mut direct, &mut bulk] {
                if add {
                    t.add(a, b, w);
                } else {
                    t.sub(a, b, w);
                }
            }
        }
        let cat = super::super::catalog::Catalog::default();
        bulk.end_bulk(&Ranker::new(&[], 1, &cat));
        assert_eq!(direct.pairs(), bulk.pairs());
        for a in 0..40 {
            for b in 0..40 {
                let (x, y) = (direct.get(a, b), bulk.get(a, b));
                assert_eq!(x.map(|v| v.0), y.map(|v| v.0), "{a} {b}");
                let (wx, wy) = (x.map_or(0.0, |v| v.1), y.map_or(0.0, |v| v.1));
                assert!((wx - wy).abs() < 1e-9, "{a} {b}");
            }
        }
    }
}
