//! Segments (sizes over time, flows between them, the definitions and values in use, CSV
//! downloads) and Engagement (the shop's score over time and its distribution).

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use chrono::{Duration, NaiveDate};

use super::{number, render, ChartView, Layout, PageResult};
use crate::admin::auth::AdminShop;
use crate::admin::charts::Series;
use crate::app::AppState;
use crate::http::error::AppError;
use crate::http::extract::Path;
use crate::lifecycle::{policy_for_reading, write_csv, Selection};
use crate::segments::{Policy, Segment};
use crate::store::segments::{self, DailyRow};

pub struct SegmentRow {
    pub name: &'static str,
    pub definition: &'static str,
    pub customers: i64,
    pub vip: i64,
}

#[derive(Template)]
#[template(path = "admin/segments.html")]
struct SegmentsPage {
    layout: Layout,
    rows: Vec<SegmentRow>,
    policy: Policy,
    chart: Option<ChartView>,
    flows: Vec<(String, String, i64)>,
    total: i64,
}

const DAYS: i64 = 90;

async fn daily(
    state: &AppState,
    shop: &AdminShop,
) -> Result<(Vec<NaiveDate>, Vec<DailyRow>), AppError> {
    let from = state.now().date_naive() - Duration::days(DAYS - 1);
    let mut conn = state.pool.acquire().await?;
    let rows = segments::daily(&mut conn, shop.shop, from).await?;
    let mut days: Vec<NaiveDate> = rows.iter().map(|r| r.day).collect();
    days.dedup();
    Ok((days, rows))
}

pub async fn page(State(state): State<AppState>, shop: AdminShop) -> PageResult {
    let now = state.now();
    let mut conn = state.pool.acquire().await?;
    let counts = segments::counts(&mut conn, shop.shop).await?;
    let policy = policy_for_reading(&mut conn, shop.shop, &state.lifecycle, now).await?;
    let flows = segments::flows(&mut conn, shop.shop, now - Duration::days(30), now).await?;
    drop(conn);
    let rows: Vec<SegmentRow> = counts
        .into_iter()
        .map(|(s, n, vip)| SegmentRow {
            name: s.as_str(),
            definition: s.definition(),
            customers: n,
            vip,
        })
        .collect();
    let (days, daily_rows) = daily(&state, &shop).await?;
    let chart = (!days.is_empty()).then(|| {
        let mut by: BTreeMap<(NaiveDate, &str), f64> = BTreeMap::new();
        for r in &daily_rows {
            by.insert((r.day, r.segment.as_str()), f64::from(r.customers));
        }
        let series = Segment::ALL
            .into_iter()
            .map(|s| Series {
                name: s.to_string(),
                values: days
                    .iter()
                    .map(|d| by.get(&(*d, s.as_str())).copied().unwrap_or(0.0))
                    .collect(),
            })
            .collect();
        ChartView::over_days("Customers per segment", &days, series, true)
    });
    render(SegmentsPage {
        layout: Layout::new(&state, &shop, "/admin/segments", "Segments"),
        total: rows.iter().map(|r| r.customers).sum(),
        rows,
        policy,
        chart,
        flows: flows
            .into_iter()
            .map(|(from, to, n)| (from.unwrap_or_else(|| "(new)".into()), to, n))
            .collect(),
    })
}

/// `GET /admin/segments/{name}/export`: the segment as CSV.
pub async fn export(
    State(state): State<AppState>,
    shop: AdminShop,
    Path(name): Path<String>,
) -> PageResult {
    let selection = Selection::parse(&name)
        .ok_or_else(|| AppError::NotFound(format!("no segment `{name}`")))?;
    let mut conn = state.pool.acquire().await?;
    let mut body = Vec::new();
    write_csv(
        &mut conn,
        shop.shop,
        selection,
        &state.lifecycle,
        state.now(),
        &mut body,
    )
    .await
    .map_err(AppError::Internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}-{name}.csv\"", shop.domain),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        body,
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "admin/engagement.html")]
struct EngagementPage {
    layout: Layout,
    trend: Option<ChartView>,
    distribution: Option<ChartView>,
    by_segment: Vec<(String, String, String, i32)>,
    w: crate::segments::Weights,
}

pub async fn engagement(State(state): State<AppState>, shop: AdminShop) -> PageResult {
    let (days, rows) = daily(&state, &shop).await?;
    let all: Vec<&DailyRow> = rows.iter().filter(|r| r.segment == "all").collect();
    let trend = (!all.is_empty()).then(|| {
        let days: Vec<NaiveDate> = all.iter().map(|r| r.day).collect();
        ChartView::over_days(
            "Engagement score of the shop per day",
            &days,
            vec![
                Series {
                    name: "Mean".into(),
                    values: all.iter().map(|r| f64::from(r.mean_score)).collect(),
                },
                Series {
                    name: "Median".into(),
                    values: all.iter().map(|r| f64::from(r.median_score)).collect(),
                },
            ],
            false,
        )
    });
    let last_day = days.last().copied();
    let latest: Vec<&DailyRow> = rows.iter().filter(|r| Some(r.day) == last_day).collect();
    let distribution = latest.iter().find(|r| r.segment == "all").map(|r| {
        ChartView::bars(
            "Customers by engagement score, latest day",
            (0..10)
                .map(|i| format!("{}–{}", i * 10, i * 10 + 9))
                .collect(),
            r.histogram.iter().map(|n| f64::from(*n)).collect(),
            "Customers",
        )
    });
    let by_segment = Segment::ALL
        .into_iter()
        .filter_map(|s| {
            latest.iter().find(|r| r.segment == s.as_str()).map(|r| {
                (
                    s.to_string(),
                    number(f64::from(r.mean_score)),
                    number(f64::from(r.median_score)),
                    r.customers,
                )
            })
        })
        .collect();
    render(EngagementPage {
        layout: Layout::new(&state, &shop, "/admin/engagement", "Engagement"),
        trend,
        distribution,
        by_segment,
        w: state.lifecycle.weights.clone(),
    })
}
