//! The demo shop's catalogue: product types, names, prices, stock, status, and how well
//! each product sells at a given time (popularity rank, launches, trends).

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::Rng;
use serde_json::{json, Value};

use super::{gid, iso, money, placeholder_image, DAY, WINDOW_DAYS};

pub(super) const COFFEE: usize = 0;
pub(super) const TEA: usize = 1;
pub(super) const GEAR: usize = 2;
pub(super) const MUGS: usize = 3;
pub(super) const SNACKS: usize = 4;
pub(super) const SKINCARE: usize = 5;
pub(super) const CANDLES: usize = 6;
pub(super) const BOOKS: usize = 7;
pub(super) const SYRUPS: usize = 8;
pub(super) const GIFTS: usize = 9;

pub(super) struct TypeSpec {
    pub name: &'static str,
    sku: &'static str,
    count: usize,
    adjectives: &'static [&'static str],
    nouns: &'static [&'static str],
    vendors: &'static [&'static str],
    tags: &'static [&'static str],
    /// Base price range in whole dollars.
    price: (i64, i64),
    /// Variant titles with their price in percent of the first one.
    variants: &'static [(&'static str, i64)],
    /// Re-bought on a rhythm (and kept as a customer's staple) rather than bought once.
    pub consumable: bool,
    /// Types bought together with this one, weighted.
    pub complements: &'static [(usize, f64)],
}

const ONE: &[(&str, i64)] = &[("Default Title", 100)];

