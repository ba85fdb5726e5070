//! Engine benchmarks on a synthetic shop: 100k products, 1M past orders (skewed popularity,
//! 1–8 lines, lines mostly from one "collection" of 50 products), 60% of orders by 200k known
//! customers. Run with `cargo bench --bench engine`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use shoprecs::engine::{
    BrowseFacts, BrowseKind, EngineConfig, OrderFacts, ProductFacts, ShopModel,
};

const PRODUCTS: i64 = 100_000;
const ORDERS: i64 = 1_000_000;
const CUSTOMERS: i64 = 200_000;
const COLLECTION: i64 = 50;
const NOW: i64 = 1_700_000_000;
const SPAN: i64 = 365 * 86_400;

/// SplitMix64: tiny, fast and reproducible, so no extra dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: i64) -> i64 {
        (self.next() % n as u64) as i64
    }
    /// Skewed pick in [0, n): u^3 puts most mass on low indices (a long tail).
    fn skewed(&mut self, n: i64) -> i64 {
        ((n as f64) * self.unit().powi(3)) as i64
    }
}

fn product_id(i: i64) -> i64 {
    7_000_000_000 + i
}

fn products() -> Vec<ProductFacts> {
    (0..PRODUCTS)
        .map(|i| ProductFacts {
            id: product_id(i),
            title: format!("Product {i}"),
            product_type: format!("Type {}", i % 300),
            vendor: format!("Vendor {}", i % 50),
            tags: vec![format!("tag{}", i % 1000), format!("col{}", i / COLLECTION)],
            recommendable: i % 20 != 0,
            updated_at: 1,
        })
        .collect()
}

fn random_order(rng: &mut Rng, id: i64, at: i64) -> OrderFacts {
    let n = 1 + rng.below(8);
    let collection = rng.skewed(PRODUCTS / COLLECTION);
    let lines = (0..n)
        .map(|_| {
            let p = if rng.unit() < 0.7 {
                collection * COLLECTION + rng.skewed(COLLECTION)
            } else {
                rng.skewed(PRODUCTS)
            };
            (product_id(p), 1 + (rng.below(10) / 8) as u32)
        })
        .collect();
    OrderFacts {
        order_id: id,
        customer_id: (rng.unit() < 0.6).then(|| 1 + rng.below(CUSTOMERS)),
        at,
        updated_at: at,
        counts: rng.unit() > 0.01,
        lines,
    }
}

fn orders(rng: &mut Rng) -> Vec<OrderFacts> {
    (0..ORDERS)
        .map(|i| random_order(rng, i + 1, NOW - SPAN + i * SPAN / ORDERS))
        .collect()
}

fn build(orders: Vec<OrderFacts>) -> ShopModel {
    let mut m = ShopModel::new(EngineConfig::default());
    for p in products() {
        m.upsert_product(p);
    }
    m.upsert_orders(orders);
    m
}

/// One pixel event: clients browse a few products of one collection per session.
fn random_browse(rng: &mut Rng, client: u64, at: i64) -> BrowseFacts {
    let collection = (client as i64 * 7919) % (PRODUCTS / COLLECTION);
    let p = if rng.unit() < 0.8 {
        collection * COLLECTION + rng.skewed(COLLECTION)
    } else {
        rng.skewed(PRODUCTS)
    };
    BrowseFacts {
        client_id: format!("client-{client}"),
        customer_id: None,
        product_id: product_id(p),
        kind: if rng.unit() < 0.85 {
            BrowseKind::View
        } else {
            BrowseKind::AddToCart
        },
        at,
    }
}

/// Times `n` calls of `f(i)` one by one and prints p50 / p99 / max: criterion reports means,
/// but a widget waits for the slow tail (popular products, heavy carts).
fn latency(name: &str, n: usize, mut f: impl FnMut(usize)) {
    let mut t: Vec<Duration> = (0..n)
        .map(|i| {
            let s = Instant::now();
            f(i);
            s.elapsed()
        })
        .collect();
    t.sort_unstable();
    println!(
        "latency {name:<34} n={n} p50 {:>9.2?}  p99 {:>9.2?}  max {:>9.2?}",
        t[n / 2],
        t[n * 99 / 100],
        t[n - 1]
    );
}

