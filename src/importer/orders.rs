//! Orders export → `orders/create` bodies, lines matched to the catalogue.

use std::collections::{HashMap, HashSet};
use std::io::Read;

use serde_json::{json, Value};
use sqlx::PgPool;

use super::{spinner, store, synthetic_id, ImportReport};
use crate::csv_import::{ImportedOrder, OrdersReader};
use crate::store::ShopId;

#[derive(Clone, Copy)]
struct Match {
    product_id: i64,
    variant_id: i64,
    gift_card: bool,
}

/// Variants by SKU and by "Title - Variant" / "Title" name.
struct Catalogue {
    by_sku: HashMap<String, Match>,
    by_name: HashMap<String, Match>,
}

impl Catalogue {
    async fn load(pool: &PgPool, shop: ShopId) -> sqlx::Result<Self> {
        let rows = sqlx::query!(
            r#"select p.product_id, p.title as product_title, v.variant_id, v.title as variant_title, v.sku,
                      (select count(*) from variant w where w.shop_id = p.shop_id and w.product_id = p.product_id) as "variants!"
                 from variant v join product p using (shop_id, product_id)
                where v.shop_id = $1 and not p.deleted
                order by p.product_id, v.position, v.variant_id"#,
            shop.0
        )
        .fetch_all(pool)
        .await?;
        let gift_cards: HashSet<i64> = gift_card_products(pool, shop).await?;
        let mut by_sku = HashMap::new();
        let mut by_name = HashMap::new();
        for r in rows {
            let m = Match {
                product_id: r.product_id,
                variant_id: r.variant_id,
                gift_card: gift_cards.contains(&r.product_id),
            };
            if !r.sku.is_empty() {
                by_sku.entry(r.sku.clone()).or_insert(m);
            }
            by_name
                .entry(format!("{} - {}", r.product_title, r.variant_title))
                .or_insert(m);
            if r.variants == 1 || r.variant_title == "Default Title" {
                by_name.entry(r.product_title.clone()).or_insert(m);
            }
        }
        Ok(Self { by_sku, by_name })
    }

    fn find(&self, sku: &str, name: &str) -> Option<Match> {
        (!sku.is_empty())
            .then(|| self.by_sku.get(sku))
            .flatten()
            .or_else(|| self.by_name.get(name.trim()))
            .copied()
    }
}

async fn gift_card_products(pool: &PgPool, shop: ShopId) -> sqlx::Result<HashSet<i64>> {
    let ids = sqlx::query_scalar!(
        "select product_id from product where shop_id = $1 and gift_card",
        shop.0
    )
    .fetch_all(pool)
    .await?;
    Ok(ids.into_iter().collect())
}

pub(super) async fn import(
    pool: &PgPool,
    shop: ShopId,
    input: impl Read,
) -> anyhow::Result<ImportReport> {
    let catalogue = Catalogue::load(pool, shop).await?;
    let mut report = ImportReport::default();
    let bar = spinner("reading orders");
    for item in OrdersReader::new(input)? {
        match item {
            Ok(order) => {
                report.records += 1;
                let body = webhook_body(shop, &order, &catalogue, &mut report.unmatched);
                store(
                    pool,
                    shop,
                    "orders/create",
                    &serde_json::to_vec(&body)?,
                    &mut report,
                )
                .await?;
                bar.set_message(format!("{} orders", report.records));
            }
            Err(skipped) => report.skipped.push(skipped),
        }
    }
    bar.finish_and_clear();
    Ok(report)
}

/// The order as Shopify's orders/create webhook would carry it. Lines that match no product
/// stay on the order as custom lines and are reported.
fn webhook_body(
    shop: ShopId,
    o: &ImportedOrder,
    catalogue: &Catalogue,
    unmatched: &mut Vec<String>,
) -> Value {
    let order_id = o
        .order_id
        .unwrap_or_else(|| synthetic_id(shop, "order", &o.name));
    let created = o.created_at.to_rfc3339();
    let lines: Vec<Value> = o
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let found = catalogue.find(&l.sku, &l.name);
            if found.is_none() {
                unmatched.push(format!(
                    "line {}: order {}: no product with SKU \"{}\" or name \"{}\"; kept as a custom line",
                    l.line_number, o.name, l.sku, l.name
                ));
            }
            json!({
                "id": synthetic_id(shop, "line", &format!("{order_id}|{i}")),
                "product_id": found.map(|m| m.product_id),
                "variant_id": found.map(|m| m.variant_id),
                "sku": l.sku,
                "quantity": l.quantity,
                "current_quantity": l.quantity,
                "price": l.price.map(|d| d.to_string()),
                "gift_card": l.gift_card || found.is_some_and(|m| m.gift_card),
            })
        })
        .collect();
    let customer = o
        .customer_key
        .as_ref()
        .map(|email| json!({"id": synthetic_id(shop, "customer", email)}));
    json!({
        "id": order_id,
        "name": o.name,
        "created_at": created,
        "processed_at": created,
        // As old as the order itself: a real orders/updated webhook is always newer.
        "updated_at": created,
        "cancelled_at": o.cancelled_at.map(|t| t.to_rfc3339()),
        "financial_status": o.financial_status,
        "currency": o.currency,
        "total_price": o.total.map(|d| d.to_string()),
        "test": false,
        "source_name": "csv_import",
        "customer": customer,
        "line_items": lines,
    })
}
