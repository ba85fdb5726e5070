//! The public recommendation queries. Each builds one shelf through a fallback chain, so a
//! list is never empty while the shop has a recommendable product.

use super::catalog::{normalise_tag, Group, Idx};
use super::customers::Profile;
use super::hash::FxMap;
use super::rank::{cmp_ranked, rank_key};
use super::reason::{Reason, Recommendation};
use super::shelf::Shelf;
use super::sources::{Anchor, AnchorKind, PairKind};
use super::types::{CustomerId, ProductId, Ts};
use super::ShopModel;

/// Profile items used as anchors of "for you"; bounds the query cost for heavy shoppers.
const MAX_ANCHORS: usize = 8;
/// Weight of one purchase, one cart add and one view in a profile.
const BOUGHT_WEIGHT: f64 = 3.0;
const CART_WEIGHT: f64 = 2.0;
const VIEW_WEIGHT: f64 = 1.0;
/// Co-views count less than co-purchases when both feed one list.
const VIEW_PAIR_WEIGHT: f64 = 0.5;
/// Share of its usual repurchase interval after which a past purchase is half due: the due
/// factor is `r² / (DUE_HALF² + r²)` for `r` = time since the last purchase / interval, so
/// coffee bought yesterday on a monthly rhythm is not offered again, while on grocery data,
/// where an item is bought in most orders whatever the gap, it costs little.
const DUE_HALF: f64 = 0.2;

impl ShopModel {
    /// "Frequently bought together" for a product page. Fallbacks: also viewed, bestsellers of
    /// the same type, global bestsellers, any recommendable product.
    pub fn bought_together(
        &self,
        product: ProductId,
        limit: usize,
        now: Ts,
    ) -> Vec<Recommendation> {
        self.product_shelf(product, limit, now, [PairKind::Bought, PairKind::Viewed])
    }

    /// "Customers also viewed" for a product page. Fallbacks: bought together, bestsellers of
    /// the same type, global bestsellers, any recommendable product.
    pub fn also_viewed(&self, product: ProductId, limit: usize, now: Ts) -> Vec<Recommendation> {
        self.product_shelf(product, limit, now, [PairKind::Viewed, PairKind::Bought])
    }

    fn product_shelf(
        &self,
        product: ProductId,
        limit: usize,
        now: Ts,
        order: [PairKind; 2],
    ) -> Vec<Recommendation> {
        let mut shelf = Shelf::new(&self.catalog, &self.rules, &[product], limit);
        if let Some(a) = self.catalog.lookup(product) {
            let anchor = [Anchor {
                idx: a,
                weight: 1.0,
                kind: AnchorKind::Context,
            }];
            for kind in order {
                self.push_neighbours(&mut shelf, &anchor, &[(kind, 1.0)], false);
            }
            self.push_type_bestsellers(&mut shelf, &[self.catalog.meta(a).product_type], now);
        }
        self.finish_with_bestsellers(shelf, now)
    }

    /// "Complete your order": neighbours of all cart lines together, never a cart line.
    /// Fallbacks: co-views, bestsellers of the cart's types, global bestsellers, catalog.
    pub fn for_cart(&self, cart: &[ProductId], limit: usize, now: Ts) -> Vec<Recommendation> {
        let mut ids: Vec<ProductId> = Vec::with_capacity(cart.len());
        for &p in cart {
            if !ids.contains(&p) {
                ids.push(p);
            }
        }
        let mut shelf = Shelf::new(&self.catalog, &self.rules, &ids, limit);
        let anchors: Vec<Anchor> = ids
            .iter()
            .filter_map(|&p| self.catalog.lookup(p))
            .map(|idx| Anchor {
                idx,
                weight: 1.0,
                kind: AnchorKind::Context,
            })
            .collect();
        self.push_neighbours(&mut shelf, &anchors, &[(PairKind::Bought, 1.0)], true);
        self.push_neighbours(&mut shelf, &anchors, &[(PairKind::Viewed, 1.0)], true);
        let mut types: Vec<u32> = Vec::new();
        for a in &anchors {
            let t = self.catalog.meta(a.idx).product_type;
            if !types.contains(&t) {
                types.push(t);
            }
        }
        self.push_type_bestsellers(&mut shelf, &types, now);
        self.finish_with_bestsellers(shelf, now)
    }

    /// Bestsellers, of one product type when given (then the rest of the shop).
    pub fn bestsellers(
        &self,
        product_type: Option<&str>,
        limit: usize,
        now: Ts,
    ) -> Vec<Recommendation> {
        let mut shelf = Shelf::new(&self.catalog, &self.rules, &[], limit);
        if let Some(t) = product_type.and_then(|t| self.catalog.types.get(t.trim())) {
            self.push_type_bestsellers(&mut shelf, &[t], now);
        }
        self.finish_with_bestsellers(shelf, now)
    }

