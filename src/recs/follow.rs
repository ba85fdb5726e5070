//! Several servers on one database (DESIGN §7): each keeps its in-memory models current with
//! what the others applied by reading the model log (`store::model_log`). Whatever changes a
//! model (an applied webhook batch, a rule change, stored pixel events, new engine settings)
//! writes one row naming what changed; every server reads the rows it has not handled and
//! reloads exactly that from the tables, as the writer did.
//!
//! Rows become visible at commit, not in sequence order, so the reader keeps the rows after its
//! settled mark it has handled and re-reads that window every tick. It moves the mark to the
//! newest row of a read only once every transaction running at that read has ended: a writer
//! takes its transaction id before its sequence number, so a row numbered below a visible one
//! belongs to a transaction that was running then (or has committed).

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use tokio::sync::watch;
use uuid::Uuid;

use super::{Models, Touched};
use crate::store::model_log::{self, Read};
use crate::store::{facts, ShopId};

/// A row that fails to apply this many times is given up: its shops are rebuilt instead.
const MAX_ATTEMPTS: u32 = 5;

/// One row's change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Orders, products, forgotten customers, rules or dropped shops to reload.
    Touched(Touched),
    /// Pixel events stored (by their ids).
    Browse {
        shop: ShopId,
        event_ids: Vec<String>,
    },
    /// The shop's model is built again (its engine settings changed).
    Rebuild { shop: ShopId },
}

impl Change {
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    fn shops(&self) -> Vec<ShopId> {
        match self {
            Self::Touched(t) => t.shops().into_iter().collect(),
            Self::Browse { shop, .. } | Self::Rebuild { shop } => vec![*shop],
        }
    }
}

/// How far a server has read the log.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Cursor {
    /// Every row up to here is handled (applied, the server's own, or never committed).
    settled: i64,
    /// Rows after `settled` already handled.
    handled: BTreeSet<i64>,
    /// The newest row of an earlier read and that read's `xmax`: once `xmin` reaches it, no
    /// row at or below that sequence number can still appear.
    checkpoint: Option<(i64, i64)>,
    /// Failed attempts of rows not applied yet.
    attempts: HashMap<i64, u32>,
}

impl Cursor {
    pub fn settled(&self) -> i64 {
        self.settled
    }

    /// The newest row handled so far.
    pub fn newest(&self) -> i64 {
        self.handled.last().copied().unwrap_or(self.settled)
    }

    /// Rows of the read another server wrote that are not handled yet.
    pub fn pending(&self, read: &Read, own: Uuid) -> Vec<i64> {
        read.entries
            .iter()
            .filter(|e| e.seq > self.settled && e.origin != own && !self.handled.contains(&e.seq))
            .map(|e| e.seq)
            .collect()
    }

    /// Records a row as handled (applied here, or written by this server).
    pub fn handle(&mut self, seq: i64) {
        self.attempts.remove(&seq);
        if seq > self.settled {
            self.handled.insert(seq);
        }
    }

    /// Counts a failed attempt; true once the row should be given up.
    pub fn failed(&mut self, seq: i64) -> bool {
        let n = self.attempts.entry(seq).or_default();
        *n += 1;
        *n >= MAX_ATTEMPTS
    }

    /// After a read of every visible row past the mark: moves the mark as far as the last
    /// checkpoint allows (stopping before a row not handled yet), and sets a new checkpoint.
    pub fn settle(&mut self, read: &Read) {
        if let Some((upto, xmax)) = self.checkpoint {
            if read.xmin >= xmax {
                let mut mark = upto;
                for e in &read.entries {
                    if e.seq > upto {
                        break;
                    }
                    if e.seq > self.settled && !self.handled.contains(&e.seq) {
                        mark = e.seq - 1;
                        break;
                    }
                }
                self.settled = self.settled.max(mark);
                self.checkpoint = None;
            }
        }
        if self.checkpoint.is_none() {
            let newest = read.entries.last().map_or(self.settled, |e| e.seq);
            self.checkpoint = Some((newest.max(self.settled), read.xmax));
        }
        let settled = self.settled;
        self.handled.retain(|s| *s > settled);
        self.attempts.retain(|s, _| *s > settled);
    }
}

/// Where a server that is about to build its models from the tables starts reading: every
/// row visible now is committed, so the build will include what it names (a browse event
/// applied twice would count twice in the shopper's profile); rows still in flight are read
/// later.
pub async fn start(pool: &PgPool) -> sqlx::Result<Cursor> {
    let mut cursor = Cursor::default();
    let read = model_log::after(pool, 0).await?;
    for entry in &read.entries {
        cursor.handle(entry.seq);
    }
    cursor.settle(&read);
    Ok(cursor)
}

