//! What the widgets earned: impressions, clicks, CTR, attributed orders and revenue.

use axum::extract::State;
use chrono::{Duration, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use super::ApiShop;
use crate::app::AppState;
use crate::http::error::{AppError, AppResult};
use crate::http::extract::{Json, Query};
use crate::store::widget_events::{self, WidgetDay};

#[derive(Debug, Deserialize)]
pub struct Period {
    /// First day (UTC), default 30 days ago.
    from: Option<NaiveDate>,
    /// Last day (UTC, inclusive), default today.
    to: Option<NaiveDate>,
}

#[derive(Debug, Serialize)]
pub struct WidgetStats {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub attribution_window_hours: i64,
    pub days: Vec<WidgetDay>,
}

/// `GET /api/v1/stats/widgets?from=YYYY-MM-DD&to=YYYY-MM-DD`
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
