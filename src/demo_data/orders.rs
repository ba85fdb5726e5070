//! Who buys what, when: customers with lifecycles and personas, their baskets (complements,
//! bundles, staples re-bought on a rhythm, durables bought once), guest orders and abandoned
//! checkouts. Everything here works on catalogue indices; `mod.rs` turns it into JSON.

use std::collections::HashSet;

use chrono::{DateTime, Datelike};
use rand::rngs::StdRng;
use rand::Rng;

use super::catalogue::{Product, CANDLES, COFFEE, GEAR, SKINCARE, TEA, TYPES};
use super::{shop_offset, DAY, WINDOW_DAYS};

/// Weighted choice; `None` when every weight is zero.
pub(super) fn pick(rng: &mut StdRng, weights: &[f64]) -> Option<usize> {
    let total: f64 = weights.iter().sum();
    if total <= 0.0 {
        return None;
    }
    let mut x = rng.gen_range(0.0..total);
    for (i, &w) in weights.iter().enumerate() {
        if x < w {
            return Some(i);
        }
        x -= w;
    }
    weights.iter().rposition(|&w| w > 0.0)
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Persona {
    Coffee,
    Tea,
    Skincare,
    Home,
    Mixed,
}

impl Persona {
    fn random(rng: &mut StdRng) -> Self {
        let all = [
            Self::Coffee,
            Self::Tea,
            Self::Skincare,
            Self::Home,
            Self::Mixed,
        ];
        all[pick(rng, &[30.0, 18.0, 18.0, 10.0, 24.0]).unwrap_or(4)]
    }

    /// Weights of the first item's type, in `TYPES` order.
    fn type_weights(self) -> [f64; 10] {
        match self {
            Self::Coffee => [8.0, 0.5, 1.5, 1.0, 0.7, 0.2, 0.2, 0.3, 1.0, 0.2],
            Self::Tea => [0.5, 8.0, 0.5, 1.0, 1.5, 0.4, 0.4, 0.4, 0.0, 0.3],
            Self::Skincare => [0.3, 0.5, 0.0, 0.2, 0.3, 8.0, 2.0, 0.3, 0.0, 0.6],
            Self::Home => [0.5, 0.8, 0.3, 1.5, 0.5, 1.0, 5.0, 2.0, 0.0, 1.0],
            Self::Mixed => [4.0, 3.0, 1.5, 2.0, 2.0, 3.0, 2.5, 1.0, 1.0, 1.0],
        }
    }

    /// The consumable type this shopper keeps coming back for.
    fn main(self) -> Option<usize> {
        match self {
            Self::Coffee => Some(COFFEE),
            Self::Tea => Some(TEA),
            Self::Skincare => Some(SKINCARE),
            Self::Home | Self::Mixed => None,
        }
    }

    /// Days between a regular's orders (a bag of coffee lasts three to four weeks).
    fn rhythm(self) -> (f64, f64) {
        match self {
            Self::Coffee => (21.0, 28.0),
            Self::Tea => (25.0, 35.0),
            Self::Skincare => (30.0, 45.0),
            Self::Home => (20.0, 50.0),
            Self::Mixed => (18.0, 40.0),
        }
    }
}

/// A shopper's memory: the consumable they stick to per type, the durables they own.
pub(super) struct Shopper {
    pub persona: Persona,
    staples: [Option<usize>; 10],
    owned: HashSet<usize>,
}

impl Shopper {
    fn new(persona: Persona) -> Self {
        Self {
            persona,
            staples: [None; 10],
            owned: HashSet::new(),
        }
    }

    fn remember(&mut self, products: &[Product], p: usize) {
        let ty = products[p].ty;
        if TYPES[ty].consumable {
            self.staples[ty].get_or_insert(p);
        } else {
            self.owned.insert(p);
        }
    }
}

pub(super) struct Line {
    pub product: usize,
    pub variant: usize,
    pub qty: i64,
}

pub(super) struct Draft {
    pub customer: Option<usize>,
    pub at: i64,
    pub lines: Vec<Line>,
    /// Demo customers' orders are never cancelled or refunded.
    pub demo: bool,
}

pub(super) struct Customer {
    pub id: i64,
    pub created: i64,
    pub updated: i64,
    pub subscribed: bool,
    pub state: &'static str,
    pub vip: bool,
    pub lapsed: bool,
    pub orders: usize,
    pub shopper: Shopper,
}

pub(super) struct Shop<'a> {
    pub products: &'a [Product],
    by_type: Vec<Vec<usize>>,
    trending: Vec<usize>,
    now: i64,
    start: i64,
    /// Cumulative day weights (growth and weekday seasonality); `cdf[d]` is before day `d`.
    cdf: Vec<f64>,
}

