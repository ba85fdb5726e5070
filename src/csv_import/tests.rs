//! Parser tests on hand-written snippets in the real header layout, and on the fixtures.

use chrono::{TimeZone, Utc};
use rust_decimal::Decimal;

use super::orders::OrdersReader;
use super::products::ProductsReader;
use super::{CsvFileError, ImportedOrder, ImportedProduct, Skipped};

const ORDERS_HEADER: &str = "Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,\
Accepts Marketing,Currency,Subtotal,Shipping,Taxes,Total,Discount Code,Discount Amount,\
Shipping Method,Created at,Lineitem quantity,Lineitem name,Lineitem price,\
Lineitem compare at price,Lineitem sku,Lineitem requires shipping,Lineitem taxable,\
Lineitem fulfillment status,Notes,Cancelled at,Refunded Amount,Vendor,Id,Tags";

/// An orders row: order-level fields only when `created` is given (a first row).
fn order_row(name: &str, email: &str, created: &str, qty: &str, item: &str, sku: &str) -> String {
    let (fin, cur, total, id) = if created.is_empty() {
        ("", "", "", String::new())
    } else {
        ("paid", "EUR", "20.00", format!("58{}", &name[1..]))
    };
    format!(
        "{name},{email},{fin},,,,,{cur},,,,{total},,,,{created},{qty},{item},9.50,,{sku},true,true,\
         fulfilled,,,,Roastery Co,{id},"
    )
}

fn parse_orders(csv: &str) -> (Vec<ImportedOrder>, Vec<Skipped>) {
    let mut ok = Vec::new();
    let mut skipped = Vec::new();
    for item in OrdersReader::new(csv.as_bytes()).expect("header") {
        match item {
            Ok(o) => ok.push(o),
            Err(s) => skipped.push(s),
        }
    }
    (ok, skipped)
}

fn parse_products(csv: &str) -> (Vec<ImportedProduct>, Vec<Skipped>) {
    let mut ok = Vec::new();
    let mut skipped = Vec::new();
    for item in ProductsReader::new(csv.as_bytes()).expect("header") {
        match item {
            Ok(p) => ok.push(p),
            Err(s) => skipped.push(s),
        }
    }
    (ok, skipped)
}

#[test]
fn groups_line_items_by_name_with_blank_order_columns_on_continuation_rows() {
    let csv = [
        ORDERS_HEADER.to_owned(),
        order_row(
            "#1002",
            " Bob@Example.COM ",
            "2025-10-07 09:50:26 +0200",
            "2",
            "House Blend Coffee - 250g",
            "COF-HB-250",
        ),
        order_row("#1002", "", "", "1", "Ceramic Mug", ""),
        order_row(
            "#1001",
            "",
            "2025-10-06 23:00:00 -0500",
            "1",
            "Paper Filters (100)",
            "ACC-FILT-100",
        ),
    ]
    .join("\n");
    let (orders, skipped) = parse_orders(&csv);
    assert_eq!(skipped, vec![]);
    assert_eq!(orders.len(), 2);
    let o = &orders[0];
    assert_eq!(o.name, "#1002");
    assert_eq!(o.order_id, Some(581002));
    assert_eq!(o.customer_key.as_deref(), Some("bob@example.com"));
    assert_eq!(
        o.created_at,
        Utc.with_ymd_and_hms(2025, 10, 7, 7, 50, 26).unwrap()
    );
    assert_eq!(o.financial_status.as_deref(), Some("paid"));
    assert_eq!(o.currency.as_deref(), Some("EUR"));
    assert_eq!(o.total, Some(Decimal::new(2000, 2)));
    assert_eq!(o.cancelled_at, None);
    assert_eq!(o.line, 2);
    assert_eq!(o.lines.len(), 2);
    assert_eq!(o.lines[0].quantity, 2);
    assert_eq!(o.lines[0].sku, "COF-HB-250");
    assert_eq!(o.lines[0].price, Some(Decimal::new(950, 2)));
    assert_eq!(o.lines[1].name, "Ceramic Mug");
    assert_eq!(o.lines[1].sku, "", "an empty SKU stays empty");
    assert_eq!(o.lines[1].line_number, 3);
    assert!(!o.lines[1].gift_card);
    let guest = &orders[1];
    assert_eq!(guest.customer_key, None);
    assert_eq!(
        guest.created_at,
        Utc.with_ymd_and_hms(2025, 10, 7, 4, 0, 0).unwrap()
    );
}

