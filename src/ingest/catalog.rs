//! products/create, products/update, products/delete.

use rust_decimal::Decimal;
use sqlx::PgConnection;

use super::orders::event_time;
use super::ApplyError;
use crate::shopify::payloads::{Deleted, Product};
use crate::store::catalog::{self, ProductRow, VariantRow};
use crate::store::inbox::PendingWebhook;
use crate::store::ShopId;

pub(super) async fn apply_product(
    conn: &mut PgConnection,
    shop: ShopId,
    hook: &PendingWebhook,
    product: Product,
) -> Result<i64, ApplyError> {
    let product_id = product
        .id()
        .ok_or_else(|| ApplyError::Invalid("product has no id".into()))?;
    let row = ProductRow {
        product_id,
        tags: product.tag_list(),
        image_url: product.image_url(),
        gift_card: product.gift_card,
        title: product.title,
        handle: product.handle,
        product_type: product.product_type,
        vendor: product.vendor,
        status: product.status.unwrap_or_else(|| "active".into()),
        published_at: product.published_at,
        updated_at: product.updated_at.unwrap_or_else(|| event_time(hook)),
    };
    if catalog::upsert(conn, shop, &row).await? {
        let variants: Vec<VariantRow> = product
            .variants
            .iter()
            .filter_map(|v| {
                Some(VariantRow {
                    variant_id: v.id()?,
                    title: v.title.clone(),
                    sku: v.sku.clone(),
                    price: v.price.unwrap_or(Decimal::ZERO),
                    compare_at_price: v.compare_at_price,
                    position: v.position.unwrap_or(1),
                    inventory_policy: v.inventory_policy.clone().unwrap_or_else(|| "deny".into()),
                    inventory_management: v.inventory_management.clone(),
                    inventory_quantity: v.inventory_quantity,
                })
            })
            .collect();
        catalog::replace_variants(conn, shop, product_id, &variants).await?;
    }
    Ok(product_id)
}

pub(super) async fn apply_delete(
    conn: &mut PgConnection,
    shop: ShopId,
    hook: &PendingWebhook,
    deleted: Deleted,
) -> Result<i64, ApplyError> {
    catalog::mark_deleted(conn, shop, deleted.id, event_time(hook)).await?;
    Ok(deleted.id)
}
