//! The standalone pages of access control: login, the session-token bounce page and the
//! "denied" page (bad CSRF token, shop not installed, too many attempts).

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

#[derive(Template)]
#[template(path = "admin/login.html")]
pub(super) struct Login<'a> {
    pub error: Option<&'a str>,
    pub shop: &'a str,
    pub next: &'a str,
}

#[derive(Template)]
#[template(path = "admin/bounce.html")]
pub(super) struct Bounce<'a> {
    pub app_bridge_key: Option<&'a str>,
    pub reload: &'a str,
}

#[derive(Template)]
#[template(path = "admin/denied.html")]
pub(crate) struct Denied<'a> {
    pub title: &'a str,
    pub message: &'a str,
    pub back: &'a str,
    pub back_label: &'a str,
}

/// Renders a page with `status`; a template error is logged and answered with a bare 500.
pub(crate) fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(body) => (status, Html(body)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "admin page failed to render");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// A "denied" page with a way back to the dashboard.
pub(super) fn denied(status: StatusCode, title: &str, message: &str) -> Response {
    render(
        status,
        &Denied {
            title,
            message,
            back: "/admin",
            back_label: "Back to the dashboard",
        },
    )
}
