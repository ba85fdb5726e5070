//! A short-lived cache of rendered widgets that do not depend on who is asking (product and
//! cart lists, and a guest's home list). An entry is valid for one second and only for the
//! model generation it was rendered from, so a new order, product or rule shows on the next
//! request. The recommendation token is not cached: it is stamped into each response, into a
//! body split once at its placeholders (no search per request).

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
type Entry = (u64, Instant, Arc<Stamped>);

/// Everything a shared widget's body depends on besides the model generation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    pub shop: i64,
    pub placement: &'static str,
    pub list: &'static str,
    pub product: Option<i64>,
    pub cart: Vec<i64>,
    pub limit: usize,
    pub heading: String,
    pub layout: &'static str,
    pub show_price: bool,
    pub show_add_to_cart: bool,
    pub json: bool,
}

/// What goes between a body's literal parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hole {
    Token,
    TokenId,
}

/// A rendered body, split at its token placeholders.
#[derive(Debug)]
pub struct Stamped {
    body: String,
    /// Literal byte ranges of `body`, each followed by a hole (the last by none).
    parts: Vec<(std::ops::Range<usize>, Option<Hole>)>,
}

impl Stamped {
    pub fn new(body: String) -> Self {
        let mut holes: Vec<(usize, usize, Hole)> = body
            .match_indices(TOKEN_ID)
            .map(|(at, _)| (at, TOKEN_ID.len(), Hole::TokenId))
            .chain(
                body.match_indices(TOKEN)
                    .map(|(at, _)| (at, TOKEN.len(), Hole::Token)),
            )
            .collect();
        holes.sort_unstable_by_key(|h| h.0);
        let mut parts = Vec::with_capacity(holes.len() + 1);
        let mut from = 0;
        for (at, len, hole) in holes {
            parts.push((from..at, Some(hole)));
            from = at + len;
        }
        parts.push((from..body.len(), None));
        Self { body, parts }
    }

    /// The body with the token and its id in place, in one allocation.
    pub fn stamp(&self, token: &str, token_id: &str) -> String {
        let holes = self.parts.iter().filter(|p| p.1.is_some()).count();
        let mut out = String::with_capacity(self.body.len() + holes * token.len());
        for (range, hole) in &self.parts {
            out.push_str(&self.body[range.clone()]);
            match hole {
                Some(Hole::Token) => out.push_str(token),
                Some(Hole::TokenId) => out.push_str(token_id),
                None => {}
            }
        }
        out
    }
}

#[derive(Default)]
pub struct WidgetCache {
    entries: RwLock<HashMap<Key, Entry>>,
}

impl WidgetCache {
    pub fn get(&self, key: &Key, generation: u64) -> Option<Arc<Stamped>> {
        let entries = self.entries.read().ok()?;
        let (made_from, at, body) = entries.get(key)?;
        (*made_from == generation && at.elapsed() < TTL).then(|| body.clone())
    }

    pub fn put(&self, key: Key, generation: u64, body: Arc<Stamped>) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamping_fills_every_placeholder_and_keeps_the_rest() {
        let body = format!("<div data-token=\"{TOKEN}\" id=\"w-{TOKEN_ID}\">{TOKEN}</div>");
        let stamped = Stamped::new(body);
        assert_eq!(
            stamped.stamp("tok.en", "abc"),
            "<div data-token=\"tok.en\" id=\"w-abc\">tok.en</div>"
        );
        assert_eq!(Stamped::new("plain".into()).stamp("t", "i"), "plain");
    }
}