const HOURS: [f64; 24] = [
    1.0, 0.5, 0.3, 0.2, 0.2, 0.3, 0.8, 1.5, 2.0, 2.3, 2.5, 2.6, 2.8, 2.6, 2.5, 2.5, 2.6, 2.8, 3.2,
    3.6, 3.8, 3.4, 2.6, 1.6,
];

fn weekday(t: i64) -> usize {
    let local = DateTime::from_timestamp(t, 0)
        .unwrap_or_default()
        .with_timezone(&shop_offset());
    local.weekday().num_days_from_monday() as usize
}

impl<'a> Shop<'a> {
    pub fn new(rng: &mut StdRng, products: &'a [Product], now: i64) -> Self {
        let mut by_type = vec![Vec::new(); TYPES.len()];
        for (i, p) in products.iter().enumerate() {
            by_type[p.ty].push(i);
        }
        // Local midnight on or before the window's start.
        let off = i64::from(shop_offset().local_minus_utc());
        let start = (now - WINDOW_DAYS * DAY + off).div_euclid(DAY) * DAY - off;
        let mut cdf = vec![0.0];
        for d in 0..=WINDOW_DAYS {
            let growth = 0.3 + 1.4 * d as f64 / WINDOW_DAYS as f64;
            let week = [0.9, 0.95, 1.0, 1.0, 1.1, 1.45, 1.35][weekday(start + d * DAY + DAY / 2)];
            let last = cdf.last().copied().unwrap_or(0.0);
            cdf.push(last + growth * week * rng.gen_range(0.85..1.15));
        }
        let trending = (0..products.len())
            .filter(|&i| products[i].trending)
            .collect();
        Self {
            products,
            by_type,
            trending,
            now,
            start,
            cdf,
        }
    }

    /// A time on a day in `[lo, hi)` days after the window's start, drawn by the shop's
    /// traffic (busier weekends, growth), at a believable hour.
    /// A believable time of day (local) on the day of `t`.
    fn at_hour(&self, rng: &mut StdRng, t: i64) -> i64 {
        let day = (t - self.start).div_euclid(DAY);
        let hour = pick(rng, &HOURS).unwrap_or(12) as i64;
        self.start + day * DAY + hour * 3600 + rng.gen_range(0..3600)
    }

    fn sample_time(&self, rng: &mut StdRng, lo: i64, hi: i64) -> i64 {
        let (lo, hi) = (
            lo.clamp(0, WINDOW_DAYS) as usize,
            hi.clamp(1, WINDOW_DAYS + 1) as usize,
        );
        let (a, b) = (self.cdf[lo], self.cdf[hi.max(lo + 1)]);
        let (min, max) = (self.now - WINDOW_DAYS * DAY + 60, self.now - 60);
        let mut t = max;
        // Days at the window's edges are partial: draw again when outside.
        for _ in 0..20 {
            let x = rng.gen_range(a..b);
            let day = (self.cdf.partition_point(|&c| c <= x) - 1) as i64;
            t = self.at_hour(rng, self.start + day * DAY);
            if (min..=max).contains(&t) {
                break;
            }
        }
        t.clamp(min, max)
    }

    /// One product of type `ty` that sells at `t`: the shopper's staple most of the time for a
    /// consumable, never a durable they own, else by popularity.
    fn pick_in_type(&self, rng: &mut StdRng, ty: usize, t: i64, s: &mut Shopper) -> Option<usize> {
        if let Some(p) = s.staples[ty] {
            if self.products[p].weight(t, self.now) > 0.0 && rng.gen_bool(0.85) {
                return Some(p);
            }
        }
        let list = &self.by_type[ty];
        let weights: Vec<f64> = list
            .iter()
            .map(|&i| {
                if s.owned.contains(&i) {
                    0.0
                } else {
                    self.products[i].weight(t, self.now)
                }
            })
            .collect();
        Some(list[pick(rng, &weights)?])
    }

