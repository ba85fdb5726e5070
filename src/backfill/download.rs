//! Streams a bulk operation's JSONL result into the staging table, never holding more than a
//! batch of lines. Each batch is committed with the job's counters, so after a restart the
//! download asks for the rest of the file (`Range: bytes=N-`; if the server ignores it, the
//! bytes already staged are skipped) and line numbers carry on where they stopped.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use reqwest::{header, StatusCode};
use sqlx::PgPool;

use super::jobs::{self, Job};
use super::jsonl::{parse_line, Line, LineSplitter};
use super::staging;

/// Why a download stopped before the end.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    /// The link expired (7 days) or vanished: the operation must run again.
    #[error("the result file is gone (HTTP {0}); running the query again")]
    Expired(u16),
    #[error("downloading the result failed: {0}")]
    Failed(String),
    #[error("the result is not JSONL: {0}")]
    Malformed(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// A batch of lines waiting to be committed, with where it ends in the file.
struct Pending {
    lines: Vec<Line>,
    first_line_no: i64,
    end_bytes: i64,
}

/// Downloads `url` (from where `job` stopped) into the staging table under `kind`.
pub async fn stage(
    pool: &PgPool,
    http: &reqwest::Client,
    job: &Job,
    kind: &str,
    url: &str,
    batch_size: usize,
) -> Result<(), DownloadError> {
    let mut request = http.get(url);
    if job.bytes_staged > 0 {
        request = request.header(header::RANGE, format!("bytes={}-", job.bytes_staged));
    }
    let response = request
        .send()
        .await
        .map_err(|e| DownloadError::Failed(e.without_url().to_string()))?;
    let mut skip = match response.status() {
        StatusCode::PARTIAL_CONTENT => 0,
        StatusCode::OK => job.bytes_staged as u64,
        // Asked for the rest of a file already staged whole.
        StatusCode::RANGE_NOT_SATISFIABLE => return Ok(()),
        s @ (StatusCode::NOT_FOUND | StatusCode::FORBIDDEN | StatusCode::GONE) => {
            return Err(DownloadError::Expired(s.as_u16()))
        }
        s => return Err(DownloadError::Failed(format!("HTTP {}", s.as_u16()))),
    };
    let mut splitter = LineSplitter::default();
    let mut pending = Pending {
        lines: Vec::with_capacity(batch_size),
        first_line_no: job.objects_staged + 1,
        end_bytes: job.bytes_staged,
    };
    let mut last_commit = Instant::now();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| DownloadError::Failed(e.without_url().to_string()))?;
        let mut data = &chunk[..];
        if skip > 0 {
            let n = (skip as usize).min(data.len());
            data = &data[n..];
            skip -= n as u64;
        }
        for (raw, len) in splitter.push(data) {
            add(&mut pending, &raw, len)?;
        }
        // Commit full batches, and a slow stream's lines at least every second.
        if pending.lines.len() >= batch_size
            || (!pending.lines.is_empty() && last_commit.elapsed() >= Duration::from_secs(1))
        {
            commit(pool, job, kind, &mut pending).await?;
            last_commit = Instant::now();
        }
    }
    if let Some((raw, len)) = splitter.finish() {
        add(&mut pending, &raw, len)?;
    }
    commit(pool, job, kind, &mut pending).await
}

fn add(pending: &mut Pending, raw: &[u8], len: usize) -> Result<(), DownloadError> {
    pending.end_bytes += len as i64;
    // A blank line still counts in bytes, not as an object.
    if let Some(line) = parse_line(raw).map_err(DownloadError::Malformed)? {
        pending.lines.push(line);
    }
    Ok(())
}

async fn commit(
    pool: &PgPool,
    job: &Job,
    kind: &str,
    pending: &mut Pending,
) -> Result<(), DownloadError> {
    let mut tx = pool.begin().await?;
    staging::insert(
        &mut tx,
        job.shop,
        job.job_id,
        kind,
        pending.first_line_no,
        &pending.lines,
    )
    .await?;
    let staged = pending.first_line_no - 1 + pending.lines.len() as i64;
    jobs::record_staged(&mut *tx, job.shop, job.job_id, staged, pending.end_bytes).await?;
    tx.commit().await?;
    pending.first_line_no = staged + 1;
    pending.lines.clear();
    Ok(())
}
