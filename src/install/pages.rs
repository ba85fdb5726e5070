//! The install flow's own short pages: why an install was refused, and how to start again.

use askama::Template;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};

#[derive(Template)]
#[template(path = "admin/denied.html")]
struct Refused<'a> {
    title: &'a str,
    message: &'a str,
    back: &'a str,
    back_label: &'a str,
}

/// A page with `status` naming the reason; `retry` links to a fresh install when the shop is
/// known. Never contains the code, the token or the signature.
pub fn refused(status: StatusCode, title: &str, message: &str, retry: Option<&str>) -> Response {
    let back = retry.map_or_else(|| "/admin".to_owned(), |shop| format!("/auth?shop={shop}"));
    let back_label = if retry.is_some() {
        "Start the install again"
    } else {
        "Go to the dashboard"
    };
    let page = Refused {
        title,
        message,
        back: &back,
        back_label,
    };
    match page.render() {
        Ok(body) => {
            let mut response = (status, Html(body)).into_response();
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(e) => {
            tracing::error!(error = %e, "install page failed to render");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
