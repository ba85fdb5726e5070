//! The `backfill_job` rows: one per run and shop, at most one unfinished per shop, holding the
//! phase, the current bulk operation and the progress every view reads.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgExecutor, PgPool};

use crate::store::ShopId;

/// Where a job is. `Running` covers the products and orders phases (bulk query + download).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Products,
    Orders,
    Applying,
    Done,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Products => "products",
            Self::Orders => "orders",
            Self::Applying => "applying",
            Self::Done => "done",
        }
    }

    fn parse(raw: &str) -> Self {
        match raw {
            "orders" => Self::Orders,
            "applying" => Self::Applying,
            "done" => Self::Done,
            _ => Self::Products,
        }
    }
}

/// A job as stored.
#[derive(Debug, Clone)]
pub struct Job {
    pub shop: ShopId,
    pub job_id: i64,
    /// queued, running, applying, done or failed.
    pub status: String,
    pub phase: Phase,
    pub orders_since: NaiveDate,
    pub operation_id: Option<String>,
    pub operation_status: Option<String>,
    pub object_count: Option<i64>,
    pub objects_staged: i64,
    pub bytes_staged: i64,
    pub roots_applied: i64,
    pub roots_total: i64,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub phase_started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl Job {
    pub fn is_active(&self) -> bool {
        matches!(self.status.as_str(), "queued" | "running" | "applying")
    }
}

macro_rules! job_from {
    ($r:expr) => {
        Job {
            shop: ShopId($r.shop_id),
            job_id: $r.job_id,
            status: $r.status,
            phase: Phase::parse(&$r.phase),
            orders_since: $r.orders_since,
            operation_id: $r.operation_id,
            operation_status: $r.operation_status,
            object_count: $r.object_count,
            objects_staged: $r.objects_staged,
            bytes_staged: $r.bytes_staged,
            roots_applied: $r.roots_applied,
            roots_total: $r.roots_total,
            last_error: $r.last_error,
            created_at: $r.created_at,
            started_at: $r.started_at,
            phase_started_at: $r.phase_started_at,
            finished_at: $r.finished_at,
        }
    };
}

/// The shop's latest job, finished or not.
pub async fn latest(pool: &PgPool, shop: ShopId) -> sqlx::Result<Option<Job>> {
    let row = sqlx::query!(
        "select * from backfill_job where shop_id = $1 order by job_id desc limit 1",
        shop.0
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| job_from!(r)))
}

pub async fn get(pool: &PgPool, shop: ShopId, job_id: i64) -> sqlx::Result<Option<Job>> {
    let row = sqlx::query!(
        "select * from backfill_job where shop_id = $1 and job_id = $2",
        shop.0,
        job_id
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| job_from!(r)))
}

/// Unfinished jobs of every shop, oldest first: what a starting server picks up.
pub async fn unfinished(pool: &PgPool) -> sqlx::Result<Vec<(ShopId, i64)>> {
    let rows = sqlx::query!(
        "select shop_id, job_id from backfill_job
          where status in ('queued', 'running', 'applying') order by job_id"
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (ShopId(r.shop_id), r.job_id))
        .collect())
}

/// Queues a job unless the shop has an unfinished one. Returns the new job's id, or `None`.
pub async fn create(pool: &PgPool, shop: ShopId, since: NaiveDate) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar!(
        "insert into backfill_job (shop_id, orders_since) values ($1, $2)
         on conflict (shop_id) where status in ('queued', 'running', 'applying') do nothing
         returning job_id",
        shop.0,
        since
    )
    .fetch_optional(pool)
    .await
}

