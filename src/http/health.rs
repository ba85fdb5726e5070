//! Liveness and readiness.

use axum::extract::State;
use axum::http::StatusCode;

use crate::app::AppState;
use crate::db::MIGRATOR;

/// The process is up.
pub async fn healthz() -> &'static str {
    "ok"
}

/// The database is reachable and every migration this binary knows has been applied.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    let latest = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
    // sqlx's own bookkeeping table, not part of our schema: a plain (unchecked) query.
    let applied: Result<i64, _> =
        sqlx::query_scalar("select coalesce(max(version), 0) from _sqlx_migrations where success")
            .fetch_one(&state.pool)
            .await;
    match applied {
        Ok(version) if version >= latest => (StatusCode::OK, "ready"),
        Ok(_) => (StatusCode::SERVICE_UNAVAILABLE, "database not migrated"),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database unreachable"),
    }
}
