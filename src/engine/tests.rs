//! Hand-built shops with obvious answers.

use super::*;

const DAY: i64 = 86_400;
const NOW: i64 = 1_700_000_000;

fn product(id: ProductId, title: &str, ty: &str) -> ProductFacts {
    ProductFacts {
        id,
        title: title.to_owned(),
        product_type: ty.to_owned(),
        vendor: "V".to_owned(),
        tags: vec![],
        recommendable: true,
        updated_at: 1,
    }
}

fn order(id: i64, customer: Option<CustomerId>, at: Ts, lines: &[(ProductId, u32)]) -> OrderFacts {
    OrderFacts {
        order_id: id,
        customer_id: customer,
        at,
        updated_at: at,
        counts: true,
        lines: lines.to_vec(),
    }
}

fn shop(products: &[(ProductId, &str, &str)]) -> ShopModel {
    let mut m = ShopModel::new(EngineConfig::default());
    for &(id, t, ty) in products {
        m.upsert_product(product(id, t, ty));
    }
    m
}

fn ids(v: &[Recommendation]) -> Vec<ProductId> {
    v.iter().map(|r| r.product_id).collect()
}

/// 1 Shampoo + 2 Conditioner bought together 3 times; 3 Soap alone 5 times.
fn hair_shop() -> ShopModel {
    let mut m = shop(&[
        (1, "Shampoo", "Hair"),
        (2, "Conditioner", "Hair"),
        (3, "Soap", "Body"),
        (4, "Comb", "Hair"),
    ]);
    let mut id = 0;
    for _ in 0..3 {
        id += 1;
        m.upsert_order(order(id, None, NOW - id * DAY, &[(1, 1), (2, 1)]));
    }
    for _ in 0..5 {
        id += 1;
        m.upsert_order(order(id, None, NOW - id * DAY, &[(3, 2)]));
    }
    m
}

#[test]
fn shampoo_brings_conditioner_with_counted_evidence() {
    let m = hair_shop();
    let recs = m.bought_together(1, 3, NOW);
    assert_eq!(recs[0].product_id, 2);
    assert_eq!(
        recs[0].reason,
        Reason::BoughtTogether {
            with: 1,
            with_title: "Shampoo".into(),
            orders_together: 3,
            orders_with: 3
        }
    );
    assert_eq!(
        recs[0].reason.text(),
        "Bought together with Shampoo in 3 of 3 orders"
    );
    assert!(!ids(&recs).contains(&1));
    assert_eq!(recs.len(), 3, "fallbacks fill the shelf");
    let stats = m.pair_stats(1, 2).expect("pair exists");
    assert_eq!(
        (
            stats.orders_together,
            stats.orders_with_a,
            stats.orders_with_b
        ),
        (3, 3, 3)
    );
}

#[test]
fn min_support_hides_accidental_pairs() {
    let mut m = shop(&[(1, "A", ""), (2, "B", ""), (3, "C", "")]);
    m.upsert_order(order(1, None, NOW, &[(1, 1), (2, 1)]));
    m.upsert_order(order(2, None, NOW, &[(1, 1), (3, 1)]));
    m.upsert_order(order(3, None, NOW, &[(1, 1), (3, 1)]));
    let recs = m.bought_together(1, 5, NOW);
    assert_eq!(recs[0].product_id, 3);
    assert!(matches!(recs[0].reason, Reason::BoughtTogether { .. }));
    assert!(recs
        .iter()
        .all(|r| r.product_id != 2 || !matches!(r.reason, Reason::BoughtTogether { .. })));
}

