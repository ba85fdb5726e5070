//! A short-lived cache of rendered widgets that do not depend on who is asking (product and
//! cart lists, and a guest's home list). An entry is valid for one second and only for the
//! model generation it was rendered from, so a new order, product or rule shows on the next
//! request. The recommendation token is not cached: it is stamped into each response.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// Stands where the per-response token goes in a cached body.
pub const TOKEN: &str = "@@shoprecs-token@@";
/// Stands where the token's short id goes.
pub const TOKEN_ID: &str = "@@shoprecs-token-id@@";

const TTL: Duration = Duration::from_secs(1);
const MAX_ENTRIES: usize = 20_000;

/// A rendered body, the model generation it came from, and when.
type Entry = (u64, Instant, Arc<String>);

#[derive(Default)]
pub struct WidgetCache {
    entries: RwLock<HashMap<String, Entry>>,
}

impl WidgetCache {
    pub fn get(&self, key: &str, generation: u64) -> Option<Arc<String>> {
        let entries = self.entries.read().ok()?;
        let (made_from, at, body) = entries.get(key)?;
        (*made_from == generation && at.elapsed() < TTL).then(|| body.clone())
    }

    pub fn put(&self, key: String, generation: u64, body: Arc<String>) {
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= MAX_ENTRIES {
                entries.retain(|_, (g, at, _)| *g == generation && at.elapsed() < TTL);
                if entries.len() >= MAX_ENTRIES {
                    entries.clear();
                }
            }
            entries.insert(key, (generation, Instant::now(), body));
        }
    }
}
