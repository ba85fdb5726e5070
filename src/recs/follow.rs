//! Several servers on one database (DESIGN §7): each keeps its in-memory models current with
//! what the others applied by reading the model log (`store::model_log`). Whatever changes a
//! model (an applied webhook batch, a rule change, stored pixel events) writes one row naming
//! what changed, in the same transaction where it can; every server reads the rows it has not
//! handled and reloads exactly that from the tables, as the writer did.
//!
//! Rows become visible at commit, not in sequence order, so the reader keeps the rows after its
//! settled mark it has handled, re-reads that window every tick, and moves the mark over a row
//! only once it is `model_log::SETTLE_SECS` old.

use std::collections::BTreeSet;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use tokio::sync::watch;
use uuid::Uuid;

use super::{Models, Touched};
use crate::store::model_log::{self, Entry};

use crate::store::{facts, ShopId};

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
}

impl Change {
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// How far a server has read the log.
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor {
    /// Every row up to here is handled (or was the server's own, or never committed).
    settled: i64,
    /// Rows after `settled` already handled.
    handled: BTreeSet<i64>,
}

impl Cursor {
    /// Starts after `settled` (`model_log::settled_head` read before building the models).
    pub fn new(settled: i64) -> Self {
        Self {
            settled,
            handled: BTreeSet::new(),
        }
    }

    pub fn settled(&self) -> i64 {
        self.settled
    }

    /// The newest row handled so far.
    pub fn newest(&self) -> i64 {
        self.handled.last().copied().unwrap_or(self.settled)
    }

    /// Rows of `entries` another server wrote that are not handled yet.
    pub fn pending(&self, entries: &[Entry], own: Uuid) -> Vec<i64> {
        entries
            .iter()
            .filter(|e| e.seq > self.settled && e.origin != own && !self.handled.contains(&e.seq))
            .map(|e| e.seq)
            .collect()
    }

    /// Records a row as handled (applied here, or written by this server).
    pub fn handle(&mut self, seq: i64) {
        if seq > self.settled {
            self.handled.insert(seq);
        }
    }

