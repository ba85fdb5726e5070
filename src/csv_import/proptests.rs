//! No input makes the parsers panic, and what they report stays within the file.

use proptest::prelude::*;

use super::orders::OrdersReader;
use super::products::ProductsReader;

const ORDERS_HEADER: &str = "Name,Email,Created at,Lineitem quantity,Lineitem name,Lineitem sku,\
Lineitem price,Total,Cancelled at,Id\n";
const PRODUCTS_HEADER: &str = "Handle,Title,Variant SKU,Variant Price,Published,Gift Card,\
Variant Inventory Qty,Option1 Value\n";

/// Bytes that look a bit like CSV, so the parsers get past the header often.
fn csvish() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b",".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\"".to_vec()),
        Just(b"#1001".to_vec()),
        Just(b"2025-10-07 09:50:26 +0200".to_vec()),
        Just(b"12.50".to_vec()),
        Just(b"-3".to_vec()),
        Just(b"TRUE".to_vec()),
        Just(vec![0xff, 0xfe]),
        proptest::collection::vec(any::<u8>(), 0..8),
    ];
    proptest::collection::vec(piece, 0..60).prop_map(|v| v.concat())
}

fn check_orders(bytes: &[u8]) {
    let lines = bytes.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    if let Ok(reader) = OrdersReader::new(bytes) {
        for item in reader {
            let line = match item {
                Ok(o) => o.line,
                Err(s) => s.line,
            };
            assert!(
                line <= lines,
                "line {line} beyond the input's {lines} lines"
            );
        }
    }
}

fn check_products(bytes: &[u8]) {
    if let Ok(reader) = ProductsReader::new(bytes) {
        for item in reader {
            let _ = item;
        }
    }
}

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        check_orders(&bytes);
        check_products(&bytes);
    }

    #[test]
    fn csvish_bodies_under_a_real_header_never_panic(body in csvish()) {
        let mut orders = ORDERS_HEADER.as_bytes().to_vec();
        orders.extend_from_slice(&body);
        check_orders(&orders);
        let mut products = PRODUCTS_HEADER.as_bytes().to_vec();
        products.extend_from_slice(&body);
        check_products(&products);
    }
}