#[test]
fn carts_use_single_pairs_but_rank_them_below_repeated_ones() {
    let mut m = shop(&[(1, "A", ""), (2, "B", ""), (3, "C", ""), (4, "D", "")]);
    // 2 is rare and met 1 once: without shrinkage its cosine beats popular 3, met twice.
    m.upsert_order(order(1, None, NOW, &[(1, 1), (2, 1)]));
    m.upsert_order(order(2, None, NOW, &[(1, 1), (3, 1)]));
    m.upsert_order(order(3, None, NOW, &[(1, 1), (3, 1)]));
    for id in 4..14 {
        m.upsert_order(order(id, None, NOW, &[(3, 1), (4, 1)]));
    }
    let cart = m.for_cart(&[1], 3, NOW);
    assert_eq!(ids(&cart)[..2], [3, 2]);
    assert!(cart[..2]
        .iter()
        .all(|r| matches!(r.reason, Reason::BoughtTogether { .. })));
    // The product page stays conservative: one shared order is not "bought together".
    let page = m.bought_together(1, 3, NOW);
    assert_eq!(page[0].product_id, 3);
    assert!(page
        .iter()
        .all(|r| r.product_id != 2 || !matches!(r.reason, Reason::BoughtTogether { .. })));
    let unshrunk = {
        let mut m2 = ShopModel::new(EngineConfig {
            pair_support_prior: 0.0,
            ..EngineConfig::default()
        });
        for p in 1..=4 {
            m2.upsert_product(product(p, "X", ""));
        }
        m2.upsert_order(order(1, None, NOW, &[(1, 1), (2, 1)]));
        m2.upsert_order(order(2, None, NOW, &[(1, 1), (3, 1)]));
        m2.upsert_order(order(3, None, NOW, &[(1, 1), (3, 1)]));
        for id in 4..14 {
            m2.upsert_order(order(id, None, NOW, &[(3, 1), (4, 1)]));
        }
        ids(&m2.for_cart(&[1], 3, NOW))
    };
    assert_eq!(unshrunk[..2], [2, 3], "the case needs shrinkage");
}

#[test]
fn popularity_exponent_stops_bestsellers_dominating() {
    let build = |alpha: f64| {
        let cfg = EngineConfig {
            pair_popularity_exponent: alpha,
            ..EngineConfig::default()
        };
        let mut m = ShopModel::new(cfg);
        for (id, t) in [(1, "A"), (2, "Niche"), (9, "Hit")] {
            m.upsert_product(product(id, t, ""));
        }
        let mut n = 0;
        let mut add = |m: &mut ShopModel, lines: &[(ProductId, u32)]| {
            n += 1;
            m.upsert_order(order(n, None, NOW, lines));
        };
        for _ in 0..3 {
            add(&mut m, &[(1, 1), (9, 1)]);
        }
        for _ in 0..2 {
            add(&mut m, &[(1, 1), (2, 1)]);
        }
        for _ in 0..50 {
            add(&mut m, &[(9, 1)]);
        }
        m
    };
    assert_eq!(build(0.5).bought_together(1, 2, NOW)[0].product_id, 2);
    assert_eq!(build(0.0).bought_together(1, 2, NOW)[0].product_id, 9);
}

#[test]
fn bestsellers_decay_with_time_and_respect_type_and_tag() {
    let mut m = shop(&[
        (1, "Old hit", "Tea"),
        (2, "New", "Tea"),
        (3, "Mug", "Kitchen"),
    ]);
    let mut p = product(3, "Mug", "Kitchen");
    p.tags = vec!["Gift".into()];
    p.updated_at = 2;
    m.upsert_product(p);
    m.upsert_order(order(1, None, NOW - 60 * DAY, &[(1, 10)]));
    m.upsert_order(order(2, None, NOW - DAY, &[(2, 4)]));
    m.upsert_order(order(3, None, NOW - DAY, &[(3, 1)]));
    let all = m.bestsellers(None, 3, NOW);
    assert_eq!(ids(&all), vec![2, 3, 1]);
    let expected = 4.0 * 0.5f64.powf(1.0 / 14.0);
    assert!((all[0].score - expected).abs() < 1e-9, "{}", all[0].score);
    let tea = m.bestsellers(Some("Tea"), 1, NOW);
    assert_eq!(tea[0].product_id, 2);
    assert_eq!(tea[0].reason.text(), "Popular in Tea this week");
    let gift = m.bestsellers_with_tag("gift", 1, NOW);
    assert_eq!(gift[0].product_id, 3);
    assert!(matches!(gift[0].reason, Reason::PopularWithTag { .. }));
}