    /// Bestsellers with a tag (case-insensitive), then the rest of the shop.
    pub fn bestsellers_with_tag(&self, tag: &str, limit: usize, now: Ts) -> Vec<Recommendation> {
        let mut shelf = Shelf::new(&self.catalog, &self.rules, &[], limit);
        if let Some(t) = self.catalog.tags.get(&normalise_tag(tag)) {
            let name = tag.trim().to_owned();
            self.push_bestsellers(&mut shelf, Group::Tag(t), now, || Reason::PopularWithTag {
                tag: name.clone(),
            });
        }
        self.finish_with_bestsellers(shelf, now)
    }

    /// Trending products, then bestsellers.
    pub fn trending(&self, limit: usize, now: Ts) -> Vec<Recommendation> {
        let mut shelf = Shelf::new(&self.catalog, &self.rules, &[], limit);
        self.push_trending(&mut shelf, now);
        self.finish_with_bestsellers(shelf, now)
    }

    fn finish_with_bestsellers(&self, mut shelf: Shelf, now: Ts) -> Vec<Recommendation> {
        self.push_bestsellers(&mut shelf, Group::Global, now, || Reason::Bestseller);
        shelf.fill_from_catalog();
        shelf.finish()
    }

    /// "Picked for you": consumables that are due again first, then neighbours of what the
    /// shopper bought, carted and viewed (recency-weighted), never what they already bought.
    /// Fallbacks: bestsellers of their favourite types, global bestsellers, catalog. Works for
    /// a known customer, an anonymous client, both, or neither.
    pub fn for_customer(
        &self,
        customer: Option<CustomerId>,
        client_id: Option<&str>,
        limit: usize,
        now: Ts,
    ) -> Vec<Recommendation> {
        let mut shelf = Shelf::new(&self.catalog, &self.rules, &[], limit);
        let profile = customer.and_then(|c| self.customers.profiles.get(&c));
        // [bought, carted, viewed] per product, decayed to `now`.
        let mut sig: FxMap<Idx, [f64; 3]> = FxMap::default();
        let mut last_bought: FxMap<Idx, Ts> = FxMap::default();
        let rate = self.rates.profile;
        for (&i, times) in profile.iter().flat_map(|p| &p.purchases) {
            let times = times.as_slice();
            for &at in times {
                sig.entry(i).or_default()[0] +=
                    BOUGHT_WEIGHT * (-(rate * now.saturating_sub(at).max(0) as f64)).exp();
            }
            if let Some(&last) = times.last() {
                last_bought.insert(i, last);
            }
        }
        // The same event may be in both the customer's and the client's signals: take the max.
        let f = self.clock.decay_to(self.rates.profile, now);
        let mut browse: FxMap<Idx, [f64; 2]> = FxMap::default();
        let client = client_id.and_then(|c| self.browse.clients.get(c));
        for map in profile
            .map(|p| &p.browse)
            .into_iter()
            .chain(client.map(|c| &c.browse))
        {
            for (&i, s) in map {
                let e = browse.entry(i).or_default();
                e[0] = e[0].max(s.cart.max(0.0) * f * CART_WEIGHT);
                e[1] = e[1].max(s.view.max(0.0) * f * VIEW_WEIGHT);
            }
        }
        for (i, b) in browse {
            let e = sig.entry(i).or_default();
            e[1] += b[0];
            e[2] += b[1];
        }
        let mut anchors: Vec<Anchor> = sig
            .iter()
            .filter_map(|(&idx, s)| {
                let weight = s[0] + s[1] + s[2];
                let kind = if s[0] > 0.0 && s[0] >= s[1] && s[0] >= s[2] {
                    AnchorKind::Bought
                } else if s[1] >= s[2] {
                    AnchorKind::Carted
                } else {
                    AnchorKind::Viewed
                };
                (weight > 0.0).then_some(Anchor { idx, weight, kind })
            })
            .collect();
        let cat = &self.catalog;
        anchors.sort_by(|a, b| {
            cmp_ranked(
                rank_key(a.weight),
                cat.id(a.idx),
                rank_key(b.weight),
                cat.id(b.idx),
            )
        });
        anchors.truncate(MAX_ANCHORS);

        // Buy again first, then discovery, which never shows something they bought. Bought
        // products that are not candidates (a sofa, coffee bought yesterday) stay hidden.
        // Measured on grocery data, a discovery item is bought far less often (under 1%) than
        // the buy-again floor (`repeat_purchase_min_chance`), so the floor is the exchange
        // rate between the two: no interleaving, and a shop without repeat buying gets a list
        // of discovery alone.
        if let Some(p) = profile {
            for c in self.buy_again(p, now) {
                let days = u32::try_from(c.elapsed / 86_400).unwrap_or(u32::MAX);
                shelf.push(c.idx, c.chance, || Reason::BuyAgain {
                    last_bought_days_ago: days,
                });
            }
        }
        for &i in last_bought.keys() {
            shelf.block(i);
        }
        self.push_neighbours(
            &mut shelf,
            &anchors,
            &[
                (PairKind::Bought, 1.0),
                (PairKind::Viewed, VIEW_PAIR_WEIGHT),
            ],
            true,
        );
        let mut by_type: FxMap<u32, f64> = FxMap::default();
        for a in &anchors {
            *by_type.entry(cat.meta(a.idx).product_type).or_default() += a.weight;
        }
        let mut types: Vec<(u32, f64)> = by_type.into_iter().filter(|t| t.0 != 0).collect();
        types.sort_by(|a, b| {
            rank_key(b.1)
                .cmp(&rank_key(a.1))
                .then_with(|| cat.types.name(a.0).cmp(cat.types.name(b.0)))
        });
        let favourite: Vec<u32> = types.into_iter().take(2).map(|t| t.0).collect();
        self.push_type_bestsellers(&mut shelf, &favourite, now);
        self.finish_with_bestsellers(shelf, now)
    }