/// Reads the log once: `window` re-reads every row after the settled mark (late commits) and
/// settles, otherwise only rows after the newest handled one are read.
pub async fn catch_up(
    pool: &PgPool,
    models: &Models,
    cursor: &mut Cursor,
    window: bool,
) -> anyhow::Result<()> {
    let from = if window {
        cursor.settled()
    } else {
        cursor.newest()
    };
    let read = model_log::after(pool, from).await?;
    let pending = cursor.pending(&read, models.origin());
    for (seq, change) in model_log::changes(pool, &pending).await? {
        let change = match serde_json::from_value::<Change>(change) {
            Ok(change) => change,
            Err(e) => {
                tracing::warn!(seq, error = %e, "unreadable model-log row skipped");
                cursor.handle(seq);
                continue;
            }
        };
        // A row that fails is tried again with the next window without holding up the rows
        // after it; after a few failures its shops are built again from the tables instead.
        if let Err(e) = apply(pool, models, &change).await {
            if !cursor.failed(seq) {
                tracing::warn!(seq, error = ?e, "applying a model-log row failed; retrying later");
                continue;
            }
            tracing::error!(seq, error = ?e, "a model-log row keeps failing; rebuilding its shops");
            for shop in change.shops() {
                models.rebuild(pool, shop).await?;
            }
        }
        cursor.handle(seq);
    }
    for own in read.entries.iter().filter(|e| e.origin == models.origin()) {
        cursor.handle(own.seq);
    }
    if window {
        cursor.settle(&read);
    }
    Ok(())
}

/// Writes `change` to the log, in a transaction of its own, and announces it (NOTIFY), for
/// every server but `origin` (a command without models of its own passes a fresh one). Pixel
/// batches do not come here: they are written with their events and not announced.
pub async fn announce(pool: &PgPool, origin: Uuid, change: &Change) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    model_log::append(&mut tx, origin, &change.to_json(), true).await?;
    tx.commit().await
}

/// A change a request made to stored data (rules, engine settings): announced to the other
/// servers and applied here. The data is stored already, so a failed announcement is logged
/// (the other servers catch up at their next start or rebuild); a failed apply is returned.
pub async fn publish(pool: &PgPool, models: &Models, change: &Change) -> anyhow::Result<()> {
    if let Err(e) = announce(pool, models.origin(), change).await {
        tracing::error!(error = %e, ?change, "telling other servers about a change failed");
    }
    apply(pool, models, change).await
}

/// A shop's rules changed (dashboard or API): reloads them here and on every other server,
/// logging a failure (the rules are stored; the next start or rebuild heals it).
pub async fn rules_changed(pool: &PgPool, models: &Models, shop: ShopId) {
    let mut touched = Touched::default();
    touched.rules.insert(shop);
    if let Err(e) = publish(pool, models, &Change::Touched(touched)).await {
        tracing::error!(error = ?e, shop.id = shop.0, "reloading rules into the model failed");
    }
}

async fn apply(pool: &PgPool, models: &Models, change: &Change) -> anyhow::Result<()> {
    match change {
        Change::Touched(touched) => models.refresh(pool, touched).await,
        Change::Browse { shop, event_ids } => {
            let events = facts::browse_events(pool, *shop, event_ids).await?;
            models.record_browse(*shop, events);
            Ok(())
        }
        Change::Rebuild { shop } => models.rebuild(pool, *shop).await.map(|_| ()),
    }
}

/// Follows the log until `stop`: at once when a row is announced (NOTIFY), and every
/// `interval` with the whole unsettled window. A server that could not read the log for
/// longer than half of `retention` may have missed pruned rows: it builds every model again.
pub fn spawn(
    pool: PgPool,
    models: std::sync::Arc<Models>,
    mut cursor: Cursor,
    interval: Duration,
    retention: Duration,
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let listening = async {
            let mut listener = sqlx::postgres::PgListener::connect_with(&pool).await?;
            listener.listen(model_log::CHANNEL).await?;
            Ok::<_, sqlx::Error>(listener)
        };
        let mut listener = listening
            .await
            .inspect_err(
                |e| tracing::warn!(error = %e, "cannot listen for model-log rows; polling only"),
            )
            .ok();
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_read = Instant::now();
        loop {
            let window = tokio::select! {
                _ = tick.tick() => true,
                n = async {
                    match listener.as_mut() {
                        Some(l) => l.recv().await.map(|_| ()),
                        None => std::future::pending().await,
                    }
                } => {
                    if let Err(e) = n {
                        tracing::warn!(error = %e, "model-log listener lost its connection; it reconnects");
                    }
                    false
                }
                _ = stop.changed() => return,
            };
            // Notifications that arrived meanwhile are covered by this read.
            if let Some(l) = listener.as_mut() {
                while l.next_buffered().is_some() {}
            }
            if last_read.elapsed() > retention / 2 {
                tracing::warn!(
                    "the model log was not read for a long time; building every model again"
                );
                match catch_up_from_scratch(&pool, &models).await {
                    Ok(fresh) => {
                        cursor = fresh;
                        last_read = Instant::now();
                    }
                    Err(e) => tracing::warn!(error = ?e, "rebuilding the models failed; retrying"),
                }
                continue;
            }
            match catch_up(&pool, &models, &mut cursor, window).await {
                Ok(_) => last_read = Instant::now(),
                Err(e) => {
                    tracing::warn!(error = ?e, "following the model log failed; retrying");
                    tokio::time::sleep(interval).await;
                }
            }
        }
    })
}