#[rustfmt::skip]
pub(super) const TYPES: [TypeSpec; 10] = [
    TypeSpec { name: "Coffee", sku: "COF", count: 48, price: (14, 22), consumable: true,
        adjectives: &["Morning", "Midnight", "Velvet", "Bright", "Smoky", "Honey", "Sunrise", "Harbor", "Mountain", "Copper"],
        nouns: &["Espresso Blend", "House Roast", "Single Origin", "Decaf", "Cold Brew Blend", "French Roast"],
        vendors: &["Harbor Roasters", "Copper Kettle Coffee"], tags: &["whole bean", "organic", "fair trade", "dark roast", "light roast"],
        variants: &[("250 g", 100), ("1 kg", 320)],
        complements: &[(MUGS, 3.0), (GEAR, 3.0), (SYRUPS, 2.0), (SNACKS, 2.0), (BOOKS, 1.0)] },
    TypeSpec { name: "Tea", sku: "TEA", count: 44, price: (8, 18), consumable: true,
        adjectives: &["Golden", "Misty", "Imperial", "Garden", "Evening", "Spring", "Wild", "Silver", "Ruby", "Highland"],
        nouns: &["Green Tea", "Oolong", "Black Tea", "Chai", "Herbal Infusion", "White Tea", "Rooibos", "Matcha"],
        vendors: &["Leaf & Ladle", "Misty Peak Tea Co."], tags: &["loose leaf", "organic", "caffeine free", "vegan"],
        variants: &[("50 g", 100), ("100 g", 180)],
        complements: &[(SNACKS, 3.0), (MUGS, 3.0), (GEAR, 1.0), (BOOKS, 1.0), (CANDLES, 1.0)] },
    TypeSpec { name: "Brewing Gear", sku: "GEA", count: 32, price: (25, 120), consumable: false,
        adjectives: &["Classic", "Copper", "Glass", "Steel", "Ceramic", "Pro", "Compact", "Nordic"],
        nouns: &["Pour-Over Dripper", "French Press", "Burr Grinder", "Gooseneck Kettle", "Milk Frother", "Coffee Scale", "Tea Infuser", "Cold Brew Maker"],
        vendors: &["Brewline", "Northfield Tools"], tags: &["barista", "gift idea", "dishwasher safe"],
        variants: ONE, complements: &[(COFFEE, 4.0), (TEA, 1.0), (BOOKS, 1.0)] },
    TypeSpec { name: "Mugs", sku: "MUG", count: 40, price: (14, 32), consumable: false,
        adjectives: &["Speckled", "Matte Black", "Sage", "Terracotta", "Ocean", "Cream", "Charcoal", "Blush", "Cobalt", "Sand"],
        nouns: &["Mug", "Travel Mug", "Espresso Cup", "Latte Bowl", "Tumbler", "Teacup"],
        vendors: &["Kiln Studio", "Clay & Co."], tags: &["handmade", "stoneware", "dishwasher safe", "gift idea"],
        variants: ONE, complements: &[(COFFEE, 3.0), (TEA, 3.0)] },
    TypeSpec { name: "Snacks", sku: "SNK", count: 36, price: (4, 12), consumable: true,
        adjectives: &["Sea Salt", "Dark Chocolate", "Almond", "Ginger", "Lemon", "Maple", "Cinnamon", "Hazelnut", "Honey", "Cranberry"],
        nouns: &["Biscotti", "Shortbread", "Granola", "Cookies", "Trail Mix", "Brittle", "Truffles"],
        vendors: &["Crumb Bakery", "Good Grain"], tags: &["vegan", "gluten free", "small batch"],
        variants: ONE, complements: &[(TEA, 3.0), (COFFEE, 3.0), (SNACKS, 2.0)] },
    TypeSpec { name: "Skincare", sku: "SKN", count: 44, price: (16, 55), consumable: true,
        adjectives: &["Hydrating", "Calming", "Radiance", "Rose", "Aloe", "Oat", "Vitamin C", "Green Tea", "Lavender", "Charcoal"],
        nouns: &["Face Serum", "Night Cream", "Cleanser", "Toner", "Face Mask", "Lip Balm", "Hand Cream", "Eye Cream"],
        vendors: &["Oat & Honey", "Botanica Lab"], tags: &["vegan", "cruelty free", "sensitive skin", "fragrance free"],
        variants: ONE, complements: &[(CANDLES, 3.0), (SKINCARE, 3.0), (GIFTS, 1.0)] },
    TypeSpec { name: "Candles", sku: "CDL", count: 36, price: (16, 45), consumable: false,
        adjectives: &["Cedar", "Fig", "Vanilla", "Sandalwood", "Amber", "Eucalyptus", "Bergamot", "Tobacco Leaf", "Sea Breeze", "Wild Lavender"],
        nouns: &["Candle", "Travel Candle", "Three-Wick Candle", "Reed Diffuser", "Wax Melts"],
        vendors: &["Wick & Wander", "Ember House"], tags: &["soy wax", "hand poured", "gift idea"],
        variants: ONE, complements: &[(SKINCARE, 3.0), (CANDLES, 2.0), (BOOKS, 1.0), (GIFTS, 1.0)] },
    TypeSpec { name: "Books", sku: "BOK", count: 24, price: (12, 35), consumable: false,
        adjectives: &["The Art of", "A Field Guide to", "The Little Book of", "Mastering", "The Joy of", "Notes on", "Everyday", "The Science of"],
        nouns: &["Coffee", "Tea", "Slow Mornings", "Baking", "Mindful Living", "Home Fragrance", "Self-Care", "Espresso", "Hosting"],
        vendors: &["Slow Press", "Morning Pages Publishing"], tags: &["hardcover", "gift idea"],
        variants: ONE, complements: &[(COFFEE, 1.0), (TEA, 1.0), (CANDLES, 1.0), (MUGS, 1.0)] },
    TypeSpec { name: "Syrups", sku: "SYR", count: 18, price: (8, 14), consumable: true,
        adjectives: &["Vanilla", "Caramel", "Hazelnut", "Lavender", "Maple", "Pumpkin Spice", "Toffee", "Coconut"],
        nouns: &["Syrup", "Sugar-Free Syrup", "Sauce"],
        vendors: &["Drizzle Co."], tags: &["barista", "vegan"],
        variants: ONE, complements: &[(COFFEE, 4.0), (MUGS, 1.0)] },
    TypeSpec { name: "Gift Sets", sku: "GFT", count: 16, price: (35, 80), consumable: false,
        adjectives: &["Morning Ritual", "Cozy Night", "Spa Day", "Tea Lover's", "Barista", "Self-Care", "Weekend", "Hostess"],
        nouns: &["Gift Box", "Sampler", "Hamper", "Bundle"],
        vendors: &["Fern & Kettle"], tags: &["gift idea", "gift wrapped"],
        variants: ONE, complements: &[(CANDLES, 1.0), (SNACKS, 1.0), (SKINCARE, 1.0)] },
];

/// Explicit bundles (type, popularity rank) ↔ (type, rank): the second is added to a basket
/// holding the first (and the other way round) more often than not.
pub(super) const BUNDLES: [((usize, usize), (usize, usize)); 8] = [
    ((COFFEE, 1), (MUGS, 2)),
    ((COFFEE, 4), (SYRUPS, 0)),
    ((TEA, 0), (SNACKS, 1)),
    ((TEA, 3), (MUGS, 5)),
    ((SKINCARE, 0), (CANDLES, 1)),
    ((SKINCARE, 2), (SKINCARE, 5)),
    ((GEAR, 0), (BOOKS, 0)),
    ((CANDLES, 3), (GIFTS, 0)),
];

