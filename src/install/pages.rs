//! The install flow's own short pages: why an install was refused, and how to start again.

use askama::Template;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;

use crate::admin::auth::pages::{render, Denied};

/// A page with `status` naming the reason; `retry` links to a fresh install when the shop is
/// known. Never contains the code, the token or the signature.
pub fn refused(status: StatusCode, title: &str, message: &str, retry: Option<&str>) -> Response {
    let back = retry.map_or_else(|| "/admin".to_owned(), |shop| format!("/auth?shop={shop}"));
    let back_label = if retry.is_some() {
        "Start the install again"
    } else {
        "Go to the dashboard"
    };
    let page = Denied {
        title,
        message,
        back: &back,
        back_label,
    };
    page_response(status, &page)
}

/// A rendered install page, never cached; a page that fails to render is a logged 500.
fn page_response(status: StatusCode, page: &impl Template) -> Response {
    let mut response = render(status, page);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[derive(Template)]
#[template(path = "admin/installed.html")]
struct Installed<'a> {
    shop: &'a str,
    next: &'a str,
}

/// After a verified install: the session cookie, and a page that opens the dashboard's data
/// health page (where the history import shows its progress).
pub fn installed(shop: &str, session_cookie: HeaderValue) -> Response {
    let page = Installed {
        shop,
        next: "/admin/health",
    };
    let mut response = page_response(StatusCode::OK, &page);
    if response.status() == StatusCode::OK {
        response
            .headers_mut()
            .insert(header::SET_COOKIE, session_cookie);
    }
    response
}