fn benches(c: &mut Criterion) {
    let mut rng = Rng(42);
    let all = orders(&mut rng);
    let lines: u64 = all.iter().map(|o| o.lines.len() as u64).sum();
    let started = std::time::Instant::now();
    let mut model = build(all.clone());
    let built_in = started.elapsed();
    let s = model.stats();
    println!(
        "shop: {} products, {} orders, {} lines, built once in {:.2?} ({:.2}M lines/s)",
        s.products,
        s.orders,
        lines,
        built_in,
        lines as f64 / built_in.as_secs_f64() / 1e6
    );
    println!(
        "memory: {} co-purchase pairs, pair table {:.1} MB = {:.1} bytes/pair; whole model {:.1} MB = {:.1} bytes/pair",
        s.pairs,
        s.pair_bytes as f64 / 1e6,
        s.pair_bytes as f64 / s.pairs as f64,
        s.approx_bytes as f64 / 1e6,
        s.approx_bytes as f64 / s.pairs as f64
    );

    // Storefront traffic for co-views: 300k events of 40k clients over the last 30 days.
    let mut brng = Rng(5);
    let started = Instant::now();
    for k in 0..300_000i64 {
        // Six consecutive events (48 s) per visit, so visits form co-view sessions.
        let client = ((k / 6) % 40_000) as u64;
        model.record_browse(random_browse(&mut brng, client, NOW - 30 * 86_400 + k * 8));
    }
    println!(
        "browse: 300k events in {:.2?}, {} co-view pairs",
        started.elapsed(),
        model.stats().view_pairs
    );

    let mut g = c.benchmark_group("engine");
    g.sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));

    let mut next_id = ORDERS + 1;
    let mut order_rng = Rng(7);
    g.bench_function("apply_one_5_line_order", |b| {
        b.iter(|| {
            next_id += 1;
            let mut o = random_order(&mut order_rng, next_id, NOW);
            o.lines.truncate(5);
            while o.lines.len() < 5 {
                o.lines.push((product_id(order_rng.skewed(PRODUCTS)), 1));
            }
            o.counts = true;
            model.upsert_order(black_box(o));
        })
    });

    let mut browse_at = NOW;
    g.bench_function("record_browse", |b| {
        b.iter(|| {
            browse_at += 5;
            let client = order_rng.below(40_000) as u64;
            model.record_browse(black_box(random_browse(&mut order_rng, client, browse_at)));
        })
    });

    let mut q = Rng(99);
    let popular: Vec<i64> = (0..4096).map(|_| product_id(q.skewed(PRODUCTS))).collect();
    let uniform: Vec<i64> = (0..4096).map(|_| product_id(q.below(PRODUCTS))).collect();
    let carts: Vec<Vec<i64>> = (0..4096)
        .map(|_| (0..5).map(|_| product_id(q.skewed(PRODUCTS))).collect())
        .collect();
    let customers: Vec<i64> = (0..4096).map(|_| 1 + q.below(CUSTOMERS)).collect();
    let mut i = 0usize;
    let mut next = || {
        i = (i + 1) % 4096;
        i
    };
    g.bench_function("bought_together_popularity_weighted_product", |b| {
        b.iter(|| black_box(model.bought_together(popular[next()], 10, NOW)))
    });
    g.bench_function("bought_together_uniform_product", |b| {
        b.iter(|| black_box(model.bought_together(uniform[next()], 10, NOW)))
    });
    g.bench_function("bought_together_top_hub_product", |b| {
        b.iter(|| black_box(model.bought_together(product_id(0), 10, NOW)))
    });
    g.bench_function("also_viewed_popularity_weighted_product", |b| {
        b.iter(|| black_box(model.also_viewed(popular[next()], 10, NOW)))
    });
    g.bench_function("for_cart_5_lines", |b| {
        b.iter(|| black_box(model.for_cart(&carts[next()], 10, NOW)))
    });
    g.bench_function("for_customer", |b| {
        b.iter(|| black_box(model.for_customer(Some(customers[next()]), None, 10, NOW)))
    });
    g.bench_function("bestsellers_by_type", |b| {
        b.iter(|| black_box(model.bestsellers(Some("Type 7"), 10, NOW)))
    });
    g.finish();

    // Tail latency over a realistic mix: popularity-weighted products with every tenth query
    // on one of the ten busiest products (the worst case for neighbour scans).
    let busiest: Vec<i64> = (0..10).map(product_id).collect();
    let n = 10_000;
    let product_at = |i: usize| {
        if i.is_multiple_of(10) {
            busiest[(i / 10) % 10]
        } else {
            popular[i % 4096]
        }
    };
    latency("bought_together (mix + top-10)", n, |i| {
        black_box(model.bought_together(product_at(i), 10, NOW));
    });
    latency("bought_together (top-10 busiest only)", n, |i| {
        black_box(model.bought_together(busiest[i % 10], 10, NOW));
    });
    latency("also_viewed (mix + top-10)", n, |i| {
        black_box(model.also_viewed(product_at(i), 10, NOW));
    });
    latency("for_cart 5 lines (1 busiest + 4 weighted)", n, |i| {
        let mut cart = carts[i % 4096].clone();
        cart[0] = busiest[i % 10];
        black_box(model.for_cart(&cart, 10, NOW));
    });
    latency("for_customer", n, |i| {
        black_box(model.for_customer(Some(customers[i % 4096]), None, 10, NOW));
    });
    latency("for_customer + browsing client", n, |i| {
        let client = format!("client-{}", i % 40_000);
        black_box(model.for_customer(Some(customers[i % 4096]), Some(&client), 10, NOW));
    });
    drop(model);

    let mut g = c.benchmark_group("rebuild");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(100))
        .measurement_time(Duration::from_secs(30))
        .throughput(Throughput::Elements(lines));
    g.bench_function("replay_1M_orders_order_lines", |b| {
        b.iter_batched(|| all.clone(), build, BatchSize::PerIteration)
    });
    g.finish();
}

criterion_group!(engine, benches);
criterion_main!(engine);
