//! Typed settings: `config/default.toml` (built in) → optional file → `SHOPRECS_*` environment.
//! Secrets come only from the environment, are held in `SecretString` and are never printed.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use figment::providers::{Env, Format, Toml};
use figment::Figment;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// The defaults, documented, exactly as shipped in `config/default.toml`.
pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub shopify: ShopifySettings,
    pub webhooks: WebhookSettings,
    pub pixel: PixelSettings,
    pub storefront: StorefrontSettings,
    pub engine: EngineSettings,
    pub segments: crate::segments::PolicySettings,
    pub engagement: crate::segments::Weights,
    pub lifecycle: LifecycleSettings,
    pub email: EmailSettings,
    pub checkouts: CheckoutSettings,
    pub events: EventSettings,
    pub admin: AdminSettings,
    pub admin_api: AdminApiSettings,
    pub writeback: WritebackSettings,
    pub backfill: BackfillSettings,
    pub replicas: ReplicaSettings,
    pub log: LogSettings,
}

/// Several servers on one database (`crate::recs::follow`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplicaSettings {
    pub follow_interval_ms: u64,
    pub log_retention_minutes: i64,
}

/// Access to the merchant dashboard (`crate::admin::auth`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminSettings {
    pub session_hours: i64,
    pub secure_cookie: bool,
    pub session_token_leeway_secs: u64,
    pub login_attempts_per_minute: u32,
}

