//! Synthetic, deterministic data for the demo shop (`shoprecs demo`): a coffee, tea and
//! self-care shop with six months of history, as the Shopify webhook bodies shoprecs ingests
//! (`products/create`, `customers/create`, `orders/create`, `checkouts/create`).
//!
//! Pure: no I/O, no clock. The history has the structure recommendations feed on:
//! complementary types, explicit bundles, Zipf-like popularity, trending newcomers, consumables
//! re-bought on a rhythm and durables bought once, and customers from one-time buyers to VIPs
//! and lapsed regulars. No personal data: customers carry no names, e-mails or addresses.
//!
//! `catalogue` builds the products, `orders` the histories; this file makes the JSON.

mod catalogue;
mod orders;

use chrono::{DateTime, FixedOffset, SecondsFormat};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use catalogue::{Product, TYPES};
use orders::{Customer, Draft, Line};

/// Generated webhook bodies, each list in id order.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoData {
    pub products: Vec<Value>,
    pub customers: Vec<Value>,
    pub orders: Vec<Value>,
    pub checkouts: Vec<Value>,
    pub demo_customers: Vec<DemoCustomer>,
}

/// A customer worth logging in as in the demo, with a history that shows off "for you".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoCustomer {
    pub id: i64,
    pub label: String,
}

const DAY: i64 = 86_400;
/// Days of order history before `now`.
const WINDOW_DAYS: i64 = 182;

/// The demo shop's UTC offset (Eastern, standard time).
fn shop_offset() -> FixedOffset {
    FixedOffset::west_opt(5 * 3600).expect("UTC-5 is a valid offset")
}

fn iso(t: i64) -> String {
    DateTime::from_timestamp(t, 0)
        .unwrap_or_default()
        .with_timezone(&shop_offset())
        .to_rfc3339_opts(SecondsFormat::Secs, false)
}

fn gid(kind: &str, id: i64) -> String {
    format!("gid://shopify/{kind}/{id}")
}