#[test]
fn multi_line_quoted_fields_keep_file_line_numbers() {
    let first = order_row(
        "#1001",
        "a@example.com",
        "2025-10-07 09:50:26 +0200",
        "1",
        "Ceramic Mug",
        "",
    );
    // Put a two-line note in the Notes column (index 24).
    let mut fields: Vec<String> = first.split(',').map(str::to_owned).collect();
    fields[24] = "\"Leave at the door,\nring twice\"".to_owned();
    let csv = [
        ORDERS_HEADER.to_owned(),
        fields.join(","),
        order_row("#1001", "", "", "x", "Paper Filters (100)", "ACC-FILT-100"),
        order_row("#1001", "", "", "3", "Burr Grinder", "EQP-GRIND"),
    ]
    .join("\n");
    let (orders, skipped) = parse_orders(&csv);
    assert_eq!(orders.len(), 1);
    assert_eq!(
        orders[0].lines.len(),
        2,
        "the bad row is left out, the order stays"
    );
    assert_eq!(
        orders[0].lines[1].line_number, 5,
        "line 2 + 1 continuation + 1 bad row"
    );
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0].line, 4);
    assert!(
        skipped[0].reason.contains("Lineitem quantity"),
        "{}",
        skipped[0].reason
    );
    assert!(skipped[0].reason.contains("\"x\""), "{}", skipped[0].reason);
}

#[test]
fn bad_rows_are_skipped_with_their_line_and_parsing_goes_on() {
    let csv = [
        ORDERS_HEADER.to_owned(),
        order_row("#1", "", "yesterday", "1", "Ceramic Mug", ""),
        order_row("#1", "", "", "1", "Burr Grinder", ""),
        order_row(
            "#2",
            "",
            "2025-10-07 09:50:26 +0200",
            "-1",
            "Ceramic Mug",
            "",
        ),
        order_row("#3", "", "", "1", "Ceramic Mug", ""),
        "#4,short,row".to_owned(),
        order_row("#5", "", "2025-10-07 09:50:26 +0200", "1", "", ""),
        order_row(
            "#6",
            "",
            "2025-10-07 09:50:26 +0200",
            "1",
            "Ceramic Mug",
            "",
        ),
        order_row("#2", "", "", "1", "Ceramic Mug", ""),
    ]
    .join("\n");
    let (orders, skipped) = parse_orders(&csv);
    let lines: Vec<u64> = skipped.iter().map(|s| s.line).collect();
    assert_eq!(lines, vec![2, 4, 5, 6, 7, 9], "{skipped:#?}");
    assert!(skipped[0].reason.contains("Created at"));
    assert!(
        skipped[2].reason.contains("first row"),
        "{}",
        skipped[2].reason
    );
    assert!(skipped[3].reason.contains("fields"));
    assert!(skipped[5].reason.contains("appears again"));
    let names: Vec<&str> = orders.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, vec!["#2", "#5", "#6"]);
    assert!(orders[0].lines.is_empty() && orders[1].lines.is_empty());
}

#[test]
fn a_missing_required_header_is_one_clear_error() {
    let csv = "Name,Email,Created at,Lineitem name\n#1,,2025-10-07 09:50:26 +0200,Mug\n";
    let Err(err) = OrdersReader::new(csv.as_bytes()) else {
        panic!("accepted a file without Lineitem quantity");
    };
    assert!(
        matches!(&err, CsvFileError::MissingColumns { missing, .. } if missing == &vec!["Lineitem quantity"])
    );
    assert_eq!(
        err.to_string(),
        "not a Shopify orders export: the header has no \"Lineitem quantity\" column"
    );
    let Err(err) = ProductsReader::new(ORDERS_HEADER.as_bytes()) else {
        panic!("an orders header is not a products header");
    };
    assert!(
        err.to_string()
            .contains("\"Handle\", \"Title\", \"Variant SKU\""),
        "{err}"
    );
    assert!(OrdersReader::new(&b""[..]).is_err());
}

