//! Lifecycle segments for e-mail and SMS tools: counts and definitions, the policy in use,
//! and each segment's members (JSON pages or the whole segment as CSV).

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::openapi::{Forbidden, NotFound, Unauthorized, Unprocessable};
use super::ApiShop;
use crate::app::AppState;
use crate::http::error::{AppError, AppResult};
use crate::http::extract::{Json, Path, Query};
use crate::lifecycle::{current_policy, member, policy_for_reading, write_csv, Member, Selection};
use crate::segments::{Overrides, Policy};
use crate::store::segments;

/// One segment: what it means and how many customers are in it now.
#[derive(Debug, Serialize, ToSchema)]
pub struct SegmentCount {
    #[schema(example = "at_risk")]
    pub name: String,
    pub definition: String,
    pub customers: i64,
    /// Of which VIP.
    pub vip: i64,
}

/// The values the shop's segments use now.
#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyView {
    /// No order for longer than this many days → lapsed.
    pub lapse_days: f64,
    /// Whether `lapse_days` is the merchant's override (else learned from the shop's orders).
    pub lapse_overridden: bool,
    /// The shop's median gap between a customer's consecutive orders, in days.
    pub expected_days: f64,
    /// At risk after the expected gap (own median from `own_history_min_gaps` gaps on, else the
    /// shop's) times this factor.
    pub at_risk_factor: f64,
    pub own_history_min_gaps: u32,
    /// Share of buying customers flagged VIP, and the net spend from which a customer is VIP.
    pub vip_share: f64,
    pub vip_min_spent: Option<f64>,
    /// How many gaps between orders the values were learned from (0: configured defaults).
    pub intervals_observed: usize,
}

