//! Recommendation lists as JSON.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::openapi::{Forbidden, NotFound, Unauthorized, Unprocessable};
use super::ApiShop;
use crate::app::AppState;
use crate::http::error::{AppError, AppResult};
use crate::http::extract::{Json, Path, Query};
use crate::recs::lists::{self, Context, Item, List};
use crate::store::{catalog, ShopId};

const DEFAULT_LIMIT: usize = 10;
const MAX_LIMIT: usize = 50;

/// A recommendation list: best first, at most `limit` items (possibly fewer, possibly none).
#[derive(Debug, Serialize, ToSchema)]
pub struct ListResponse {
    /// The list served.
    pub list: List,
    pub items: Vec<Item>,
}

fn limit(raw: Option<usize>) -> AppResult<usize> {
    match raw.unwrap_or(DEFAULT_LIMIT) {
        n @ 1..=MAX_LIMIT => Ok(n),
        n => Err(AppError::Unprocessable(format!(
            "limit must be between 1 and {MAX_LIMIT}, not {n}"
        ))),
    }
}

async fn respond(
    state: &AppState,
    shop: ShopId,
    list: List,
    context: Context,
    limit: usize,
) -> AppResult<Json<ListResponse>> {
    let now = state.now().timestamp();
    let (items, _currency) = lists::serve(&state.models, shop, list, &context, limit, now);
    Ok(Json(ListResponse { list, items }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProductQuery {
    #[param(schema_with = product_list_schema)]
    list: Option<List>,
    /// How many items at most.
    #[param(minimum = 1, maximum = 50, default = 10)]
    limit: Option<usize>,
}

fn product_list_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .enum_values(Some(["bought_together", "also_viewed"]))
        .default(Some("bought_together".into()))
        .description(Some(
            "Which list: bought together, or also viewed (which never repeats the former).",
        ))
        .build()
}

/// `GET /api/v1/products/{product_id}/recommendations?list=bought_together|also_viewed&limit=`
#[utoipa::path(
    get,
    path = "/api/v1/products/{product_id}/recommendations",
    operation_id = "product_recommendations",
    tag = "recommendations",
    summary = "Products for a product page",
    params(
        ("product_id" = i64, Path, description = "Shopify product id"),
        ProductQuery,
    ),
    responses(
        (status = 200, description = "The list", body = ListResponse),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 422, response = Unprocessable),
    ),
)]
pub async fn for_product(
    State(state): State<AppState>,
    ApiShop(shop): ApiShop,
    Path(product_id): Path<i64>,
    Query(q): Query<ProductQuery>,
) -> AppResult<Json<ListResponse>> {
    let list = q.list.unwrap_or(List::BoughtTogether);
    if !matches!(list, List::BoughtTogether | List::AlsoViewed) {
        return Err(AppError::Unprocessable(
            "list must be bought_together or also_viewed".into(),
        ));
    }
    let limit = limit(q.limit)?;
    if !lists::has_product(&state.models, shop, product_id)
        && !catalog::exists(&state.pool, shop, product_id).await?
    {
        return Err(AppError::NotFound(format!(
            "product {product_id} not found"
        )));
    }
    let context = Context {
        product: Some(product_id),
        ..Context::default()
    };
    respond(&state, shop, list, context, limit).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CartQuery {
    /// Comma-separated product ids (numbers or Shopify GIDs): the cart's products, 1 to 100.
    #[param(value_type = Vec<i64>, style = Form, explode = false, min_items = 1, max_items = 100, example = json!([1, 2, 3]))]
    product_ids: String,
    /// How many items at most.
    #[param(minimum = 1, maximum = 50, default = 10)]
    limit: Option<usize>,
}

/// `GET /api/v1/cart/recommendations?product_ids=1,2,3&limit=`
#[utoipa::path(
    get,
    path = "/api/v1/cart/recommendations",
    operation_id = "cart_recommendations",
    tag = "recommendations",
    summary = "Products to add to a cart",
    description = "Never lists the cart's own products.",
    params(CartQuery),
    responses(
        (status = 200, description = "The list", body = ListResponse),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 422, response = Unprocessable),
    ),
)]
pub async fn for_cart(
    State(state): State<AppState>,
    ApiShop(shop): ApiShop,
    Query(q): Query<CartQuery>,
) -> AppResult<Json<ListResponse>> {
    let cart = parse_ids(&q.product_ids)?;
    let limit = limit(q.limit)?;
    respond(
        &state,
        shop,
        List::Cart,
        Context {
            cart,
            ..Context::default()
        },
        limit,
    )
    .await
}