#[test]
fn headers_match_by_name_in_any_order_with_a_bom_and_extra_columns() {
    let csv =
        "\u{feff}Lineitem name,Something New,created at,Name,Lineitem quantity,Cancelled at\n\
               Mug,x,2025-10-07 09:50:26 +0200,#9,4,2025-10-08 10:00:00 +0200\n";
    let (orders, skipped) = parse_orders(csv);
    assert!(skipped.is_empty(), "{skipped:?}");
    assert_eq!(orders[0].lines[0].quantity, 4);
    assert_eq!(orders[0].order_id, None);
    assert_eq!(
        orders[0].cancelled_at,
        Some(Utc.with_ymd_and_hms(2025, 10, 8, 8, 0, 0).unwrap())
    );
}

const PRODUCTS_HEADER: &str = "Handle,Title,Body (HTML),Vendor,Product Category,Type,Tags,\
Published,Option1 Name,Option1 Value,Option2 Name,Option2 Value,Option3 Name,Option3 Value,\
Variant SKU,Variant Grams,Variant Inventory Tracker,Variant Inventory Qty,\
Variant Inventory Policy,Variant Fulfillment Service,Variant Price,Variant Compare At Price,\
Image Src,Image Position,Gift Card,Status";

#[test]
fn products_group_variants_and_image_rows_by_handle() {
    let csv = format!(
        "{PRODUCTS_HEADER}\n\
         mug,Mug,\"<p>Big.\nReally.</p>\",Roastery,,Merch,\"a, b ,\",TRUE,Colour,Red,Size,L,,,MUG-R-L,300,shopify,5,continue,manual,14.00,16.00,https://x/1.jpg,1,FALSE,\n\
         mug,,,,,,,,,Blue,,S,,,,300,,,deny,manual,14.00,,,,,\n\
         mug,,,,,,,,,,,,,,,,,,,,,,https://x/2.jpg,2,,\n\
         mug,,,,,,,,,Green,,M,,,MUG-G-M,300,shopify,lots,deny,manual,14.00,,,,,\n\
         kit,Kit,,Brewgear,,,,FALSE,Title,Default Title,,,,,KIT,1,,,,manual,9.00,,,,,Draft\n"
    );
    let (products, skipped) = parse_products(&csv);
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert_eq!(skipped[0].line, 6);
    assert!(skipped[0].reason.contains("Variant Inventory Qty"));
    let mug = &products[0];
    assert_eq!(mug.handle, "mug");
    assert_eq!(mug.line, 2);
    assert_eq!(mug.tags, vec!["a", "b"]);
    assert_eq!(mug.product_type, "Merch");
    assert!(mug.published && !mug.gift_card);
    assert_eq!(mug.status, "active");
    assert_eq!(mug.image_src.as_deref(), Some("https://x/1.jpg"));
    assert_eq!(mug.variants.len(), 2, "the image-only row is not a variant");
    let red = &mug.variants[0];
    assert_eq!(red.sku, "MUG-R-L");
    assert_eq!(red.price, Some(Decimal::new(1400, 2)));
    assert_eq!(red.compare_at_price, Some(Decimal::new(1600, 2)));
    assert_eq!(red.inventory_qty, Some(5));
    assert_eq!(red.inventory_policy, "continue");
    assert_eq!(red.inventory_tracker.as_deref(), Some("shopify"));
    assert_eq!(red.title().as_deref(), Some("Red / L"));
    let blue = &mug.variants[1];
    assert_eq!(blue.sku, "");
    assert_eq!(blue.line_number, 4);
    assert_eq!(blue.inventory_qty, None);
    assert_eq!(blue.inventory_policy, "deny");
    let kit = &products[1];
    assert!(!kit.published);
    assert_eq!(kit.status, "draft");
    assert_eq!(kit.variants[0].title(), None);
}