    fn add(
        &self,
        rng: &mut StdRng,
        items: &mut Vec<usize>,
        p: usize,
        t: i64,
        s: &mut Shopper,
        bundles: bool,
    ) {
        if items.contains(&p) || items.len() >= 5 {
            return;
        }
        items.push(p);
        s.remember(self.products, p);
        if let Some(b) = self.products[p].partner.filter(|_| bundles) {
            if !s.owned.contains(&b)
                && self.products[b].weight(t, self.now) > 0.0
                && rng.gen_bool(0.5)
            {
                self.add(rng, items, b, t, s, false);
            }
        }
    }

    /// A basket at `t`: the forced products or one of the persona's types, bundle partners,
    /// then complements of what is in it (sometimes anything the persona likes).
    pub fn basket(
        &self,
        rng: &mut StdRng,
        t: i64,
        s: &mut Shopper,
        forced: &[usize],
        max: usize,
    ) -> Vec<Line> {
        let n = (pick(rng, &[36.0, 30.0, 19.0, 10.0, 5.0]).unwrap_or(0) + 1).min(max);
        let mut items = Vec::new();
        for &p in forced {
            self.add(rng, &mut items, p, t, s, max > 1);
        }
        // A returning shopper mostly comes back for their staple.
        if let Some(p) = s
            .persona
            .main()
            .and_then(|ty| s.staples[ty])
            .filter(|_| forced.is_empty())
        {
            if self.products[p].weight(t, self.now) > 0.0 && rng.gen_bool(0.85) {
                self.add(rng, &mut items, p, t, s, max > 1);
            }
        }
        if items.is_empty() {
            let ty = pick(rng, &s.persona.type_weights()).unwrap_or(COFFEE);
            if let Some(p) = self.pick_in_type(rng, ty, t, s) {
                self.add(rng, &mut items, p, t, s, max > 1);
            }
        }
        // Newcomers everyone talks about: picked up on the side, more so each day.
        let x = (t - (self.now - 14 * DAY)) as f64 / (14 * DAY) as f64;
        if !items.is_empty()
            && items.len() < max
            && x > 0.0
            && rng.gen_bool((0.12 * x * x).min(1.0))
        {
            let p = self.trending[rng.gen_range(0..self.trending.len())];
            self.add(rng, &mut items, p, t, s, true);
        }
        let mut tries = 0;
        while !items.is_empty() && items.len() < n && tries < 12 {
            tries += 1;
            let ty = if rng.gen_bool(0.75) {
                let from =
                    TYPES[self.products[items[rng.gen_range(0..items.len())]].ty].complements;
                let w: Vec<f64> = from.iter().map(|c| c.1).collect();
                pick(rng, &w).map_or(COFFEE, |i| from[i].0)
            } else {
                pick(rng, &s.persona.type_weights()).unwrap_or(COFFEE)
            };
            if let Some(p) = self.pick_in_type(rng, ty, t, s) {
                self.add(rng, &mut items, p, t, s, true);
            }
        }
        items
            .into_iter()
            .map(|product| {
                let p = &self.products[product];
                let variant = usize::from(p.variants.len() > 1 && rng.gen_bool(0.25));
                let qty = match (TYPES[p.ty].consumable, rng.gen_range(0..100)) {
                    (true, 0..=4) => 3,
                    (true, 5..=24) | (false, 0..=6) => 2,
                    _ => 1,
                };
                Line {
                    product,
                    variant,
                    qty,
                }
            })
            .collect()
    }

