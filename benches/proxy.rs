//! The app-proxy signature check every storefront widget request pays
//! (`shopify::app_proxy::verify`), on a query shaped like the theme block's: placement, product,
//! limit, heading, client id and Shopify's own parameters. Run with
//! `cargo bench --bench proxy`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use secrecy::SecretString;
use shoprecs::shopify::app_proxy;

const SECRET: &str = "bench-secret";
const NOW: i64 = 1_795_000_000;

fn query() -> String {
    let unsigned = format!(
        "placement=product&product_id=8000000248&limit=4&heading=You%20may%20also%20like\
         &layout=grid&show_price=1&client_id=0b5c7a1e-3f9d-4e8a-9c2b-7d6e5f4a3b21\
         &shop=shoprecs-demo.myshopify.com&logged_in_customer_id=&path_prefix=%2Fapps%2Frecs\
         &timestamp={NOW}"
    );
    let signature = app_proxy::sign(SECRET, &unsigned).expect("signs");
    format!("{unsigned}&signature={signature}")
}

fn verify(c: &mut Criterion) {
    let query = query();
    let secrets = [SecretString::from(SECRET)];
    c.bench_function("app_proxy::verify (12 parameters)", |b| {
        b.iter(|| {
            let verified = app_proxy::verify(secrets.iter(), black_box(&query), NOW, 90);
            black_box(verified.expect("valid"))
        })
    });
}

criterion_group!(benches, verify);
criterion_main!(benches);
