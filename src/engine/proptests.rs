//! Properties over random small shops: list invariants, determinism, exact cancellation and
//! independence from event order.

use proptest::prelude::*;

use super::*;

const NOW: Ts = 1_700_000_000;
const DAY: Ts = 86_400;

#[derive(Debug, Clone)]
enum Event {
    Product(ProductFacts),
    RemoveProduct(ProductId, Ts),
    Order(OrderFacts),
    RemoveOrder(i64),
    Browse(BrowseFacts),
}

fn product() -> impl Strategy<Value = ProductFacts> {
    (
        1i64..=12,
        0usize..3,
        any::<bool>(),
        1i64..4,
        prop::collection::vec(0usize..3, 0..2),
    )
        .prop_map(|(id, ty, rec, v, tags)| ProductFacts {
            id,
            title: format!("P{id}"),
            product_type: ["", "Hair", "Body"][ty].to_owned(),
            vendor: "V".into(),
            tags: tags
                .into_iter()
                .map(|t| ["a", "b", "c"][t].to_owned())
                .collect(),
            // Mostly recommendable so lists have real content.
            recommendable: rec || id % 3 != 0,
            updated_at: v,
        })
}

fn order() -> impl Strategy<Value = OrderFacts> {
    (
        1i64..=16,
        prop::option::of(1i64..=4),
        0i64..(10 * DAY),
        1i64..4,
        prop::bool::weighted(0.85),
        prop::collection::vec((1i64..=12, 0u32..4), 1..5),
    )
        .prop_map(|(id, c, dt, v, counts, lines)| OrderFacts {
            order_id: id,
            customer_id: c,
            at: NOW - 10 * DAY + dt,
            updated_at: v,
            counts,
            lines,
        })
}

fn browse() -> impl Strategy<Value = BrowseFacts> {
    (
        0usize..3,
        prop::option::of(1i64..=4),
        // 13 and 14 are never in the catalog: forged pixel ids.
        1i64..=14,
        0usize..4,
        0i64..(4 * 3600),
    )
        .prop_map(|(c, cust, p, k, dt)| BrowseFacts {
            client_id: ["a", "b", "c"][c].to_owned(),
            customer_id: cust,
            product_id: p,
            kind: [
                BrowseKind::View,
                BrowseKind::AddToCart,
                BrowseKind::RemoveFromCart,
                BrowseKind::View,
            ][k],
            at: NOW - DAY + dt,
        })
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        3 => product().prop_map(Event::Product),
        1 => (1i64..=12, 1i64..4).prop_map(|(p, t)| Event::RemoveProduct(p, t)),
        6 => order().prop_map(Event::Order),
        1 => (1i64..=16).prop_map(Event::RemoveOrder),
        4 => browse().prop_map(Event::Browse),
    ]
}

fn rules() -> impl Strategy<Value = Rules> {
    (
        prop::collection::vec(1i64..=12, 0..3),
        prop::collection::vec(1i64..=12, 0..3),
        prop::collection::vec((1i64..=12, 1i64..=12), 0..4),
        prop::collection::vec((1i64..=12, 1i64..=12), 0..4),
    )
        .prop_map(|(gp, ge, pf, ef)| {
            let mut r = Rules {
                global_pins: gp,
                global_excludes: ge,
                ..Rules::default()
            };
            for (c, p) in pf {
                r.pins_for.entry(c).or_default().push(p);
            }
            for (c, p) in ef {
                r.excludes_for.entry(c).or_default().push(p);
            }
            r
        })
}

fn build(events: &[Event], rules: &Rules) -> ShopModel {
    let mut m = ShopModel::new(EngineConfig {
        min_pair_support: 1,
        min_view_support: 1,
        repeat_purchase_min_buyers: 1,
        ..EngineConfig::default()
    });
    // The install-time catalog sync: products 1..=12 exist (as unrecommendable stubs until
    // a version arrives), so browse events are kept whatever order they come in, while
    // forged ids (13, 14) are always dropped.
    for id in 1..=12 {
        m.upsert_product(ProductFacts {
            id,
            title: String::new(),
            product_type: String::new(),
            vendor: String::new(),
            tags: vec![],
            recommendable: false,
            updated_at: 0,
        });
    }
    for e in events.iter().cloned() {
        match e {
            Event::Product(p) => m.upsert_product(p),
            Event::RemoveProduct(p, t) => m.remove_product(p, t),
            Event::Order(o) => m.upsert_order(o),
            Event::RemoveOrder(o) => m.remove_order(o),
            Event::Browse(b) => m.record_browse(b),
        }
    }
    m.set_rules(rules.clone());
    m
}

