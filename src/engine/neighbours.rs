//! Bounded best-neighbour lists, so a product, cart or customer query costs the same for a
//! bestseller with 30 000 neighbours as for a niche product with 30.
//!
//! A product with more than `SCAN_MAX` neighbours keeps a list of at most `LIST_LEN`
//! candidates with their pair count and weight; queries score only those. The list is the
//! exact top `LIST_LEN` by similarity `w(a,b) · w(b)^-α · n/(n+prior)` when (re)built, then maintained on
//! every change of a pair `(a,b)`: the cached count and weight of `b` are updated (so they are
//! always exact: a pair only changes through such a touch), and a newcomer `b` enters if it
//! beats the weakest member, both scored with the *current* normalisers.
//!
//! What drifts, and why it is acceptable: similarity is scale-free (decay factors cancel), so
//! time alone never reorders a list. Only events do, and an event changes the normaliser
//! `w(c)` of its own products in *every* list holding (or missing) them, which would cost a
//! product's degree to refresh. So membership can lag: an outsider rejected earlier is not
//! reconsidered until its pair with the anchor changes again, even if members have since
//! become more popular (and so weaker) than it, or it lost sales to a cancellation. The
//! "weakest member" is tracked with a few round-robin probes per touch instead of a full
//! scan. Lag is bounded: a list is rebuilt exactly after `degree / RESCAN_SHARE` touches of
//! its product (amortised `RESCAN_SHARE` neighbours scanned per touch). Query scores are always exact for the members, and a shelf shows ~10 of 64, so
//! only the list's tail is at stake. Products with at most `SCAN_MAX` neighbours (every
//! product of a small shop) have no list and are exact, hence independent of event order;
//! for listed products membership is a deterministic function of the event sequence. A full
//! rebuild (`upsert_orders`), a rebase and `ShopModel::refresh_neighbour_lists` recompute
//! every list exactly.

use super::catalog::{Catalog, Idx};
use super::pairs::{Adjacency, Cell};
use super::rank::rank_key;

/// Candidates kept per listed product: several times a shelf, so filters (stock, rules,
/// already bought) and multi-anchor sums rarely reach past it.
pub(crate) const LIST_LEN: usize = 64;
/// Products with more neighbours than this get a list; fewer are scanned in full (cheap).
pub(crate) const SCAN_MAX: usize = 2 * LIST_LEN;
/// A list is dropped when the degree falls to this (hysteresis against flapping).
const DROP_AT: usize = LIST_LEN;
/// Members compared with the cached weakest per rejected newcomer.
const PROBES: usize = 4;
/// A list is rebuilt exactly once its product has been touched `degree / RESCAN_SHARE`
/// times: at most `RESCAN_SHARE` neighbours scanned per touch, amortised, for lag bounded in
/// touches of the anchor.
const RESCAN_SHARE: usize = 8;

/// How a table's candidates are ranked: the normaliser `w(b)^-α`, the support shrinkage
/// `n / (n + prior)` and the support floor.
pub(crate) struct Ranker<'a> {
    inv: &'a [f64],
    min: u32,
    prior: f64,
    cat: &'a Catalog,
}

/// Shrinkage of a similarity measured on `n` shared orders (sessions) towards 0: with
/// `prior` = 1, a pair seen once counts half, twice two thirds, ten times 91%.
#[inline]
pub(crate) fn shrink(n: u32, prior: f64) -> f64 {
    let n = f64::from(n);
    n / (n + prior)
}

impl<'a> Ranker<'a> {
    pub(crate) fn new(inv: &'a [f64], min: u32, cat: &'a Catalog) -> Self {
        Self {
            inv,
            min,
            prior: 0.0,
            cat,
        }
    }

    /// The same with support shrinkage (`shrink`).
    pub(crate) fn with_prior(mut self, prior: f64) -> Self {
        self.prior = prior;
        self
    }

    fn eligible(&self, b: Idx, c: &Cell) -> Option<Entry> {
        (c.n() >= self.min).then(|| Entry {
            b,
            n: c.n(),
            w: c.w(),
        })
    }

    /// Ranking key of a member now (the anchor's own factor is common to all, left out).
    fn key(&self, e: &Entry) -> u64 {
        rank_key(e.w * self.inv.get(e.b as usize).copied().unwrap_or(0.0) * shrink(e.n, self.prior))
    }

    /// Is `x` ranked before `y`? Ties go to the lower product id, like shelves.
    fn before(&self, x: &Entry, y: &Entry) -> bool {
        let (kx, ky) = (self.key(x), self.key(y));
        kx > ky || (kx == ky && self.cat.id(x.b) < self.cat.id(y.b))
    }
}

/// A candidate with its pair's exact count and stored weight.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    pub(crate) b: Idx,
    pub(crate) n: u32,
    pub(crate) w: f64,
}

#[derive(Debug, Default)]
struct List {
    /// Unordered: queries rank at query time.
    items: Vec<Entry>,
    /// Holds every eligible neighbour (so a new one may simply be appended).
    complete: bool,
    /// Index of the (believed) weakest member.
    worst: u32,
    /// Round-robin position of the next probe.
    cursor: u32,
    /// Touches since the last exact build.
    touches: u32,
}

