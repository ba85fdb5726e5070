//! Merchant rules: pin or exclude products, per product page or everywhere. A change shows on
//! the next recommendation request.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::openapi::{BadRequest, Forbidden, NotFound, Unauthorized, Unprocessable};
use super::ApiShop;
use crate::app::AppState;
use crate::http::error::{AppError, AppResult};
use crate::http::extract::{Json, Path, Query};
use crate::store::catalog;
use crate::store::rules::{self, RuleRow};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Page size.
    #[param(minimum = 1, maximum = 500, default = 100)]
    limit: Option<usize>,
    /// Seek pagination: rules after this rule id (the previous page's `next`).
    after: Option<i64>,
}

/// One page of rules, by rule id.
#[derive(Debug, Serialize, ToSchema)]
pub struct RulePage {
    pub rules: Vec<RuleRow>,
    /// Pass as `after` for the next page; null on the last page.
    pub next: Option<i64>,
}

/// `GET /api/v1/rules?limit=&after=`
#[utoipa::path(
    get,
    path = "/api/v1/rules",
    operation_id = "list_rules",
    tag = "rules",
    summary = "The shop's rules, a page at a time",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of rules", body = RulePage),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 422, response = Unprocessable),
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    ApiShop(shop): ApiShop,
    Query(q): Query<ListQuery>,
) -> AppResult<Json<RulePage>> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(AppError::Unprocessable(
            "limit must be between 1 and 500".into(),
        ));
    }
    let mut all = rules::list(&state.pool, shop).await?;
    all.sort_by_key(|r| r.rule_id);
    let after = q.after.unwrap_or(0);
    let mut page: Vec<RuleRow> = all
        .into_iter()
        .filter(|r| r.rule_id > after)
        .take(limit + 1)
        .collect();
    let next = (page.len() > limit).then(|| {
        page.truncate(limit);
        page.last().map(|r| r.rule_id)
    });
    Ok(Json(RulePage {
        rules: page,
        next: next.flatten(),
    }))
}

/// A rule to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRule {
    #[schema(schema_with = rules::kind_schema)]
    kind: String,
    /// The product to pin or exclude (a product of the shop).
    product_id: i64,
    /// The product page the rule is for; omitted = every list.
    context_product_id: Option<i64>,
    /// Where a pin goes (0 = first).
    #[serde(default)]
    #[schema(default = 0)]
    position: i32,
}

/// `POST /api/v1/rules`
#[utoipa::path(
    post,
    path = "/api/v1/rules",
    operation_id = "create_rule",
    tag = "rules",
    summary = "Pin or exclude a product",
    description = "Effective on the next recommendation request.",
    request_body = NewRule,
    responses(
        (status = 201, description = "The rule created", body = RuleRow),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 422, response = Unprocessable),
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    ApiShop(shop): ApiShop,
    Json(rule): Json<NewRule>,
) -> AppResult<(StatusCode, Json<RuleRow>)> {
    if rule.kind != "pin" && rule.kind != "exclude" {
        return Err(AppError::Unprocessable(
            "kind must be `pin` or `exclude`".into(),
        ));
    }
    for id in std::iter::once(rule.product_id).chain(rule.context_product_id) {
        if !catalog::exists(&state.pool, shop, id).await? {
            return Err(AppError::Unprocessable(format!(
                "product {id} is not a product of this shop"
            )));
        }
    }
    let row = rules::create(
        &state.pool,
        shop,
        &rule.kind,
        rule.product_id,
        rule.context_product_id,
        rule.position,
    )
    .await?;
    crate::recs::follow::rules_changed(&state.pool, &state.models, shop).await;
    Ok((StatusCode::CREATED, Json(row)))
}

/// `DELETE /api/v1/rules/{rule_id}`
#[utoipa::path(
    delete,
    path = "/api/v1/rules/{rule_id}",
    operation_id = "delete_rule",
    tag = "rules",
    summary = "Delete a rule",
    params(("rule_id" = i64, Path, description = "The rule's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
)]
pub async fn delete(
    State(state): State<AppState>,
    ApiShop(shop): ApiShop,
    Path(rule_id): Path<i64>,
) -> AppResult<StatusCode> {
    if !rules::delete(&state.pool, shop, rule_id).await? {
        return Err(AppError::NotFound(format!("rule {rule_id} not found")));
    }
    crate::recs::follow::rules_changed(&state.pool, &state.models, shop).await;
    Ok(StatusCode::NO_CONTENT)
}
