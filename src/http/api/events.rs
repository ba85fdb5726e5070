//! Outgoing events: the shop's endpoints, a test event, and what happened to recent events.
//! The dashboard calls the same store functions.

use axum::extract::State;
use axum::http::StatusCode;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::openapi::{BadRequest, Forbidden, NotFound, Unauthorized, Unprocessable};
use super::ApiShop;
use crate::app::AppState;
use crate::http::error::{AppError, AppResult};
use crate::http::extract::{Json, Path, Query};
use crate::outbox::{self, endpoint, sign};
use crate::store::outbox::{self as store, EndpointRow, EventRow, EventStatus};
use crate::store::{shops, ShopId};

/// The shop's endpoints.
#[derive(Debug, Serialize, ToSchema)]
pub struct EndpointList {
    pub endpoints: Vec<EndpointRow>,
}

/// `GET /api/v1/event-endpoints`
#[utoipa::path(
    get,
    path = "/api/v1/event-endpoints",
    operation_id = "list_event_endpoints",
    tag = "events",
    summary = "The endpoints that receive the shop's events",
    responses(
        (status = 200, description = "The endpoints, oldest first", body = EndpointList),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    ),
)]
pub async fn list_endpoints(
    State(state): State<AppState>,
    ApiShop(shop): ApiShop,
) -> AppResult<Json<EndpointList>> {
    let endpoints = store::list_endpoints(&state.pool, shop).await?;
    Ok(Json(EndpointList { endpoints }))
}

/// An endpoint to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEndpoint {
    /// Where events are posted: an absolute http or https URL.
    url: String,
    /// Topics to receive; omitted or empty = every topic.
    #[serde(default)]
    #[schema(schema_with = topics_schema)]
    topics: Vec<String>,
}

fn topics_schema() -> utoipa::openapi::schema::Array {
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(
            utoipa::openapi::ObjectBuilder::new()
                .schema_type(utoipa::openapi::Type::String)
                .enum_values(Some(endpoint::TOPICS.iter().copied())),
        )
        .build()
}

/// The endpoint added, with the shop's signing secret (verify `X-Shoprecs-Signature` with it).
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedEndpoint {
    pub endpoint_id: i64,
    pub url: String,
    pub topics: Vec<String>,
    pub active: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// The shop's signing secret (the same for all its endpoints).
    pub signing_secret: String,
}

/// `POST /api/v1/event-endpoints`
#[utoipa::path(
    post,
    path = "/api/v1/event-endpoints",
    operation_id = "create_event_endpoint",
    tag = "events",
    summary = "Add an endpoint (or update the topics of the one with this URL)",
    description = "Events are posted as JSON, signed with the shop's signing secret \
        (see `X-Shoprecs-Signature` in the README).",
    request_body = NewEndpoint,
    responses(
        (status = 201, description = "The endpoint and the shop's signing secret", body = CreatedEndpoint),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 422, response = Unprocessable),
    ),
)]
pub async fn create_endpoint(
    State(state): State<AppState>,
    ApiShop(shop): ApiShop,
    Json(new): Json<NewEndpoint>,
) -> AppResult<(StatusCode, Json<CreatedEndpoint>)> {
    let invalid = |e: endpoint::InvalidEndpoint| AppError::Unprocessable(e.0);
    let url = endpoint::parse_url(&new.url).map_err(invalid)?;
    let topics = endpoint::parse_topics(&new.topics).map_err(invalid)?;
    let row = store::add_endpoint(&state.pool, shop, &url, &topics).await?;
    let signing_secret = signing_secret(&state, shop).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedEndpoint {
            endpoint_id: row.endpoint_id,
            url: row.url,
            topics: row.topics,
            active: row.active,
            created_at: row.created_at,
            signing_secret,
        }),
    ))
}

async fn signing_secret(state: &AppState, shop: ShopId) -> AppResult<String> {
    let domain = shops::domain(&state.pool, shop)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("the key's shop has no row")))?;
    let secret = sign::shop_secret(&state.secrets.api_secret, &domain);
    Ok(secret.expose_secret().to_owned())
}

/// `DELETE /api/v1/event-endpoints/{endpoint_id}`
#[utoipa::path(
    delete,
    path = "/api/v1/event-endpoints/{endpoint_id}",
    operation_id = "delete_event_endpoint",
    tag = "events",
    summary = "Remove an endpoint and its undelivered events",
    params(("endpoint_id" = i64, Path, description = "The endpoint's id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ),
)]
pub async fn delete_endpoint(
    State(state): State<AppState>,
    ApiShop(shop): ApiShop,
    Path(endpoint_id): Path<i64>,
) -> AppResult<StatusCode> {
    if !store::remove_endpoint(&state.pool, shop, endpoint_id).await? {
        return Err(AppError::NotFound(format!(
            "endpoint {endpoint_id} not found"
        )));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The test event enqueued.
#[derive(Debug, Serialize, ToSchema)]
pub struct TestEvent {
    /// The `X-Shoprecs-Event-Id` it is delivered with.
    pub event_id: Uuid,
}

/// `POST /api/v1/event-endpoints/test`
#[utoipa::path(
    post,
    path = "/api/v1/event-endpoints/test",
    operation_id = "send_test_event",
    tag = "events",
    summary = "Send a `shoprecs.test` event to every endpoint that takes it",
    description = "Delivered like any event: signed, retried with backoff. \
        Follow it with `GET /api/v1/events`.",
    responses(
        (status = 202, description = "Enqueued", body = TestEvent),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 422, response = Unprocessable),
    ),
)]
pub async fn send_test(
    State(state): State<AppState>,
    ApiShop(shop): ApiShop,
) -> AppResult<(StatusCode, Json<TestEvent>)> {
    let Some(event_id) = outbox::send_test(&state.pool, shop, state.now()).await? else {
        return Err(AppError::Unprocessable(
            "no active endpoint takes `shoprecs.test`: add one first".into(),
        ));
    };
    state.outbox.wake();
    Ok((StatusCode::ACCEPTED, Json(TestEvent { event_id })))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    /// Only events in this state.
    #[param(inline)]
    status: Option<EventStatus>,
    /// Page size.
    #[param(minimum = 1, maximum = 500, default = 100)]
    limit: Option<i64>,
    /// Seek pagination: events older than this `outbox_id` (the previous page's `next`).
    before: Option<i64>,
}

/// One page of events, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventPage {
    pub events: Vec<EventRow>,
    /// Pass as `before` for the next page; null on the last page.
    pub next: Option<i64>,
}

/// `GET /api/v1/events?status=&limit=&before=`
#[utoipa::path(
    get,
    path = "/api/v1/events",
    operation_id = "list_events",
    tag = "events",
    summary = "Recent outgoing events and their delivery state, one row per endpoint",
    params(EventQuery),
    responses(
        (status = 200, description = "A page of events", body = EventPage),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 422, response = Unprocessable),
    ),
)]
pub async fn list_events(
    State(state): State<AppState>,
    ApiShop(shop): ApiShop,
    Query(q): Query<EventQuery>,
) -> AppResult<Json<EventPage>> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(AppError::Unprocessable(
            "limit must be between 1 and 500".into(),
        ));
    }
    let mut events = store::list_events(&state.pool, shop, q.status, q.before, limit + 1).await?;
    let next = (events.len() as i64 > limit).then(|| {
        events.truncate(limit as usize);
        events.last().map(|e| e.outbox_id)
    });
    Ok(Json(EventPage {
        events,
        next: next.flatten(),
    }))
}
