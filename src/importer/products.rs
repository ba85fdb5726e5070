//! Products export → `products/create` bodies.

use std::io::Read;

use serde_json::{json, Value};
use sqlx::PgPool;

use super::{spinner, store, synthetic_id, ImportReport};
use crate::csv_import::{ImportedProduct, ProductsReader};
use crate::store::ShopId;

/// Imported states are dated at the epoch (+1 day): any real webhook is newer and wins.
pub(super) const IMPORTED_AT: &str = "1970-01-02T00:00:00Z";

pub(super) async fn import(
    pool: &PgPool,
    shop: ShopId,
    input: impl Read,
) -> anyhow::Result<ImportReport> {
    let known = known_handles(pool, shop).await?;
    let mut report = ImportReport::default();
    let bar = spinner("reading products");
    for item in ProductsReader::new(input)? {
        match item {
            Ok(product) => {
                report.records += 1;
                let id = known
                    .get(&product.handle)
                    .copied()
                    .unwrap_or_else(|| synthetic_id(shop, "product", &product.handle));
                let body = serde_json::to_vec(&webhook_body(shop, id, &product))?;
                store(pool, shop, "products/create", &body, &mut report).await?;
                bar.set_message(format!("{} products", report.records));
            }
            Err(skipped) => report.skipped.push(skipped),
        }
    }
    bar.finish_and_clear();
    Ok(report)
}

async fn known_handles(
    pool: &PgPool,
    shop: ShopId,
) -> sqlx::Result<std::collections::HashMap<String, i64>> {
    let rows = sqlx::query!(
        "select handle, product_id from product where shop_id = $1 and handle <> '' and not deleted",
        shop.0
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.handle, r.product_id)).collect())
}

/// The product as Shopify's products/create webhook would carry it.
fn webhook_body(shop: ShopId, id: i64, p: &ImportedProduct) -> Value {
    let variants: Vec<Value> = p
        .variants
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let key = format!("{}|{}|{}", p.handle, v.sku, v.title().unwrap_or_default());
            json!({
                "id": synthetic_id(shop, "variant", &key),
                "title": v.title().unwrap_or_else(|| "Default Title".to_owned()),
                "sku": v.sku,
                "price": v.price.map(|d| d.to_string()),
                "compare_at_price": v.compare_at_price.map(|d| d.to_string()),
                "position": i + 1,
                "inventory_policy": v.inventory_policy,
                "inventory_management": v.inventory_tracker,
                "inventory_quantity": v.inventory_qty,
            })
        })
        .collect();
    json!({
        "id": id,
        "title": p.title,
        "handle": p.handle,
        "product_type": p.product_type,
        "vendor": p.vendor,
        "tags": p.tags.join(", "),
        "status": p.status,
        "published_at": p.published.then_some(IMPORTED_AT),
        "updated_at": IMPORTED_AT,
        "image": p.image_src.as_ref().map(|src| json!({"src": src})),
        "variants": variants,
        "gift_card": p.gift_card,
    })
}