/// Delivery of outgoing events (the outbox worker).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventSettings {
    pub request_timeout_secs: f64,
    pub max_attempts: i32,
    pub backoff_base_secs: f64,
    pub backoff_max_secs: f64,
    pub poll_interval_secs: f64,
    pub lease_secs: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LifecycleSettings {
    pub sweep_interval_minutes: u64,
    pub notify_within_hours: i64,
    pub rebuild_history_days: i64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailSettings {
    pub items: usize,
    pub utm_source: String,
    pub utm_medium: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorefrontSettings {
    pub proxy_max_age_secs: i64,
    pub holdout_share: f64,
    pub attribution_window_hours: i64,
    pub anonymous_cache_secs: u64,
    pub default_limit: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub host: IpAddr,
    pub port: u16,
    pub shutdown_grace_secs: u64,
    pub request_timeout_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    pub embedded: bool,
    pub data_dir: PathBuf,
    pub max_connections: u32,
    pub acquire_timeout_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShopifySettings {
    pub api_key: String,
    pub api_version: String,
    pub scopes: String,
    pub app_url: String,
}

/// Writing segments and bundle discounts back to Shopify (`crate::writeback`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WritebackSettings {
    pub tag_prefix: String,
    pub tag_batch: usize,
    pub interval_secs: f64,
    pub discount_valid_hours: i64,
    pub discount_max_attempts: i32,
}

/// Outgoing Admin API calls (`crate::admin_api`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminApiSettings {
    pub url: String,
    pub request_timeout_secs: f64,
    pub max_attempts: u32,
    pub backoff_base_ms: u64,
    pub backoff_max_secs: f64,
    pub default_query_cost: f64,
}

/// Bulk backfill of products and past orders (`crate::backfill`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackfillSettings {
    /// Days of past orders fetched.
    pub order_days: i64,
    /// Seconds between status reads of a running bulk operation (the
    /// `bulk_operations/finish` webhook wakes the job sooner).
    pub poll_interval_secs: f64,
    /// Lines staged per transaction, and objects put into the inbox per step.
    pub batch_size: usize,
    /// Seconds without a byte from the result download before it is abandoned (and resumed).
    pub download_read_timeout_secs: f64,
    /// Seconds to wait after a failed step (an API or download error) before trying again,
    /// and how many such attempts a job gets before it is marked failed.
    pub retry_after_secs: f64,
    pub max_attempts: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    pub max_body_bytes: usize,
    pub apply_batch: i64,
    pub failed_body_retention_days: i64,
    pub defer_apply_above_per_sec: f64,
    pub deferred_apply_interval_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PixelSettings {
    pub max_body_bytes: usize,
    pub max_batch: usize,
    pub events_per_minute: u32,
    pub burst: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineSettings {
    pub bestseller_half_life_days: f64,
    pub pair_half_life_days: f64,
    pub min_pair_support: u32,
    pub pair_popularity_exponent: f64,
    pub session_gap_secs: i64,
}

impl EngineSettings {
    /// The engine's configuration: these settings over the engine's defaults.
    pub fn engine_config(&self) -> crate::engine::EngineConfig {
        crate::engine::EngineConfig {
            bestseller_half_life_days: self.bestseller_half_life_days,
            pair_half_life_days: self.pair_half_life_days,
            min_pair_support: self.min_pair_support,
            pair_popularity_exponent: self.pair_popularity_exponent,
            session_gap_secs: self.session_gap_secs,
            ..Default::default()
        }
    }
}

/// Abandoned checkouts and their bundle offers (`crate::abandoned`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckoutSettings {
    pub abandon_after_minutes: i64,
    pub bundle_discount_percent: i32,
    pub expire_after_days: i64,
    pub sweep_interval_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub format: LogFormat,
    pub filter: String,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

impl Settings {
    /// Loads the layered settings from the process environment.
    pub fn load() -> anyhow::Result<Self> {
        let mut figment = Figment::from(Toml::string(DEFAULT_TOML));
        if let Ok(path) = std::env::var("SHOPRECS_CONFIG") {
            if !Path::new(&path).exists() {
                bail!("SHOPRECS_CONFIG names {path}, which does not exist");
            }
            figment = figment.merge(Toml::file(path));
        }
        figment = figment.merge(
            Env::prefixed("SHOPRECS_")
                .split("__")
                .filter(|key| key.as_str().contains("__") || key.as_str().contains('.')),
        );
        if let Ok(raw) = std::env::var("SHOPRECS_PORT") {
            let port: u16 = raw.trim().parse().map_err(|_| {
                anyhow::anyhow!(
                    "invalid configuration: SHOPRECS_PORT must be a port number, not `{raw}`"
                )
            })?;
            figment = figment.merge(("server.port", port));
        }
        let settings: Settings = figment.extract().map_err(|e| {
            let errors: Vec<String> = e.into_iter().map(describe_figment_error).collect();
            anyhow::anyhow!("invalid configuration: {}", errors.join("; "))
        })?;
        settings.validate()?;
        Ok(settings)
    }

    /// The built-in defaults alone (no file, no environment): what tests and embedders start from.
    pub fn defaults() -> anyhow::Result<Self> {
        let settings: Settings = Figment::from(Toml::string(DEFAULT_TOML))
            .extract()
            .map_err(|e| anyhow::anyhow!("built-in defaults are invalid: {e}"))?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> anyhow::Result<()> {
        if self.replicas.follow_interval_ms == 0 {
            bail!("invalid configuration: replicas.follow_interval_ms must be at least 1");
        }
        if self.replicas.log_retention_minutes < 5 {
            bail!("invalid configuration: replicas.log_retention_minutes must be at least 5");
        }
        if self.database.max_connections == 0 {
            bail!("invalid configuration: database.max_connections must be at least 1");
        }
        if self.webhooks.max_body_bytes < 1024 {
            bail!("invalid configuration: webhooks.max_body_bytes must be at least 1024");
        }
        if self.webhooks.apply_batch < 1 {
            bail!("invalid configuration: webhooks.apply_batch must be at least 1");
        }
        if self.pixel.max_batch == 0 || self.pixel.max_batch > 1000 {
            bail!("invalid configuration: pixel.max_batch must be between 1 and 1000");
        }
        let sf = &self.storefront;
        if !(0.0..=1.0).contains(&sf.holdout_share) {
            bail!("invalid configuration: storefront.holdout_share must be between 0 and 1");
        }
        if !(1..=24).contains(&sf.default_limit)
            || sf.proxy_max_age_secs < 1
            || sf.attribution_window_hours < 1
        {
            bail!("invalid configuration: storefront.default_limit must be 1 to 24, and proxy_max_age_secs and attribution_window_hours positive");
        }
        let e = &self.engine;
        if !(e.bestseller_half_life_days > 0.0 && e.pair_half_life_days > 0.0) {
            bail!("invalid configuration: engine half-lives must be positive");
        }
        if !(0.0..=1.0).contains(&e.pair_popularity_exponent) {
            bail!("invalid configuration: engine.pair_popularity_exponent must be between 0 and 1");
        }
        let seg = &self.segments;
        if !(0.0..=1.0).contains(&seg.lapse_percentile) || !(0.0..=1.0).contains(&seg.vip_share) {
            bail!("invalid configuration: segments.lapse_percentile and segments.vip_share must be between 0 and 1");
        }
        if seg.lapse_min_days <= 0.0
            || seg.lapse_max_days < seg.lapse_min_days
            || seg.default_lapse_days <= 0.0
            || seg.default_expected_days <= 0.0
            || seg.at_risk_factor <= 0.0
        {
            bail!("invalid configuration: segments day counts and at_risk_factor must be positive, lapse_max_days >= lapse_min_days");
        }
        let w = &self.engagement;
        if [w.recency, w.frequency, w.money, w.browsing]
            .iter()
            .any(|x| *x < 0.0)
            || w.recency + w.frequency + w.money + w.browsing <= 0.0
        {
            bail!(
                "invalid configuration: engagement weights must be non-negative and not all zero"
            );
        }
        if self.lifecycle.sweep_interval_minutes == 0 || !(1..=24).contains(&self.email.items) {
            bail!("invalid configuration: lifecycle.sweep_interval_minutes must be at least 1 and email.items 1 to 24");
        }
        let c = &self.checkouts;
        if c.abandon_after_minutes < 1 || c.expire_after_days < 1 || c.sweep_interval_secs < 1 {
            bail!("invalid configuration: checkouts.abandon_after_minutes, expire_after_days and sweep_interval_secs must be positive");
        }
        if !(0..=100).contains(&c.bundle_discount_percent) {
            bail!("invalid configuration: checkouts.bundle_discount_percent must be between 0 and 100");
        }
        let ev = &self.events;
        let positive = |v: f64| v.is_finite() && v > 0.0;
        if !(positive(ev.request_timeout_secs)
            && positive(ev.backoff_base_secs)
            && positive(ev.poll_interval_secs)
            && ev.max_attempts >= 1)
        {
            bail!("invalid configuration: events.request_timeout_secs, backoff_base_secs and poll_interval_secs must be positive, max_attempts at least 1");
        }
        if !(ev.backoff_max_secs >= ev.backoff_base_secs && ev.backoff_max_secs.is_finite()) {
            bail!(
                "invalid configuration: events.backoff_max_secs must be at least backoff_base_secs"
            );
        }
        if !(ev.lease_secs.is_finite() && ev.lease_secs > ev.request_timeout_secs) {
            bail!("invalid configuration: events.lease_secs must be longer than events.request_timeout_secs");
        }
        let a = &self.admin;
        if !(1..=24 * 90).contains(&a.session_hours)
            || a.session_token_leeway_secs > 300
            || a.login_attempts_per_minute == 0
        {
            bail!("invalid configuration: admin.session_hours must be 1 to 2160, admin.session_token_leeway_secs at most 300 and admin.login_attempts_per_minute positive");
        }
        if !self.admin_api.url.contains("{shop}") {
            bail!("invalid configuration: admin_api.url must contain `{{shop}}`");
        }
        if self.admin_api.max_attempts == 0 || self.admin_api.request_timeout_secs <= 0.0 {
            bail!("invalid configuration: admin_api.max_attempts and admin_api.request_timeout_secs must be positive");
        }
        let b = &self.backfill;
        if b.order_days < 1
            || b.batch_size == 0
            || b.max_attempts == 0
            || b.poll_interval_secs <= 0.0
            || b.download_read_timeout_secs <= 0.0
            || b.retry_after_secs < 0.0
        {
            bail!("invalid configuration: backfill.order_days, batch_size, max_attempts, poll_interval_secs and download_read_timeout_secs must be positive");
        }
        if !self.shopify.app_url.is_empty() && !self.shopify.app_url.starts_with("http") {
            bail!("invalid configuration: shopify.app_url must be an http(s) URL");
        }
        if self.writeback.tag_batch == 0 || self.writeback.tag_batch > 50 {
            bail!("invalid configuration: writeback.tag_batch must be between 1 and 50");
        }
        if self.writeback.interval_secs <= 0.0 || self.writeback.discount_valid_hours <= 0 {
            bail!("invalid configuration: writeback.interval_secs and writeback.discount_valid_hours must be positive");
        }
        let prefix = &self.writeback.tag_prefix;
        if prefix.is_empty() || prefix.len() > 40 || prefix.contains(',') {
            bail!("invalid configuration: writeback.tag_prefix must be 1 to 40 characters without commas");
        }
        if self.pixel.events_per_minute == 0 || self.pixel.burst == 0 {
            bail!(
                "invalid configuration: pixel.events_per_minute and pixel.burst must be positive"
            );
        }
        Ok(())
    }
}

fn describe_figment_error(e: figment::Error) -> String {
    let key = e.path.join(".");
    if key.is_empty() {
        e.kind.to_string()
    } else {
        format!("setting `{key}`: {}", e.kind)
    }
}

/// Secrets, read only from the environment.
#[derive(Clone)]
pub struct Secrets {
    /// The app's client secret.
    pub api_secret: SecretString,
    /// The previous client secret, accepted while Shopify still signs with it.
    pub api_secret_previous: Option<SecretString>,
    /// Key that encrypts Admin API access tokens at rest.
    pub encryption_key: Option<SecretString>,
    /// The previous encryption key, still accepted for decryption during a rotation.
    pub encryption_key_previous: Option<SecretString>,
    /// Whether `api_secret` was generated for local development.
    pub development: bool,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secrets")
            .field("api_secret", &"[redacted]")
            .field("development", &self.development)
            .finish()
    }
}

impl Secrets {
    /// Reads secrets from the environment. Without `SHOPIFY_API_SECRET`, a development secret
    /// is generated into `<data_dir>/dev-secret` on first use and printed once.
    pub fn load(data_dir: &Path) -> anyhow::Result<Self> {
        let non_empty = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let previous = non_empty("SHOPIFY_API_SECRET_PREVIOUS").map(SecretString::from);
        let encryption_key = non_empty("SHOPRECS_ENCRYPTION_KEY").map(SecretString::from);
        let encryption_key_previous =
            non_empty("SHOPRECS_ENCRYPTION_KEY_PREVIOUS").map(SecretString::from);
        for (name, key) in [
            ("SHOPRECS_ENCRYPTION_KEY", &encryption_key),
            ("SHOPRECS_ENCRYPTION_KEY_PREVIOUS", &encryption_key_previous),
        ] {
            if let Some(key) = key {
                let valid = hex::decode(key.expose_secret()).map(|k| k.len() == 32);
                if !matches!(valid, Ok(true)) {
                    bail!("invalid configuration: {name} must be 64 hex characters (32 bytes)");
                }
            }
        }
        if let Some(secret) = non_empty("SHOPIFY_API_SECRET") {
            return Ok(Self {
                api_secret: secret.into(),
                api_secret_previous: previous,
                encryption_key,
                encryption_key_previous,
                development: false,
            });
        }
        let secret = development_secret(data_dir)?;
        Ok(Self {
            api_secret: secret.into(),
            api_secret_previous: previous,
            encryption_key,
            encryption_key_previous,
            development: true,
        }
        .with_local_encryption_key())
    }

    /// Local use only (development, the demo): without `SHOPRECS_ENCRYPTION_KEY`, tokens are
    /// sealed with a key derived from the app secret. A production server sets its own key.
    pub fn with_local_encryption_key(mut self) -> Self {
        if self.encryption_key.is_none() {
            let derived = Sha256::digest(format!(
                "shoprecs-dev-encryption:{}",
                self.api_secret.expose_secret()
            ));
            self.encryption_key = Some(hex::encode(derived).into());
        }
        self
    }

    /// Secrets for tests and embedding: a fixed secret, nothing from the environment.
    pub fn fixed(secret: &str) -> Self {
        Self {
            api_secret: secret.to_owned().into(),
            api_secret_previous: None,
            encryption_key: Some(
                hex::encode(Sha256::digest(format!("shoprecs-test:{secret}"))).into(),
            ),
            encryption_key_previous: None,
            development: false,
        }
    }
}

fn development_secret(data_dir: &Path) -> anyhow::Result<String> {
    let path = data_dir.join("dev-secret");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim().to_owned();
        if !existing.is_empty() {
            return Ok(existing);
        }
    }
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("Failed to create data directory {}", data_dir.display()))?;
    let secret = hex::encode(rand::random::<[u8; 24]>());
    write_private(&path, &secret).with_context(|| format!("Failed to write {}", path.display()))?;
    // Printed once, to the terminal only (not the log), so a developer can sign test requests.
    eprintln!(
        "SHOPIFY_API_SECRET is not set: generated a development secret for local use only.\n  \
         secret: {secret}\n  stored in: {}\n  Set SHOPIFY_API_SECRET to your app's client secret before connecting a real shop.",
        path.display()
    );
    Ok(secret)
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_defaults_parse_and_validate() {
        let settings: Settings = Figment::from(Toml::string(DEFAULT_TOML))
            .extract()
            .expect("default.toml parses");
        settings.validate().expect("defaults are valid");
        assert_eq!(settings.server.port, 8080);
        assert_eq!(settings.webhooks.max_body_bytes, 5 * 1024 * 1024);
    }

    #[test]
    fn a_wrong_type_names_the_setting() {
        let err = Figment::from(Toml::string(DEFAULT_TOML))
            .merge(("server.port", "eighty"))
            .extract::<Settings>()
            .expect_err("port must be a number");
        let text = describe_figment_error(err);
        assert!(text.contains("server.port"), "{text}");
    }
}
