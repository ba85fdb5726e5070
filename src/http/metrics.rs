//! Prometheus metrics: requests by route and status, latency histograms, webhooks by topic and
//! outcome, outgoing events by topic and outcome, and the inbox and outbox backlogs (read from
//! the database at scrape time).

use std::collections::HashMap;
use std::sync::{OnceLock, RwLock};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::app::AppState;

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process-wide recorder (installed once; every Application in a process shares it).
pub fn handle() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let buckets = [
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ];
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &buckets)
                .map(|b| b.build_recorder())
                .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
            let handle = recorder.handle();
            // Fails only if another recorder is installed; metrics then go there.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// Middleware: counts and times every request by its route template (not the raw path).
pub async fn track(req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().cloned();
    let method = method_label(req.method());
    let start = Instant::now();
    let response = next.run(req).await;
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    let (requests, duration) = request_handles(route, method, response.status().as_u16());
    requests.increment(1);
    duration.record(start.elapsed().as_secs_f64());
    response
}

/// Methods by name; anything else is `other`, so a client cannot mint label values.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

type RequestHandles = (metrics::Counter, metrics::Histogram);

/// The counter and histogram of a (route, method, status), registered once and then reused:
/// looking them up in the recorder with fresh label strings on every request was a visible
/// share of the storefront's hot path.
fn request_handles(route: &str, method: &'static str, status: u16) -> RequestHandles {
    type Cache = RwLock<HashMap<String, HashMap<(&'static str, u16), RequestHandles>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Ok(routes) = cache.read() {
        if let Some(found) = routes.get(route).and_then(|m| m.get(&(method, status))) {
            return found.clone();
        }
    }
    let handles = (
        metrics::counter!("shoprecs_http_requests_total", "route" => route.to_owned(), "method" => method, "status" => status.to_string()),
        metrics::histogram!("shoprecs_http_request_duration_seconds", "route" => route.to_owned()),
    );
    if let Ok(mut routes) = cache.write() {
        routes
            .entry(route.to_owned())
            .or_default()
            .insert((method, status), handles.clone());
    }
    handles
}

/// `GET /metrics`.
pub async fn render(State(state): State<AppState>) -> impl IntoResponse {
    if let Ok(pending) = crate::store::inbox::backlog(&state.pool).await {
        metrics::gauge!("shoprecs_webhook_inbox_backlog").set(pending as f64);
    }
    if let Ok(pending) = crate::store::outbox::backlog(&state.pool).await {
        metrics::gauge!("shoprecs_event_outbox_backlog").set(pending as f64);
    }
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        handle().render(),
    )
}

/// `shoprecs_widget_renders_total` for a placement and format, registered once.
pub fn widget_renders(placement: &'static str, json: bool) -> metrics::Counter {
    type Cache = RwLock<HashMap<(&'static str, bool), metrics::Counter>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(found) = cache
        .read()
        .ok()
        .and_then(|c| c.get(&(placement, json)).cloned())
    {
        return found;
    }
    let format = if json { "json" } else { "html" };
    let counter = metrics::counter!("shoprecs_widget_renders_total", "placement" => placement, "format" => format);
    if let Ok(mut c) = cache.write() {
        c.insert((placement, json), counter.clone());
    }
    counter
}
