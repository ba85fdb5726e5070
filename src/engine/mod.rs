//! The recommendation engine: one shop's model, kept in memory and updated per event.
//!
//! Pure code: no I/O, no clock (every query takes `now`), no async. The caller owns
//! persistence; every model can be rebuilt by replaying the shop's events, in any order.
//!
//! Layout, one concern per file: `catalog` (products, dense indices, groups), `orders`
//! (exact add/subtract of an order), `popularity` (decayed sales, bestseller top lists),
//! `pairs` (co-occurrence tables, bulk loading), `neighbours` (bounded best-neighbour lists
//! that keep query cost independent of a product's degree), `browse` (sessions, co-views),
//! `customers` (profiles, repeat purchases), `sources` (candidate generators), `shelf`
//! (filters, rules, fallback bookkeeping), `queries` (the public lists), `decay` and `rank`
//! (maths), `reason` (output).

mod accum;
mod browse;
mod catalog;
mod customers;
mod decay;
mod hash;
mod neighbours;
mod orders;
mod pairs;
mod popularity;
mod queries;
mod rank;
mod reason;
mod shelf;
mod sources;
mod types;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_lists;

pub use reason::{Reason, Recommendation};
pub use types::{
    BrowseFacts, BrowseKind, CustomerId, EngineConfig, ModelStats, OrderFacts, PairStats,
    ProductFacts, ProductId, Rules, Ts,
};

use browse::Browse;
use catalog::{Catalog, Idx};
use customers::Customers;
use decay::{Clock, Rates};
use neighbours::Ranker;
use orders::Orders;
use pairs::PairTable;
use popularity::Popularity;
use sources::{Anchor, AnchorKind};

/// One shop's recommendation model.
pub struct ShopModel {
    cfg: EngineConfig,
    rates: Rates,
    clock: Clock,
    catalog: Catalog,
    pop: Popularity,
    bought: PairTable,
    orders: Orders,
    customers: Customers,
    browse: Browse,
    rules: Rules,
}

impl ShopModel {
    /// An empty model.
    pub fn new(cfg: EngineConfig) -> Self {
        let cfg = cfg.sanitised();
        Self {
            rates: Rates::new(&cfg),
            clock: Clock::default(),
            catalog: Catalog::default(),
            pop: Popularity::new(cfg.pair_popularity_exponent),
            bought: PairTable::default(),
            orders: Orders::default(),
            customers: Customers::default(),
            browse: Browse::default(),
            rules: Rules::default(),
            cfg,
        }
    }

    /// The configuration in use (after sanitising).
    pub fn config(&self) -> &EngineConfig {
        &self.cfg
    }

    /// Applies a product version if it is newer than the one held (by `updated_at`).
    pub fn upsert_product(&mut self, p: ProductFacts) {
        if let Some((idx, before, after)) = self.catalog.upsert(p) {
            self.pop.regroup(&self.catalog, idx, &before, &after);
        }
    }

    /// Marks a product deleted at `at`: never recommended again unless a newer version
    /// arrives. Its sales and pairs stay (they describe past orders).
    pub fn remove_product(&mut self, id: ProductId, at: Ts) {
        if let Some((idx, before, after)) = self.catalog.remove(id, at) {
            self.pop.regroup(&self.catalog, idx, &before, &after);
        }
    }

    /// Replaces the merchant's rules.
    pub fn set_rules(&mut self, r: Rules) {
        self.rules = r;
    }

    /// Evidence about a pair; `None` when either product is unknown or they share neither an
    /// order nor a session.
    pub fn pair_stats(&self, a: ProductId, b: ProductId) -> Option<PairStats> {
        let (ia, ib) = (self.catalog.lookup(a)?, self.catalog.lookup(b)?);
        let together = self.bought.get(ia, ib).map_or(0, |x| x.0);
        let sessions = self.browse.co.table.get(ia, ib).map_or(0, |x| x.0);
        if together == 0 && sessions == 0 {
            return None;
        }
        let sim = |x: Idx, y: Idx| {
            let anchor = Anchor {
                idx: x,
                weight: 1.0,
                kind: AnchorKind::Context,
            };
            self.pair_similarity(&anchor, y)
        };
        let orders_with = |i: Idx| self.pop.orders_with.get(i as usize).copied().unwrap_or(0);
        Some(PairStats {
            orders_together: together,
            orders_with_a: orders_with(ia),
            orders_with_b: orders_with(ib),
            sessions_together: sessions,
            similarity_a_to_b: sim(ia, ib),
            similarity_b_to_a: sim(ib, ia),
        })
    }

    /// Size of the model.
    pub fn stats(&self) -> ModelStats {
        let pair_bytes = self.bought.approx_bytes();
        ModelStats {
            products: self.catalog.len(),
            recommendable_products: self.catalog.recommendable_count(),
            orders: self.orders.map.len(),
            counting_orders: self.orders.counting,
            pairs: self.bought.pairs(),
            view_pairs: self.browse.co.table.pairs(),
            customers: self.customers.profiles.len(),
            clients: self.browse.clients.len(),
            pair_bytes,
            approx_bytes: pair_bytes
                + self.catalog.approx_bytes()
                + self.pop.approx_bytes()
                + self.orders.approx_bytes()
                + self.customers.approx_bytes()
                + self.browse.approx_bytes(),
        }
    }

    /// Makes sure an event at `t` can be stored without overflow, rebasing every stored
    /// weight when `t` is far past the reference time (rare: years apart).
    fn prepare_time(&mut self, t: Ts) {
        let Some(t0) = self.clock.prepare(t, &self.rates) else {
            return;
        };
        let r = self.rates;
        let f = |rate: f64| self.clock.rebase_factor(rate, t0);
        let (fp, fs, fb, fv, fpr) = (f(r.pop), f(r.short), f(r.pair), f(r.view), f(r.profile));
        self.clock.set_t0(t0);
        self.bought.rescale(fb);
        self.browse
            .rescale(fv, fpr, self.cfg.pair_popularity_exponent);
        self.customers.rescale(fpr);
        self.pop.rescale(&self.catalog, fp, fs, fb);
        // Cached list scores are in the old scale: rank again (rare, a few times a year).
        self.refresh_neighbour_lists();
    }

    /// Recomputes every product's bounded neighbour list exactly from the pair tables,
    /// shedding the drift that incremental maintenance allows (see `neighbours`). O(pairs):
    /// the server may call it off-peak, e.g. nightly; full rebuilds and rebases already do.
    pub fn refresh_neighbour_lists(&mut self) {
        let r = Ranker::new(&self.pop.inv_pow, self.list_pair_support(), &self.catalog)
            .with_prior(self.cfg.pair_support_prior);
        self.bought.rebuild_lists(&r);
        let min = self.min_view_support();
        let co = &mut self.browse.co;
        co.table
            .rebuild_lists(&Ranker::new(&co.inv_pow, min, &self.catalog));
    }

    /// Co-purchase support floor of product pages (at least one order).
    fn min_pair_support(&self) -> u32 {
        self.cfg.min_pair_support.max(1)
    }

    /// Co-purchase support floor of lists merged over several anchors (cart, "for you").
    fn merged_pair_support(&self) -> u32 {
        self.cfg.min_pair_support_merged.max(1)
    }

    /// Co-purchase support floor of the neighbour lists: the lowest any query uses.
    fn list_pair_support(&self) -> u32 {
        self.min_pair_support().min(self.merged_pair_support())
    }

    /// Co-view support floor (at least one session).
    fn min_view_support(&self) -> u32 {
        self.cfg.min_view_support.max(1)
    }
}
