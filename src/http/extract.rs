//! Our own extractors: axum's, with rejections rendered as `AppError` (stable JSON errors).

use axum::extract::{FromRequest, FromRequestParts};

use super::error::AppError;

/// Query string, rejected as 422 with the reason.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct Query<T>(pub T);

/// Path parameters, rejected as 404.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct Path<T>(pub T);

/// JSON body, rejected as 400 (syntax) or 422 (shape).
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct Json<T>(pub T);

impl<T: serde::Serialize> axum::response::IntoResponse for Json<T> {
    fn into_response(self) -> axum::response::Response {
        axum::Json(self.0).into_response()
    }
}
