//! The shop's latest backfill from Shopify: phase, done of total, rate, estimate, error.

use axum::extract::State;

use super::openapi::{Forbidden, NotFound, Unauthorized};
use super::ApiShop;
use crate::app::AppState;
use crate::backfill::{jobs, Progress};
use crate::http::error::{AppError, AppResult};
use crate::http::extract::Json;

/// `GET /api/v1/backfill`
#[utoipa::path(
    get,
    path = "/api/v1/backfill",
    operation_id = "backfill_progress",
    tag = "backfill",
    summary = "Progress of the shop's latest backfill from Shopify",
    description = "Products and past orders fetched with Shopify bulk operations: the phase \
        (`products`, `orders`, `applying`, `done`), objects done of the phase's total, the rate \
        and an estimate of the time left, and the error when it failed \
        (retry with `shoprecs backfill --retry` or from the dashboard).",
    responses(
        (status = 200, description = "The latest backfill", body = Progress),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
)]
pub async fn progress(
    State(state): State<AppState>,
    ApiShop(shop): ApiShop,
) -> AppResult<Json<Progress>> {
    let job = jobs::latest(&state.pool, shop)
        .await?
        .ok_or_else(|| AppError::NotFound("the shop has no backfill yet".into()))?;
    Ok(Json(Progress::of(&job, state.now())))
}
