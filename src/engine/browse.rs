//! Browse events: co-view sessions per client and browse signals for profiles.

use std::collections::HashMap;

use super::catalog::{Catalog, Idx};
use super::customers::{add_signal, Signal};
use super::hash::{map_bytes, FxMap};
use super::neighbours::Ranker;
use super::pairs::PairTable;
use super::popularity::inv_pow;
use super::types::{BrowseFacts, BrowseKind, Ts};
use super::ShopModel;

/// Recent sessions kept per client. Older ones keep their co-view counts but can no longer be
/// merged with a late event.
const MAX_SESSIONS: usize = 8;

/// A maximal run of one client's events with gaps of at most `session_gap_secs`.
#[derive(Debug, Clone)]
struct Session {
    start: Ts,
    end: Ts,
    products: Vec<Idx>,
}

#[derive(Debug, Default)]
pub(crate) struct ClientState {
    sessions: Vec<Session>,
    pub(crate) browse: FxMap<Idx, Signal>,
    last_at: Ts,
}

/// Co-view counters. A session's weight is taken at its start, so its contribution is a
/// function of the final session alone and does not depend on event order.
#[derive(Default)]
pub(crate) struct CoView {
    pub(crate) table: PairTable,
    pub(crate) sessions_with: Vec<u32>,
    pub(crate) session_w: Vec<f64>,
    pub(crate) inv_pow: Vec<f64>,
}

impl CoView {
    fn ensure(&mut self, n: usize) {
        if self.sessions_with.len() < n {
            self.sessions_with.resize(n, 0);
            self.session_w.resize(n, 0.0);
            self.inv_pow.resize(n, 0.0);
        }
    }

    fn product_delta(&mut self, p: Idx, w: f64, add: bool, alpha: f64) {
        let i = p as usize;
        self.ensure(i + 1);
        if add {
            self.sessions_with[i] += 1;
            self.session_w[i] += w;
        } else {
            self.sessions_with[i] = self.sessions_with[i].saturating_sub(1);
            self.session_w[i] = if self.sessions_with[i] == 0 {
                0.0
            } else {
                (self.session_w[i] - w).max(0.0)
            };
        }
        self.inv_pow[i] = inv_pow(self.session_w[i], alpha);
    }

    /// Adds or subtracts a whole session. Normalisers first, so the neighbour lists rank
    /// every pair with the session's final popularity.
    fn session_delta(&mut self, s: &Session, w: f64, add: bool, alpha: f64, ctx: (&Catalog, u32)) {
        for &a in &s.products {
            self.product_delta(a, w, add, alpha);
        }
        let r = Ranker::new(&self.inv_pow, ctx.1, ctx.0);
        for (k, &a) in s.products.iter().enumerate() {
            for &b in &s.products[k + 1..] {
                if add {
                    self.table.add(a, b, w);
                } else {
                    self.table.sub(a, b, w);
                }
                self.table.touch(a, b, &r);
            }
        }
    }

    /// Adds product `p` to a session already holding `others`.
    fn join_session(&mut self, p: Idx, others: &[Idx], w: f64, alpha: f64, ctx: (&Catalog, u32)) {
        self.product_delta(p, w, true, alpha);
        let r = Ranker::new(&self.inv_pow, ctx.1, ctx.0);
        for &b in others {
            self.table.add(p, b, w);
            self.table.touch(p, b, &r);
        }
    }
}

#[derive(Default)]
pub(crate) struct Browse {
    /// Keyed by the pixel's client id, which strangers control: std's DoS-resistant hasher.
    pub(crate) clients: HashMap<String, ClientState>,
    pub(crate) co: CoView,
}

impl Browse {
    pub(crate) fn rescale(&mut self, f_view: f64, f_profile: f64, alpha: f64) {
        self.co.table.rescale(f_view);
        for (w, ip) in self.co.session_w.iter_mut().zip(self.co.inv_pow.iter_mut()) {
            *w *= f_view;
            *ip = inv_pow(*w, alpha);
        }
        for c in self.clients.values_mut() {
            for s in c.browse.values_mut() {
                s.view *= f_profile;
                s.cart *= f_profile;
            }
        }
    }

