//! Data health: the last event per webhook topic, the inbox backlog, failed webhooks with their
//! error, storefront events per day, import progress, the Shopify connection (token,
//! scopes, and the post-install steps: webhook subscriptions, web pixel, backfill), and the
//! backfill's progress (with a retry button when it failed).

use askama::Template;
use axum::extract::State;
use chrono::{DateTime, Duration, Utc};

use super::{days, render, ChartView, Layout, PageResult};
use crate::admin::auth::AdminShop;
use crate::admin::charts::Series;
use crate::app::AppState;
use crate::store::dashboard::{self, FailedWebhook, TopicHealth};

/// The topics Shopify sends: the subscriptions of shopify.app.toml, then the compliance topics.
fn topics() -> Vec<&'static str> {
    crate::install::webhooks::TOPICS
        .iter()
        .copied()
        .chain(["customers/data_request", "customers/redact", "shop/redact"])
        .collect()
}

pub struct Import {
    pub topic: String,
    pub total: i64,
    pub done: i64,
    pub percent: i64,
    pub last: Option<DateTime<Utc>>,
}

#[derive(Template)]
#[template(path = "admin/health.html")]
struct Page {
    layout: Layout,
    topics: Vec<TopicHealth>,
    backlog: i64,
    failed: Vec<FailedWebhook>,
    pixel: ChartView,
    pixel_total: i64,
    imports: Vec<Import>,
    connection: crate::install::status::ConnectionView,
    backfill: Option<crate::backfill::Progress>,
    now: DateTime<Utc>,
}

pub async fn page(State(state): State<AppState>, shop: AdminShop) -> PageResult {
    let now = state.now();
    let from = (now - Duration::days(13)).date_naive();
    let from_time = from.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    let pixel_days = dashboard::pixel_events_by_day(&state.pool, shop.shop, from_time).await?;
    let span = days(from, now.date_naive());
    let per_day: std::collections::HashMap<_, _> = pixel_days.iter().copied().collect();
    let pixel = ChartView::over_days(
        "Storefront events per day",
        &span,
        vec![Series {
            name: "Events".into(),
            values: span
                .iter()
                .map(|d| per_day.get(d).copied().unwrap_or(0) as f64)
                .collect(),
        }],
        false,
    );
    let imports = dashboard::imports(&state.pool, shop.shop)
        .await?
        .into_iter()
        .map(|(topic, total, done, last)| Import {
            percent: if total > 0 { done * 100 / total } else { 100 },
            topic,
            total,
            done,
            last,
        })
        .collect();
    render(Page {
        layout: Layout::new(&state, &shop, "/admin/health", "Data health"),
        topics: dashboard::topics(&state.pool, shop.shop, &topics()).await?,
        backlog: dashboard::backlog(&state.pool, shop.shop).await?,
        failed: dashboard::failed_webhooks(&state.pool, shop.shop, 20).await?,
        pixel_total: pixel_days.iter().map(|(_, n)| n).sum(),
        pixel,
        imports,
        connection: crate::install::status::load(&state, shop.shop, &shop.domain).await?,
        backfill: crate::backfill::jobs::latest(&state.pool, shop.shop)
            .await?
            .map(|job| crate::backfill::Progress::of(&job, now)),
        now,
    })
}

/// `POST /admin/health/backfill`: retries the failed backfill, or starts one when none is
/// unfinished (the server's backfill worker runs it).
pub async fn backfill(
    State(state): State<AppState>,
    shop: AdminShop,
    axum::Form(form): axum::Form<super::CsrfOnly>,
) -> PageResult {
    if let Err(rejected) = crate::admin::auth::verify_csrf(&shop, &form.csrf) {
        return Ok(rejected);
    }
    if !crate::backfill::retry(&state.pool, shop.shop).await? {
        let today = state.now().date_naive();
        crate::backfill::start(&state.pool, &state.settings.backfill, shop.shop, today).await?;
    }
    Ok(super::see_other("/admin/health"))
}
