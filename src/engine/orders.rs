//! Orders: exact add / subtract of each order's contribution.

use super::catalog::Idx;
use super::hash::{fingerprint, map_bytes, set_bytes, FxMap, FxSet};
use super::neighbours::Ranker;
use super::types::{CustomerId, OrderFacts, Ts};
use super::ShopModel;

/// What an order contributed, kept so that an update or removal subtracts exactly that.
#[derive(Debug, Clone)]
pub(crate) struct StoredOrder {
    pub(crate) at: Ts,
    updated_at: Ts,
    fp: u64,
    pub(crate) customer: Option<CustomerId>,
    counts: bool,
    /// (product, net quantity), merged per product, zero quantities dropped, sorted by index.
    pub(crate) lines: Box<[(Idx, u32)]>,
}

impl StoredOrder {
    pub(crate) fn contributes(&self) -> bool {
        self.counts && !self.lines.is_empty()
    }
}

#[derive(Default)]
pub(crate) struct Orders {
    pub(crate) map: FxMap<i64, StoredOrder>,
    /// Removed order ids: a late `upsert` of a removed order must not resurrect it.
    removed: FxSet<i64>,
    pub(crate) counting: usize,
}

impl Orders {
    pub(crate) fn approx_bytes(&self) -> usize {
        map_bytes(&self.map)
            + set_bytes(&self.removed)
            + self.map.values().map(|o| 8 * o.lines.len()).sum::<usize>()
    }
}

impl ShopModel {
    /// Applies an order version if it is newer than the one held (by `updated_at`, ties broken
    /// by content so delivery order never matters). The previous version's contribution is
    /// subtracted exactly and the new one added. Orders with `counts == false` or no
    /// positive-quantity line contribute nothing.
    pub fn upsert_order(&mut self, o: OrderFacts) {
        let id = o.order_id;
        if self.orders.removed.contains(&id) {
            return;
        }
        let new = self.normalise_order(o);
        if let Some(old) = self.orders.map.get(&id) {
            if (old.updated_at, old.fp) >= (new.updated_at, new.fp) {
                return;
            }
            // Probed again only for a newer version: a new order costs one probe here.
            if let Some(old) = self.orders.map.remove(&id) {
                self.unapply_order(id, &old);
            }
        }
        self.apply_order(id, &new);
        self.orders.map.insert(id, new);
    }

    /// Applies many orders: the replay path of a full rebuild. Same result as calling
    /// `upsert_order` on each, but pair updates are buffered and applied product by product,
    /// and bestseller and neighbour lists are built once at the end (exactly) instead of per
    /// line. The end costs O(model), so use it for rebuilds and large batches.
    pub fn upsert_orders(&mut self, orders: impl IntoIterator<Item = OrderFacts>) {
        let orders = orders.into_iter();
        self.orders.map.reserve(orders.size_hint().0);
        self.pop.set_deferred(&self.catalog, true);
        self.bought.begin_bulk();
        for o in orders {
            self.upsert_order(o);
        }
        self.pop.set_deferred(&self.catalog, false);
        let r = Ranker::new(&self.pop.inv_pow, self.list_pair_support(), &self.catalog)
            .with_prior(self.cfg.pair_support_prior);
        self.bought.end_bulk(&r);
    }

    /// Removes an order for good (e.g. `orders/delete`), subtracting what it added. Later
    /// upserts of the same order id are ignored.
    pub fn remove_order(&mut self, order_id: i64) {
        if let Some(old) = self.orders.map.remove(&order_id) {
            self.unapply_order(order_id, &old);
        }
        self.orders.removed.insert(order_id);
    }

    fn normalise_order(&mut self, o: OrderFacts) -> StoredOrder {
        // Merge in place: this runs once per order of a rebuild, so allocations count.
        let mut merged = o.lines;
        merged.retain(|l| l.1 > 0);
        merged.sort_unstable();
        merged.dedup_by(|cur, kept| {
            let same = cur.0 == kept.0;
            if same {
                kept.1 = kept.1.saturating_add(cur.1);
            }
            same
        });
        let fp = fingerprint(&(o.at, o.customer_id, o.counts, &merged));
        let lines: Box<[(Idx, u32)]> = if o.counts {
            let mut v: Vec<(Idx, u32)> = merged
                .iter()
                .map(|&(p, q)| (self.catalog.intern(p), q))
                .collect();
            v.sort_unstable();
            v.into_boxed_slice()
        } else {
            Box::new([])
        };
        StoredOrder {
            at: o.at,
            updated_at: o.updated_at,
            fp,
            customer: o.customer_id,
            counts: o.counts,
            lines,
        }
    }

    fn apply_order(&mut self, id: i64, o: &StoredOrder) {
        if !o.contributes() {
            return;
        }
        self.prepare_time(o.at);
        self.order_delta(o, true);
        self.orders.counting += 1;
        if let Some(c) = o.customer {
            self.customer_order_delta(c, id, o, true);
        }
    }

    fn unapply_order(&mut self, id: i64, o: &StoredOrder) {
        if !o.contributes() {
            return;
        }
        self.order_delta(o, false);
        self.orders.counting = self.orders.counting.saturating_sub(1);
        if let Some(c) = o.customer {
            self.customer_order_delta(c, id, o, false);
        }
    }

    /// Popularity and co-purchase part of an order. Weights are recomputed from the order's
    /// own time against the current `t₀`, so subtraction matches addition even across rebases.
    fn order_delta(&mut self, o: &StoredOrder, add: bool) {
        let r = self.rates;
        let wp = self.clock.weight(r.pop, o.at);
        let ws = self.clock.weight(r.short, o.at);
        let wb = self.clock.weight(r.pair, o.at);
        for &(idx, _) in o.lines.iter() {
            self.pop.warm(&self.catalog, idx);
        }
        for &(idx, q) in o.lines.iter() {
            let q = f64::from(q);
            self.pop
                .apply_line(&self.catalog, idx, (q * wp, q * ws, wb), add);
        }
        // Basket-level co-occurrence: quantity does not matter, presence does. Lists are
        // touched after the lines above so candidates are ranked with their new popularity.
        let r = Ranker::new(&self.pop.inv_pow, self.list_pair_support(), &self.catalog)
            .with_prior(self.cfg.pair_support_prior);
        if add {
            self.bought.add_basket(&o.lines, wb, &r);
            return;
        }
        for (i, &(a, _)) in o.lines.iter().enumerate() {
            for &(b, _) in &o.lines[i + 1..] {
                self.bought.sub(a, b, wb);
                self.bought.touch(a, b, &r);
            }
        }
    }
}
