//! Per-product decayed sales, and exact top lists per group for bestseller shelves.

use std::hint::black_box;

use super::catalog::{Catalog, Group, Idx};
use super::rank::{cmp_ranked, rank_key, TopK};

/// Length of the maintained top list per group; longer requests fall back to a scan.
const TOP_K: usize = 64;

/// Exact top prefix of a group's positive-sales members, best first. `complete` means it
/// holds every such member; otherwise it is the exact top-`len` and the rest is unknown.
#[derive(Debug, Clone)]
struct TopList {
    items: Vec<Idx>,
    complete: bool,
}

impl Default for TopList {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            complete: true,
        }
    }
}

/// Top lists by group, in vectors indexed by type and tag id: every order line updates its
/// product's three or four groups, and a hash probe per group cost more than the list update.
/// `None`: the group never had a product with sales.
#[derive(Default)]
struct Tops {
    global: Option<TopList>,
    types: Vec<Option<TopList>>,
    tags: Vec<Option<TopList>>,
}

impl Tops {
    fn slot(&mut self, g: Group) -> &mut Option<TopList> {
        let (v, i) = match g {
            Group::Global => return &mut self.global,
            Group::Type(t) => (&mut self.types, t as usize),
            Group::Tag(t) => (&mut self.tags, t as usize),
        };
        if v.len() <= i {
            v.resize_with(i + 1, || None);
        }
        &mut v[i]
    }

    fn entry(&mut self, g: Group) -> &mut TopList {
        self.slot(g).get_or_insert_with(TopList::default)
    }

    fn get(&self, g: Group) -> Option<&TopList> {
        match g {
            Group::Global => self.global.as_ref(),
            Group::Type(t) => self.types.get(t as usize)?.as_ref(),
            Group::Tag(t) => self.tags.get(t as usize)?.as_ref(),
        }
    }

    fn clear(&mut self) {
        *self = Self::default();
    }

    fn approx_bytes(&self) -> usize {
        let lists = || {
            std::iter::once(&self.global)
                .chain(&self.types)
                .chain(&self.tags)
                .flatten()
        };
        std::mem::size_of::<Option<TopList>>() * (self.types.capacity() + self.tags.capacity())
            + lists().map(|l| 4 * l.items.capacity()).sum::<usize>()
    }
}

/// Decayed counters per product (stored scale, see `decay`).
#[derive(Default)]
pub(crate) struct Popularity {
    /// Net quantity, bestseller half-life.
    pub(crate) pop: Vec<f64>,
    /// Net quantity, trending short half-life.
    pub(crate) short: Vec<f64>,
    /// Orders containing the product, pair half-life: the pair normaliser.
    pub(crate) basket: Vec<f64>,
    /// Counting orders containing the product (exact).
    pub(crate) orders_with: Vec<u32>,
    /// `basket^-α`, kept current so a neighbour scan is one multiply per candidate.
    pub(crate) inv_pow: Vec<f64>,
    alpha: f64,
    tops: Tops,
    /// During bulk loads top lists are rebuilt once at the end instead of per line.
    deferred: bool,
}

pub(crate) fn inv_pow(basket: f64, alpha: f64) -> f64 {
    if basket > 0.0 {
        basket.powf(-alpha)
    } else {
        0.0
    }
}

/// Is `a` ranked before `b` by sales? (`cmp_ranked`, with ids read only to break a tie.)
fn better(pop: &[f64], cat: &Catalog, a: Idx, b: Idx) -> bool {
    let (ka, kb) = (rank_key(pop[a as usize]), rank_key(pop[b as usize]));
    ka > kb || (ka == kb && cat.id(a) < cat.id(b))
}

fn insert_sorted(list: &mut TopList, pop: &[f64], cat: &Catalog, idx: Idx) {
    // `better(x, idx)` with idx's key computed once for the whole binary search.
    let k = rank_key(pop[idx as usize]);
    let pos = list.items.partition_point(|&x| {
        let kx = rank_key(pop[x as usize]);
        kx > k || (kx == k && cat.id(x) < cat.id(idx))
    });
    list.items.insert(pos, idx);
    if list.items.len() > TOP_K {
        list.items.pop();
        list.complete = false;
    }
}

