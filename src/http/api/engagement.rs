//! The shop's engagement over time: daily mean, median and distribution, per segment.

use std::collections::BTreeMap;

use axum::extract::State;
use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::openapi::{Forbidden, Unauthorized, Unprocessable};
use super::ApiShop;
use crate::app::AppState;
use crate::http::error::{AppError, AppResult};
use crate::http::extract::{Json, Query};
use crate::store::segments::{self, DailyRow};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SeriesQuery {
    /// How many days back, today included.
    #[param(minimum = 1, maximum = 730, default = 90)]
    days: Option<i64>,
}

/// One group's scores on one day.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupDay {
    pub customers: i32,
    pub vip: i32,
    pub mean_score: f32,
    pub median_score: f32,
    /// Customers with scores in [0,10), [10,20), …, [90,100].
    pub histogram: Vec<i32>,
}

/// One day: the whole shop (`all`) and each segment.
#[derive(Debug, Serialize, ToSchema)]
pub struct EngagementDay {
    pub day: NaiveDate,
    pub all: Option<GroupDay>,
    pub segments: BTreeMap<String, GroupDay>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EngagementResponse {
    /// Oldest first; days without a snapshot are absent.
    pub days: Vec<EngagementDay>,
}

fn group(r: DailyRow) -> GroupDay {
    GroupDay {
        customers: r.customers,
        vip: r.vip,
        mean_score: r.mean_score,
        median_score: r.median_score,
        histogram: r.histogram,
    }
}

/// `GET /api/v1/engagement?days=90`
#[utoipa::path(
    get,
    path = "/api/v1/engagement",
    operation_id = "engagement",
    tag = "segments",
    summary = "The shop's engagement score over time, overall and per segment",
    params(SeriesQuery),
    responses(
        (status = 200, description = "Daily snapshots", body = EngagementResponse),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 422, response = Unprocessable),
    ),
)]
pub async fn series(
    State(state): State<AppState>,
    ApiShop(shop): ApiShop,
    Query(q): Query<SeriesQuery>,
) -> AppResult<Json<EngagementResponse>> {
    let days = q.days.unwrap_or(90);
    if !(1..=730).contains(&days) {
        return Err(AppError::Unprocessable(
            "days must be between 1 and 730".into(),
        ));
    }
    let from = state.now().date_naive() - Duration::days(days - 1);
    let mut conn = state.pool.acquire().await?;
    let rows = segments::daily(&mut conn, shop, from).await?;
    let mut out: Vec<EngagementDay> = Vec::new();
    for r in rows {
        if out.last().is_none_or(|d| d.day != r.day) {
            out.push(EngagementDay {
                day: r.day,
                all: None,
                segments: BTreeMap::new(),
            });
        }
        if let Some(day) = out.last_mut() {
            if r.segment == "all" {
                day.all = Some(group(r));
            } else {
                day.segments.insert(r.segment.clone(), group(r));
            }
        }
    }
    Ok(Json(EngagementResponse { days: out }))
}
