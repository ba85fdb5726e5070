//! Customer profiles and repeat-purchase statistics (what makes a product a consumable).

use std::collections::hash_map::Entry;
use std::collections::BTreeMap;
use std::hint::black_box;

use super::catalog::Idx;
use super::hash::{map_bytes, FxMap};
use super::orders::StoredOrder;
use super::types::{BrowseKind, CustomerId, Ts};
use super::ShopModel;

/// Browse signals kept per profile; the weakest is dropped beyond this, bounding memory for
/// shoppers (or bots) who view thousands of products.
const MAX_BROWSE_ITEMS: usize = 200;
/// Client ids remembered per customer, so forgetting the customer also forgets them.
const MAX_CLIENTS: usize = 8;

/// Decayed browse signals on one product (stored scale, profile half-life).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Signal {
    pub(crate) view: f64,
    pub(crate) cart: f64,
}

/// Adds one browse event to a profile's signals.
pub(crate) fn add_signal(map: &mut FxMap<Idx, Signal>, idx: Idx, kind: BrowseKind, w: f64) {
    let s = map.entry(idx).or_default();
    match kind {
        BrowseKind::View => s.view += w,
        BrowseKind::AddToCart | BrowseKind::CheckoutStarted => s.cart += w,
        // A removal cancels an add of equal recency; sums stay order-independent.
        BrowseKind::RemoveFromCart => s.cart -= w,
    }
    if map.len() > MAX_BROWSE_ITEMS {
        let weakest = map
            .iter()
            .map(|(&i, s)| (s.view + s.cart.max(0.0), i))
            .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        if let Some((_, i)) = weakest {
            map.remove(&i);
        }
    }
}

/// Sorted purchase times of one product by one customer. Most customers buy a product once:
/// keeping that time inline saves an allocation and a cache miss per order line.
#[derive(Debug, Clone)]
pub(crate) enum Times {
    One(Ts),
    Many(Vec<Ts>),
}

impl Times {
    pub(crate) fn as_slice(&self) -> &[Ts] {
        match self {
            Times::One(t) => std::slice::from_ref(t),
            Times::Many(v) => v,
        }
    }

    /// Inserts `at` after any equal time; returns its position.
    fn insert(&mut self, at: Ts) -> usize {
        let pos = self.as_slice().partition_point(|&t| t <= at);
        match self {
            Times::One(t) => {
                let mut v = vec![*t];
                v.insert(pos, at);
                *self = Times::Many(v);
            }
            Times::Many(v) => v.insert(pos, at),
        }
        pos
    }

    /// Removes one `at`; returns where it was.
    fn remove(&mut self, at: Ts) -> Option<usize> {
        let pos = self.as_slice().iter().position(|&t| t == at)?;
        match self {
            Times::One(_) => *self = Times::Many(Vec::new()),
            Times::Many(v) => {
                v.remove(pos);
            }
        }
        Some(pos)
    }

    fn heap_bytes(&self) -> usize {
        match self {
            Times::One(_) => 0,
            Times::Many(v) => 8 * v.capacity(),
        }
    }
}

/// One known customer.
#[derive(Debug, Default)]
pub(crate) struct Profile {
    /// Their counting orders (details live in the order store).
    pub(crate) orders: Vec<i64>,
    /// Sorted purchase times per product, so updates cost O(log n) even for customers with
    /// hundreds of orders.
    pub(crate) purchases: FxMap<Idx, Times>,
    pub(crate) browse: FxMap<Idx, Signal>,
    pub(crate) clients: Vec<String>,
}

#[derive(Default)]
pub(crate) struct Customers {
    pub(crate) profiles: FxMap<CustomerId, Profile>,
    /// Distinct known customers who bought the product.
    buyers: Vec<u32>,
    /// ... of whom bought it in two or more orders.
    repeat_buyers: Vec<u32>,
    /// Sums of `buyers` and `repeat_buyers` over all products: the shop's repeat share, the
    /// prior for products with few buyers (near 0 for a furniture shop, high for groceries).
    totals: [u64; 2],
    /// Repurchase intervals in hours → count, for the median "due" time.
    intervals: FxMap<Idx, BTreeMap<u32, u32>>,
}

/// Repurchase interval in whole hours.
fn interval(from: Ts, to: Ts) -> u32 {
    ((to - from).max(0) / 3600).min(i64::from(u32::MAX)) as u32
}