/// `idx`'s sales rose (or it joined the group): keep the list an exact prefix.
fn raise_in(list: &mut TopList, pop: &[f64], cat: &Catalog, idx: Idx) {
    if pop[idx as usize] <= 0.0 {
        return;
    }
    if !list.complete {
        // Fast path for the long tail: below the last kept item and not in the list.
        match list.items.last() {
            Some(&last) if last == idx || better(pop, cat, idx, last) => {}
            _ => return,
        }
    }
    if let Some(pos) = list.items.iter().position(|&x| x == idx) {
        list.items.remove(pos);
    }
    insert_sorted(list, pop, cat, idx);
}

/// `idx`'s sales fell (or it left the group). Returns true if the list got too short.
fn lower_in(list: &mut TopList, pop: &[f64], cat: &Catalog, idx: Idx, still_member: bool) -> bool {
    let Some(pos) = list.items.iter().position(|&x| x == idx) else {
        return false;
    };
    list.items.remove(pos);
    if still_member && pop[idx as usize] > 0.0 {
        // It still belongs in the prefix only if it beats the last known item; otherwise the
        // list shrinks by one and remains an exact prefix.
        let fits = list.complete || list.items.last().is_some_and(|&l| better(pop, cat, idx, l));
        if fits {
            insert_sorted(list, pop, cat, idx);
        }
    }
    !list.complete && list.items.len() < TOP_K / 2
}

impl Popularity {
    pub(crate) fn new(alpha: f64) -> Self {
        Self {
            alpha,
            ..Self::default()
        }
    }

    pub(crate) fn ensure(&mut self, n: usize) {
        if self.pop.len() < n {
            self.pop.resize(n, 0.0);
            self.short.resize(n, 0.0);
            self.basket.resize(n, 0.0);
            self.orders_with.resize(n, 0);
            self.inv_pow.resize(n, 0.0);
        }
    }

    /// Loads what `apply_line(idx)` will read (counters, the product's groups, the head of
    /// each top list) without changing anything. Called for all lines of an order first, the
    /// lines' cache misses overlap instead of queueing one after another.
    pub(crate) fn warm(&self, cat: &Catalog, idx: Idx) {
        let i = idx as usize;
        if i < self.pop.len() {
            black_box((
                self.pop[i],
                self.short[i],
                self.basket[i],
                self.orders_with[i],
                self.inv_pow[i],
            ));
        }
        if self.deferred || i >= cat.len() {
            return;
        }
        for g in cat.groups_of(idx) {
            if let Some(list) = self.tops.get(g) {
                black_box(list.items.last().copied());
            }
        }
    }

    /// Adds or subtracts one order line: `qty_pop`/`qty_short` are quantity × event weight,
    /// `w_basket` the pair-rate event weight.
    pub(crate) fn apply_line(
        &mut self,
        cat: &Catalog,
        idx: Idx,
        (qty_pop, qty_short, w_basket): (f64, f64, f64),
        add: bool,
    ) {
        let i = idx as usize;
        self.ensure(cat.len());
        if add {
            self.pop[i] += qty_pop;
            self.short[i] += qty_short;
            self.basket[i] += w_basket;
            self.orders_with[i] = self.orders_with[i].saturating_add(1);
        } else {
            self.orders_with[i] = self.orders_with[i].saturating_sub(1);
            if self.orders_with[i] == 0 {
                // Exact zero instead of float residue once nothing contributes.
                self.pop[i] = 0.0;
                self.short[i] = 0.0;
                self.basket[i] = 0.0;
            } else {
                self.pop[i] = (self.pop[i] - qty_pop).max(0.0);
                self.short[i] = (self.short[i] - qty_short).max(0.0);
                self.basket[i] = (self.basket[i] - w_basket).max(0.0);
            }
        }
        if self.deferred {
            // `powf` per line is a tenth of a rebuild: computed once at the end instead.
            return;
        }
        self.inv_pow[i] = inv_pow(self.basket[i], self.alpha);
        for g in cat.groups_of(idx) {
            let list = self.tops.entry(g);
            if add {
                raise_in(list, &self.pop, cat, idx);
            } else if lower_in(list, &self.pop, cat, idx, true) {
                self.rescan(cat, g);
            }
        }
    }