impl List {
    /// The exact top `LIST_LEN` of `map`.
    fn build(map: &Adjacency, r: &Ranker) -> Self {
        let mut items: Vec<Entry> = map.iter().filter_map(|(&b, c)| r.eligible(b, c)).collect();
        let complete = items.len() <= LIST_LEN;
        if !complete {
            let mut keyed: Vec<(u64, i64, Entry)> = items
                .iter()
                .map(|e| (r.key(e), r.cat.id(e.b), *e))
                .collect();
            keyed.select_nth_unstable_by(LIST_LEN - 1, |x, y| y.0.cmp(&x.0).then(x.1.cmp(&y.1)));
            items = keyed[..LIST_LEN].iter().map(|x| x.2).collect();
        }
        items.shrink_to_fit();
        let mut list = Self {
            items,
            complete,
            worst: 0,
            cursor: 0,
            touches: 0,
        };
        list.find_worst(r);
        list
    }

    fn find_worst(&mut self, r: &Ranker) {
        let mut worst = 0;
        for k in 1..self.items.len() {
            if r.before(&self.items[worst], &self.items[k]) {
                worst = k;
            }
        }
        self.worst = worst as u32;
    }

    /// `y`'s pair changed: `e` is its new state (`None`: gone or below support).
    fn update(&mut self, y: Idx, e: Option<Entry>, r: &Ranker) {
        let pos = self.items.iter().position(|x| x.b == y);
        let w = self.worst as usize;
        match (pos, e) {
            (Some(p), Some(e)) => {
                self.items[p] = e;
                if w < self.items.len() && r.before(&self.items[w], &e) {
                    self.worst = p as u32;
                }
            }
            (Some(p), None) => {
                self.items.swap_remove(p);
                self.find_worst(r);
            }
            (None, None) => {}
            (None, Some(e)) if self.items.len() < LIST_LEN => {
                self.items.push(e);
                if w >= self.items.len() - 1 || r.before(&self.items[w], &e) {
                    self.worst = (self.items.len() - 1) as u32;
                }
            }
            (None, Some(e)) => {
                // Full: someone is left out either way.
                self.complete = false;
                self.probe(r);
                let w = self.worst as usize;
                if r.before(&e, &self.items[w]) {
                    // The newcomer is no longer the weakest; probing (not a full scan, this
                    // is the hot path of a hub's writes) finds the next one over the next
                    // touches. Meanwhile newcomers face a stricter bar: lag, not error.
                    self.items[w] = e;
                    self.probe(r);
                }
            }
        }
    }

    /// Moves the cached weakest towards the true one (members weaken as they sell).
    fn probe(&mut self, r: &Ranker) {
        let len = self.items.len();
        if len == 0 {
            return;
        }
        // `r.before(worst, k)` with the weakest's key computed once, not once per probe.
        let mut w = (self.worst as usize).min(len - 1);
        let mut wk = r.key(&self.items[w]);
        for _ in 0..PROBES {
            let k = self.cursor as usize % len;
            self.cursor = self.cursor.wrapping_add(1);
            let kk = r.key(&self.items[k]);
            if wk > kk || (wk == kk && r.cat.id(self.items[w].b) < r.cat.id(self.items[k].b)) {
                self.worst = k as u32;
                (w, wk) = (k, kk);
            }
        }
    }
}

/// The lists of every high-degree product of one pair table, indexed by product.
#[derive(Debug, Default)]
pub(crate) struct Lists {
    lists: Vec<Option<List>>,
}

impl Lists {
    /// Candidates of `a` when it has a list.
    #[inline]
    pub(crate) fn items(&self, a: Idx) -> Option<&[Entry]> {
        self.lists
            .get(a as usize)?
            .as_ref()
            .map(|l| l.items.as_slice())
    }

    /// `x`'s pair with `y` changed; `map` is `x`'s adjacency after the change.
    pub(crate) fn touch(&mut self, x: Idx, y: Idx, map: &Adjacency, r: &Ranker) {
        let i = x as usize;
        let deg = map.len();
        if self.lists.len() <= i {
            if deg <= SCAN_MAX {
                return;
            }
            self.lists.resize_with(i + 1, || None);
        }
        let slot = &mut self.lists[i];
        match slot {
            None if deg > SCAN_MAX => *slot = Some(List::build(map, r)),
            None => {}
            Some(_) if deg <= DROP_AT => *slot = None,
            Some(list) => {
                let e = map.get(&y).and_then(|c| r.eligible(y, c));
                list.update(y, e, r);
                list.touches = list.touches.saturating_add(1);
                // Removals emptied a truncated list (only a rescan knows who is next), or it
                // is due for its periodic exact rebuild.
                let due = list.touches as usize * RESCAN_SHARE >= deg;
                if due || (!list.complete && list.items.len() < LIST_LEN / 2) {
                    *list = List::build(map, r);
                }
            }
        }
    }

    /// Rebuilds every list from scratch: exact, and a function of the table alone.
    pub(crate) fn rebuild_all(&mut self, adj: &[Adjacency], r: &Ranker) {
        self.lists.clear();
        for (a, map) in adj.iter().enumerate() {
            if map.len() > SCAN_MAX {
                if self.lists.len() <= a {
                    self.lists.resize_with(a + 1, || None);
                }
                self.lists[a] = Some(List::build(map, r));
            }
        }
        self.lists.shrink_to_fit();
    }

    pub(crate) fn approx_bytes(&self) -> usize {
        self.lists.capacity() * std::mem::size_of::<Option<List>>()
            + self
                .lists
                .iter()
                .flatten()
                .map(|l| l.items.capacity() * std::mem::size_of::<Entry>())
                .sum::<usize>()
    }
}
