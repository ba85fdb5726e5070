//! Abandoned checkouts with their bundle offers, for e-mail and SMS tools.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::openapi::{Forbidden, Unauthorized, Unprocessable};
use super::ApiShop;
use crate::app::AppState;
use crate::http::error::{AppError, AppResult};
use crate::http::extract::{Json, Query};
use crate::store::abandoned::{self, AbandonedCheckout};

/// The states a listing can be narrowed to.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CheckoutState {
    Open,
    Recovered,
    Expired,
}

impl CheckoutState {
    fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Recovered => "recovered",
            Self::Expired => "expired",
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only abandoned checkouts in this state; all when omitted.
    #[param(inline)]
    state: Option<CheckoutState>,
    /// Page size.
    #[param(minimum = 1, maximum = 500, default = 100)]
    limit: Option<i64>,
    /// Seek pagination: the previous page's `next`.
    after: Option<i64>,
}

/// One page of abandoned checkouts, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct AbandonedCheckoutPage {
    pub items: Vec<AbandonedCheckout>,
    /// Pass as `after` for the next page; null on the last page.
    pub next: Option<i64>,
}

/// `GET /api/v1/abandoned-checkouts?state=&limit=&after=`
#[utoipa::path(
    get,
    path = "/api/v1/abandoned-checkouts",
    operation_id = "list_abandoned_checkouts",
    tag = "checkouts",
    summary = "Abandoned checkouts with their bundle offers, newest first",
    description = "A checkout with a known customer or e-mail that is neither completed nor \
        ordered `checkouts.abandon_after_minutes` after its last change is abandoned. Its \
        bundle offer is its items plus the engine's best complementary product (with the \
        reason) and a suggested discount. An order with its checkout or cart token recovers it; \
        an open one expires after `checkouts.expire_after_days`.",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of abandoned checkouts", body = AbandonedCheckoutPage),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 422, response = Unprocessable),
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    ApiShop(shop): ApiShop,
    Query(q): Query<ListQuery>,
) -> AppResult<Json<AbandonedCheckoutPage>> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(AppError::Unprocessable(
            "limit must be between 1 and 500".into(),
        ));
    }
    let state_name = q.state.map(CheckoutState::as_str);
    let mut rows = abandoned::list(&state.pool, shop, state_name, q.after, limit + 1).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next = if more {
        rows.last().map(|(cursor, _)| *cursor)
    } else {
        None
    };
    Ok(Json(AbandonedCheckoutPage {
        items: rows.into_iter().map(|(_, a)| a).collect(),
        next,
    }))
}