    /// A product moved between groups (type or tags changed).
    pub(crate) fn regroup(&mut self, cat: &Catalog, idx: Idx, before: &[Group], after: &[Group]) {
        self.ensure(cat.len());
        if self.deferred || self.pop[idx as usize] <= 0.0 {
            return;
        }
        for g in before.iter().filter(|g| !after.contains(g)) {
            let list = self.tops.entry(*g);
            if lower_in(list, &self.pop, cat, idx, false) {
                self.rescan(cat, *g);
            }
        }
        for g in after.iter().filter(|g| !before.contains(g)) {
            raise_in(self.tops.entry(*g), &self.pop, cat, idx);
        }
    }

    fn rescan(&mut self, cat: &Catalog, g: Group) {
        let mut items = Vec::new();
        cat.for_each_member(g, |i| {
            if self.pop.get(i as usize).is_some_and(|&p| p > 0.0) {
                items.push(i);
            }
        });
        let pop = &self.pop;
        items.sort_unstable_by(|&a, &b| {
            cmp_ranked(
                rank_key(pop[a as usize]),
                cat.id(a),
                rank_key(pop[b as usize]),
                cat.id(b),
            )
        });
        let complete = items.len() <= TOP_K;
        items.truncate(TOP_K);
        *self.tops.slot(g) = Some(TopList { items, complete });
    }

    /// Rebuilds every top list (after a bulk load or a rebase).
    pub(crate) fn rebuild_tops(&mut self, cat: &Catalog) {
        self.ensure(cat.len());
        self.tops.clear();
        for g in cat.all_groups() {
            self.rescan(cat, g);
        }
    }

    pub(crate) fn set_deferred(&mut self, cat: &Catalog, on: bool) {
        if on {
            self.tops.clear();
        } else if self.deferred {
            self.deferred = false;
            for (b, ip) in self.basket.iter().zip(self.inv_pow.iter_mut()) {
                *ip = inv_pow(*b, self.alpha);
            }
            self.rebuild_tops(cat);
        }
        self.deferred = on;
    }

    /// Multiplies stored weights by rebase factors.
    pub(crate) fn rescale(&mut self, cat: &Catalog, f_pop: f64, f_short: f64, f_pair: f64) {
        for v in &mut self.pop {
            *v *= f_pop;
        }
        for v in &mut self.short {
            *v *= f_short;
        }
        for (b, ip) in self.basket.iter_mut().zip(self.inv_pow.iter_mut()) {
            *b *= f_pair;
            *ip = inv_pow(*b, self.alpha);
        }
        if !self.deferred {
            // Quantised keys may reorder near-ties after scaling: rebuild to stay exact.
            self.rebuild_tops(cat);
        }
    }

    /// Best `want` members of a group with sales that pass `allow`, best first. Exact: uses the
    /// maintained prefix when it suffices, otherwise scans the group.
    pub(crate) fn best_in(
        &self,
        cat: &Catalog,
        g: Group,
        want: usize,
        allow: impl Fn(Idx) -> bool,
    ) -> Vec<Idx> {
        let mut out = Vec::new();
        if want == 0 {
            return out;
        }
        if let Some(list) = self.tops.get(g).filter(|_| !self.deferred) {
            for &i in &list.items {
                if allow(i) {
                    out.push(i);
                    if out.len() == want {
                        return out;
                    }
                }
            }
            if list.complete {
                return out;
            }
        } else if !self.deferred && g != Group::Global {
            // No list: the group has no member with sales.
            return out;
        }
        let mut top = TopK::new(want);
        cat.for_each_member(g, |i| {
            let p = self.pop.get(i as usize).copied().unwrap_or(0.0);
            if p > 0.0 && allow(i) {
                top.push(i, cat.id(i), p);
            }
        });
        top.into_sorted().into_iter().map(|r| r.idx).collect()
    }

    pub(crate) fn approx_bytes(&self) -> usize {
        36 * self.pop.capacity() + self.tops.approx_bytes()
    }
}
