//! Merchant rules: pin or exclude a product, on one product's lists or everywhere.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::ShopId;

/// A merchant rule.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct RuleRow {
    pub rule_id: i64,
    #[schema(schema_with = kind_schema)]
    pub kind: String,
    /// The product pinned or excluded.
    pub product_id: i64,
    /// The product page the rule is for; null = every list.
    pub context_product_id: Option<i64>,
    /// Where a pin goes (0 = first).
    pub position: i32,
    pub created_at: DateTime<Utc>,
}

/// The kinds of rule, for the API document.
pub fn kind_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .enum_values(Some(["pin", "exclude"]))
        .description(Some(
            "`pin` puts the product on the list, `exclude` keeps it off.",
        ))
        .build()
}

/// Rules in application order: pins by position, then by age.
pub async fn list(pool: &PgPool, shop: ShopId) -> sqlx::Result<Vec<RuleRow>> {
    sqlx::query_as!(
        RuleRow,
        "select rule_id, kind, product_id, context_product_id, position, created_at
           from rule where shop_id = $1
          order by kind, context_product_id nulls first, position, rule_id",
        shop.0
    )
    .fetch_all(pool)
    .await
}

/// Creates a rule, or returns the existing identical one.
pub async fn create(
    pool: &PgPool,
    shop: ShopId,
    kind: &str,
    product_id: i64,
    context_product_id: Option<i64>,
    position: i32,
) -> sqlx::Result<RuleRow> {
    sqlx::query_as!(
        RuleRow,
        "insert into rule (shop_id, kind, product_id, context_product_id, position)
         values ($1, $2, $3, $4, $5)
         on conflict (shop_id, kind, product_id, context_product_id) do update set position = excluded.position
         returning rule_id, kind, product_id, context_product_id, position, created_at",
        shop.0,
        kind,
        product_id,
        context_product_id,
        position
    )
    .fetch_one(pool)
    .await
}

/// Deletes a rule; false when the shop has no such rule.
pub async fn delete(pool: &PgPool, shop: ShopId, rule_id: i64) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "delete from rule where shop_id = $1 and rule_id = $2",
        shop.0,
        rule_id
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() > 0)
}
