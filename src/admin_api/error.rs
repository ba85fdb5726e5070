use thiserror::Error;

/// Why an Admin API call did not return data.
#[derive(Debug, Error)]
pub enum AdminApiError {
    /// 401: the token was revoked or has expired. Retrying cannot help; the shop must go
    /// through install (or token exchange) again.
    #[error("Shopify rejected the access token (revoked or expired): the shop must re-authorize")]
    Unauthorized,
    /// A client error retrying cannot fix (bad request, missing scope, shop locked…).
    #[error("Shopify refused the request (HTTP {status}): {message}")]
    Refused { status: u16, message: String },
    /// The query itself failed (GraphQL `errors`, other than throttling).
    #[error("GraphQL error: {0}")]
    GraphQl(String),
    /// Transient failures (5xx, 429, timeouts, throttling) outlasted the retry budget.
    #[error("gave up after {attempts} attempts: {last}")]
    Exhausted { attempts: u32, last: String },
    /// A 2xx response that is not what the API documents.
    #[error("unexpected response from Shopify: {0}")]
    Decode(String),
}

impl AdminApiError {
    /// Whether calling again later may succeed (as opposed to needing a person).
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Exhausted { .. })
    }
}