#[test]
fn trending_needs_a_real_rise_not_one_sale() {
    let mut m = shop(&[(1, "Steady", ""), (2, "Rising", ""), (3, "Brand new", "")]);
    let mut n = 0;
    for d in 0..60 {
        n += 1;
        m.upsert_order(order(n, None, NOW - d * DAY, &[(1, 1)]));
    }
    for h in 0..10 {
        n += 1;
        m.upsert_order(order(n, None, NOW - h * 4 * 3600, &[(2, 1)]));
    }
    n += 1;
    m.upsert_order(order(n, None, NOW - 3600, &[(3, 1)]));
    let t = m.trending(3, NOW);
    assert_eq!(t[0].product_id, 2);
    assert_eq!(t[0].reason, Reason::Trending);
    assert!(t
        .iter()
        .all(|r| r.product_id == 2 || r.reason != Reason::Trending));
}

#[test]
fn cart_recommendations_never_contain_cart_lines() {
    let m = hair_shop();
    let recs = m.for_cart(&[1, 3, 1], 4, NOW);
    assert!(!ids(&recs).contains(&1) && !ids(&recs).contains(&3));
    assert_eq!(recs[0].product_id, 2);
    assert!(matches!(
        recs[0].reason,
        Reason::BoughtTogether { with: 1, .. }
    ));
    assert_eq!(recs.len(), 2, "only 2 and 4 are left to show");
}

/// Coffee (10) is re-bought every 30 days by everyone; the grinder (20) once.
fn coffee_shop() -> ShopModel {
    let mut m = shop(&[
        (10, "Coffee", "Pantry"),
        (20, "Grinder", "Gear"),
        (30, "Filter", "Pantry"),
    ]);
    let mut n = 0;
    for c in 1..=4 {
        for k in 0..2 {
            n += 1;
            let at = NOW - 100 * DAY + k * 30 * DAY + c;
            let lines: &[(ProductId, u32)] = if k == 0 {
                &[(10, 1), (20, 1)]
            } else {
                &[(10, 1)]
            };
            m.upsert_order(order(n, Some(c), at, lines));
        }
    }
    m
}

#[test]
fn consumables_come_back_when_due_durables_never() {
    let m = coffee_shop();
    // Customer 1 last bought coffee 70 days ago: due (median interval 30 days).
    let recs = m.for_customer(Some(1), None, 3, NOW);
    assert_eq!(recs[0].product_id, 10);
    assert_eq!(
        recs[0].reason,
        Reason::BuyAgain {
            last_bought_days_ago: 69
        }
    );
    assert!(!ids(&recs).contains(&20), "a grinder is not bought twice");
    // Customer 5 bought coffee yesterday: not due, and not recommended as a neighbour either.
    let mut m = m;
    m.upsert_order(order(99, Some(5), NOW - DAY, &[(10, 1)]));
    let recs = m.for_customer(Some(5), None, 3, NOW);
    assert!(!ids(&recs).contains(&10));
}

#[test]
fn buy_again_follows_the_customers_own_repeats() {
    let mut m = shop(&[
        (10, "Milk", "Dairy"),
        (11, "Candle", "Home"),
        (12, "Jam", "Pantry"),
        (13, "Vase", "Home"),
    ]);
    // Candles are bought once by most buyers: a durable for the shop.
    for c in 1..=4 {
        m.upsert_order(order(c, Some(c), NOW - 200 * DAY, &[(11, 1), (13, 1)]));
    }
    // Customer 9 buys milk weekly, jam once at the start, and candles twice (their habit).
    for k in 0..6 {
        let mut lines = vec![(10, 1)];
        if k == 0 {
            lines.push((12, 1));
        }
        if k == 0 || k == 3 {
            lines.push((11, 1));
        }
        m.upsert_order(order(100 + k, Some(9), NOW - (6 - k) * 7 * DAY, &lines));
    }
    let recs = m.for_customer(Some(9), None, 4, NOW);
    assert_eq!(ids(&recs)[..2], [10, 11], "{recs:?}");
    assert_eq!(
        recs[0].reason.text(),
        "Buy again: you last bought this 7 days ago"
    );
    assert!(recs[0].score > recs[1].score);
    // Jam, bought once and skipped in five orders since, is neither buy-again nor discovery.
    assert!(!ids(&recs).contains(&12));
    // A candle buyer who did not come back for one is not shown it again, but gets discovery.
    let recs = m.for_customer(Some(1), None, 2, NOW);
    assert!(!ids(&recs).contains(&11) && !ids(&recs).contains(&13));
    assert!(recs
        .iter()
        .all(|r| !matches!(r.reason, Reason::BuyAgain { .. })));
}