    pub(crate) fn approx_bytes(&self) -> usize {
        let clients: usize = self
            .clients
            .iter()
            .map(|(k, c)| {
                k.capacity()
                    + map_bytes(&c.browse)
                    + c.sessions
                        .iter()
                        .map(|s| 48 + 4 * s.products.capacity())
                        .sum::<usize>()
            })
            .sum();
        map_bytes(&self.clients)
            + clients
            + self.co.table.approx_bytes()
            + 20 * self.co.sessions_with.capacity()
    }
}

impl ShopModel {
    /// Records a storefront event: browse signals for the client (and the customer, when
    /// logged in) and co-view sessions.
    ///
    /// Pixel events are unsigned, so anyone can post any product id: events for a product the
    /// engine does not know (neither synced from the catalog nor seen in an order) are
    /// ignored, so forged ids cannot grow the catalog, the pair tables or profiles. Sync the
    /// catalog before replaying browse events (the server does at install): an event that
    /// arrives before its product is dropped, not held back.
    pub fn record_browse(&mut self, e: BrowseFacts) {
        let Some(idx) = self.catalog.lookup(e.product_id) else {
            return;
        };
        self.prepare_time(e.at);
        let w_profile = self.clock.weight(self.rates.profile, e.at);
        if let Some(c) = e.customer_id {
            self.link_client(c, &e.client_id);
            if let Some(p) = self.customers.profiles.get_mut(&c) {
                add_signal(&mut p.browse, idx, e.kind, w_profile);
            }
        }
        let state = self.browse.clients.entry(e.client_id.clone()).or_default();
        add_signal(&mut state.browse, idx, e.kind, w_profile);
        state.last_at = state.last_at.max(e.at);
        if e.kind != BrowseKind::RemoveFromCart {
            self.session_insert(&e.client_id, idx, e.at);
        }
    }

    /// Drops browser clients inactive since `before` (their co-view counts stay). The server
    /// calls this periodically so anonymous clients do not accumulate forever.
    pub fn prune_clients(&mut self, before: Ts) {
        self.browse.clients.retain(|_, c| c.last_at >= before);
    }

    fn session_insert(&mut self, client: &str, idx: Idx, t: Ts) {
        let gap = self.cfg.session_gap_secs;
        let max_products = self.cfg.max_session_products;
        let alpha = self.cfg.pair_popularity_exponent;
        let rate = self.rates.view;
        let clock = self.clock;
        let ctx = (&self.catalog, self.cfg.min_view_support.max(1));
        let Browse { clients, co } = &mut self.browse;
        let Some(state) = clients.get_mut(client) else {
            return;
        };
        let touching: Vec<usize> = (0..state.sessions.len())
            .filter(|&i| {
                let s = &state.sessions[i];
                t >= s.start.saturating_sub(gap) && t <= s.end.saturating_add(gap)
            })
            .collect();
        if let [i] = touching[..] {
            let s = &mut state.sessions[i];
            if t >= s.start {
                // The common case: an event inside or after the session; its start (and so its
                // weight) is unchanged, so only the new product's pairs are added.
                s.end = s.end.max(t);
                if !s.products.contains(&idx) && s.products.len() < max_products {
                    co.join_session(idx, &s.products, clock.weight(rate, s.start), alpha, ctx);
                    s.products.push(idx);
                }
                return;
            }
        }
        // New session, an earlier start, or a bridge between sessions: replace the touched
        // sessions by their union.
        let mut merged = Session {
            start: t,
            end: t,
            products: vec![idx],
        };
        for &i in touching.iter().rev() {
            let s = state.sessions.remove(i);
            co.session_delta(&s, clock.weight(rate, s.start), false, alpha, ctx);
            merged.start = merged.start.min(s.start);
            merged.end = merged.end.max(s.end);
            merged.products.extend(s.products);
        }
        merged.products.sort_unstable();
        merged.products.dedup();
        merged.products.truncate(max_products);
        co.session_delta(&merged, clock.weight(rate, merged.start), true, alpha, ctx);
        let pos = state.sessions.partition_point(|s| s.start < merged.start);
        state.sessions.insert(pos, merged);
        if state.sessions.len() > MAX_SESSIONS {
            state.sessions.remove(0);
        }
    }
}