/// Every list the engine serves, labelled, with its context.
fn all_lists(m: &ShopModel, limit: usize) -> Vec<(String, Vec<ProductId>, Vec<Recommendation>)> {
    let mut out = Vec::new();
    for p in 1..=13 {
        out.push((format!("bt{p}"), vec![p], m.bought_together(p, limit, NOW)));
        out.push((format!("av{p}"), vec![p], m.also_viewed(p, limit, NOW)));
    }
    for cart in [vec![1, 2], vec![3, 4, 5, 3], vec![6, 7, 8, 9, 10]] {
        out.push((
            format!("cart{cart:?}"),
            cart.clone(),
            m.for_cart(&cart, limit, NOW),
        ));
    }
    for c in 1..=5 {
        for client in [None, Some("a"), Some("b")] {
            out.push((
                format!("fy{c}{client:?}"),
                vec![],
                m.for_customer(Some(c), client, limit, NOW),
            ));
        }
    }
    out.push((
        "anon".into(),
        vec![],
        m.for_customer(None, Some("c"), limit, NOW),
    ));
    out.push(("best".into(), vec![], m.bestsellers(None, limit, NOW)));
    out.push((
        "hair".into(),
        vec![],
        m.bestsellers(Some("Hair"), limit, NOW),
    ));
    out.push((
        "tag".into(),
        vec![],
        m.bestsellers_with_tag("A", limit, NOW),
    ));
    out.push(("trend".into(), vec![], m.trending(limit, NOW)));
    out
}

fn same_lists(a: &ShopModel, b: &ShopModel, limit: usize) -> Result<(), TestCaseError> {
    for ((name, _, x), (_, _, y)) in all_lists(a, limit).into_iter().zip(all_lists(b, limit)) {
        let ids = |v: &[Recommendation]| v.iter().map(|r| r.product_id).collect::<Vec<_>>();
        prop_assert_eq!(ids(&x), ids(&y), "{}", name);
        for (r, s) in x.iter().zip(&y) {
            prop_assert_eq!(&r.reason, &s.reason, "{}", name);
            let tol = 1e-9 * r.score.abs().max(s.score.abs()) + 1e-300;
            prop_assert!(
                (r.score - s.score).abs() <= tol,
                "{}: {} vs {}",
                name,
                r.score,
                s.score
            );
        }
    }
    Ok(())
}