fn intervals_of(times: &[Ts]) -> impl Iterator<Item = u32> + '_ {
    times.windows(2).map(|w| interval(w[0], w[1]))
}

/// Moves product `p` between buyer classes (none / one order / repeat) for one customer.
fn class_update(
    buyers: &mut Vec<u32>,
    repeat: &mut Vec<u32>,
    totals: &mut [u64; 2],
    p: Idx,
    before: usize,
    after: usize,
) {
    let i = p as usize;
    if buyers.len() <= i {
        buyers.resize(i + 1, 0);
        repeat.resize(i + 1, 0);
    }
    let class = |n: usize| (u32::from(n >= 1), u32::from(n >= 2));
    let (b0, r0) = class(before);
    let (b1, r1) = class(after);
    buyers[i] = (buyers[i] + b1).saturating_sub(b0);
    repeat[i] = (repeat[i] + r1).saturating_sub(r0);
    totals[0] = (totals[0] + u64::from(b1)).saturating_sub(u64::from(b0));
    totals[1] = (totals[1] + u64::from(r1)).saturating_sub(u64::from(r0));
}

/// Adds `d` (±1) to the count of interval `h` of product `p`.
fn hist_edit(intervals: &mut FxMap<Idx, BTreeMap<u32, u32>>, p: Idx, h: u32, d: i32) {
    let hist = intervals.entry(p).or_default();
    if d > 0 {
        *hist.entry(h).or_insert(0) += 1;
    } else if let Some(c) = hist.get_mut(&h) {
        *c -= 1;
        if *c == 0 {
            hist.remove(&h);
        }
    }
    if hist.is_empty() {
        intervals.remove(&p);
    }
}

impl Customers {
    /// One customer's purchase times of product `p` changed from `before` to `after` (sorted).
    fn repeat_update(&mut self, p: Idx, before: &[Ts], after: &[Ts]) {
        class_update(
            &mut self.buyers,
            &mut self.repeat_buyers,
            &mut self.totals,
            p,
            before.len(),
            after.len(),
        );
        for h in intervals_of(before) {
            hist_edit(&mut self.intervals, p, h, -1);
        }
        for h in intervals_of(after) {
            hist_edit(&mut self.intervals, p, h, 1);
        }
    }

    /// Share of (customer, product) purchases that the customer repeated in another order.
    pub(crate) fn shop_repeat_share(&self) -> f64 {
        if self.totals[0] > 0 {
            self.totals[1] as f64 / self.totals[0] as f64
        } else {
            0.0
        }
    }

    /// Prior chance that a buyer of `p` buys it again: the share of its buyers who bought it
    /// in two or more orders, shrunk towards the shop's share by `min_buyers` pseudo-buyers.
    /// 0 for a product with enough buyers (`min_buyers`) of whom fewer than `min_share` came
    /// back: a sofa is not shown again to someone who bought it once.
    pub(crate) fn repeat_prior(&self, p: Idx, min_share: f64, min_buyers: u32) -> f64 {
        let i = p as usize;
        let buyers = f64::from(self.buyers.get(i).copied().unwrap_or(0));
        let repeat = f64::from(self.repeat_buyers.get(i).copied().unwrap_or(0));
        if buyers > 0.0 && buyers >= f64::from(min_buyers) && repeat < min_share * buyers {
            return 0.0;
        }
        let s = f64::from(min_buyers.max(1));
        (repeat + s * self.shop_repeat_share()) / (buyers + s)
    }

    /// Median time between two purchases of `p` by the same customer, in seconds.
    pub(crate) fn median_interval_secs(&self, p: Idx) -> Option<i64> {
        let hist = self.intervals.get(&p)?;
        let total: u64 = hist.values().map(|&c| u64::from(c)).sum();
        let mut seen = 0u64;
        for (&h, &c) in hist {
            seen += u64::from(c);
            if 2 * seen >= total {
                // At least an hour: a same-day re-order should not make a product due at once.
                return Some(i64::from(h.max(1)) * 3600);
            }
        }
        None
    }

    pub(crate) fn rescale(&mut self, f: f64) {
        for p in self.profiles.values_mut() {
            for s in p.browse.values_mut() {
                s.view *= f;
                s.cart *= f;
            }
        }
    }

