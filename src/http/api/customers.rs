//! One customer for flows: segment, score, history and picks; and the e-mail block.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::openapi::{Forbidden, NotFound, Unauthorized};
use super::ApiShop;
use crate::app::AppState;
use crate::email::{self, Content, Links};
use crate::http::error::{AppError, AppResult};
use crate::http::extract::{Json, Path, Query};
use crate::lifecycle::{member, policy_for_reading, Member};
use crate::recs::lists::{self, Context, Item, List};
use crate::store::segments::{self, ChangeRow, CustomerFacts};
use crate::store::{abandoned, catalog, shops, ShopId};

/// A segment change in a customer's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryEntry {
    pub from: Option<String>,
    pub to: String,
    pub vip: bool,
    pub changed_at: DateTime<Utc>,
}

impl From<ChangeRow> for HistoryEntry {
    fn from(c: ChangeRow) -> Self {
        Self {
            from: c.from_segment,
            to: c.to_segment,
            vip: c.vip,
            changed_at: c.changed_at,
        }
    }
}

/// A daily engagement score.
#[derive(Debug, Serialize, ToSchema)]
pub struct DailyScore {
    pub day: NaiveDate,
    pub score: f32,
    pub segment: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerResponse {
    #[serde(flatten)]
    pub customer: Member,
    /// Net spend after refunds, in the shop's currency.
    pub total_spent: f64,
    /// Every segment change, oldest first.
    pub history: Vec<HistoryEntry>,
    /// Daily scores of the last 90 days.
    pub engagement_history: Vec<DailyScore>,
    /// "For you", best first.
    pub recommendations: Vec<Item>,
}

async fn find(state: &AppState, shop: ShopId, customer_id: i64) -> AppResult<CustomerFacts> {
    let mut conn = state.pool.acquire().await?;
    segments::facts(&mut conn, shop, Some(&[customer_id]), i64::MIN, 1)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| AppError::NotFound(format!("customer {customer_id} not found")))
}

/// `GET /api/v1/customers/{customer_id}`
#[utoipa::path(
    get,
    path = "/api/v1/customers/{customer_id}",
    operation_id = "customer",
    tag = "segments",
    summary = "A customer's segment, engagement score, history and picks",
    params(("customer_id" = i64, Path, description = "Shopify customer id")),
    responses(
        (status = 200, description = "The customer", body = CustomerResponse),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
)]
pub async fn show(
    State(state): State<AppState>,
    ApiShop(shop): ApiShop,
    Path(customer_id): Path<i64>,
) -> AppResult<Json<CustomerResponse>> {
    let facts = find(&state, shop, customer_id).await?;
    let now = state.now();
    let mut conn = state.pool.acquire().await?;
    let policy = policy_for_reading(&mut conn, shop, &state.lifecycle, now).await?;
    let history = segments::history(&mut conn, shop, customer_id).await?;
    let scores = segments::customer_scores(
        &mut conn,
        shop,
        customer_id,
        (now - Duration::days(90)).date_naive(),
    )
    .await?;
    drop(conn);
    let context = Context {
        customer: Some(customer_id),
        ..Context::default()
    };
    let (recommendations, _) = lists::serve(
        &state.models,
        shop,
        List::ForYou,
        &context,
        6,
        now.timestamp(),
    );
    Ok(Json(CustomerResponse {
        customer: member(&facts, &policy, &state.lifecycle, now),
        total_spent: facts.total_spent,
        history: history.into_iter().map(HistoryEntry::from).collect(),
        engagement_history: scores
            .into_iter()
            .map(|(day, score, segment)| DailyScore {
                day,
                score,
                segment,
            })
            .collect(),
        recommendations,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EmailQuery {
    /// Campaign name for `utm_campaign` (default: `shoprecs_picks` or `shoprecs_bundle`).
    campaign: Option<String>,
}

/// `GET /api/v1/customers/{customer_id}/email-block`
#[utoipa::path(
    get,
    path = "/api/v1/customers/{customer_id}/email-block",
    operation_id = "customer_email_block",
    tag = "segments",
    summary = "An e-mail-ready HTML block with the customer's picks",
    description = "Table layout, inline styles, absolute links to the storefront with UTM \
        parameters, no scripts: paste it into an e-mail template. Shows the customer's open \
        abandoned-checkout bundle when there is one, else their picks.",
    params(("customer_id" = i64, Path, description = "Shopify customer id"), EmailQuery),
    responses(
        (status = 200, description = "The HTML block", content_type = "text/html"),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
)]
pub async fn email_block(
    State(state): State<AppState>,
    ApiShop(shop): ApiShop,
    Path(customer_id): Path<i64>,
    Query(q): Query<EmailQuery>,
) -> AppResult<Response> {
    let bundle = bundle_for(&state, shop, customer_id).await?;
    if bundle.is_none() {
        find(&state, shop, customer_id).await?;
    }
    let domain = shops::domain(&state.pool, shop)
        .await?
        .ok_or_else(|| AppError::NotFound("shop not found".into()))?;
    let now = state.now();
    let (product_ids, content) = match bundle {
        Some(bundle) => bundle,
        None => {
            let context = Context {
                customer: Some(customer_id),
                ..Context::default()
            };
            let (items, _) = lists::serve(
                &state.models,
                shop,
                List::ForYou,
                &context,
                state.settings.email.items,
                now.timestamp(),
            );
            (
                items.iter().map(|i| i.product.product_id).collect(),
                Content::Picks,
            )
        }
    };
    let cards = catalog::cards(&state.pool, shop, Some(&product_ids)).await?;
    let ordered: Vec<_> = product_ids
        .iter()
        .filter_map(|id| cards.get(id).cloned())
        .collect();
    let currency = catalog::currency(&state.pool, shop).await?;
    let default_campaign = match content {
        Content::Picks => "shoprecs_picks",
        Content::Bundle { .. } => "shoprecs_bundle",
    };
    let html = email::render(
        &ordered,
        &currency,
        &content,
        &Links {
            storefront: &format!("https://{domain}"),
            utm_source: &state.settings.email.utm_source,
            utm_medium: &state.settings.email.utm_medium,
            utm_campaign: q.campaign.as_deref().unwrap_or(default_campaign),
        },
    )
    .map_err(|e| AppError::Internal(e.into()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        html,
    )
        .into_response())
}

/// The customer's open abandoned-checkout bundle, when there is one with products.
async fn bundle_for(
    state: &AppState,
    shop: ShopId,
    customer_id: i64,
) -> AppResult<Option<(Vec<i64>, Content)>> {
    let mut conn = state.pool.acquire().await?;
    let open = abandoned::open_for_customer(&mut conn, shop, customer_id).await?;
    Ok(open.filter(|a| !a.offer.product_ids.is_empty()).map(|a| {
        (
            a.offer.product_ids,
            Content::Bundle {
                discount_percent: a.offer.discount_percent,
                discount_code: a.offer.discount_code,
            },
        )
    }))
}