    /// The customer's past products that they are likely to buy again, best first: the chance
    /// that their next order contains the product, estimated from how many of their orders
    /// since they first bought it contain it again (recency-weighted with the profile
    /// half-life) with the product's repeat prior (`Customers::repeat_prior`) as one
    /// pseudo-order, times a "due" factor (`DUE_HALF`; the usual interval is their own mean,
    /// else the shop's median). A staple bought in most orders comes first, a product bought
    /// once and ignored in many orders since fades. Products below
    /// `repeat_purchase_min_chance` are left out.
    fn buy_again(&self, p: &Profile, now: Ts) -> Vec<Again> {
        let rate = self.rates.profile;
        let w = |at: Ts| (-(rate * now.saturating_sub(at).max(0) as f64)).exp();
        let mut times: Vec<Ts> = p
            .orders
            .iter()
            .filter_map(|id| self.orders.map.get(id).map(|o| o.at))
            .collect();
        times.sort_unstable();
        // after[j]: weight of the orders from the j-th on.
        let mut after = vec![0.0; times.len() + 1];
        for j in (0..times.len()).rev() {
            after[j] = after[j + 1] + w(times[j]);
        }
        let (min_share, min_buyers) = (
            self.cfg.repeat_purchase_min_share,
            self.cfg.repeat_purchase_min_buyers,
        );
        let cat = &self.catalog;
        let mut out: Vec<Again> = Vec::new();
        for (&i, t) in &p.purchases {
            let t = t.as_slice();
            let (Some(&first), Some(&last)) = (t.first(), t.last()) else {
                continue;
            };
            if !cat.is_recommendable(i) {
                continue;
            }
            let prior = self.customers.repeat_prior(i, min_share, min_buyers);
            if t.len() < 2 && prior <= 0.0 {
                continue;
            }
            let since = after[times.partition_point(|&x| x <= first)];
            let again: f64 = t[1..].iter().map(|&x| w(x)).sum();
            let chance = (again + prior) / (since + 1.0);
            // The due factor is at most 1, so a product short of the floor on its chance is
            // out whatever its interval: skip the interval lookup (a histogram walk).
            if chance.is_nan() || chance < self.cfg.repeat_purchase_min_chance {
                continue;
            }
            let usual = if t.len() >= 2 {
                Some((last - first) / (t.len() as i64 - 1))
            } else {
                self.customers.median_interval_secs(i)
            };
            let elapsed = now.saturating_sub(last).max(0);
            let due = usual.map_or(1.0, |u| {
                let r = elapsed as f64 / u.max(3600) as f64;
                r * r / (DUE_HALF * DUE_HALF + r * r)
            });
            let score = chance * due;
            if score >= self.cfg.repeat_purchase_min_chance {
                out.push(Again {
                    idx: i,
                    chance: score,
                    elapsed,
                });
            }
        }
        out.sort_by(|a, b| {
            cmp_ranked(
                rank_key(a.chance),
                cat.id(a.idx),
                rank_key(b.chance),
                cat.id(b.idx),
            )
        });
        out
    }
}

/// A buy-again candidate.
#[derive(Clone, Copy)]
struct Again {
    idx: Idx,
    /// Estimated chance that the next order contains it, times the due factor.
    chance: f64,
    /// Seconds since the customer last bought it.
    elapsed: i64,
}