impl From<&Policy> for PolicyView {
    fn from(p: &Policy) -> Self {
        Self {
            lapse_days: p.lapse_days,
            lapse_overridden: p.lapse_overridden,
            expected_days: p.expected_days,
            at_risk_factor: p.at_risk_factor,
            own_history_min_gaps: p.own_history_min_gaps,
            vip_share: p.vip_share,
            vip_min_spent: p.vip_min_spent,
            intervals_observed: p.intervals_observed,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SegmentsResponse {
    pub segments: Vec<SegmentCount>,
    /// What `vip` means.
    pub vip_definition: String,
    pub policy: PolicyView,
}

const VIP_DEFINITION: &str =
    "A flag on top of the segment: the top share of buying customers by net spend (after refunds).";

/// `GET /api/v1/segments`
#[utoipa::path(
    get,
    path = "/api/v1/segments",
    operation_id = "segments",
    tag = "segments",
    summary = "Segment sizes, definitions and the values in use",
    responses(
        (status = 200, description = "Every segment, also empty ones", body = SegmentsResponse),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    ApiShop(shop): ApiShop,
) -> AppResult<Json<SegmentsResponse>> {
    let mut conn = state.pool.acquire().await?;
    let counts = segments::counts(&mut conn, shop).await?;
    let policy = policy_for_reading(&mut conn, shop, &state.lifecycle, state.now()).await?;
    let segments = counts
        .into_iter()
        .map(|(s, n, vip)| SegmentCount {
            name: s.to_string(),
            definition: s.definition().to_string(),
            customers: n,
            vip,
        })
        .collect();
    Ok(Json(SegmentsResponse {
        segments,
        vip_definition: VIP_DEFINITION.into(),
        policy: PolicyView::from(&policy),
    }))
}

/// The merchant's overrides; absent fields go back to the learned values.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyOverrides {
    /// Lapse window in days (1 to 3650).
    pub lapse_days: Option<f64>,
    /// At-risk factor (0.1 to 10).
    pub at_risk_factor: Option<f64>,
    /// VIP share (0 to 1).
    pub vip_share: Option<f64>,
}

/// `PUT /api/v1/segments/policy`
#[utoipa::path(
    put,
    path = "/api/v1/segments/policy",
    operation_id = "set_segment_policy",
    tag = "segments",
    summary = "Override the lapse window, at-risk factor or VIP share",
    description = "Customers move at the next sweep (within `lifecycle.sweep_interval_minutes`).",
    request_body = PolicyOverrides,
    responses(
        (status = 200, description = "The values now in use", body = PolicyView),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 422, response = Unprocessable),
    ),
)]
pub async fn set_policy(
    State(state): State<AppState>,
    ApiShop(shop): ApiShop,
    Json(body): Json<PolicyOverrides>,
) -> AppResult<Json<PolicyView>> {
    let check = |v: Option<f64>, lo: f64, hi: f64, name: &str| match v {
        Some(x) if !(lo..=hi).contains(&x) => Err(AppError::Unprocessable(format!(
            "{name} must be between {lo} and {hi}"
        ))),
        _ => Ok(()),
    };
    check(body.lapse_days, 1.0, 3650.0, "lapse_days")?;
    check(body.at_risk_factor, 0.1, 10.0, "at_risk_factor")?;
    check(body.vip_share, 0.0, 1.0, "vip_share")?;
    let overrides = Overrides {
        lapse_days: body.lapse_days,
        at_risk_factor: body.at_risk_factor,
        vip_share: body.vip_share,
    };
    let json = serde_json::to_value(&overrides).unwrap_or_default();
    let mut tx = state.pool.begin().await?;
    segments::set_overrides(&mut tx, shop, &json).await?;
    let policy = current_policy(&mut tx, shop, &state.lifecycle, state.now(), true).await?;
    tx.commit().await?;
    Ok(Json(PolicyView::from(&policy)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MembersQuery {
    /// Return customers with an id greater than this (the previous page's `next_after`).
    after: Option<i64>,
    /// Page size.
    #[param(minimum = 1, maximum = 1000, default = 100)]
    limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MembersResponse {
    pub segment: String,
    pub customers: Vec<Member>,
    /// Pass as `after` for the next page; `null` on the last page.
    pub next_after: Option<i64>,
}

/// `GET /api/v1/segments/{name}/customers?after=&limit=` (JSON), or the whole segment as CSV
/// with `Accept: text/csv`.
#[utoipa::path(
    get,
    path = "/api/v1/segments/{name}/customers",
    operation_id = "segment_customers",
    tag = "segments",
    summary = "Customers in a segment",
    description = "`name` is a segment (`prospect`, `new`, `returning`, `at_risk`, `lapsed`) or `vip`. \
        JSON is paged by customer id; with `Accept: text/csv` the whole segment comes as one CSV \
        with the same columns.",
    params(
        ("name" = String, Path, description = "Segment name or `vip`"),
        MembersQuery,
    ),
    responses(
        (status = 200, description = "A page of members", body = MembersResponse,
         content_type = "application/json"),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 422, response = Unprocessable),
    ),
)]
pub async fn members(
    State(state): State<AppState>,
    ApiShop(shop): ApiShop,
    Path(name): Path<String>,
    Query(q): Query<MembersQuery>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let selection = Selection::parse(&name).ok_or_else(|| {
        AppError::NotFound(format!(
            "no segment `{name}`: use prospect, new, returning, at_risk, lapsed or vip"
        ))
    })?;
    let (segment, vip_only) = selection.filter();
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(AppError::Unprocessable(
            "limit must be between 1 and 1000".into(),
        ));
    }
    let wants_csv = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/csv"));
    let mut conn = state.pool.acquire().await?;
    let now = state.now();
    if wants_csv {
        let mut body = Vec::new();
        write_csv(&mut conn, shop, selection, &state.lifecycle, now, &mut body)
            .await
            .map_err(AppError::Internal)?;
        let disposition = format!("attachment; filename=\"segment-{name}.csv\"");
        return Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (header::CONTENT_DISPOSITION, disposition),
            ],
            body,
        )
            .into_response());
    }
    let policy = policy_for_reading(&mut conn, shop, &state.lifecycle, now).await?;
    let rows = segments::members(
        &mut conn,
        shop,
        segment,
        vip_only,
        q.after.unwrap_or(i64::MIN),
        limit + 1,
    )
    .await?;
    let more = rows.len() as i64 > limit;
    let customers: Vec<Member> = rows
        .iter()
        .take(limit as usize)
        .map(|r| member(r, &policy, &state.lifecycle, now))
        .collect();
    let next_after = more
        .then(|| customers.last().map(|m| m.customer_id))
        .flatten();
    Ok(Json(MembersResponse {
        segment: name,
        customers,
        next_after,
    })
    .into_response())
}
