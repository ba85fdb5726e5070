//! Group commit for the webhook inbox. Concurrent webhook requests hand their row to one of a
//! few writer tasks, which insert everything waiting in one statement and one commit, then
//! answer each request. A request is still acknowledged only after its row is committed; the
//! database just does one commit (and one fsync) for many webhooks instead of one each.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};

use crate::store::inbox::{insert_many, PendingRow};

const WRITERS: usize = 4;
const MAX_BATCH: usize = 256;

type Reply = oneshot::Sender<sqlx::Result<bool>>;

/// How many webhooks the writers have committed so far: the applier reads it to notice a
/// burst (see `Applier::deferring_to`).
#[derive(Clone, Default)]
pub struct AcceptCounter(Arc<AtomicU64>);

impl AcceptCounter {
    fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    pub fn total(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Handle to the writer tasks.
pub struct InboxWriter {
    senders: Vec<mpsc::Sender<(PendingRow, Reply)>>,
    next: AtomicUsize,
    accepted: AcceptCounter,
}

impl InboxWriter {
    pub fn start(pool: PgPool) -> Self {
        let accepted = AcceptCounter::default();
        let senders = (0..WRITERS)
            .map(|_| {
                let (tx, rx) = mpsc::channel(MAX_BATCH * 4);
                tokio::spawn(write_loop(pool.clone(), rx, accepted.clone()));
                tx
            })
            .collect();
        Self {
            senders,
            next: AtomicUsize::new(0),
            accepted,
        }
    }

    /// The count of committed webhooks.
    pub fn accepted(&self) -> AcceptCounter {
        self.accepted.clone()
    }

    /// Writes the row durably; true when it was new, false for a duplicate delivery.
    pub async fn write(&self, row: PendingRow) -> sqlx::Result<bool> {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.senders.len();
        let (tx, rx) = oneshot::channel();
        self.senders[i]
            .send((row, tx))
            .await
            .map_err(|_| sqlx::Error::PoolClosed)?;
        rx.await.map_err(|_| sqlx::Error::PoolClosed)?
    }
}

async fn write_loop(
    pool: PgPool,
    mut rx: mpsc::Receiver<(PendingRow, Reply)>,
    accepted: AcceptCounter,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let rows: Vec<&PendingRow> = batch.iter().map(|(row, _)| row).collect();
        match insert_many(&pool, &rows).await {
            Ok(fresh) => {
                accepted.add(batch.len() as u64);
                for ((_, reply), is_new) in batch.drain(..).zip(fresh) {
                    let _ = reply.send(Ok(is_new));
                }
            }
            Err(e) => {
                // Unusual (a shop deleted under us, the database gone): every request retries
                // on its own so each gets its own answer.
                tracing::debug!(error = %e, "grouped inbox insert failed; writing one by one");
                for (row, reply) in batch.drain(..) {
                    let _ = reply.send(
                        insert_many(&pool, &[&row])
                            .await
                            .map(|f| f.first().copied().unwrap_or(false)),
                    );
                }
            }
        }
    }
}
