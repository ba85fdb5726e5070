use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::Value;

/// Something the fake does instead of answering normally, taken in order (one per request).
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer with this status (500, 502, 503…) and a small body.
    Status(u16),
    /// 429 with `Retry-After: <secs>`.
    TooManyRequests { retry_after_secs: f64 },
    /// Wait this long before answering (beyond the client's timeout, it is a timeout).
    Delay(Duration),
    /// Do the work, then answer with this status as if the answer was lost on the way (a
    /// retry then meets what the first attempt did).
    LoseAnswer(u16),
}

/// One GraphQL call the fake served (or refused), for tests to inspect.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub shop: String,
    /// The operation's root field (`webPixelCreate`, `tagsAdd`, …).
    pub operation: String,
    pub variables: Value,
    /// `ok`, `throttled`, `unauthorized` or a fault (`status 503`, …).
    pub outcome: String,
    /// Which HTTP request it came in (batched mutations share one); 0 for faults.
    pub request: u64,
    pub at: Instant,
}

/// One shop of the fake.
#[derive(Debug, Default)]
pub struct FakeStore {
    /// Offline tokens issued and still valid.
    pub tokens: Vec<String>,
    /// Points in the cost bucket, and when that was computed.
    pub bucket: Option<(f64, Instant)>,
    /// Free-form per-feature state (`"web_pixel"`, `"webhooks"`, `"tags"`, …), owned by the
    /// operation handlers.
    pub data: BTreeMap<String, Value>,
}

/// Everything the fake knows.
#[derive(Debug)]
pub struct World {
    pub client_id: String,
    pub client_secret: String,
    pub addr: SocketAddr,
    pub shops: HashMap<String, FakeStore>,
    pub faults: VecDeque<Fault>,
    pub requests: Vec<Recorded>,
    /// Authorization codes issued by `authorize`: code → shop.
    pub codes: HashMap<String, String>,
    /// Scopes granted at install.
    pub granted_scopes: String,
    /// Bucket size and restore rate (points per second) of every shop.
    pub bucket_max: f64,
    pub restore_rate: f64,
    counter: u64,
}

impl World {
    pub fn new(client_id: &str, client_secret: &str, addr: SocketAddr) -> Self {
        Self {
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            addr,
            shops: HashMap::new(),
            faults: VecDeque::new(),
            requests: Vec::new(),
            codes: HashMap::new(),
            granted_scopes: String::new(),
            bucket_max: 1000.0,
            restore_rate: 100.0,
            counter: 0,
        }
    }

    /// A fresh number for ids and tokens.
    pub fn next_id(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }

    pub fn shop(&mut self, domain: &str) -> &mut FakeStore {
        self.shops.entry(domain.to_owned()).or_default()
    }

    /// Issues an offline token for the shop, as an install would.
    pub fn issue_token(&mut self, domain: &str) -> String {
        let token = format!(
            "shpat_fake{:016x}{:08x}",
            rand::random::<u64>(),
            self.next_id()
        );
        self.shop(domain).tokens.push(token.clone());
        token
    }

    /// Revokes every token of the shop (as an uninstall, or a merchant's revoke, does).
    pub fn revoke_tokens(&mut self, domain: &str) {
        self.shop(domain).tokens.clear();
    }

    pub fn token_is_valid(&self, domain: &str, token: &str) -> bool {
        self.shops
            .get(domain)
            .is_some_and(|s| s.tokens.iter().any(|t| t == token))
    }

    pub fn push_fault(&mut self, fault: Fault) {
        self.faults.push_back(fault);
    }

    /// Calls of one operation, in order.
    pub fn calls(&self, operation: &str) -> Vec<&Recorded> {
        self.requests
            .iter()
            .filter(|r| r.operation == operation)
            .collect()
    }

    /// Takes `cost` points from the shop's bucket; `Err(available)` when it is short.
    pub fn charge(&mut self, domain: &str, cost: f64) -> Result<f64, f64> {
        let (max, rate) = (self.bucket_max, self.restore_rate);
        let now = Instant::now();
        let store = self.shop(domain);
        let (points, at) = store.bucket.unwrap_or((max, now));
        let available = (points + now.duration_since(at).as_secs_f64() * rate).min(max);
        if available < cost {
            store.bucket = Some((available, now));
            return Err(available);
        }
        store.bucket = Some((available - cost, now));
        Ok(available - cost)
    }

    /// The shop's feature state under `key` (created as `default` when absent).
    pub fn data(&mut self, domain: &str, key: &str, default: Value) -> &mut Value {
        self.shop(domain)
            .data
            .entry(key.to_owned())
            .or_insert(default)
    }
}