    pub(crate) fn approx_bytes(&self) -> usize {
        map_bytes(&self.profiles)
            + self
                .profiles
                .values()
                .map(|p| {
                    8 * p.orders.capacity()
                        + map_bytes(&p.browse)
                        + map_bytes(&p.purchases)
                        + p.purchases.values().map(Times::heap_bytes).sum::<usize>()
                        + 32 * p.clients.len()
                })
                .sum::<usize>()
            + 8 * self.buyers.capacity()
            + self.intervals.values().map(|h| 48 * h.len()).sum::<usize>()
    }
}

impl ShopModel {
    /// Attaches (or detaches) a counting order to its customer's profile and updates the
    /// repeat statistics of its products. Only the intervals next to the inserted (removed)
    /// time change, so the histogram is edited in O(1) per line instead of recomputed.
    pub(crate) fn customer_order_delta(
        &mut self,
        c: CustomerId,
        id: i64,
        o: &StoredOrder,
        add: bool,
    ) {
        let Customers {
            profiles,
            buyers,
            repeat_buyers,
            totals,
            intervals,
        } = &mut self.customers;
        let profile = profiles.entry(c).or_default();
        // Reads only, results discarded: the lines' lookups miss the cache together instead of
        // one after another (as in `PairTable::warm`).
        for &(p, _) in o.lines.iter() {
            let i = p as usize;
            black_box(profile.purchases.contains_key(&p));
            black_box((buyers.get(i).copied(), repeat_buyers.get(i).copied()));
            black_box(intervals.contains_key(&p));
        }
        for &(p, _) in o.lines.iter() {
            let (pos, edits, times) = if add {
                match profile.purchases.entry(p) {
                    Entry::Vacant(e) => (0, [-1, 1, 1], e.insert(Times::One(o.at))),
                    Entry::Occupied(e) => {
                        let times = e.into_mut();
                        (times.insert(o.at), [-1, 1, 1], times)
                    }
                }
            } else {
                let Some(times) = profile.purchases.get_mut(&p) else {
                    continue;
                };
                let Some(pos) = times.remove(o.at) else {
                    continue;
                };
                (pos, [1, -1, -1], times)
            };
            let times = times.as_slice();
            let before = if add {
                times.len() - 1
            } else {
                times.len() + 1
            };
            // Around `at`: the interval prev→next exists without it, prev→at and at→next with.
            let (prev, next) = {
                let rest = if add { pos + 1 } else { pos };
                (
                    pos.checked_sub(1).and_then(|k| times.get(k)).copied(),
                    times.get(rest).copied(),
                )
            };
            let after = times.len();
            if after == 0 {
                profile.purchases.remove(&p);
            }
            class_update(buyers, repeat_buyers, totals, p, before, after);
            let at = o.at;
            let changes = [
                (prev, next, edits[0]),
                (prev, Some(at), edits[1]),
                (Some(at), next, edits[2]),
            ];
            for (from, to, d) in changes {
                if let (Some(from), Some(to)) = (from, to) {
                    hist_edit(intervals, p, interval(from, to), d);
                }
            }
        }
        if add {
            profile.orders.push(id);
        } else {
            profile.orders.retain(|&x| x != id);
        }
    }

    /// Privacy redaction: drops the customer's profile (browse signals, the browser clients
    /// they used, their share of repeat statistics). Their orders stay as anonymous baskets,
    /// so co-purchase counts and bestsellers are unchanged. A later, newer version of one of
    /// those orders that still names the customer would attach it again: the caller is
    /// expected to have redacted its own store first.
    pub fn forget_customer(&mut self, c: CustomerId) {
        let Some(profile) = self.customers.profiles.get(&c) else {
            return;
        };
        let order_ids = profile.orders.clone();
        let clients = profile.clients.clone();
        let purchases: Vec<(Idx, Vec<Ts>)> = profile
            .purchases
            .iter()
            .map(|(&p, t)| (p, t.as_slice().to_vec()))
            .collect();
        for (p, before) in purchases {
            self.customers.repeat_update(p, &before, &[]);
        }
        for id in &order_ids {
            if let Some(o) = self.orders.map.get_mut(id) {
                o.customer = None;
            }
        }
        self.customers.profiles.remove(&c);
        for client in clients {
            self.browse.clients.remove(&client);
        }
    }

    /// Remembers that a customer browsed as `client` (for `forget_customer`).
    pub(crate) fn link_client(&mut self, c: CustomerId, client: &str) {
        let p = self.customers.profiles.entry(c).or_default();
        if !p.clients.iter().any(|x| x == client) && p.clients.len() < MAX_CLIENTS {
            p.clients.push(client.to_owned());
        }
    }
}
