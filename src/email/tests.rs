use rust_decimal::Decimal;

use super::*;

fn card(id: i64, title: &str, image: Option<&str>) -> ProductCard {
    ProductCard {
        product_id: id,
        title: title.into(),
        handle: format!("p-{id}"),
        product_type: String::new(),
        vendor: String::new(),
        image_url: image.map(str::to_string),
        variant_id: Some(id * 10),
        price: Some(Decimal::new(1999, 2)),
        compare_at_price: Some(Decimal::new(2999, 2)),
    }
}

fn links() -> Links<'static> {
    Links {
        storefront: "https://shop.example",
        utm_source: "shoprecs",
        utm_medium: "email",
        utm_campaign: "picks",
    }
}

#[test]
fn block_is_email_safe_with_absolute_tagged_links() {
    let cards = [
        card(1, "Tea <Earl> & Grey", Some("/img/1.png")),
        card(2, "Mug", Some("//cdn.example/2.png")),
        card(3, "Pot", None),
        card(4, "Cup", Some("https://cdn.example/4.png")),
    ];
    let html = render(&cards, "EUR", &Content::Picks, &links()).expect("renders");
    assert!(!html.contains("<script"), "no scripts");
    assert!(
        !html.contains("class="),
        "no classes: e-mail clients drop stylesheets"
    );
    assert!(html.contains("<table role=\"presentation\""));
    assert!(
        html.contains("Tea &#60;Earl&#62; &#38; Grey")
            || html.contains("Tea &lt;Earl&gt; &amp; Grey"),
        "escaped: {html}"
    );
    assert!(html.contains("href=\"https://shop.example/products/p-1?utm_source=shoprecs&#38;utm_medium=email&#38;utm_campaign=picks&#38;utm_content=position-1\"")
        || html.contains("href=\"https://shop.example/products/p-1?utm_source=shoprecs&amp;utm_medium=email&amp;utm_campaign=picks&amp;utm_content=position-1\""), "{html}");
    assert!(html.contains("src=\"https://shop.example/img/1.png\""));
    assert!(html.contains("src=\"https://cdn.example/2.png\""));
    // Every link is absolute.
    for part in html.split("href=\"").skip(1) {
        assert!(part.starts_with("https://"), "relative link in {part}");
    }
    // Three columns: four items make two rows.
    assert_eq!(html.matches("<tr>").count(), 2 + 2);
}

#[test]
fn bundle_block_names_the_discount() {
    let html = render(
        &[card(1, "Tea", None)],
        "USD",
        &Content::Bundle {
            discount_percent: 10,
            discount_code: None,
        },
        &links(),
    )
    .expect("renders");
    assert!(html.contains("10% off"));
    assert!(html.contains("https://shop.example/cart?"));
}