pub(crate) fn parse_ids(raw: &str) -> AppResult<Vec<i64>> {
    let ids: Result<Vec<i64>, _> = raw
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| crate::shopify::ids::parse_id_str(s).ok_or(s))
        .collect();
    let ids = ids.map_err(|bad| AppError::Unprocessable(format!("`{bad}` is not a product id")))?;
    if ids.is_empty() || ids.len() > 100 {
        return Err(AppError::Unprocessable(
            "product_ids must list 1 to 100 product ids".into(),
        ));
    }
    Ok(ids)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LimitQuery {
    /// How many items at most.
    #[param(minimum = 1, maximum = 50, default = 10)]
    limit: Option<usize>,
}

/// `GET /api/v1/customers/{customer_id}/recommendations?limit=` ("for you")
#[utoipa::path(
    get,
    path = "/api/v1/customers/{customer_id}/recommendations",
    operation_id = "customer_recommendations",
    tag = "recommendations",
    summary = "Products for a customer (\"for you\")",
    description = "From the customer's orders and views; bestsellers for an unknown customer.",
    params(
        ("customer_id" = i64, Path, description = "Shopify customer id"),
        LimitQuery,
    ),
    responses(
        (status = 200, description = "The list", body = ListResponse),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 422, response = Unprocessable),
    ),
)]
pub async fn for_customer(
    State(state): State<AppState>,
    ApiShop(shop): ApiShop,
    Path(customer_id): Path<i64>,
    Query(q): Query<LimitQuery>,
) -> AppResult<Json<ListResponse>> {
    let limit = limit(q.limit)?;
    let context = Context {
        customer: Some(customer_id),
        ..Context::default()
    };
    respond(&state, shop, List::ForYou, context, limit).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BestsellerQuery {
    /// Only products of this type (empty = all).
    product_type: Option<String>,
    /// How many items at most.
    #[param(minimum = 1, maximum = 50, default = 10)]
    limit: Option<usize>,
}

/// `GET /api/v1/bestsellers?product_type=&limit=`
#[utoipa::path(
    get,
    path = "/api/v1/bestsellers",
    operation_id = "bestsellers",
    tag = "recommendations",
    summary = "The shop's bestsellers",
    params(BestsellerQuery),
    responses(
        (status = 200, description = "The list", body = ListResponse),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 422, response = Unprocessable),
    ),
)]
pub async fn bestsellers(
    State(state): State<AppState>,
    ApiShop(shop): ApiShop,
    Query(q): Query<BestsellerQuery>,
) -> AppResult<Json<ListResponse>> {
    let limit = limit(q.limit)?;
    let context = Context {
        product_type: q.product_type.filter(|t| !t.is_empty()),
        ..Context::default()
    };
    respond(&state, shop, List::Bestsellers, context, limit).await
}

/// `GET /api/v1/trending?limit=`
#[utoipa::path(
    get,
    path = "/api/v1/trending",
    operation_id = "trending",
    tag = "recommendations",
    summary = "Products selling faster than usual",
    params(LimitQuery),
    responses(
        (status = 200, description = "The list", body = ListResponse),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 422, response = Unprocessable),
    ),
)]
pub async fn trending(
    State(state): State<AppState>,
    ApiShop(shop): ApiShop,
    Query(q): Query<LimitQuery>,
) -> AppResult<Json<ListResponse>> {
    let limit = limit(q.limit)?;
    respond(&state, shop, List::Trending, Context::default(), limit).await
}