/// A new cursor and every model built again from the tables.
async fn catch_up_from_scratch(pool: &PgPool, models: &Models) -> anyhow::Result<Cursor> {
    let cursor = start(pool).await?;
    models.rebuild_all(pool).await?;
    Ok(cursor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::model_log::Entry;

    const OWN: Uuid = Uuid::from_u128(1);
    const OTHER: Uuid = Uuid::from_u128(2);

    fn read(seqs: &[(i64, Uuid)], xmin: i64, xmax: i64) -> Read {
        Read {
            entries: seqs
                .iter()
                .map(|&(seq, origin)| Entry { seq, origin })
                .collect(),
            xmin,
            xmax,
        }
    }

    #[test]
    fn others_rows_are_applied_once_and_own_rows_never() {
        let mut cursor = Cursor::default();
        let r = read(&[(11, OTHER), (12, OWN)], 100, 101);
        assert_eq!(cursor.pending(&r, OWN), vec![11]);
        cursor.handle(11);
        cursor.handle(12);
        assert!(cursor.pending(&r, OWN).is_empty());
        assert_eq!(cursor.newest(), 12);
    }

    #[test]
    fn a_row_committed_late_below_a_visible_one_is_still_applied() {
        let mut cursor = Cursor::default();
        // Row 12 is visible; row 11's transaction (id 103) is still running.
        let first = read(&[(12, OTHER)], 100, 105);
        cursor.handle(12);
        cursor.settle(&first);
        assert_eq!(cursor.settled(), 0);
        // 11 commits; a transaction older than the first read's xmax is still running.
        let second = read(&[(11, OTHER), (12, OTHER)], 104, 106);
        assert_eq!(cursor.pending(&second, OWN), vec![11]);
        cursor.handle(11);
        cursor.settle(&second);
        assert_eq!(
            cursor.settled(),
            0,
            "not before the first read's transactions ended"
        );
        let third = read(&[(11, OTHER), (12, OTHER)], 105, 106);
        cursor.settle(&third);
        assert_eq!(cursor.settled(), 12);
        assert!(cursor.pending(&third, OWN).is_empty());
    }

    #[test]
    fn the_mark_stops_before_a_row_not_handled_and_passes_rolled_back_ones() {
        let mut cursor = Cursor::default();
        cursor.handle(1);
        cursor.handle(3);
        cursor.settle(&read(&[(1, OTHER), (3, OTHER)], 10, 10));
        // Row 2 appears (it failed to apply, so it is not handled); 4 never commits.
        cursor.settle(&read(&[(1, OTHER), (2, OTHER), (3, OTHER)], 10, 10));
        assert_eq!(cursor.settled(), 1);
        assert_eq!(
            cursor.pending(&read(&[(2, OTHER), (3, OTHER)], 10, 10), OWN),
            vec![2]
        );
        cursor.handle(2);
        cursor.handle(5);
        cursor.settle(&read(&[(2, OTHER), (3, OTHER), (5, OTHER)], 10, 11));
        cursor.settle(&read(&[(2, OTHER), (3, OTHER), (5, OTHER)], 11, 11));
        assert_eq!(cursor.settled(), 5, "the gap at 4 is a rollback");
    }

    #[test]
    fn a_row_is_given_up_after_repeated_failures() {
        let mut cursor = Cursor::default();
        for _ in 1..MAX_ATTEMPTS {
            assert!(!cursor.failed(7));
        }
        assert!(cursor.failed(7));
        cursor.handle(7);
        assert!(!cursor.failed(7), "attempts start again after a success");
    }

    #[test]
    fn changes_round_trip_through_json() {
        let mut touched = Touched::default();
        touched.orders.insert((ShopId(1), 7));
        touched.rules.insert(ShopId(2));
        for change in [
            Change::Touched(touched),
            Change::Browse {
                shop: ShopId(3),
                event_ids: vec!["e1".into()],
            },
            Change::Rebuild { shop: ShopId(4) },
        ] {
            let back: Change = serde_json::from_value(change.to_json()).expect("reads back");
            assert_eq!(back, change);
        }
    }
}
