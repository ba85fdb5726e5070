//! Candidate sources that fill a shelf: pair neighbours, bestsellers, trending.

use super::accum::Accumulator;
use super::catalog::{Group, Idx};
use std::cell::RefCell;

use super::neighbours::shrink;
use super::pairs::PairTable;
use super::rank::{rank_key, TopK};
use super::reason::Reason;
use super::shelf::Shelf;
use super::types::Ts;
use super::ShopModel;

/// Which co-occurrence table a neighbour comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PairKind {
    Bought,
    Viewed,
}

/// What an anchor of a neighbour query is to the shopper; decides the reason shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AnchorKind {
    /// The product page or a cart line.
    Context,
    Bought,
    Carted,
    Viewed,
}

/// A product whose neighbours are wanted, with its weight in the sum.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Anchor {
    pub(crate) idx: Idx,
    pub(crate) weight: f64,
    pub(crate) kind: AnchorKind,
}

/// One co-occurrence table as a query reads it.
struct PairView<'a> {
    table: &'a PairTable,
    base: &'a [f64],
    inv: &'a [f64],
    min: u32,
    prior: f64,
}

thread_local! {
    /// Reused by every multi-anchor query of the thread: no allocation per query.
    static SCRATCH: RefCell<Accumulator> = RefCell::new(Accumulator::default());
}

