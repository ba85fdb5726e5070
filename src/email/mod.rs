//! The e-mail recommendation block: HTML that survives e-mail clients (tables, inline styles,
//! absolute links with UTM parameters, no scripts, no CSS classes).

use askama::Template;
use rust_decimal::Decimal;

use crate::http::proxy::money;
use crate::store::catalog::ProductCard;

/// What the block shows.
pub enum Content {
    /// The customer's picks ("for you").
    Picks,
    /// An abandoned checkout's bundle: its items plus a complement, with a discount.
    Bundle {
        discount_percent: i32,
        discount_code: Option<String>,
    },
}

/// Where links go and how they are tagged.
pub struct Links<'a> {
    /// The storefront's origin, e.g. `https://example.myshopify.com`.
    pub storefront: &'a str,
    pub utm_source: &'a str,
    pub utm_medium: &'a str,
    pub utm_campaign: &'a str,
}

struct Cell {
    product_id: i64,
    title: String,
    url: String,
    image_url: Option<String>,
    price: Option<String>,
    compare_at: Option<String>,
}

#[derive(Template)]
#[template(path = "email/block.html")]
struct Block<'a> {
    heading: &'a str,
    note: Option<String>,
    rows: Vec<Vec<Cell>>,
    columns: usize,
    width: usize,
    cta_url: String,
    cta_label: &'a str,
}

fn query(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// Renders the block for these products (in order).
pub fn render(
    cards: &[ProductCard],
    currency: &str,
    content: &Content,
    links: &Links<'_>,
) -> Result<String, askama::Error> {
    let base = links.storefront.trim_end_matches('/');
    let tag = |content_tag: &str| {
        query(&[
            ("utm_source", links.utm_source),
            ("utm_medium", links.utm_medium),
            ("utm_campaign", links.utm_campaign),
            ("utm_content", content_tag),
        ])
    };
    let absolute = |src: &str| {
        if src.starts_with("//") {
            format!("https:{src}")
        } else if src.starts_with('/') {
            format!("{base}{src}")
        } else {
            src.to_string()
        }
    };
    let price = |d: Option<Decimal>| d.map(|d| money::format(d, currency));
    let cells: Vec<Cell> = cards
        .iter()
        .enumerate()
        .map(|(i, c)| Cell {
            product_id: c.product_id,
            title: c.title.clone(),
            url: format!(
                "{base}/products/{}?{}",
                c.handle,
                tag(&format!("position-{}", i + 1))
            ),
            image_url: c.image_url.as_deref().map(absolute),
            price: price(c.price),
            compare_at: price(
                c.compare_at_price
                    .filter(|was| c.price.is_some_and(|p| *was > p)),
            ),
        })
        .collect();
    let columns = cells.len().clamp(1, 3);
    let mut rows: Vec<Vec<Cell>> = Vec::new();
    for cell in cells {
        match rows.last_mut() {
            Some(row) if row.len() < columns => row.push(cell),
            _ => rows.push(vec![cell]),
        }
    }
    let (heading, note, cta_url, cta_label) = match content {
        Content::Picks => (
            "Picked for you",
            None,
            format!("{base}/?{}", tag("cta")),
            "Shop now",
        ),
        Content::Bundle {
            discount_percent,
            discount_code,
        } => {
            let note = match discount_code {
                Some(code) => format!(
                    "Complete your order and save {discount_percent}% on this bundle with code {code}."
                ),
                None => format!("Complete your order: this bundle is {discount_percent}% off."),
            };
            let cta = match discount_code {
                Some(code) => format!(
                    "{base}/discount/{code}?{}",
                    query(&[("redirect", "/cart")]) + "&" + &tag("cta")
                ),
                None => format!("{base}/cart?{}", tag("cta")),
            };
            (
                "Still thinking it over?",
                Some(note),
                cta,
                "Complete your order",
            )
        }
    };
    Block {
        heading,
        note,
        rows,
        columns,
        width: 100 / columns,
        cta_url,
        cta_label,
    }
    .render()
}

#[cfg(test)]
mod tests;