/// Words the titles at some ranks contain, so that bundles read well.
const TITLE_HINTS: [(usize, usize, &str); 6] = [
    (GEAR, 0, "Pour-Over"),
    (BOOKS, 0, "Coffee"),
    (MUGS, 2, "Mug"),
    (MUGS, 5, "Teacup"),
    (GIFTS, 0, "Cozy Night"),
    (SKINCARE, 5, "Cream"),
];

/// Products that are new and whose sales ramp up in the last two weeks (type, rank).
pub(super) const TRENDING: [(usize, usize); 4] =
    [(COFFEE, 14), (SNACKS, 9), (CANDLES, 12), (SKINCARE, 16)];

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Status {
    Active,
    Unpublished,
    Draft,
    Archived,
}

pub(super) struct Variant {
    pub id: i64,
    pub title: &'static str,
    pub cents: i64,
    pub sku: String,
}

pub(super) struct Product {
    pub id: i64,
    pub ty: usize,
    pub rank: usize,
    pub title: String,
    pub vendor: &'static str,
    pub variants: Vec<Variant>,
    pub partner: Option<usize>,
    pub trending: bool,
    pub status: Status,
    tags: String,
    compare_at_pct: Option<i64>,
    stock: Vec<i64>,
    /// First and last time it sells.
    launched: i64,
    until: i64,
}

impl Product {
    /// Relative chance of being picked within its type at `t` (0 when not for sale).
    pub fn weight(&self, t: i64, now: i64) -> f64 {
        if t < self.launched || t > self.until || self.status == Status::Draft {
            return 0.0;
        }
        if !self.trending {
            return 1.0 / ((self.rank + 1) as f64).powf(0.9);
        }
        // A newcomer that sells modestly, then takes off over the last two weeks.
        let x = ((t - (now - 14 * DAY)) as f64 / (14 * DAY) as f64).max(0.0);
        0.06 * (1.0 + 100.0 * x * x)
    }

    pub fn to_json(&self, now: i64) -> Value {
        let published = self.status == Status::Active;
        let created = self.launched - 3 * DAY;
        let updated = match self.status {
            Status::Active if self.stock.iter().all(|&s| s == 0) => now - 2 * DAY,
            Status::Active | Status::Draft => self.launched + DAY,
            Status::Unpublished | Status::Archived => self.until + 3600,
        };
        let type_name = TYPES[self.ty].name;
        let image = placeholder_image(&self.title, type_name);
        let variants: Vec<Value> = self.variants.iter().zip(&self.stock).enumerate().map(|(i, (v, stock))| {
            json!({
                "id": v.id, "admin_graphql_api_id": gid("ProductVariant", v.id), "product_id": self.id,
                "title": v.title, "option1": v.title, "price": money(v.cents),
                "compare_at_price": self.compare_at_pct.map(|p| money((v.cents * p / 100 + 99) / 100 * 100)),
                "sku": v.sku, "position": i + 1, "inventory_policy": "deny",
                "inventory_management": "shopify", "inventory_quantity": stock,
                "taxable": true, "requires_shipping": true,
            })
        }).collect();
        json!({
            "id": self.id, "admin_graphql_api_id": gid("Product", self.id), "title": self.title,
            "handle": handle(&self.title), "product_type": type_name, "vendor": self.vendor,
            "tags": self.tags,
            "status": match self.status { Status::Draft => "draft", Status::Archived => "archived", _ => "active" },
            "published_scope": "web", "created_at": iso(created),
            "published_at": published.then(|| iso(self.launched)), "updated_at": iso(updated.min(now)),
            "image": {"src": image, "alt": self.title}, "images": [{"src": image, "alt": self.title, "position": 1}],
            "options": [{"name": if self.variants.len() > 1 { "Size" } else { "Title" }, "position": 1,
                         "values": self.variants.iter().map(|v| v.title).collect::<Vec<_>>()}],
            "variants": variants,
        })
    }
}

