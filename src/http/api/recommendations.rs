//! Recommendation lists as JSON.

use axum::extract::State;
use serde::{Deserialize, Serialize};

use super::ApiShop;
use crate::app::AppState;
use crate::http::error::{AppError, AppResult};
use crate::http::extract::{Json, Path, Query};
use crate::recs::lists::{self, Context, Item, List};
use crate::store::{catalog, ShopId};

const DEFAULT_LIMIT: usize = 10;
const MAX_LIMIT: usize = 50;

#[derive(Debug, Serialize)]
pub struct ListResponse {
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

#[derive(Debug, Deserialize)]
pub struct ProductQuery {
    list: Option<List>,
    limit: Option<usize>,
}

/// `GET /api/v1/products/{product_id}/recommendations?list=bought_together|also_viewed&limit=`
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

#[derive(Debug, Deserialize)]
pub struct CartQuery {
    /// Comma-separated product ids.
    product_ids: String,
    limit: Option<usize>,
}

/// `GET /api/v1/cart/recommendations?product_ids=1,2,3&limit=`
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

#[derive(Debug, Deserialize)]
pub struct LimitQuery {
    limit: Option<usize>,
}

/// `GET /api/v1/customers/{customer_id}/recommendations?limit=` ("for you")
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

#[derive(Debug, Deserialize)]
pub struct BestsellerQuery {
    product_type: Option<String>,
    limit: Option<usize>,
}

/// `GET /api/v1/bestsellers?product_type=&limit=`
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
pub async fn trending(
    State(state): State<AppState>,
    ApiShop(shop): ApiShop,
    Query(q): Query<LimitQuery>,
) -> AppResult<Json<ListResponse>> {
    let limit = limit(q.limit)?;
    respond(&state, shop, List::Trending, Context::default(), limit).await
}
