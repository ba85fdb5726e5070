//! Overview: orders, widget impressions, clicks, CTR, attributed orders and revenue by widget,
//! and the share of revenue from recommendations, for a period against the one before.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::State;
use chrono::Duration;
use serde::Deserialize;

use super::{days, delta, money, percent, render, ChartView, Layout, PageResult};
use crate::admin::auth::AdminShop;
use crate::admin::charts::Series;
use crate::app::AppState;
use crate::http::extract::Query;
use crate::store::{catalog, dashboard, rollups, widget_events};

#[derive(Debug, Deserialize)]
pub struct PeriodQuery {
    period: Option<i64>,
}

pub struct Metric {
    pub label: &'static str,
    pub value: String,
    pub delta: Option<(String, bool)>,
}

pub struct WidgetRow {
    pub widget: String,
    pub impressions: i64,
    pub clicks: i64,
    pub ctr: String,
    pub orders: i64,
    pub revenue: String,
}

#[derive(Template)]
#[template(path = "admin/overview.html")]
struct Page {
    layout: Layout,
    period: i64,
    periods: [i64; 3],
    metrics: Vec<Metric>,
    widgets: Vec<WidgetRow>,
    chart: ChartView,
    empty: bool,
    window_hours: i64,
}

#[derive(Default)]
struct Totals {
    orders: f64,
    revenue: f64,
    impressions: f64,
    clicks: f64,
    attributed_orders: f64,
    attributed_revenue: f64,
}

pub async fn page(
    State(state): State<AppState>,
    shop: AdminShop,
    Query(q): Query<PeriodQuery>,
) -> PageResult {
    let period = q.period.filter(|p| [7, 30, 90].contains(p)).unwrap_or(30);
    let now = state.now();
    let today = now.date_naive();
    let from_day = today - Duration::days(period - 1);
    let from = from_day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    let before = from - Duration::days(period);
    let window = state.settings.storefront.attribution_window_hours;
    // Past days from the daily totals; today and days not computed yet, live.
    let before_day = before.date_naive();
    let stored = rollups::read(
        &state.pool,
        shop.shop,
        before_day,
        today - Duration::days(1),
    )
    .await?;
    let mut live_from = before_day;
    while live_from < today && stored.computed.contains(&live_from) {
        live_from += Duration::days(1);
    }
    let live_start = live_from.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    let mut orders: Vec<_> = stored
        .orders
        .into_iter()
        .filter(|o| o.0 < live_from)
        .collect();
    orders.extend(dashboard::orders_by_day(&state.pool, shop.shop, live_start, now).await?);
    let mut widget_days: Vec<_> = stored
        .widgets
        .into_iter()
        .filter(|w| w.day < live_from)
        .collect();
    widget_days
        .extend(widget_events::daily(&state.pool, shop.shop, live_start, now, window).await?);
    let currency = catalog::currency(&state.pool, shop.shop).await?;

    let mut current = Totals::default();
    let mut previous = Totals::default();
    for (day, n, revenue) in &orders {
        let t = if *day >= from_day {
            &mut current
        } else {
            &mut previous
        };
        t.orders += *n as f64;
        t.revenue += revenue;
    }
    let mut by_widget: BTreeMap<String, (i64, i64, i64, f64)> = BTreeMap::new();
    let mut daily: BTreeMap<chrono::NaiveDate, (f64, f64)> = BTreeMap::new();
    for w in &widget_days {
        let revenue: f64 = w.attributed_revenue.try_into().unwrap_or(0.0);
        let t = if w.day >= from_day {
            &mut current
        } else {
            &mut previous
        };
        t.impressions += w.impressions as f64;
        t.clicks += w.clicks as f64;
        t.attributed_orders += w.attributed_orders as f64;
        t.attributed_revenue += revenue;
        if w.day >= from_day {
            let e = by_widget
                .entry(format!("{} · {}", w.placement, w.list.replace('_', " ")))
                .or_default();
            e.0 += w.impressions;
            e.1 += w.clicks;
            e.2 += w.attributed_orders;
            e.3 += revenue;
            let d = daily.entry(w.day).or_default();
            d.0 += w.clicks as f64;
            d.1 += revenue;
        }
    }
    let metric = |label, value, now: f64, before: f64| Metric {
        label,
        value,
        delta: delta(now, before),
    };
    let metrics = vec![
        metric(
            "Orders",
            format!("{}", current.orders),
            current.orders,
            previous.orders,
        ),
        metric(
            "Widget impressions",
            format!("{}", current.impressions),
            current.impressions,
            previous.impressions,
        ),
        metric(
            "Clicks",
            format!("{}", current.clicks),
            current.clicks,
            previous.clicks,
        ),
        metric(
            "Click-through rate",
            percent(current.clicks, current.impressions),
            ratio(current.clicks, current.impressions),
            ratio(previous.clicks, previous.impressions),
        ),
        metric(
            "Attributed orders",
            format!("{}", current.attributed_orders),
            current.attributed_orders,
            previous.attributed_orders,
        ),
        metric(
            "Attributed revenue",
            money(current.attributed_revenue, &currency),
            current.attributed_revenue,
            previous.attributed_revenue,
        ),
        metric(
            "Revenue from recommendations",
            percent(current.attributed_revenue, current.revenue),
            ratio(current.attributed_revenue, current.revenue),
            ratio(previous.attributed_revenue, previous.revenue),
        ),
    ];
    let widgets = by_widget
        .into_iter()
        .map(
            |(widget, (impressions, clicks, orders, revenue))| WidgetRow {
                widget,
                impressions,
                clicks,
                ctr: percent(clicks as f64, impressions as f64),
                orders,
                revenue: money(revenue, &currency),
            },
        )
        .collect();
    let span = days(from_day, today);
    let per_day: BTreeMap<_, _> = orders.iter().map(|(d, n, r)| (*d, (*n, *r))).collect();
    let chart = ChartView::over_days(
        "Orders and recommendation clicks per day",
        &span,
        vec![
            Series {
                name: "Orders".into(),
                values: span
                    .iter()
                    .map(|d| per_day.get(d).map_or(0.0, |v| v.0 as f64))
                    .collect(),
            },
            Series {
                name: "Widget clicks".into(),
                values: span
                    .iter()
                    .map(|d| daily.get(d).map_or(0.0, |v| v.0))
                    .collect(),
            },
        ],
        false,
    );
    render(Page {
        layout: Layout::new(&state, &shop, "/admin", "Overview"),
        period,
        periods: [7, 30, 90],
        window_hours: window,
        empty: current.orders == 0.0 && previous.orders == 0.0 && current.impressions == 0.0,
        metrics,
        widgets,
        chart,
    })
}

fn ratio(part: f64, whole: f64) -> f64 {
    if whole > 0.0 {
        part / whole
    } else {
        0.0
    }
}