pub(super) fn handle(title: &str) -> String {
    let mut out = String::new();
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() && c != '\'' {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_owned()
}

/// The catalogue, ids in launch order; indices into it are stable for the orders module.
pub(super) fn build(rng: &mut StdRng, now: i64) -> Vec<Product> {
    let window_start = now - WINDOW_DAYS * DAY;
    let mut products = Vec::new();
    for (ty, spec) in TYPES.iter().enumerate() {
        let mut names: Vec<String> = spec
            .adjectives
            .iter()
            .flat_map(|a| spec.nouns.iter().map(move |n| format!("{a} {n}")))
            .collect();
        names.shuffle(rng);
        // Bundle partners that make sense together (a coffee book with the dripper).
        for &(t, rank, word) in &TITLE_HINTS {
            if let Some(i) = names[rank..]
                .iter()
                .position(|n| n.contains(word))
                .filter(|_| t == ty)
            {
                names.swap(rank, rank + i);
            }
        }
        for (rank, title) in names.into_iter().take(spec.count).enumerate() {
            let base = rng.gen_range(spec.price.0..=spec.price.1) * 100
                + [0, 0, 50, 95][rng.gen_range(0..4)];
            let variants = spec
                .variants
                .iter()
                .enumerate()
                .map(|(i, &(vt, pct))| Variant {
                    id: 0,
                    title: vt,
                    cents: if i == 0 {
                        base
                    } else {
                        (base * pct / 100) / 100 * 100 + base % 100
                    },
                    sku: format!("{}-{:03}-{}", spec.sku, rank + 1, i + 1),
                })
                .collect::<Vec<_>>();
            let mut tags = vec![spec.name.to_lowercase()];
            tags.extend(
                spec.tags
                    .iter()
                    .filter(|_| rng.gen_bool(0.3))
                    .map(|t| t.to_string()),
            );
            let on_sale = rank >= 3 && rng.gen_bool(0.12);
            if on_sale {
                tags.push("sale".into());
            }
            // Bestsellers, bundles and trending products are always plain active products.
            let trending = TRENDING.contains(&(ty, rank));
            let roll: f64 = if rank < 8 || trending { 1.0 } else { rng.gen() };
            let (mut launched, mut until) = (window_start - rng.gen_range(20..400) * DAY, now);
            let status = match roll {
                r if r < 0.012 => Status::Draft,
                r if r < 0.032 => Status::Unpublished,
                _ => Status::Active,
            };
            if status == Status::Unpublished {
                until = window_start + rng.gen_range(60..150) * DAY;
            }
            if status == Status::Draft {
                launched = now - rng.gen_range(1..10) * DAY;
            } else if rank >= 8 && !trending && rng.gen_bool(0.08) {
                launched = window_start + rng.gen_range(30..170) * DAY;
                tags.push("new".into());
            }
            if trending {
                launched = now - rng.gen_range(28..40) * DAY;
                tags.push("new".into());
            }
            let sold_out = (0.032..0.085).contains(&roll);
            let stock = variants
                .iter()
                .map(|_| if sold_out { 0 } else { rng.gen_range(4..240) })
                .collect();
            products.push(Product {
                id: 0,
                ty,
                rank,
                title,
                vendor: spec.vendors[rng.gen_range(0..spec.vendors.len())],
                variants,
                partner: None,
                trending,
                status,
                tags: tags.join(", "),
                compare_at_pct: on_sale.then(|| rng.gen_range(120..145)),
                stock,
                launched,
                until,
            });
        }
    }
    // Two discontinued products: archived after selling in the first two months.
    let mut archived = 0;
    for p in products
        .iter_mut()
        .filter(|p| p.rank >= 20 && p.status == Status::Active && !p.trending)
    {
        if archived < 2 && matches!(p.ty, GEAR | MUGS) {
            p.status = Status::Archived;
            p.until = window_start + (40 + 20 * archived) * DAY;
            archived += 1;
        }
    }
    products.sort_by_key(|p| (p.launched, p.ty, p.rank));
    let mut variant_id = 9_000_000_000;
    for (n, p) in products.iter_mut().enumerate() {
        p.id = 8_000_000_001 + n as i64;
        for v in &mut p.variants {
            variant_id += 1;
            v.id = variant_id;
        }
    }
    let find = |products: &[Product], (ty, rank): (usize, usize)| {
        products.iter().position(|p| p.ty == ty && p.rank == rank)
    };
    for (a, b) in BUNDLES {
        if let (Some(a), Some(b)) = (find(&products, a), find(&products, b)) {
            products[a].partner = Some(b);
            products[b].partner = Some(a);
        }
    }
    products
}
