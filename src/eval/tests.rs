//! Split correctness and an end-to-end run on the orders fixture (its README has the facts).

use chrono::NaiveDate;

use super::dataset::{Dataset, Split, SplitRule};
use super::*;
use crate::csv_import::OrdersReader;

fn fixture() -> Dataset {
    let csv = include_str!("../../tests/fixtures/csv/orders_small.csv");
    let orders = OrdersReader::new(csv.as_bytes())
        .expect("header")
        .map(|o| o.expect("the fixture has no bad rows"));
    Dataset::from_orders(orders)
}

fn names(ds: &Dataset, idx: &[usize]) -> Vec<String> {
    let mut v: Vec<String> = idx.iter().map(|&i| ds.orders[i].key.clone()).collect();
    v.sort();
    v
}

fn product(ds: &Dataset, key: &str) -> ProductId {
    ds.products
        .values()
        .find(|p| p.key == key)
        .map(|p| p.id)
        .unwrap_or_else(|| panic!("no product {key}"))
}

#[test]
fn dataset_drops_cancelled_orders_and_keys_products_by_sku_else_name() {
    let ds = fixture();
    assert_eq!(ds.orders.len(), 10);
    assert_eq!(ds.cancelled, 1);
    assert_eq!(ds.customers.len(), 4, "dave still has #1010");
    assert_eq!(
        ds.products.len(),
        7,
        "ACC-DRIP-BLK was only in the cancelled order"
    );
    assert!(ds.products.values().any(|p| p.key == "name:Ceramic Mug"));
    assert!(ds.orders.windows(2).all(|w| w[0].at <= w[1].at));
    let guests = ds.orders.iter().filter(|o| o.customer.is_none()).count();
    assert_eq!(guests, 2);
    let again = Dataset::from_orders(
        OrdersReader::new(include_str!("../../tests/fixtures/csv/orders_small.csv").as_bytes())
            .expect("header")
            .flatten(),
    );
    assert_eq!(
        ds.products.keys().collect::<Vec<_>>(),
        again.products.keys().collect::<Vec<_>>(),
        "ids are stable"
    );
}

#[test]
fn last_order_split_tests_each_repeat_customers_last_order() {
    let ds = fixture();
    let s = Split::new(&ds, SplitRule::LastOrder);
    assert_eq!(names(&ds, &s.test), ["#1007", "#1008", "#1009"]);
    assert_eq!(s.train.len(), 7, "guests and one-order dave only train");
    assert_eq!(s.customers.len(), 3);
    let alice = &s.customers[0];
    assert_eq!(alice.customer, 1);
    let mut rel = alice.relevant.clone();
    rel.sort_unstable();
    let mut want = vec![
        product(&ds, "sku:COF-HB-250"),
        product(&ds, "sku:ACC-FILT-100"),
        product(&ds, "sku:ACC-DRIP-WHT"),
    ];
    want.sort_unstable();
    assert_eq!(rel, want);
    let o1009 = ds.orders.iter().find(|o| o.key == "#1009").expect("#1009");
    assert_eq!(alice.now, o1009.at, "asked at the moment of the test order");
    assert_eq!(s.carts.len(), 3);
    let c1008 = s.carts.iter().find(|c| c.order == "#1008").expect("#1008");
    assert_eq!(c1008.hidden, product(&ds, "name:Ceramic Mug"));
    assert_eq!(
        c1008.cart,
        [
            product(&ds, "sku:EQP-GRIND"),
            product(&ds, "sku:COF-ETH-250")
        ]
    );
}

#[test]
fn date_split_tests_orders_from_the_date_and_only_customers_with_history() {
    let ds = fixture();
    let date = NaiveDate::from_ymd_opt(2025, 10, 1).expect("date");
    let s = Split::new(&ds, SplitRule::Date(date));
    assert_eq!(
        names(&ds, &s.train),
        ["#1001", "#1002", "#1003", "#1004", "#1005", "#1007"]
    );
    assert_eq!(names(&ds, &s.test), ["#1008", "#1009", "#1010", "#1011"]);
    let who: Vec<CustomerId> = s.customers.iter().map(|q| q.customer).collect();
    assert_eq!(who, [1, 3], "dave's only earlier order was cancelled");
    let split_at = date
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc()
        .timestamp();
    assert!(s.customers.iter().all(|q| q.now == split_at));
    assert_eq!(s.now, split_at);
    let carts: Vec<&str> = s.carts.iter().map(|c| c.order.as_str()).collect();
    assert_eq!(
        carts,
        ["#1008", "#1009", "#1011"],
        "a guest's basket counts; #1010 has one product"
    );
}

#[test]
fn end_to_end_on_the_fixture() {
    let ds = fixture();
    let ev = evaluate(&ds, SplitRule::LastOrder, 10, EngineConfig::default());
    let r = &ev.report;
    assert_eq!((r.train_orders, r.test_orders, r.products), (7, 3, 7));
    assert_eq!(r.next_purchase.len(), 3);
    assert_eq!(r.basket_completion.len(), 2);
    for m in r.next_purchase.iter().chain(&r.basket_completion) {
        let s = m.scores;
        assert!(s.queries > 0);
        for v in [s.hit_rate, s.precision, s.recall, s.ndcg, s.coverage] {
            assert!((0.0..=1.0).contains(&v), "{m:?}");
        }
    }
    // 7 products and k = 10: every full-catalogue list holds every relevant item.
    let pop = &r.next_purchase[1].scores;
    assert_eq!((pop.hit_rate, pop.recall), (1.0, 1.0));
    // #1007's cart (filters) was bought with house blend in #1001: the engine must find it.
    let engine_b = &ev.lists[3];
    let q = ev
        .split
        .carts
        .iter()
        .position(|c| c.order == "#1007")
        .expect("#1007");
    assert!(engine_b.lists[q].contains(&ev.split.carts[q].hidden));
    assert!(render_text(r).contains("basket completion (3 orders"));
    let json = serde_json::to_value(r).expect("json");
    assert!(json["next_purchase"][0]["ndcg"].is_number());

    let dir = tempfile::tempdir().expect("tempdir");
    dump::write(dir.path(), &ds, &ev).expect("dump");
    let train = std::fs::read_to_string(dir.path().join("train.csv")).expect("train.csv");
    assert!(train.starts_with("user_key,order_key,product_id,timestamp\n"));
    assert!(!train.contains('@'), "no e-mails in the dump");
    let recs = std::fs::read_to_string(dir.path().join("recs.csv")).expect("recs.csv");
    assert!(recs
        .lines()
        .any(|l| l.starts_with("shoprecs,basket_completion,#1007,1,")));
}

#[test]
fn engine_settings_parse_by_name() {
    let cfg = command::engine_config(&[
        "min_pair_support=1".into(),
        "pair_popularity_exponent=0.3".into(),
    ])
    .expect("valid");
    assert_eq!(cfg.min_pair_support, 1);
    assert_eq!(cfg.pair_popularity_exponent, 0.3);
    assert!(command::engine_config(&["nope=1".into()]).is_err());
    assert!(command::engine_config(&["min_pair_support=x".into()]).is_err());
}
