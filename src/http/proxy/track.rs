//! `POST /proxy/track?event=impression|click&token=…`: widget impressions and clicks, reported
//! by the storefront script through the app proxy (so they are signed like every proxy call).

use axum::extract::State;
use axum::http::StatusCode;

use super::ProxyRequest;
use crate::app::AppState;
use crate::http::error::{AppError, AppResult};
use crate::store::widget_events::{self, WidgetEvent};

pub async fn record(State(state): State<AppState>, req: ProxyRequest) -> AppResult<StatusCode> {
    let q = &req.query;
    let now = state.now();
    let kind = match q.get("event") {
        Some("impression") => "impression",
        Some("click") => "click",
        other => {
            return Err(AppError::BadRequest(format!(
                "event must be impression or click, not {other:?}"
            )))
        }
    };
    let raw_token = q.get("token").unwrap_or("");
    let issued = state
        .tokens
        .verify(req.shop, raw_token, now.timestamp())
        .ok_or_else(|| {
            AppError::BadRequest("unknown, foreign or expired recommendation token".into())
        })?;
    let product_id = q
        .get("product_id")
        .and_then(crate::shopify::ids::parse_id_str);
    if kind == "click" && product_id.is_none() {
        return Err(AppError::BadRequest("a click needs the product_id".into()));
    }
    let position = q
        .get("position")
        .and_then(|p| p.parse::<i32>().ok())
        .filter(|p| (1..=100).contains(p));
    let client_id = q
        .get("client_id")
        .filter(|c| !c.is_empty() && c.len() <= 128);
    let event = WidgetEvent {
        kind,
        token: raw_token,
        placement: &issued.placement,
        list: &issued.list,
        product_id: if kind == "click" { product_id } else { None },
        position,
        client_id,
        customer_id: req.customer_id,
        occurred_at: now,
    };
    let fresh = widget_events::insert(&state.pool, req.shop, &event).await?;
    metrics::counter!("shoprecs_widget_events_total", "kind" => kind, "duplicate" => if fresh { "no" } else { "yes" }).increment(1);
    Ok(StatusCode::NO_CONTENT)
}