fn money(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

fn token(rng: &mut StdRng) -> String {
    format!("{:016x}{:016x}", rng.gen::<u64>(), rng.gen::<u64>())
}

/// Deterministic for a seed. `now` = unix seconds; history spans the 182 days before it.
pub fn generate(seed: u64, now: i64) -> DemoData {
    build(seed, now).0
}

/// What the generator meant, for the tests: bundle pairs and trending products (ids).
#[cfg_attr(not(test), allow(dead_code))]
struct Truth {
    bundles: Vec<(i64, i64)>,
    trending: Vec<i64>,
}

fn build(seed: u64, now: i64) -> (DemoData, Truth) {
    let mut rng = StdRng::seed_from_u64(seed);
    let products = catalogue::build(&mut rng, now);
    let shop = orders::Shop::new(&mut rng, &products, now);
    let mut h = orders::build(&mut rng, &shop);
    let carts = orders::abandoned(&mut rng, &shop, &mut h);
    let mut drafts = std::mem::take(&mut h.orders);
    drafts.sort_by_key(|o| o.at);
    let mut next_line = 10_000_000_000;
    let orders = drafts
        .iter()
        .enumerate()
        .map(|(n, d)| {
            order_json(
                &mut rng,
                n as i64,
                d,
                &products,
                &h.customers,
                now,
                &mut next_line,
            )
        })
        .collect();
    let mut customers: Vec<&Customer> = h.customers.iter().collect();
    customers.sort_by_key(|c| c.id);
    let checkouts = carts
        .iter()
        .enumerate()
        .map(|(n, (c, at, lines))| {
            let id = h.customers[*c].id;
            let subtotal: i64 = lines.iter().map(|l| cents(&products, l) * l.qty).sum();
            json!({
                "id": 13_000_000_001 + n as i64, "token": token(&mut rng), "cart_token": token(&mut rng),
                "email": null, "customer": {"id": id, "admin_graphql_api_id": gid("Customer", id)},
                "created_at": iso(*at), "updated_at": iso((at + rng.gen_range(60..1800)).min(now)),
                "completed_at": null, "currency": "USD", "presentment_currency": "USD",
                "source_name": "web", "subtotal_price": money(subtotal), "total_price": money(subtotal),
                "line_items": lines.iter().map(|l| {
                    let (p, v) = (&products[l.product], &products[l.product].variants[l.variant]);
                    json!({"product_id": p.id, "variant_id": v.id, "quantity": l.qty, "price": money(v.cents),
                           "line_price": money(v.cents * l.qty), "sku": v.sku, "title": p.title,
                           "variant_title": v.title})
                }).collect::<Vec<_>>(),
            })
        })
        .collect();
    let mut by_id: Vec<&Product> = products.iter().collect();
    by_id.sort_by_key(|p| p.id);
    let truth = Truth {
        bundles: products
            .iter()
            .filter_map(|p| p.partner.map(|b| (p.id, products[b].id)))
            .filter(|(a, b)| a < b)
            .collect(),
        trending: products
            .iter()
            .filter(|p| p.trending)
            .map(|p| p.id)
            .collect(),
    };
    let data = DemoData {
        products: by_id.iter().map(|p| p.to_json(now)).collect(),
        customers: customers.iter().map(|c| customer_json(c, now)).collect(),
        orders,
        checkouts,
        demo_customers: h
            .demo
            .iter()
            .map(|(i, label)| DemoCustomer {
                id: h.customers[*i].id,
                label: label.clone(),
            })
            .collect(),
    };
    (data, truth)
}

fn cents(products: &[Product], l: &Line) -> i64 {
    products[l.product].variants[l.variant].cents
}

fn customer_json(c: &Customer, now: i64) -> Value {
    json!({
        "id": c.id, "admin_graphql_api_id": gid("Customer", c.id), "state": c.state,
        "created_at": iso(c.created), "updated_at": iso(c.updated.min(now)),
        "verified_email": c.state == "enabled", "currency": "USD",
        "tags": if c.vip { "VIP" } else { "" },
        "email_marketing_consent": {
            "state": if c.subscribed { "subscribed" } else { "not_subscribed" },
            "opt_in_level": "single_opt_in",
            "consent_updated_at": c.subscribed.then(|| iso(c.created)),
        },
        "sms_marketing_consent": null,
    })
}

/// The `orders/create` body of the `n`-th order (by time); ~2% are cancelled and a few
/// partially refunded (one unit of one line), never the demo customers'.
fn order_json(
    rng: &mut StdRng,
    n: i64,
    d: &Draft,
    products: &[Product],
    customers: &[Customer],
    now: i64,
    next_line: &mut i64,
) -> Value {
    let id = 5_000_000_001 + n;
    let cancelled_at =
        (!d.demo && rng.gen_bool(0.02)).then(|| (d.at + rng.gen_range(3600..30 * 3600)).min(now));
    let refund_at = d.at + rng.gen_range(4 * DAY..15 * DAY);
    let units: i64 = d.lines.iter().map(|l| l.qty).sum();
    let refund =
        (!d.demo && cancelled_at.is_none() && units >= 2 && refund_at < now && rng.gen_bool(0.03))
            .then(|| rng.gen_range(0..d.lines.len()));
    let (mut subtotal, mut refunded, mut lines, mut refund_lines) = (0, 0, Vec::new(), Vec::new());
    for (k, l) in d.lines.iter().enumerate() {
        let (p, v) = (
            &products[l.product],
            &products[l.product].variants[l.variant],
        );
        *next_line += 1;
        subtotal += v.cents * l.qty;
        let back = i64::from(refund == Some(k));
        refunded += back * v.cents;
        if back > 0 {
            refund_lines.push(
                json!({"id": 12_000_000_001 + n, "line_item_id": *next_line, "quantity": 1,
                                     "restock_type": "no_restock"}),
            );
        }
        lines.push(json!({
            "id": *next_line, "admin_graphql_api_id": gid("LineItem", *next_line),
            "product_id": p.id, "variant_id": v.id, "sku": v.sku, "title": p.title,
            "variant_title": (p.variants.len() > 1).then_some(v.title), "vendor": p.vendor,
            "name": if p.variants.len() > 1 { format!("{} - {}", p.title, v.title) } else { p.title.clone() },
            "quantity": l.qty, "current_quantity": if cancelled_at.is_some() { 0 } else { l.qty - back },
            "price": money(v.cents), "gift_card": false, "product_exists": true,
            "requires_shipping": true, "taxable": true,
        }));
    }
    let total = subtotal + if subtotal >= 5000 { 0 } else { 595 };
    let refunds: Vec<Value> = refund
        .map(|_| {
            json!({"id": 11_000_000_001 + n, "admin_graphql_api_id": gid("Refund", 11_000_000_001 + n),
                   "order_id": id, "created_at": iso(refund_at), "processed_at": iso(refund_at),
                   "note": "Arrived damaged", "restock": false, "refund_line_items": refund_lines})
        })
        .into_iter()
        .collect();
    let updated = [Some(d.at + 600), cancelled_at, refund.map(|_| refund_at)]
        .into_iter()
        .flatten()
        .max();
    let status = match (cancelled_at, refund) {
        (Some(_), _) => "voided",
        (None, Some(_)) => "partially_refunded",
        (None, None) => "paid",
    };
    let customer = d.customer.map(|c| customers[c].id);
    json!({
        "id": id, "admin_graphql_api_id": gid("Order", id), "name": format!("#{}", 1001 + n),
        "order_number": 1001 + n, "number": 1 + n,
        "created_at": iso(d.at), "processed_at": iso(d.at), "updated_at": iso(updated.unwrap_or(d.at).min(now)),
        "cancelled_at": cancelled_at.map(iso), "cancel_reason": cancelled_at.map(|_| "customer"),
        "financial_status": status,
        "fulfillment_status": (cancelled_at.is_none() && d.at < now - 2 * DAY).then_some("fulfilled"),
        "test": false, "currency": "USD", "presentment_currency": "USD", "source_name": "web",
        "subtotal_price": money(subtotal), "total_price": money(total),
        "current_total_price": money(if cancelled_at.is_some() { 0 } else { total - refunded }),
        "cart_token": token(rng), "checkout_token": token(rng),
        "customer": customer.map(|c| json!({"id": c, "admin_graphql_api_id": gid("Customer", c)})),
        "line_items": lines, "refunds": refunds,
    })
}

/// Background and foreground colours of a product type's placeholder.
fn type_colours(product_type: &str) -> (&'static str, &'static str) {
    const PALETTE: [(&str, &str); 10] = [
        ("#6f4e37", "#f5e6d3"),
        ("#5b7f4a", "#eef5e6"),
        ("#44546a", "#e6ecf3"),
        ("#c8553d", "#fff1e8"),
        ("#e0a458", "#3b2a1a"),
        ("#e8c5c1", "#6b3e3a"),
        ("#8a6fae", "#f3eefa"),
        ("#2f4858", "#f0e9d8"),
        ("#b5651d", "#fff4e0"),
        ("#a23b5a", "#fde8ef"),
    ];
    let i = TYPES
        .iter()
        .position(|t| t.name.eq_ignore_ascii_case(product_type.trim()))
        .unwrap_or_else(|| {
            product_type.bytes().fold(7usize, |h, b| {
                h.wrapping_mul(31).wrapping_add(usize::from(b))
            }) % PALETTE.len()
        });
    PALETTE[i]
}

/// An inline SVG placeholder image as a data: URI (product type colour + initials), < 1 KB.
pub fn placeholder_image(title: &str, product_type: &str) -> String {
    const SKIP: [&str; 5] = ["the", "a", "of", "to", "and"];
    let words: Vec<&str> = title
        .split_whitespace()
        .filter(|w| !SKIP.contains(&w.to_lowercase().as_str()))
        .collect();
    let initials: String = words
        .iter()
        .filter_map(|w| w.chars().find(|c| c.is_ascii_alphanumeric()))
        .take(2)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let label: String = product_type
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == ' ')
        .take(24)
        .collect::<String>()
        .to_uppercase();
    let (bg, fg) = type_colours(product_type);
    let svg = format!(
        "<svg xmlns='http://www.w3.org/2000/svg' width='400' height='400' viewBox='0 0 400 400'>\
         <rect width='400' height='400' fill='{bg}'/>\
         <circle cx='200' cy='180' r='112' fill='{fg}' fill-opacity='0.16'/>\
         <text x='200' y='220' font-family='Georgia,serif' font-size='112' fill='{fg}' text-anchor='middle'>{initials}</text>\
         <text x='200' y='352' font-family='Helvetica,Arial,sans-serif' font-size='24' letter-spacing='4' \
         fill='{fg}' text-anchor='middle'>{label}</text></svg>"
    );
    let mut uri = String::from("data:image/svg+xml,");
    for b in svg.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?".contains(&b) {
            uri.push(char::from(b));
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};
    use std::sync::OnceLock;

    use super::*;
    use crate::shopify::payloads;

    /// A customer's orders: time and products kept.
    type History = Vec<(i64, Vec<i64>)>;

    /// 2026-09-21T14:13:20Z.
    const NOW: i64 = 1_790_000_000;

    fn data() -> &'static (DemoData, Truth) {
        static DATA: OnceLock<(DemoData, Truth)> = OnceLock::new();
        DATA.get_or_init(|| build(42, NOW))
    }

    fn at(v: &Value, field: &str) -> i64 {
        DateTime::parse_from_rfc3339(v[field].as_str().expect("timestamp"))
            .expect("ISO-8601")
            .timestamp()
    }

    fn id(v: &Value) -> i64 {
        v["id"].as_i64().expect("numeric id")
    }

    fn customer_of(o: &Value) -> Option<i64> {
        o["customer"]["id"].as_i64()
    }

    /// Products kept (net quantity > 0) of each order that counts (not cancelled).
    fn baskets(d: &DemoData) -> Vec<(Option<i64>, i64, Vec<i64>)> {
        d.orders
            .iter()
            .filter(|o| o["cancelled_at"].is_null())
            .map(|o| {
                let lines = o["line_items"].as_array().expect("lines");
                let kept = lines
                    .iter()
                    .filter(|l| l["current_quantity"].as_i64() > Some(0));
                (
                    customer_of(o),
                    at(o, "created_at"),
                    kept.map(|l| l["product_id"].as_i64().expect("product"))
                        .collect(),
                )
            })
            .collect()
    }

    #[test]
    fn deterministic_for_a_seed() {
        let (d, _) = data();
        assert!(generate(42, NOW) == *d);
        assert!(generate(43, NOW).orders != d.orders);
    }

    #[test]
    fn counts_and_span() {
        check_counts(&data().0);
    }

    #[test]
    fn bundle_partners_are_each_others_strongest_pair() {
        check_bundles(&data().0, &data().1);
    }

    #[test]
    fn trending_products_ramp_up_in_the_last_two_weeks() {
        check_trending(&data().0, &data().1);
    }

    #[test]
    fn customers_have_varied_lifecycles() {
        check_lifecycles(&data().0);
    }

    #[test]
    fn demo_customers_have_distinct_histories() {
        check_demo_customers(&data().0);
    }

    #[test]
    fn invariants_hold_for_other_seeds() {
        for seed in [1, 2, 3] {
            let (d, truth) = build(seed, NOW);
            check_counts(&d);
            check_bundles(&d, &truth);
            check_trending(&d, &truth);
            check_lifecycles(&d);
            check_demo_customers(&d);
        }
    }

    #[test]
    fn every_body_parses_as_shoprecs_reads_it() {
        let (d, _) = data();
        for p in &d.products {
            let p: payloads::Product = serde_json::from_value(p.clone()).expect("product");
            assert!(p.id().is_some());
            assert!(p.published_at.is_none() || p.status.as_deref() == Some("active"));
            assert!(p
                .image_url()
                .is_some_and(|u| u.starts_with("data:image/svg+xml,")));
            assert!(p
                .variants
                .iter()
                .all(|v| v.id().is_some() && v.price.is_some()));
        }
        for c in &d.customers {
            let c: payloads::Customer = serde_json::from_value(c.clone()).expect("customer");
            assert!(
                c.id().is_some() && c.created_at.is_some() && c.email_marketing_consent.is_some()
            );
        }
        for c in &d.customers {
            for pii in [
                "email",
                "first_name",
                "last_name",
                "phone",
                "addresses",
                "default_address",
            ] {
                assert!(c.get(pii).is_none(), "{pii}");
            }
        }
        for o in &d.orders {
            let o: payloads::Order = serde_json::from_value(o.clone()).expect("order");
            assert!(
                o.id().is_some() && !o.test && o.total_price.is_some() && !o.line_items.is_empty()
            );
            for l in &o.line_items {
                assert!(l.id().is_some() && l.current_quantity.is_some_and(|q| q <= l.quantity));
            }
            for r in &o.refunds {
                assert!(
                    r.id().is_some()
                        && r.refund_line_items
                            .iter()
                            .all(|x| x.line_item_id().is_some())
                );
            }
        }
        for c in &d.checkouts {
            let c: payloads::Checkout = serde_json::from_value(c.clone()).expect("checkout");
            assert!(c.token.is_some() && c.completed_at.is_none() && !c.line_items.is_empty());
        }
    }

    #[test]
    fn references_exist_and_ids_are_unique() {
        let (d, _) = data();
        let mut variants: HashMap<i64, i64> = HashMap::new();
        let mut seen: HashSet<i64> = HashSet::new();
        let mut unique = |x: i64| assert!(x > 0 && x < 1 << 53 && seen.insert(x), "id {x} repeats");
        for p in &d.products {
            unique(id(p));
            for v in p["variants"].as_array().expect("variants") {
                unique(id(v));
                variants.insert(id(v), id(p));
            }
        }
        let customers: HashSet<i64> = d.customers.iter().map(id).collect();
        d.customers.iter().for_each(|c| unique(id(c)));
        d.checkouts.iter().for_each(|c| unique(id(c)));
        let mut names = HashSet::new();
        for o in &d.orders {
            unique(id(o));
            assert!(names.insert(o["name"].as_str().expect("name").to_owned()));
            assert!(customer_of(o).is_none_or(|c| customers.contains(&c)));
            for l in o["line_items"].as_array().expect("lines") {
                unique(id(l));
                let v = l["variant_id"].as_i64().expect("variant");
                assert_eq!(
                    variants.get(&v),
                    l["product_id"].as_i64().as_ref(),
                    "line {l}"
                );
            }
            for r in o["refunds"].as_array().expect("refunds") {
                unique(id(r));
                r["refund_line_items"]
                    .as_array()
                    .expect("refund lines")
                    .iter()
                    .for_each(|x| unique(id(x)));
            }
        }
        for c in &d.checkouts {
            for l in c["line_items"].as_array().expect("lines") {
                let v = l["variant_id"].as_i64().expect("variant");
                assert_eq!(variants.get(&v), l["product_id"].as_i64().as_ref());
            }
        }
    }

    fn check_counts(d: &DemoData) {
        assert!(d.products.len() >= 300, "{} products", d.products.len());
        let types: HashSet<&str> = d
            .products
            .iter()
            .filter_map(|p| p["product_type"].as_str())
            .collect();
        assert!(types.len() >= 8, "{types:?}");
        assert!(d.orders.len() >= 5_000, "{} orders", d.orders.len());
        assert!(
            (1_400..=1_600).contains(&d.customers.len()),
            "{} customers",
            d.customers.len()
        );
        for o in &d.orders {
            let t = at(o, "created_at");
            assert!(
                t > NOW - WINDOW_DAYS * DAY && t <= NOW,
                "{}",
                o["created_at"]
            );
            assert!(at(o, "updated_at") >= t && at(o, "updated_at") <= NOW);
        }
        let guests = d.orders.iter().filter(|o| o["customer"].is_null()).count() as f64;
        let share = guests / d.orders.len() as f64;
        assert!((0.20..=0.30).contains(&share), "guest share {share}");
        assert!((55..=60).contains(&d.checkouts.len()));
        let customers: HashSet<i64> = d.customers.iter().map(id).collect();
        for c in &d.checkouts {
            assert!(
                at(c, "created_at") >= NOW - 3 * DAY
                    && c["completed_at"].is_null()
                    && c["email"].is_null()
            );
            assert!(customers.contains(&customer_of(c).expect("known customer")));
        }
    }

    fn check_bundles(d: &DemoData, truth: &Truth) {
        let mut pairs: HashMap<i64, HashMap<i64, u32>> = HashMap::new();
        for (_, _, basket) in baskets(d) {
            for &a in &basket {
                for &b in basket.iter().filter(|&&b| b != a) {
                    *pairs.entry(a).or_default().entry(b).or_default() += 1;
                }
            }
        }
        assert_eq!(truth.bundles.len(), 8);
        for &(a, b) in &truth.bundles {
            for (x, y) in [(a, b), (b, a)] {
                let mut counts: Vec<(u32, i64)> = pairs[&x].iter().map(|(&p, &n)| (n, p)).collect();
                counts.sort_unstable_by(|p, q| q.cmp(p));
                assert_eq!(counts[0].1, y, "{x}: {:?}", &counts[..3]);
                assert!(counts[0].0 >= 2 * counts[1].0, "{x}: {:?}", &counts[..3]);
            }
        }
    }

    fn check_trending(d: &DemoData, truth: &Truth) {
        let units = |p: i64, from: i64, to: i64| {
            baskets(d)
                .iter()
                .filter(|b| b.1 >= NOW - from * DAY && b.1 < NOW - to * DAY && b.2.contains(&p))
                .count()
        };
        let mut totals = (0, 0);
        for &p in &truth.trending {
            let (recent, before) = (units(p, 7, 0), units(p, 21, 14));
            assert!(
                recent >= 5 && recent > 2 * before,
                "{p}: {recent} vs {before}"
            );
            totals = (totals.0 + recent, totals.1 + before);
        }
        assert!(totals.0 >= 4 * totals.1, "{totals:?}");
    }

    fn check_lifecycles(d: &DemoData) {
        let mut history: HashMap<i64, History> = HashMap::new();
        for (c, t, basket) in baskets(d) {
            if let Some(c) = c {
                history.entry(c).or_default().push((t, basket));
            }
        }
        let count = |f: &dyn Fn(&History) -> bool| history.values().filter(|h| f(h)).count();
        assert!(count(&|h| h.len() == 1) >= 400, "one-time buyers");
        assert!(
            count(&|h| (2..=10).contains(&h.len())) >= 400,
            "returning buyers"
        );
        assert!(count(&|h| h.len() >= 12) >= 20, "VIPs");
        let last = |h: &History| h.iter().map(|x| x.0).max().unwrap_or(0);
        assert!(
            count(&|h| h.len() >= 2 && last(h) < NOW - 90 * DAY) >= 80,
            "lapsed"
        );
        // Consumables are re-bought by the same customer, durables are not.
        let types: HashMap<i64, &str> = d
            .products
            .iter()
            .map(|p| (id(p), p["product_type"].as_str().unwrap_or("")))
            .collect();
        let repeat_share = |ty: &str| {
            let (mut buyers, mut repeats) = (0, 0);
            for h in history.values() {
                let mut orders: HashMap<i64, u32> = HashMap::new();
                for p in h
                    .iter()
                    .flat_map(|x| x.1.iter().copied().collect::<HashSet<_>>())
                {
                    *orders.entry(p).or_default() += 1;
                }
                for (_, n) in orders.into_iter().filter(|x| types[&x.0] == ty) {
                    buyers += 1;
                    repeats += u32::from(n >= 2);
                }
            }
            f64::from(repeats) / f64::from(buyers.max(1))
        };
        assert!(
            repeat_share("Coffee") > 0.3,
            "coffee {}",
            repeat_share("Coffee")
        );
        assert!(repeat_share("Mugs") < 0.02 && repeat_share("Candles") < 0.02);
    }

    fn check_demo_customers(d: &DemoData) {
        assert!((4..=6).contains(&d.demo_customers.len()));
        let all = baskets(d);
        let orders = |c: i64| all.iter().filter(|b| b.0 == Some(c)).collect::<Vec<_>>();
        let mut seen = Vec::new();
        for c in &d.demo_customers {
            let h = orders(c.id);
            assert!(
                !h.is_empty() && !c.label.is_empty() && !c.label.contains('@'),
                "{c:?}"
            );
            let products: HashSet<i64> = h.iter().flat_map(|b| b.2.iter().copied()).collect();
            assert!(!seen.contains(&products), "{c:?}");
            seen.push(products);
        }
        let [coffee, _, _, new, lapsed, vip] = &d.demo_customers[..] else {
            panic!("six demo customers")
        };
        let coffee = orders(coffee.id);
        assert!(coffee.len() >= 6 && coffee.iter().all(|b| b.2.contains(&coffee[0].2[0])));
        let new = orders(new.id);
        assert!(new.len() == 1 && new[0].2.len() == 1 && new[0].1 > NOW - 3 * DAY);
        assert!(orders(lapsed.id).iter().all(|b| b.1 < NOW - 90 * DAY));
        assert!(orders(vip.id).len() >= 15);
    }

    #[test]
    fn catalogue_has_sales_stock_and_status_variety() {
        let (d, _) = data();
        let n = d.products.len() as f64;
        let variants = |p: &Value| p["variants"].as_array().cloned().unwrap_or_default();
        let sold_out = d
            .products
            .iter()
            .filter(|p| variants(p).iter().all(|v| v["inventory_quantity"] == 0))
            .count();
        assert!(
            (0.03..=0.08).contains(&(sold_out as f64 / n)),
            "{sold_out} sold out"
        );
        let hidden = d
            .products
            .iter()
            .filter(|p| p["published_at"].is_null() && p["status"] != "archived")
            .count();
        assert!(
            (0.015..=0.05).contains(&(hidden as f64 / n)),
            "{hidden} unpublished or draft"
        );
        assert_eq!(
            d.products
                .iter()
                .filter(|p| p["status"] == "archived")
                .count(),
            2
        );
        let on_sale = d
            .products
            .iter()
            .filter(|p| !variants(p)[0]["compare_at_price"].is_null())
            .count();
        assert!(on_sale >= 15, "{on_sale} on sale");
        for key in ["title", "handle"] {
            let distinct: HashSet<&str> =
                d.products.iter().filter_map(|p| p[key].as_str()).collect();
            assert_eq!(distinct.len(), d.products.len(), "{key}s repeat");
        }
        let price = |v: &Value| {
            v["price"]
                .as_str()
                .and_then(|s| s.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        for p in &d.products {
            for v in variants(p) {
                let compare = v["compare_at_price"]
                    .as_str()
                    .and_then(|s| s.parse::<f64>().ok());
                assert!(
                    price(&v) > 0.0 && compare.is_none_or(|c| c > price(&v)),
                    "{v}"
                );
            }
        }
    }

    #[test]
    fn placeholder_images_are_small_url_encoded_svgs() {
        let (d, _) = data();
        let mut uris: Vec<String> = d
            .products
            .iter()
            .map(|p| p["image"]["src"].as_str().unwrap_or("").to_owned())
            .collect();
        uris.push(placeholder_image(
            "<script>alert(\"x\")</script> & Co",
            "Unknown \"type\" <b>",
        ));
        uris.push(placeholder_image("", ""));
        for uri in &uris {
            assert!(uri.starts_with("data:image/svg+xml,%3Csvg"), "{uri}");
            assert!(uri.len() < 1024, "{} bytes", uri.len());
            assert!(!uri.contains(['"', '<', '>', ' ', '#']), "{uri}");
            assert!(!uri.to_lowercase().contains("script"));
        }
        let book = placeholder_image("The Art of Coffee", "Books");
        assert!(
            book.contains("%3EAC%3C") && book.contains("BOOKS"),
            "{book}"
        );
    }
}