#[test]
fn customer_neighbours_and_favourite_type_fallback() {
    let mut m = hair_shop();
    m.upsert_order(order(50, Some(7), NOW - DAY, &[(1, 1)]));
    m.upsert_order(order(51, None, NOW - 2 * DAY, &[(4, 1)]));
    let recs = m.for_customer(Some(7), None, 4, NOW);
    assert_eq!(recs[0].product_id, 2);
    assert_eq!(recs[0].reason.text(), "Because you bought Shampoo");
    assert!(!ids(&recs).contains(&1));
    assert_eq!(ids(&recs)[1..], [4, 3]);
    assert!(matches!(recs[1].reason, Reason::PopularInType { .. }));
    assert_eq!(recs[2].reason, Reason::Bestseller);
    // An unknown shopper still gets a full shelf.
    assert_eq!(m.for_customer(None, None, 3, NOW).len(), 3);
}

#[test]
fn fallback_chain_fills_shelf_without_any_sales() {
    let m = shop(&[(1, "A", "T"), (2, "B", "T"), (3, "C", "U"), (4, "D", "U")]);
    let recs = m.bought_together(1, 3, NOW);
    assert_eq!(ids(&recs), vec![4, 3, 2]);
    assert!(recs.iter().all(|r| r.reason == Reason::FromCatalog));
    assert!(m.bought_together(1, 0, NOW).is_empty());
}

#[test]
fn pins_first_excludes_removed_unrecommendable_never_shown() {
    let mut m = hair_shop();
    let mut hidden = product(4, "Comb", "Hair");
    hidden.recommendable = false;
    hidden.updated_at = 5;
    m.upsert_product(hidden);
    m.upsert_product(product(5, "Brush", "Hair"));
    m.set_rules(Rules {
        global_pins: vec![5, 4],
        global_excludes: vec![],
        pins_for: [(1, vec![3])].into_iter().collect(),
        excludes_for: [(1, vec![2])].into_iter().collect(),
    });
    let recs = m.bought_together(1, 5, NOW);
    assert_eq!(ids(&recs)[..2], [3, 5]);
    assert!(recs[..2].iter().all(|r| r.reason == Reason::Pinned));
    assert!(!ids(&recs).contains(&2), "excluded on shampoo's page");
    assert!(!ids(&recs).contains(&4), "unrecommendable even when pinned");
    // The per-product exclude does not apply elsewhere.
    assert!(ids(&m.bought_together(3, 5, NOW)).contains(&2));
}

#[test]
fn cancellation_and_refund_subtract_exactly() {
    let base = hair_shop();
    let mut m = hair_shop();
    m.upsert_order(order(100, Some(9), NOW - DAY, &[(3, 1), (4, 7)]));
    let mut cancel = order(100, Some(9), NOW - DAY, &[(3, 1), (4, 7)]);
    cancel.counts = false;
    cancel.updated_at = NOW;
    m.upsert_order(cancel.clone());
    // A stale version arriving late changes nothing.
    m.upsert_order(order(100, Some(9), NOW - DAY, &[(3, 1), (4, 7)]));
    assert_eq!(m.bestsellers(None, 4, NOW), base.bestsellers(None, 4, NOW));
    assert_eq!(
        m.for_customer(Some(9), None, 4, NOW),
        base.for_customer(Some(9), None, 4, NOW)
    );
    assert_eq!(m.pair_stats(3, 4), None);

    // Refund: 2 units of soap in order 4 become 1.
    let mut refunded = order(4, None, NOW - 4 * DAY, &[(3, 1)]);
    refunded.updated_at = NOW;
    let before = m.bestsellers(Some("Body"), 1, NOW)[0].score;
    m.upsert_order(refunded);
    let after = m.bestsellers(Some("Body"), 1, NOW)[0].score;
    let one_unit = 0.5f64.powf(4.0 / 14.0);
    assert!((before - after - one_unit).abs() < 1e-9);
    m.remove_order(4);
    m.upsert_order(order(4, None, NOW, &[(3, 9)]));
    let removed = m.bestsellers(Some("Body"), 1, NOW)[0].score;
    assert!(
        (after - removed - one_unit).abs() < 1e-9,
        "removed orders stay removed"
    );
}