fn recommendable(events: &[Event], id: ProductId) -> bool {
    // Rebuild the truth independently: the newest product version (removal wins ties).
    let mut best: Option<(Ts, bool, bool)> = None;
    for e in events {
        let v = match e {
            Event::Product(p) if p.id == id => (p.updated_at, false, p.recommendable),
            Event::RemoveProduct(p, t) if *p == id => (*t, true, false),
            _ => continue,
        };
        // Same-time product versions with different content are ordered by fingerprint; the
        // strategy avoids depending on that by only checking clear cases below.
        if best.is_none_or(|b| (v.0, v.1) > (b.0, b.1)) {
            best = Some(v);
        }
    }
    best.is_some_and(|b| b.2)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn lists_respect_context_rules_availability_and_limit(
        events in prop::collection::vec(event(), 0..60),
        rules in rules(),
        limit in 0usize..8,
    ) {
        let m = build(&events, &rules);
        for (name, ctx, list) in all_lists(&m, limit) {
            prop_assert!(list.len() <= limit, "{}", name);
            let mut seen = std::collections::HashSet::new();
            let mut pins_done = false;
            for r in &list {
                prop_assert!(seen.insert(r.product_id), "{} duplicate {}", name, r.product_id);
                prop_assert!(!ctx.contains(&r.product_id), "{} shows context {}", name, r.product_id);
                prop_assert!(!rules.global_excludes.contains(&r.product_id), "{}", name);
                for c in &ctx {
                    let ex = rules.excludes_for.get(c).cloned().unwrap_or_default();
                    prop_assert!(!ex.contains(&r.product_id), "{} excluded {}", name, r.product_id);
                }
                let unambiguous = !events.iter().any(|e| matches!(e, Event::Product(p) if p.id == r.product_id))
                    || events.iter().filter(|e| matches!(e, Event::Product(p) if p.id == r.product_id)).count() == 1;
                if unambiguous {
                    prop_assert!(recommendable(&events, r.product_id), "{} unrecommendable {}", name, r.product_id);
                }
                if r.reason == Reason::Pinned {
                    prop_assert!(!pins_done, "{}: pin after non-pin", name);
                } else {
                    pins_done = true;
                }
            }
            // Pins come in merchant order: context pins, then global.
            let pins: Vec<ProductId> = list.iter().filter(|r| r.reason == Reason::Pinned).map(|r| r.product_id).collect();
            let mut declared: Vec<ProductId> = ctx.iter().flat_map(|c| rules.pins_for.get(c).cloned().unwrap_or_default()).collect();
            declared.extend(&rules.global_pins);
            let mut pos = 0;
            for p in pins {
                let at = declared[pos..].iter().position(|&d| d == p);
                prop_assert!(at.is_some(), "{}: pin {} out of order", name, p);
                pos += at.unwrap_or(0) + 1;
            }
            // A shelf is never short while enough recommendable products are left to show.
            let available = m.stats().recommendable_products;
            if list.len() < limit {
                prop_assert!(available <= list.len() + ctx.len() + rules.global_excludes.len()
                    + ctx.iter().map(|c| rules.excludes_for.get(c).map_or(0, Vec::len)).sum::<usize>()
                    + if name.starts_with("fy") { 12 } else { 0 },
                    "{}: {} of {} with {} available", name, list.len(), limit, available);
            }
        }
    }

    #[test]
    fn deterministic(events in prop::collection::vec(event(), 0..60), rules in rules()) {
        let a = build(&events, &rules);
        let b = build(&events, &rules);
        prop_assert_eq!(all_lists(&a, 6), all_lists(&a, 6));
        same_lists(&a, &b, 6)?;
    }

    #[test]
    fn order_then_cancellation_is_never_applied(
        events in prop::collection::vec(event(), 0..50),
        extra in order(),
        remove in any::<bool>(),
    ) {
        let mut extra = extra;
        extra.order_id = 1000;
        extra.counts = true;
        let base = build(&events, &Rules::default());
        let mut with = events.clone();
        with.push(Event::Order(extra.clone()));
        if remove {
            with.push(Event::RemoveOrder(1000));
        } else {
            let mut cancel = extra;
            cancel.counts = false;
            cancel.updated_at += 1;
            with.push(Event::Order(cancel));
        }
        let cancelled = build(&with, &Rules::default());
        same_lists(&base, &cancelled, 6)?;
    }

    #[test]
    fn forged_browse_ids_change_nothing(
        events in prop::collection::vec(event(), 0..50),
        forged in prop::collection::vec(browse(), 1..10),
    ) {
        let base = build(&events, &Rules::default());
        let mut with = events.clone();
        for mut b in forged {
            b.product_id = 13 + b.product_id % 2;
            with.push(Event::Browse(b));
        }
        let forged = build(&with, &Rules::default());
        same_lists(&base, &forged, 6)?;
        prop_assert_eq!(base.stats(), forged.stats());
    }

    #[test]
    fn event_order_does_not_matter(
        (events, shuffled) in prop::collection::vec(event(), 0..60)
            .prop_flat_map(|v| (Just(v.clone()), Just(v).prop_shuffle())),
        rules in rules(),
    ) {
        let a = build(&events, &rules);
        let b = build(&shuffled, &rules);
        same_lists(&a, &b, 6)?;
        prop_assert_eq!(a.stats().pairs, b.stats().pairs);
        prop_assert_eq!(a.stats().view_pairs, b.stats().view_pairs);
    }
}