impl ShopModel {
    /// A table with its popularity bases, normalisers, support floor (`merged`: for a list
    /// summed over several anchors) and support shrinkage prior.
    fn pair_view(&self, kind: PairKind, merged: bool) -> PairView<'_> {
        match kind {
            PairKind::Bought => PairView {
                table: &self.bought,
                base: &self.pop.basket,
                inv: &self.pop.inv_pow,
                min: if merged {
                    self.merged_pair_support()
                } else {
                    self.min_pair_support()
                },
                prior: self.cfg.pair_support_prior,
            },
            PairKind::Viewed => PairView {
                table: &self.browse.co.table,
                base: &self.browse.co.session_w,
                inv: &self.browse.co.inv_pow,
                min: self.min_view_support(),
                prior: 0.0,
            },
        }
    }

    /// Asymmetric cosine `w(a,b) / (w(a)^(1-α) · w(b)^α)`: this is the `w(a)^(α-1)` factor.
    /// Scale-free: decay factors cancel, so pair similarities need no `now`.
    fn anchor_factor(&self, base: &[f64], a: Idx) -> f64 {
        let b = base.get(a as usize).copied().unwrap_or(0.0);
        if b > 0.0 {
            b.powf(self.cfg.pair_popularity_exponent - 1.0)
        } else {
            0.0
        }
    }

    fn pair_reason(&self, kind: PairKind, a: &Anchor, b: Idx) -> Reason {
        let with = self.catalog.id(a.idx);
        let with_title = self.catalog.title(a.idx);
        match (a.kind, kind) {
            (AnchorKind::Context, PairKind::Bought) => Reason::BoughtTogether {
                with,
                with_title,
                orders_together: self.bought.get(a.idx, b).map_or(0, |x| x.0),
                orders_with: self
                    .pop
                    .orders_with
                    .get(a.idx as usize)
                    .copied()
                    .unwrap_or(0),
            },
            (AnchorKind::Context, PairKind::Viewed) => Reason::ViewedTogether {
                with,
                with_title,
                sessions_together: self.browse.co.table.get(a.idx, b).map_or(0, |x| x.0),
            },
            (AnchorKind::Bought, _) => Reason::BecauseYouBought { with, with_title },
            (AnchorKind::Carted, _) => Reason::BecauseYouAddedToCart { with, with_title },
            (AnchorKind::Viewed, _) => Reason::BecauseYouViewed { with, with_title },
        }
    }

    /// Fills the shelf with the best neighbours of `anchors` summed over the given tables
    /// (each with a weight). Pairs below the support floor (`merged`: the floor of lists
    /// that merge several anchors' neighbours) are ignored.
    pub(crate) fn push_neighbours(
        &self,
        shelf: &mut Shelf,
        anchors: &[Anchor],
        kinds: &[(PairKind, f64)],
        merged: bool,
    ) {
        if shelf.is_full() || anchors.is_empty() || kinds.is_empty() {
            return;
        }
        let cat = shelf.catalog();
        let mut top = TopK::new(shelf.remaining());
        if let ([a], [(kind, kw)]) = (anchors, kinds) {
            // Product page: stream straight into the top-k, no accumulation map.
            let v = self.pair_view(*kind, merged);
            let f = a.weight * kw * self.anchor_factor(v.base, a.idx);
            v.table.for_each_candidate(a.idx, |b, n, w| {
                if n < v.min {
                    return;
                }
                let s = w * v.inv[b as usize] * f * shrink(n, v.prior);
                // Score first: most candidates lose to the current k-th without a filter probe.
                if top.admits(s) && shelf.allows(b) {
                    top.push_with(b, s, || cat.id(b));
                }
            });
            for r in top.into_sorted() {
                shelf.push(r.idx, r.score, || self.pair_reason(*kind, a, r.idx));
            }
            return;
        }
        let n_anchors = anchors.len() as u32;
        SCRATCH.with(|cell| {
            let Ok(mut acc) = cell.try_borrow_mut() else {
                return;
            };
            let bound = kinds
                .iter()
                .flat_map(|&(kind, _)| {
                    let table = self.pair_view(kind, merged).table;
                    anchors.iter().map(move |a| table.candidate_count(a.idx))
                })
                .sum();
            acc.begin(bound);
            for (ki, &(kind, kw)) in kinds.iter().enumerate() {
                let v = self.pair_view(kind, merged);
                for (ai, a) in anchors.iter().enumerate() {
                    let f = a.weight * kw * self.anchor_factor(v.base, a.idx);
                    let source = ki as u32 * n_anchors + ai as u32;
                    // Every neighbour over the support floor is summed, allowed or not: the
                    // shelf's filters are the same for all anchors, so they are checked once
                    // per distinct candidate below instead of once per visit. Anchors come in
                    // a deterministic order, so the first of equal contributions wins the same
                    // way whatever order events arrived in.
                    v.table.for_each_candidate(a.idx, |b, n, w| {
                        if n >= v.min {
                            let c = w * v.inv[b as usize] * f * shrink(n, v.prior);
                            acc.add(b, c, rank_key(c), source);
                        }
                    });
                }
            }
            for (b, e) in acc.iter() {
                if top.admits(e.score) && shelf.allows(b) {
                    top.push_with(b, e.score, || cat.id(b));
                }
            }
            for r in top.into_sorted() {
                let Some(e) = acc.get(r.idx) else { continue };
                let kind = kinds[(e.best / n_anchors) as usize].0;
                let a = &anchors[(e.best % n_anchors) as usize];
                shelf.push(r.idx, r.score, || self.pair_reason(kind, a, r.idx));
            }
        });
    }

    /// Fills the shelf with a group's bestsellers; score is decayed units sold at `now`.
    pub(crate) fn push_bestsellers(
        &self,
        shelf: &mut Shelf,
        g: Group,
        now: Ts,
        reason: impl Fn() -> Reason,
    ) {
        if shelf.is_full() {
            return;
        }
        let best = self
            .pop
            .best_in(&self.catalog, g, shelf.remaining(), |i| shelf.allows(i));
        let f = self.clock.decay_to(self.rates.pop, now);
        for i in best {
            shelf.push(i, self.pop.pop[i as usize] * f, &reason);
        }
    }

    /// Bestsellers of each type in turn (types in preference order, "no type" skipped).
    pub(crate) fn push_type_bestsellers(&self, shelf: &mut Shelf, types: &[u32], now: Ts) {
        for &t in types.iter().filter(|&&t| t != 0) {
            let name = self.catalog.types.name(t).to_owned();
            self.push_bestsellers(shelf, Group::Type(t), now, || Reason::PopularInType {
                product_type: name.clone(),
            });
        }
    }

    /// Products selling faster in the short window than in the bestseller window. The ratio
    /// compares rates (each window's count divided by its length), smoothed by a prior on
    /// both sides, and needs a minimum recent volume, so a single sale is never a trend.
    pub(crate) fn push_trending(&self, shelf: &mut Shelf, now: Ts) {
        if shelf.is_full() {
            return;
        }
        let cat = shelf.catalog();
        let fs = self.clock.decay_to(self.rates.short, now);
        let fl = self.clock.decay_to(self.rates.pop, now);
        let window_ratio =
            self.cfg.trending_short_half_life_days / self.cfg.bestseller_half_life_days;
        let prior = self.cfg.trending_prior;
        let mut top = TopK::new(shelf.remaining());
        for (i, (&s, &l)) in self.pop.short.iter().zip(&self.pop.pop).enumerate() {
            let recent = s * fs;
            if recent < self.cfg.trending_min_recent || recent <= 0.0 {
                continue;
            }
            let ratio = (recent + prior) / (l * fl * window_ratio + prior);
            let idx = i as Idx;
            if ratio > self.cfg.trending_min_ratio && shelf.allows(idx) {
                top.push(idx, cat.id(idx), ratio);
            }
        }
        for r in top.into_sorted() {
            shelf.push(r.idx, r.score, || Reason::Trending);
        }
    }
}

impl ShopModel {
    /// Co-purchase similarity of `b` on anchor `a`'s list (0 when below support or unknown).
    pub(crate) fn pair_similarity(&self, a: &Anchor, b: Idx) -> f64 {
        let v = self.pair_view(PairKind::Bought, false);
        let (n, w) = v.table.get(a.idx, b).unwrap_or((0, 0.0));
        w * v.inv.get(b as usize).copied().unwrap_or(0.0)
            * self.anchor_factor(v.base, a.idx)
            * shrink(n, v.prior)
    }
}
