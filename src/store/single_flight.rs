//! One refresh at a time per key: when a cached value goes stale under load, the first caller
//! reads it again while the others keep using the stale value, instead of every request in
//! flight sending the same query at once.

use std::collections::HashSet;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The keys being refreshed.
pub struct SingleFlight<K: Eq + Hash + Clone>(Arc<Mutex<HashSet<K>>>);

impl<K: Eq + Hash + Clone> Default for SingleFlight<K> {
    fn default() -> Self {
        Self(Arc::default())
    }
}

/// What a cache does with what it holds for a key.
pub enum Lookup<V, K: Eq + Hash + Clone> {
    /// Fresh, or stale while another caller refreshes it.
    Use(V),
    /// Read it again (holding the claim when there was a stale value).
    Refresh(Option<Claim<K>>),
}

/// The right to refresh one key, given up when dropped (also when the refresh is cancelled).
pub struct Claim<K: Eq + Hash + Clone> {
    set: Arc<Mutex<HashSet<K>>>,
    key: K,
}

impl<K: Eq + Hash + Clone> SingleFlight<K> {
    /// The claim on `key`, unless another caller holds it.
    pub fn claim(&self, key: &K) -> Option<Claim<K>> {
        let mut set = self.0.lock().unwrap_or_else(|e| e.into_inner());
        set.insert(key.clone()).then(|| Claim {
            set: self.0.clone(),
            key: key.clone(),
        })
    }

    /// Uses `cached` (the value and when it was read) while younger than `ttl`; once stale,
    /// the first caller refreshes and the others keep the stale value meanwhile. Nothing
    /// cached: refresh.
    pub fn lookup<V>(&self, key: &K, cached: Option<(V, Instant)>, ttl: Duration) -> Lookup<V, K> {
        match cached {
            Some((value, at)) if at.elapsed() < ttl => Lookup::Use(value),
            Some((value, _)) => match self.claim(key) {
                Some(claim) => Lookup::Refresh(Some(claim)),
                None => Lookup::Use(value),
            },
            None => Lookup::Refresh(None),
        }
    }
}

impl<K: Eq + Hash + Clone> Drop for Claim<K> {
    fn drop(&mut self) {
        self.set
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_claim_per_key_until_it_is_dropped() {
        let flights = SingleFlight::default();
        let first = flights.claim(&1);
        assert!(first.is_some());
        assert!(
            flights.claim(&1).is_none(),
            "a second refresh of the same key"
        );
        assert!(flights.claim(&2).is_some(), "other keys are independent");
        drop(first);
        assert!(flights.claim(&1).is_some(), "claimable again once released");
    }
}