    /// Moves the settled mark over the leading rows of `entries` (all after the mark, in order)
    /// that are settled and handled.
    pub fn settle(&mut self, entries: &[Entry]) {
        for e in entries {
            if !e.settled || !self.handled.contains(&e.seq) {
                break;
            }
            self.settled = e.seq;
        }
        let settled = self.settled;
        self.handled.retain(|s| *s > settled);
    }
}

/// Where a server that is about to build its models from the tables starts reading: every
/// row visible now is committed, so the build will include what it names (a browse event
/// applied twice would count twice in the shopper's profile); rows still in flight are read
/// later.
pub async fn start(pool: &PgPool) -> sqlx::Result<Cursor> {
    let mut cursor = Cursor::new(model_log::settled_head(pool).await?);
    for entry in model_log::after(pool, cursor.settled()).await? {
        cursor.handle(entry.seq);
    }
    Ok(cursor)
}

/// Reads the log once: `window` re-reads every row after the settled mark (late commits),
/// otherwise only rows after the newest handled one.
pub async fn catch_up(
    pool: &PgPool,
    models: &Models,
    cursor: &mut Cursor,
    window: bool,
) -> anyhow::Result<usize> {
    let from = if window {
        cursor.settled()
    } else {
        cursor.newest()
    };
    let entries = model_log::after(pool, from).await?;
    let pending = cursor.pending(&entries, models.origin());
    let mut applied = 0;
    for (seq, change) in model_log::changes(pool, &pending).await? {
        match serde_json::from_value::<Change>(change) {
            Ok(change) => {
                // A row that fails stays pending and is tried again with the next window; it
                // does not hold up the rows after it.
                if let Err(e) = apply(pool, models, &change).await {
                    tracing::warn!(seq, error = ?e, "applying a model-log row failed; retrying later");
                    continue;
                }
            }
            Err(e) => tracing::warn!(seq, error = %e, "unreadable model-log row skipped"),
        }
        cursor.handle(seq);
        applied += 1;
    }
    for own in entries.iter().filter(|e| e.origin == models.origin()) {
        cursor.handle(own.seq);
    }
    if window {
        cursor.settle(&entries);
    }
    Ok(applied)
}

/// Writes `change` to the log for the other servers (this one has applied it or is about to).
pub async fn tell_others(pool: &PgPool, models: &Models, change: &Change) -> sqlx::Result<()> {
    let mut conn = pool.acquire().await?;
    model_log::append(&mut conn, models.origin(), &change.to_json()).await
}

/// A shop's rules changed (dashboard or API): reloads them here and on every other server.
/// The rules are stored already, so a failure is logged: the next start or rebuild heals it.
pub async fn rules_changed(pool: &PgPool, models: &Models, shop: ShopId) {
    let mut touched = Touched::default();
    touched.rules.insert(shop);
    let change = Change::Touched(touched);
    if let Err(e) = tell_others(pool, models, &change).await {
        tracing::error!(error = %e, shop.id = shop.0, "telling other servers about new rules failed");
    }
    if let Err(e) = apply(pool, models, &change).await {
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
    }
}

/// Follows the log until `stop`: at once when a row commits (NOTIFY), and every `interval`
/// with the whole unsettled window.
pub fn spawn(
    pool: PgPool,
    models: std::sync::Arc<Models>,
    mut cursor: Cursor,
    interval: Duration,
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut listener = match sqlx::postgres::PgListener::connect_with(&pool).await {
            Ok(mut l) => match l.listen(model_log::CHANNEL).await {
                Ok(()) => Some(l),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for model-log rows; polling only");
                    None
                }
            },
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for model-log rows; polling only");
                None
            }
        };
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
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
            while let Some(l) = listener.as_mut() {
                if l.next_buffered().is_none() {
                    break;
                }
            }
            if let Err(e) = catch_up(&pool, &models, &mut cursor, window).await {
                tracing::warn!(error = ?e, "following the model log failed; retrying");
                tokio::time::sleep(interval).await;
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWN: Uuid = Uuid::from_u128(1);
    const OTHER: Uuid = Uuid::from_u128(2);

    fn entry(seq: i64, origin: Uuid, settled: bool) -> Entry {
        Entry {
            seq,
            origin,
            settled,
        }
    }

    #[test]
    fn others_rows_are_applied_once_and_own_rows_never() {
        let mut cursor = Cursor::new(10);
        let entries = [entry(11, OTHER, false), entry(12, OWN, false)];
        assert_eq!(cursor.pending(&entries, OWN), vec![11]);
        cursor.handle(11);
        cursor.handle(12);
        assert!(cursor.pending(&entries, OWN).is_empty());
        assert_eq!(cursor.newest(), 12);
    }

    #[test]
    fn a_row_committed_late_below_a_handled_one_is_still_applied() {
        let mut cursor = Cursor::new(10);
        cursor.handle(12);
        cursor.settle(&[entry(12, OTHER, false)]);
        // Row 11 was written first and committed after 12.
        let entries = [entry(11, OTHER, false), entry(12, OTHER, false)];
        assert_eq!(cursor.pending(&entries, OWN), vec![11]);
        cursor.handle(11);
        cursor.settle(&entries);
        assert_eq!(
            cursor.settled(),
            10,
            "nothing settled yet: 11 and 12 are recent"
        );
        let entries = [entry(11, OTHER, true), entry(12, OTHER, true)];
        cursor.settle(&entries);
        assert_eq!(cursor.settled(), 12);
        assert!(cursor.pending(&entries, OWN).is_empty());
    }

    #[test]
    fn the_mark_stops_at_the_first_row_not_handled() {
        let mut cursor = Cursor::new(0);
        cursor.handle(1);
        cursor.handle(3);
        cursor.settle(&[
            entry(1, OTHER, true),
            entry(2, OTHER, true),
            entry(3, OTHER, true),
        ]);
        assert_eq!(cursor.settled(), 1);
        assert_eq!(
            cursor.pending(&[entry(2, OTHER, true), entry(3, OTHER, true)], OWN),
            vec![2]
        );
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
        ] {
            let back: Change = serde_json::from_value(change.to_json()).expect("reads back");
            assert_eq!(back, change);
        }
    }
}
