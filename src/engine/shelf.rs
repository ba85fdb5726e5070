//! Assembling one list: filters, merchant rules, and the fallback chain's bookkeeping.

use super::catalog::{Catalog, Idx};
use super::hash::FxSet;
use super::reason::{Reason, Recommendation};
use super::types::{ProductId, Rules};

/// A list being filled. Sources push candidates best first; the shelf drops anything not
/// recommendable, blocked (context, cart, excluded, already bought) or already on it, and
/// stops at `limit`.
pub(crate) struct Shelf<'m> {
    cat: &'m Catalog,
    limit: usize,
    blocked: FxSet<Idx>,
    seen: FxSet<Idx>,
    out: Vec<Recommendation>,
}

impl<'m> Shelf<'m> {
    /// A shelf for `context` products (never shown) with the merchant's rules applied:
    /// excludes of the context products and global ones are blocked, then pins are placed
    /// first, context-specific in context order, then global, each in the merchant's order.
    pub(crate) fn new(
        cat: &'m Catalog,
        rules: &Rules,
        context: &[ProductId],
        limit: usize,
    ) -> Self {
        let mut shelf = Self {
            cat,
            limit,
            blocked: FxSet::default(),
            seen: FxSet::default(),
            out: Vec::with_capacity(limit.min(256)),
        };
        let mut excludes: Vec<ProductId> = context.to_vec();
        for c in context {
            excludes.extend(rules.excludes_for.get(c).into_iter().flatten());
        }
        excludes.extend(&rules.global_excludes);
        for id in excludes {
            if let Some(i) = cat.lookup(id) {
                shelf.blocked.insert(i);
            }
        }
        let pins = context
            .iter()
            .flat_map(|c| rules.pins_for.get(c).into_iter().flatten())
            .chain(&rules.global_pins);
        for &id in pins {
            if let Some(i) = cat.lookup(id) {
                shelf.push(i, 0.0, || Reason::Pinned);
            }
        }
        shelf
    }

    pub(crate) fn catalog(&self) -> &'m Catalog {
        self.cat
    }

    /// May `idx` still be added?
    #[inline]
    pub(crate) fn allows(&self, idx: Idx) -> bool {
        self.cat.is_recommendable(idx) && !self.blocked.contains(&idx) && !self.seen.contains(&idx)
    }

    /// Never show `idx` from now on (items already on the shelf stay).
    pub(crate) fn block(&mut self, idx: Idx) {
        self.blocked.insert(idx);
    }

    pub(crate) fn remaining(&self) -> usize {
        self.limit.saturating_sub(self.out.len())
    }

    pub(crate) fn is_full(&self) -> bool {
        self.remaining() == 0
    }

    /// Adds `idx` if allowed; the reason is only built for items that make it.
    pub(crate) fn push(&mut self, idx: Idx, score: f64, reason: impl FnOnce() -> Reason) {
        if self.is_full() || !self.allows(idx) {
            return;
        }
        self.seen.insert(idx);
        self.out.push(Recommendation {
            product_id: self.cat.id(idx),
            score,
            reason: reason(),
        });
    }

    /// Last link of every fallback chain: any recommendable product, newest first.
    pub(crate) fn fill_from_catalog(&mut self) {
        let cat = self.cat;
        for id in cat.live_newest_first() {
            if self.is_full() {
                break;
            }
            if let Some(i) = cat.lookup(id) {
                self.push(i, 0.0, || Reason::FromCatalog);
            }
        }
    }

    pub(crate) fn finish(self) -> Vec<Recommendation> {
        self.out
    }
}
