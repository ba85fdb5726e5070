//! How a backfill step can fail, and whether trying again may help.

use crate::shop_api::ConnectError;

use super::download::DownloadError;

#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// Needs a person (re-authorization, a FAILED operation, an unusable result): the job is
    /// marked failed with this message and can be retried.
    #[error("{0}")]
    Fatal(String),
    /// Shopify, the download or the database is unreachable for now: tried again later.
    #[error("{0}")]
    Transient(String),
    /// The server is stopping; the job resumes at the next start.
    #[error("stopping")]
    Stopped,
}

impl From<sqlx::Error> for StepError {
    fn from(e: sqlx::Error) -> Self {
        Self::Transient(format!("database error: {e}"))
    }
}

impl From<ConnectError> for StepError {
    fn from(e: ConnectError) -> Self {
        match &e {
            ConnectError::Api(api) if api.is_transient() => Self::Transient(e.to_string()),
            ConnectError::Database(_) => Self::Transient(e.to_string()),
            _ => Self::Fatal(e.to_string()),
        }
    }
}

impl From<DownloadError> for StepError {
    fn from(e: DownloadError) -> Self {
        match e {
            DownloadError::Malformed(_) => Self::Fatal(e.to_string()),
            _ => Self::Transient(e.to_string()),
        }
    }
}