/// Puts a failed job back in the queue where it stopped. An operation Shopify ended without a
/// result (FAILED, CANCELED, EXPIRED) is forgotten so the phase runs a new one. False when the
/// job is not failed (or another one is unfinished).
pub async fn requeue(pool: &PgPool, shop: ShopId, job_id: i64) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "update backfill_job
            set status = 'queued', attempts = 0, last_error = null, finished_at = null,
                updated_at = now(),
                operation_id = case when operation_status in ('COMPLETED', 'CREATED', 'RUNNING')
                                    then operation_id end,
                operation_status = case when operation_status in ('COMPLETED', 'CREATED', 'RUNNING')
                                        then operation_status end,
                operation_error = null
          where shop_id = $1 and job_id = $2 and status = 'failed'
            and not exists (select 1 from backfill_job o where o.shop_id = $1
                              and o.status in ('queued', 'running', 'applying'))",
        shop.0,
        job_id
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks a queued job running (its start time kept from an earlier run).
pub async fn mark_running(pool: &PgPool, shop: ShopId, job_id: i64) -> sqlx::Result<()> {
    sqlx::query!(
        "update backfill_job
            set status = case when phase = 'applying' then 'applying' else 'running' end,
                started_at = coalesce(started_at, now()),
                phase_started_at = coalesce(phase_started_at, now()), updated_at = now()
          where shop_id = $1 and job_id = $2 and status = 'queued'",
        shop.0,
        job_id
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Moves on to `phase`, its progress counters reset.
pub async fn enter_phase(
    executor: impl PgExecutor<'_>,
    shop: ShopId,
    job_id: i64,
    phase: Phase,
) -> sqlx::Result<()> {
    let status = if matches!(phase, Phase::Products | Phase::Orders) {
        "running"
    } else {
        "applying"
    };
    sqlx::query!(
        "update backfill_job
            set phase = $3, status = $4, phase_started_at = now(), updated_at = now(),
                operation_id = null, operation_status = null, operation_error = null,
                object_count = null, objects_staged = 0, bytes_staged = 0, attempts = 0
          where shop_id = $1 and job_id = $2",
        shop.0,
        job_id,
        phase.as_str(),
        status
    )
    .execute(executor)
    .await?;
    Ok(())
}

/// Records the phase's bulk operation as Shopify last described it.
pub async fn record_operation(
    pool: &PgPool,
    shop: ShopId,
    job_id: i64,
    id: &str,
    status: &str,
    error: Option<&str>,
    object_count: Option<i64>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update backfill_job
            set operation_id = $3, operation_status = $4, operation_error = $5,
                object_count = coalesce($6, object_count), updated_at = now()
          where shop_id = $1 and job_id = $2",
        shop.0,
        job_id,
        id,
        status,
        error,
        object_count
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Forgets the phase's operation and what was staged of it (its result expired).
pub async fn forget_operation(
    executor: impl PgExecutor<'_>,
    shop: ShopId,
    job_id: i64,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update backfill_job
            set operation_id = null, operation_status = null, operation_error = null,
                object_count = null, objects_staged = 0, bytes_staged = 0, updated_at = now()
          where shop_id = $1 and job_id = $2",
        shop.0,
        job_id
    )
    .execute(executor)
    .await?;
    Ok(())
}

/// Staging progress (in the staging transaction, so it matches the staged lines).
pub async fn record_staged(
    executor: impl PgExecutor<'_>,
    shop: ShopId,
    job_id: i64,
    lines: i64,
    bytes: i64,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update backfill_job
            set objects_staged = $3, bytes_staged = $4, attempts = 0, updated_at = now()
          where shop_id = $1 and job_id = $2",
        shop.0,
        job_id,
        lines,
        bytes
    )
    .execute(executor)
    .await?;
    Ok(())
}

pub async fn record_applied(
    pool: &PgPool,
    shop: ShopId,
    job_id: i64,
    applied: i64,
    total: i64,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update backfill_job
            set roots_applied = $3, roots_total = $4, attempts = 0, updated_at = now()
          where shop_id = $1 and job_id = $2",
        shop.0,
        job_id,
        applied,
        total
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// A step failed; returns the attempts made so far.
pub async fn record_attempt_error(
    pool: &PgPool,
    shop: ShopId,
    job_id: i64,
    error: &str,
) -> sqlx::Result<i32> {
    sqlx::query_scalar!(
        "update backfill_job set attempts = attempts + 1, last_error = $3, updated_at = now()
          where shop_id = $1 and job_id = $2 returning attempts",
        shop.0,
        job_id,
        error
    )
    .fetch_one(pool)
    .await
}

pub async fn fail(pool: &PgPool, shop: ShopId, job_id: i64, error: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "update backfill_job
            set status = 'failed', last_error = $3, finished_at = now(), updated_at = now()
          where shop_id = $1 and job_id = $2",
        shop.0,
        job_id,
        error
    )
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn finish(pool: &PgPool, shop: ShopId, job_id: i64) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "update backfill_job
            set status = 'done', phase = 'done', last_error = null, finished_at = now(),
                updated_at = now()
          where shop_id = $1 and job_id = $2",
        shop.0,
        job_id
    )
    .execute(&mut *tx)
    .await?;
    // The staged lines served their purpose; the store now holds what they said.
    sqlx::query!(
        "delete from backfill_line where shop_id = $1 and job_id = $2",
        shop.0,
        job_id
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}