    fn nth(&self, ty: usize, rank: usize) -> usize {
        self.by_type[ty]
            .iter()
            .copied()
            .find(|&i| self.products[i].rank == rank)
            .unwrap_or(0)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Life {
    Browser,
    OneTime,
    Occasional,
    Regular,
    Vip,
    Lapsed,
}

/// Order times of one customer, ascending, and whether they signed up before the window.
/// Regulars keep their rhythm until now (some were customers before the window), lapsed
/// customers stop more than 90 days ago.
fn schedule(rng: &mut StdRng, shop: &Shop, life: Life, persona: Persona) -> (Vec<i64>, bool) {
    let (w, now) = (WINDOW_DAYS, shop.now);
    let start = now - w * DAY;
    let (first, count, gap, limit, existing) = match life {
        Life::Browser => return (Vec::new(), rng.gen_bool(0.3)),
        Life::OneTime => (shop.sample_time(rng, 0, w), 1, (0.0, 0.0), now, false),
        Life::Occasional => (
            shop.sample_time(rng, 0, w - 14),
            rng.gen_range(2..=3),
            (14.0, 60.0),
            now,
            false,
        ),
        Life::Regular | Life::Vip => {
            let (lo, hi) = if life == Life::Vip {
                (6.0, 11.0)
            } else {
                persona.rhythm()
            };
            let existing = life == Life::Vip || rng.gen_bool(0.5);
            let first = if existing {
                let day = start + (rng.gen_range(0.0..hi) * DAY as f64) as i64;
                shop.at_hour(rng, day)
            } else {
                shop.sample_time(rng, 0, w - 2 * hi as i64)
            };
            (
                first,
                if existing { 30 } else { 10 },
                (lo, hi),
                now,
                existing,
            )
        }
        Life::Lapsed => (
            shop.sample_time(rng, 0, 40),
            rng.gen_range(2..=6),
            (10.0, 25.0),
            now - 92 * DAY,
            true,
        ),
    };
    let mut times = vec![first.max(start + 60)];
    let mut t = first;
    while times.len() < count {
        t += (rng.gen_range(gap.0..=gap.1) * DAY as f64) as i64;
        // Some weekday re-orders slip to the weekend.
        let wd = weekday(t) as i64;
        let day = if wd < 4 && rng.gen_bool(0.25) {
            t + (rng.gen_range(5..7) - wd) * DAY
        } else {
            t
        };
        let at = shop.at_hour(rng, day);
        if at > limit - 60 {
            break;
        }
        times.push(at);
    }
    (times, existing)
}

pub(super) struct Histories {
    pub customers: Vec<Customer>,
    pub orders: Vec<Draft>,
    /// Customer index and label of the hand-picked demo customers.
    pub demo: Vec<(usize, String)>,
}

pub(super) const CUSTOMERS: usize = 1_500;

pub(super) fn build(rng: &mut StdRng, shop: &Shop) -> Histories {
    let mut plans: Vec<(Persona, Life, (Vec<i64>, bool))> = Vec::new();
    let lives = [
        Life::Browser,
        Life::OneTime,
        Life::Occasional,
        Life::Regular,
        Life::Vip,
        Life::Lapsed,
    ];
    for _ in 0..CUSTOMERS - 6 {
        let persona = Persona::random(rng);
        // Coffee, tea and skincare people come back more often than gift shoppers.
        let mix = match persona {
            Persona::Home | Persona::Mixed => [7.0, 48.0, 24.0, 8.0, 2.0, 11.0],
            _ => [5.0, 34.0, 24.0, 20.0, 4.0, 13.0],
        };
        let life = lives[pick(rng, &mix).unwrap_or(1)];
        plans.push((persona, life, schedule(rng, shop, life, persona)));
    }
    let (now, products) = (shop.now, shop.products);
    let ago = |days: &[i64]| {
        days.iter()
            .map(|d| now - d * DAY - 3 * 3600)
            .collect::<Vec<_>>()
    };
    let title = |p: usize| products[p].title.clone();
    let coffee = shop.nth(COFFEE, 0);
    let serum = shop.nth(SKINCARE, 0);
    let tea = shop.nth(TEA, 0);
    let gear = shop.nth(GEAR, 0);
    let candle = shop.nth(CANDLES, 3);
    let vip: Vec<i64> = (0..21).map(|k| 4 + k * 8 + k % 3).collect();
    let demo = [
        (
            Persona::Coffee,
            ago(&[171, 147, 122, 98, 73, 49, 24]),
            vec![coffee],
            2,
            format!(
                "Coffee regular: {} every ~3-4 weeks (7 orders)",
                title(coffee)
            ),
        ),
        (
            Persona::Skincare,
            ago(&[160, 125, 95, 63, 30]),
            vec![serum],
            2,
            format!("Skincare fan: {} about monthly (5 orders)", title(serum)),
        ),
        (
            Persona::Tea,
            ago(&[150, 121, 90, 61, 33, 4]),
            vec![tea],
            3,
            format!(
                "Tea and snacks lover: {} (6 orders, last 4 days ago)",
                title(tea)
            ),
        ),
        (
            Persona::Mixed,
            ago(&[2]),
            vec![gear],
            1,
            format!("New customer: one order 2 days ago ({})", title(gear)),
        ),
        (
            Persona::Home,
            ago(&[176, 152, 131, 108]),
            vec![candle],
            2,
            "Lapsed: candles and books, last order ~3.5 months ago (4 orders)".to_owned(),
        ),
        (
            Persona::Mixed,
            ago(&vip),
            vec![],
            4,
            "VIP: 21 orders, a bit of everything".to_owned(),
        ),
    ];
    let mut customers = Vec::new();
    let mut orders = Vec::new();
    let mut labels = Vec::new();
    let all = plans
        .into_iter()
        .map(|(p, l, t)| (p, l, t, vec![], 5, None));
    let demo = demo.into_iter().map(|(p, t, f, m, label)| {
        let mut t = t;
        t.sort_unstable();
        let existing = t.len() > 1;
        (p, Life::Regular, (t, existing), f, m, Some(label))
    });
    for (persona, life, (times, existing), forced, max, label) in all.chain(demo) {
        let mut shopper = Shopper::new(persona);
        let index = customers.len();
        for (k, &at) in times.iter().enumerate() {
            // The lapsed demo customer starts with the candle, then browses their persona.
            let forced: &[usize] = if k > 0 && forced.contains(&candle) {
                &[]
            } else {
                &forced
            };
            let lines = shop.basket(rng, at, &mut shopper, forced, max);
            orders.push(Draft {
                customer: Some(index),
                at,
                lines,
                demo: label.is_some(),
            });
        }
        let first = times
            .first()
            .copied()
            .unwrap_or_else(|| shop.sample_time(rng, 0, WINDOW_DAYS));
        let created = if existing {
            now - WINDOW_DAYS * DAY - rng.gen_range(DAY..300 * DAY)
        } else {
            first
                - rng
                    .gen_range(0..2 * DAY)
                    .min(first - (now - WINDOW_DAYS * DAY))
        };
        let known = label.is_some();
        customers.push(Customer {
            id: 0,
            created,
            updated: times.last().copied().unwrap_or(created) + 120,
            subscribed: known || rng.gen_bool(0.55),
            state: if known || rng.gen_bool(0.62) {
                "enabled"
            } else if rng.gen_bool(0.9) {
                "disabled"
            } else {
                "invited"
            },
            vip: life == Life::Vip || label.as_deref().is_some_and(|l| l.starts_with("VIP")),
            lapsed: life == Life::Lapsed,
            orders: times.len(),
            shopper,
        });
        if let Some(label) = label {
            labels.push((index, label));
        }
    }
    let customer_orders = orders.len() as f64;
    let guests = (customer_orders * rng.gen_range(0.31..0.35)).round() as usize;
    for _ in 0..guests {
        let at = shop.sample_time(rng, 0, WINDOW_DAYS);
        let mut shopper = Shopper::new(Persona::random(rng));
        let lines = shop.basket(rng, at, &mut shopper, &[], 5);
        orders.push(Draft {
            customer: None,
            at,
            lines,
            demo: false,
        });
    }
    orders.retain(|o| !o.lines.is_empty());
    // Shopify ids grow with time: number customers by sign-up.
    let mut by_created: Vec<usize> = (0..customers.len()).collect();
    by_created.sort_by_key(|&i| (customers[i].created, i));
    for (n, &i) in by_created.iter().enumerate() {
        customers[i].id = 7_000_000_001 + n as i64;
    }
    Histories {
        customers,
        orders,
        demo: labels,
    }
}

/// About 60 abandoned checkouts of known (non-demo) customers in the last three days.
pub(super) fn abandoned(
    rng: &mut StdRng,
    shop: &Shop,
    h: &mut Histories,
) -> Vec<(usize, i64, Vec<Line>)> {
    let demo: HashSet<usize> = h.demo.iter().map(|d| d.0).collect();
    let active: Vec<usize> = (0..h.customers.len())
        .filter(|i| !demo.contains(i) && !h.customers[*i].lapsed && h.customers[*i].orders > 0)
        .collect();
    let mut out = Vec::new();
    while out.len() < 60 && !active.is_empty() {
        let c = active[rng.gen_range(0..active.len())];
        let at = shop.now - rng.gen_range(3600..72 * 3600);
        let lines = shop.basket(rng, at, &mut h.customers[c].shopper, &[], 3);
        if !lines.is_empty() {
            out.push((c, at, lines));
        }
    }
    out.sort_by_key(|x| x.1);
    out
}
