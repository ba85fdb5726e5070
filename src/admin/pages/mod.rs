//! The dashboard's pages. Every handler takes the [`AdminShop`] the request proved, and reads
//! only that shop's data.

mod checkouts;
mod explore;
mod health;
mod overview;
mod products;
mod rules;
mod segments;
mod settings;

use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::{Duration, NaiveDate};

use super::auth::AdminShop;
use super::charts::{self, Series};
use crate::app::AppState;
use crate::http::error::AppError;

/// A form that carries nothing but the session's CSRF token (delete and retry buttons).
#[derive(Debug, serde::Deserialize)]
pub(crate) struct CsrfOnly {
    csrf: String,
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(overview::page))
        .route("/admin/explore", get(explore::page))
        .route("/admin/bestsellers", get(products::page))
        .route("/admin/segments", get(segments::page))
        .route("/admin/segments/{name}/export", get(segments::export))
        .route("/admin/engagement", get(segments::engagement))
        .route("/admin/checkouts", get(checkouts::page))
        .route("/admin/rules", get(rules::page).post(rules::create))
        .route("/admin/rules/{rule_id}/delete", post(rules::delete))
        .route("/admin/settings", get(settings::page).post(settings::save))
        .route("/admin/settings/endpoints", post(settings::add_endpoint))
        .route(
            "/admin/settings/endpoints/{endpoint_id}/delete",
            post(settings::remove_endpoint),
        )
        .route("/admin/settings/test-event", post(settings::send_test))
        .route("/admin/health", get(health::page))
        .route("/admin/health/backfill", post(health::backfill))
        .route("/admin/static/admin.css", get(stylesheet))
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/admin.css"),
    )
        .into_response()
}

/// A page failed: an HTML error page (the API's JSON errors are for machines).
pub struct PageError(AppError);

impl<E: Into<AppError>> From<E> for PageError {
    fn from(e: E) -> Self {
        Self(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        let message = if status.is_server_error() {
            // Logged by AppError's own rendering; the page says what to do.
            let _ = self.0.into_response();
            "Something went wrong on our side. Reload the page in a moment.".to_owned()
        } else {
            self.0.to_string()
        };
        let body = format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{code} · shoprecs</title>\
             <link rel=\"stylesheet\" href=\"/admin/static/admin.css\"></head><body><main>\
             <h1>{code}</h1><p class=\"error\">{}</p><p><a href=\"/admin\">Back to the dashboard</a></p></main></body></html>",
            escape(&message),
            code = status.as_u16()
        );
        (status, Html(body)).into_response()
    }
}

pub type PageResult<T = Response> = Result<T, PageError>;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A link in the side navigation.
pub struct NavItem {
    pub href: String,
    pub label: &'static str,
    pub current: bool,
}

const NAV: [(&str, &str); 9] = [
    ("/admin", "Overview"),
    ("/admin/explore", "Explore"),
    ("/admin/bestsellers", "Bestsellers & trending"),
    ("/admin/segments", "Segments"),
    ("/admin/engagement", "Engagement"),
    ("/admin/checkouts", "Abandoned checkouts"),
    ("/admin/rules", "Rules"),
    ("/admin/settings", "Settings"),
    ("/admin/health", "Data health"),
];

/// What the base template needs.
pub struct Layout {
    pub title: String,
    pub domain: String,
    pub csrf: String,
    pub embedded: bool,
    pub app_bridge_key: Option<String>,
    pub nav: Vec<NavItem>,
    pub notice: Option<String>,
}

impl Layout {
    pub fn new(state: &AppState, shop: &AdminShop, current: &str, title: &str) -> Self {
        Self {
            title: title.to_owned(),
            domain: shop.domain.clone(),
            csrf: shop.csrf.clone(),
            embedded: shop.embedded,
            app_bridge_key: shop
                .embedded
                .then(|| state.settings.shopify.api_key.clone()),
            nav: NAV
                .iter()
                .map(|(href, label)| NavItem {
                    // Inside Shopify admin a page load needs a fresh session token: marked
                    // embedded, App Bridge supplies one on the way (the bounce page).
                    href: if shop.embedded {
                        format!("{href}?embedded=1&shop={}", shop.domain)
                    } else {
                        (*href).to_owned()
                    },
                    label,
                    current: *href == current,
                })
                .collect(),
            notice: None,
        }
    }

