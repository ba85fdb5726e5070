//! What the widgets earned: impressions, clicks, CTR, attributed orders and revenue.

use axum::extract::State;
use chrono::{Duration, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::openapi::{Forbidden, Unauthorized, Unprocessable};
use super::ApiShop;
use crate::app::AppState;
use crate::http::error::{AppError, AppResult};
use crate::http::extract::{Json, Query};
use crate::store::widget_events::{self, WidgetDay};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Period {
    /// First day (UTC), default 30 days ago.
    from: Option<NaiveDate>,
    /// Last day (UTC, inclusive), default today.
    to: Option<NaiveDate>,
}

/// Widget performance over a period.
#[derive(Debug, Serialize, ToSchema)]
pub struct WidgetStats {
    /// First day (UTC).
    pub from: NaiveDate,
    /// Last day (UTC, inclusive).
    pub to: NaiveDate,
    /// How long after a click an order is attributed to the widget.
    pub attribution_window_hours: i64,
    /// One row per widget per day with activity.
    pub days: Vec<WidgetDay>,
}

/// `GET /api/v1/stats/widgets?from=YYYY-MM-DD&to=YYYY-MM-DD`
#[utoipa::path(
    get,
    path = "/api/v1/stats/widgets",
    operation_id = "widget_stats",
    tag = "stats",
    summary = "What the widgets earned, per widget per day",
    description = "Impressions, clicks, CTR, attributed orders and revenue. \
        `from` must be on or before `to`, at most 366 days apart.",
    params(Period),
    responses(
        (status = 200, description = "The period's rows", body = WidgetStats),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 422, response = Unprocessable),
    ),
)]
pub async fn widgets(
    State(state): State<AppState>,
    ApiShop(shop): ApiShop,
    Query(period): Query<Period>,
) -> AppResult<Json<WidgetStats>> {
    let today = state.now().date_naive();
    let to = period.to.unwrap_or(today);
    let from = period.from.unwrap_or(to - Duration::days(29));
    if from > to || (to - from).num_days() > 366 {
        return Err(AppError::Unprocessable(
            "from must be on or before to, at most 366 days apart".into(),
        ));
    }
    let start = Utc.from_utc_datetime(&from.and_time(chrono::NaiveTime::MIN));
    let end = Utc.from_utc_datetime(&(to + Duration::days(1)).and_time(chrono::NaiveTime::MIN));
    let window = state.settings.storefront.attribution_window_hours;
    let days = widget_events::daily(&state.pool, shop, start, end, window).await?;
    Ok(Json(WidgetStats {
        from,
        to,
        attribution_window_hours: window,
        days,
    }))
}