#[test]
fn a_product_without_a_title_is_skipped_whole() {
    let csv = format!(
        "{PRODUCTS_HEADER}\n\
         ghost,,,,,,,TRUE,,,,,,,G1,,,,,,1.00,,,,,\n\
         ghost,,,,,,,,,,,,,,G2,,,,,,1.00,,,,,\n\
         ok,Ok,,,,,,maybe,,,,,,,OK,,,,,,1.00,,,,,\n"
    );
    let (products, skipped) = parse_products(&csv);
    assert!(products.is_empty());
    assert_eq!(
        skipped.iter().map(|s| s.line).collect::<Vec<_>>(),
        vec![2, 4]
    );
    assert!(skipped[1].reason.contains("Published"));
}

#[test]
fn orders_fixture_has_the_documented_counts() {
    let csv = include_str!("../../tests/fixtures/csv/orders_small.csv");
    let (orders, skipped) = parse_orders(csv);
    assert!(skipped.is_empty(), "{skipped:?}");
    assert_eq!(orders.len(), 11);
    assert_eq!(orders.iter().map(|o| o.lines.len()).sum::<usize>(), 24);
    let counting: Vec<&ImportedOrder> =
        orders.iter().filter(|o| o.cancelled_at.is_none()).collect();
    assert_eq!(counting.len(), 10);
    assert_eq!(counting.iter().map(|o| o.lines.len()).sum::<usize>(), 22);
    let mut customers: Vec<&str> = orders
        .iter()
        .filter_map(|o| o.customer_key.as_deref())
        .collect();
    customers.sort_unstable();
    customers.dedup();
    assert_eq!(
        customers,
        [
            "alice@example.com",
            "bob@example.com",
            "carol@example.com",
            "dave@example.com"
        ]
    );
    assert_eq!(
        orders.iter().filter(|o| o.customer_key.is_none()).count(),
        2
    );
    let o1009 = orders.iter().find(|o| o.name == "#1009").expect("#1009");
    assert_eq!(
        o1009.created_at,
        Utc.with_ymd_and_hms(2025, 10, 7, 7, 50, 26).unwrap()
    );
    assert_eq!(o1009.order_id, Some(5_800_000_001_009));
    let mut products: Vec<String> = orders
        .iter()
        .flat_map(|o| &o.lines)
        .map(|l| {
            if l.sku.is_empty() {
                l.name.clone()
            } else {
                l.sku.clone()
            }
        })
        .collect();
    products.sort_unstable();
    products.dedup();
    assert_eq!(products.len(), 8);
}

#[test]
fn products_fixture_has_the_documented_counts_and_matches_the_orders() {
    let csv = include_str!("../../tests/fixtures/csv/products_small.csv");
    let (products, skipped) = parse_products(csv);
    assert!(skipped.is_empty(), "{skipped:?}");
    assert_eq!(products.len(), 8);
    assert_eq!(products.iter().map(|p| p.variants.len()).sum::<usize>(), 11);
    let draft: Vec<&str> = products
        .iter()
        .filter(|p| !p.published)
        .map(|p| p.handle.as_str())
        .collect();
    assert_eq!(draft, ["cold-brew-kit"]);
    assert_eq!(products.iter().filter(|p| p.gift_card).count(), 1);
    // Every ordered line matches a variant by SKU, else by "Title[ - Variant]".
    let mut names = Vec::new();
    let mut skus = Vec::new();
    for p in &products {
        for v in &p.variants {
            skus.push(v.sku.clone());
            names.push(match v.title() {
                Some(t) => format!("{} - {t}", p.title),
                None => p.title.clone(),
            });
        }
    }
    let (orders, _) = parse_orders(include_str!("../../tests/fixtures/csv/orders_small.csv"));
    for l in orders.iter().flat_map(|o| &o.lines) {
        assert!(
            (!l.sku.is_empty() && skus.contains(&l.sku)) || names.contains(&l.name),
            "{l:?} matches no product"
        );
        assert!(
            names.contains(&l.name),
            "{} is not a variant's name",
            l.name
        );
    }
}