#[test]
fn stale_product_versions_lose() {
    let mut m = hair_shop();
    let mut gone = product(2, "Conditioner", "Hair");
    gone.recommendable = false;
    gone.updated_at = 10;
    m.upsert_product(gone);
    m.upsert_product(product(2, "Conditioner", "Hair"));
    assert!(!ids(&m.bought_together(1, 5, NOW)).contains(&2));
    m.remove_product(3, 20);
    assert!(!ids(&m.bought_together(1, 5, NOW)).contains(&3));
}

#[test]
fn also_viewed_pairs_within_a_session_only() {
    let mut m = hair_shop();
    let view = |client: &str, p: ProductId, at: Ts| BrowseFacts {
        client_id: client.into(),
        customer_id: None,
        product_id: p,
        kind: BrowseKind::View,
        at,
    };
    for c in ["a", "b"] {
        m.record_browse(view(c, 3, NOW - 7200));
        m.record_browse(view(c, 4, NOW - 7000));
        // Two hours later: a new session, so 4 and 1 are not co-viewed.
        m.record_browse(view(c, 1, NOW));
    }
    let recs = m.also_viewed(3, 2, NOW);
    assert_eq!(recs[0].product_id, 4);
    assert_eq!(
        recs[0].reason.text(),
        "Viewed together with Soap in 2 visits"
    );
    assert_eq!(m.pair_stats(4, 1).map(|s| s.sessions_together), None);
    // An anonymous client gets neighbours of what it viewed.
    let mine = m.for_customer(None, Some("a"), 3, NOW);
    assert!(mine
        .iter()
        .any(|r| matches!(r.reason, Reason::BecauseYouViewed { .. })));
}

#[test]
fn forget_customer_keeps_baskets_drops_profile() {
    let mut m = coffee_shop();
    let pairs = m.pair_stats(10, 20);
    m.forget_customer(1);
    assert_eq!(m.pair_stats(10, 20), pairs);
    let recs = m.for_customer(Some(1), None, 3, NOW);
    assert!(recs
        .iter()
        .all(|r| !matches!(r.reason, Reason::BuyAgain { .. })));
    assert_eq!(m.stats().customers, 3);
}

#[test]
fn decades_of_data_rebase_without_losing_exactness() {
    let mut m = shop(&[(1, "A", ""), (2, "B", "")]);
    let old = NOW - 20 * 365 * DAY;
    m.upsert_order(order(1, None, old, &[(1, 1), (2, 1)]));
    m.upsert_order(order(2, None, NOW, &[(2, 3)]));
    m.upsert_order(order(3, None, NOW, &[(1, 1)]));
    let s = m.bestsellers(None, 2, NOW);
    assert_eq!(ids(&s), vec![2, 1]);
    assert!((s[0].score - 3.0).abs() < 1e-9 && s[0].score.is_finite());
    m.remove_order(1);
    assert_eq!(m.pair_stats(1, 2), None);
}

#[test]
fn stats_count_pairs_and_memory() {
    let m = hair_shop();
    let s = m.stats();
    assert_eq!(
        (s.products, s.orders, s.counting_orders, s.pairs),
        (4, 8, 8, 1)
    );
    assert!(s.approx_bytes > s.pair_bytes && s.pair_bytes > 0);
}