    pub fn with_notice(mut self, notice: Option<String>) -> Self {
        self.notice = notice;
        self
    }
}

/// Renders a page template into a response that is never cached.
pub fn render(t: impl askama::Template) -> PageResult {
    let html = t.render().map_err(|e| AppError::Internal(e.into()))?;
    Ok(([(header::CACHE_CONTROL, "private, no-store")], Html(html)).into_response())
}

/// After a form post: back to a page (303), optionally with a notice.
pub fn see_other(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_owned())]).into_response()
}

/// A chart and the same numbers as a table.
pub struct ChartView {
    pub title: String,
    pub svg: String,
    pub legend: Vec<(String, &'static str)>,
    pub head: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl ChartView {
    /// Lines (or stacked areas) of several series over days.
    pub fn over_days(title: &str, days: &[NaiveDate], series: Vec<Series>, stacked: bool) -> Self {
        let labels: Vec<String> = days
            .iter()
            .map(|d| d.format("%b %-d").to_string())
            .collect();
        let svg = if stacked {
            charts::stacked(title, &labels, &series)
        } else {
            charts::lines(title, &labels, &series)
        };
        let head = std::iter::once("Day".to_owned())
            .chain(series.iter().map(|s| s.name.clone()))
            .collect();
        let rows = days
            .iter()
            .enumerate()
            .map(|(i, d)| {
                std::iter::once(d.to_string())
                    .chain(
                        series
                            .iter()
                            .map(|s| number(s.values.get(i).copied().unwrap_or(0.0))),
                    )
                    .collect()
            })
            .collect();
        Self {
            title: title.to_owned(),
            legend: series
                .iter()
                .enumerate()
                .map(|(i, s)| (s.name.clone(), charts::colour(i)))
                .collect(),
            svg,
            head,
            rows,
        }
    }

    pub fn bars(title: &str, labels: Vec<String>, values: Vec<f64>, value_name: &str) -> Self {
        let svg = charts::bars(title, &labels, &values);
        Self {
            title: title.to_owned(),
            svg,
            legend: Vec::new(),
            head: vec!["".to_owned(), value_name.to_owned()],
            rows: labels
                .into_iter()
                .zip(values)
                .map(|(l, v)| vec![l, number(v)])
                .collect(),
        }
    }
}

/// Every day from `from` to `to` inclusive.
pub fn days(from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
    let mut out = Vec::new();
    let mut d = from;
    while d <= to {
        out.push(d);
        d += Duration::days(1);
    }
    out
}

/// A number for people: no decimals when whole, else one.
pub fn number(v: f64) -> String {
    if v.fract().abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// An amount in the shop's currency.
pub fn money(v: f64, currency: &str) -> String {
    let amount = rust_decimal::Decimal::from_f64_retain(v).unwrap_or_default();
    crate::http::proxy::money::format(amount, currency)
}

/// Percent with one decimal.
pub fn percent(part: f64, whole: f64) -> String {
    if whole > 0.0 {
        format!("{:.1}%", 100.0 * part / whole)
    } else {
        "–".to_owned()
    }
}

/// `+12%` / `−5%` against the previous period, and whether it went up.
pub fn delta(now: f64, before: f64) -> Option<(String, bool)> {
    if before <= 0.0 {
        return None;
    }
    let change = (now - before) / before * 100.0;
    Some((
        format!(
            "{}{:.0}% vs previous period",
            if change >= 0.0 { "+" } else { "−" },
            change.abs()
        ),
        change >= 0.0,
    ))
}
