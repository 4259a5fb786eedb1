//! `[extensions.cache]`: every key has a default, so `enabled = true` alone
//! works.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;
use switchboard_core::Error;

/// The longest TTL accepted (one year, in seconds).
pub const MAX_TTL_SECS: u64 = 365 * 24 * 3600;
/// The largest `max_entry_bytes` accepted (256 MiB): an entry's weight must
/// fit the memory backend's 32-bit weights with room for the overhead.
pub const MAX_ENTRY_BYTES_LIMIT: u64 = 256 * 1024 * 1024;

/// Where entries live.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BackendKind {
    /// In this process, bounded by `max_bytes`.
    #[default]
    Memory,
    /// In Redis at `redis_url`, shared by every gateway using it; bounded by
    /// Redis's own `maxmemory`.
    Redis,
}

/// The cache's settings (`enabled` and `order` are the gateway's).
#[derive(Clone, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct CacheConfig {
    /// Where entries live: `memory` (this process) or `redis` (shared).
    pub backend: BackendKind,
    /// How long an answer stays cached, in seconds (1 to 31536000), unless
    /// its model has its own `ttl_secs` in `models`.
    #[schemars(range(min = 1, max = 31_536_000))]
    pub ttl_secs: u64,
    /// The most the whole cache holds, in bytes (each entry weighs its
    /// answer's JSON size plus 256 bytes); the least recently used entries
    /// are evicted past it.
    #[schemars(range(min = 1))]
    pub max_bytes: u64,
    /// The largest answer stored, in bytes of its JSON (1 to 268435456, at
    /// most `max_bytes`); larger answers are passed through and not stored.
    #[schemars(range(min = 1, max = 268_435_456))]
    pub max_entry_bytes: u64,
    /// Whether each client key has its own entries (the key id becomes part
    /// of the cache key); `false` shares answers between keys.
    pub per_key: bool,
    /// Whether every model is cached; `false`: only the models listed in
    /// `models` (with `enabled` left `true`).
    pub all_models: bool,
    /// Settings per model, keyed by the model as the client names it (an
    /// alias such as `fast`, or `instance/model`).
    pub models: BTreeMap<String, ModelCacheConfig>,
    /// With `backend = "redis"`: the Redis to use,
    /// `redis://[:password@]host:port[/db]` (`rediss://` is not supported).
    pub redis_url: String,
    /// With `backend = "redis"`: the prefix of every key the cache writes.
    pub redis_prefix: String,
    /// With `backend = "redis"`: the bound on every Redis call (connecting
    /// included), in milliseconds (1 to 10000); past it the lookup is a miss
    /// and the store is skipped.
    #[schemars(range(min = 1, max = 10_000))]
    pub redis_timeout_ms: u64,
}

impl std::fmt::Debug for CacheConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CacheConfig")
            .field("backend", &self.backend)
            .field("ttl_secs", &self.ttl_secs)
            .field("max_bytes", &self.max_bytes)
            .field("max_entry_bytes", &self.max_entry_bytes)
            .field("per_key", &self.per_key)
            .field("all_models", &self.all_models)
            .field("models", &self.models)
            .field("redis_url", &redact_url(&self.redis_url))
            .field("redis_prefix", &self.redis_prefix)
            .field("redis_timeout_ms", &self.redis_timeout_ms)
            .finish()
    }
}

/// `url` with the credentials before `@` replaced by `***`.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme + 3 => {
            format!("{}***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            ttl_secs: 3600,
            max_bytes: 64 * 1024 * 1024,
            max_entry_bytes: 1024 * 1024,
            per_key: false,
            all_models: true,
            models: BTreeMap::new(),
            backend: BackendKind::Memory,
            redis_url: "redis://127.0.0.1:6379".to_owned(),
            redis_prefix: "switchboard:cache:".to_owned(),
            redis_timeout_ms: 250,
        }
    }
}

/// The cache's settings for one model or alias.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ModelCacheConfig {
    /// Whether answers of this model are cached.
    pub enabled: bool,
    /// This model's TTL in seconds (default: the top-level `ttl_secs`).
    #[schemars(range(min = 1, max = 31_536_000))]
    pub ttl_secs: Option<u64>,
}

impl Default for ModelCacheConfig {
    fn default() -> Self {
        ModelCacheConfig {
            enabled: true,
            ttl_secs: None,
        }
    }
}

fn check_ttl(ttl: u64, param: String) -> Result<(), Error> {
    if ttl == 0 || ttl > MAX_TTL_SECS {
        return Err(Error::config(format!(
            "`{param}` must be between 1 and {MAX_TTL_SECS} seconds (got {ttl}); \
             to stop caching a model, set `enabled = false`"
        ))
        .with_param(param));
    }
    Ok(())
}

impl CacheConfig {
    /// Checks values beyond their types: TTLs between 1 s and a year,
    /// `max_entry_bytes` between 1 and 256 MiB and at most `max_bytes`,
    /// model names not empty, the Redis keys (with `backend = "redis"`).
    pub fn validate(&self) -> Result<(), Error> {
        if self.backend == BackendKind::Redis {
            if self.redis_prefix.is_empty() {
                return Err(
                    Error::config("`redis_prefix` must not be empty").with_param("redis_prefix")
                );
            }
            if !(1..=10_000).contains(&self.redis_timeout_ms) {
                return Err(Error::config(format!(
                    "`redis_timeout_ms` must be between 1 and 10000 (got {})",
                    self.redis_timeout_ms
                ))
                .with_param("redis_timeout_ms"));
            }
            if !self.redis_url.starts_with("redis://") {
                return Err(Error::config(format!(
                    "`redis_url` must start with `redis://` (got `{}`)",
                    redact_url(&self.redis_url)
                ))
                .with_param("redis_url"));
            }
        }
        check_ttl(self.ttl_secs, "ttl_secs".into())?;
        if self.max_bytes == 0 {
            return Err(Error::config("`max_bytes` must be at least 1").with_param("max_bytes"));
        }
        if self.max_entry_bytes == 0 || self.max_entry_bytes > MAX_ENTRY_BYTES_LIMIT {
            return Err(Error::config(format!(
                "`max_entry_bytes` must be between 1 and {MAX_ENTRY_BYTES_LIMIT} (got {})",
                self.max_entry_bytes
            ))
            .with_param("max_entry_bytes"));
        }
        if self.max_entry_bytes > self.max_bytes {
            return Err(Error::config(format!(
                "`max_entry_bytes` ({}) must not exceed `max_bytes` ({})",
                self.max_entry_bytes, self.max_bytes
            ))
            .with_param("max_entry_bytes"));
        }
        for (model, m) in &self.models {
            if model.trim().is_empty() {
                return Err(Error::config("`models` has an empty model name").with_param("models"));
            }
            if let Some(ttl) = m.ttl_secs {
                check_ttl(ttl, format!("models.\"{model}\".ttl_secs"))?;
            }
        }
        Ok(())
    }
}

/// Which models are cached and for how long, resolved once at build.
#[derive(Debug, Clone)]
pub struct Policy {
    default_ttl: Option<Duration>,
    models: HashMap<String, Option<Duration>>,
}

impl Policy {
    /// The policy of a (validated) config.
    pub fn new(config: &CacheConfig) -> Self {
        let ttl = Duration::from_secs(config.ttl_secs);
        let models = config
            .models
            .iter()
            .map(|(name, m)| {
                let ttl = m
                    .enabled
                    .then(|| m.ttl_secs.map_or(ttl, Duration::from_secs));
                (name.clone(), ttl)
            })
            .collect();
        Policy {
            default_ttl: config.all_models.then_some(ttl),
            models,
        }
    }

    /// The TTL of answers of `model` (as the client names it), or `None`
    /// when the model is not cached.
    pub fn ttl(&self, model: &str) -> Option<Duration> {
        match self.models.get(model) {
            Some(ttl) => *ttl,
            None => self.default_ttl,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn config(v: serde_json::Value) -> CacheConfig {
        serde_json::from_value(v).expect("parses")
    }

    #[test]
    fn an_empty_table_is_a_valid_config() {
        let c = config(json!({}));
        c.validate().expect("valid");
        assert_eq!(c.ttl_secs, 3600);
        assert_eq!(c.max_bytes, 64 * 1024 * 1024);
        assert_eq!(c.max_entry_bytes, 1024 * 1024);
        assert!(c.all_models && !c.per_key);
    }

    #[test]
    fn bad_values_name_their_key() {
        for (v, param) in [
            (json!({"ttl_secs": 0}), "ttl_secs"),
            (json!({"ttl_secs": MAX_TTL_SECS + 1}), "ttl_secs"),
            (json!({"max_bytes": 0}), "max_bytes"),
            (json!({"max_entry_bytes": 0}), "max_entry_bytes"),
            (
                json!({"max_bytes": 10, "max_entry_bytes": 11}),
                "max_entry_bytes",
            ),
            (json!({"models": {" ": {}}}), "models"),
            (
                json!({"models": {"fast": {"ttl_secs": 0}}}),
                "models.\"fast\".ttl_secs",
            ),
        ] {
            let err = config(v.clone()).validate().expect_err("invalid");
            assert_eq!(err.param(), Some(param), "{v}: {err}");
        }
    }

    #[test]
    fn redis_keys_are_checked_only_for_the_redis_backend() {
        config(json!({"redis_url": "nope"}))
            .validate()
            .expect("memory ignores it");
        let base = json!({"backend": "redis"});
        config(base.clone()).validate().expect("defaults are valid");
        for (v, param) in [
            (
                json!({"backend": "redis", "redis_url": "http://x"}),
                "redis_url",
            ),
            (
                json!({"backend": "redis", "redis_prefix": ""}),
                "redis_prefix",
            ),
            (
                json!({"backend": "redis", "redis_timeout_ms": 0}),
                "redis_timeout_ms",
            ),
        ] {
            let err = config(v.clone()).validate().expect_err("invalid");
            assert_eq!(err.param(), Some(param), "{v}: {err}");
        }
    }

    #[test]
    fn the_redis_password_never_shows() {
        let c = config(json!({"redis_url": "redis://:hunter2@cache:6379/0"}));
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("redis://***@cache:6379/0"), "{shown}");
        let err = config(json!({"backend": "redis", "redis_url": "x://u:hunter2@h"}))
            .validate()
            .expect_err("bad scheme");
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[test]
    fn the_policy_follows_models_then_the_default() {
        let c = config(json!({
            "ttl_secs": 100,
            "models": {"fast": {"ttl_secs": 5}, "gpt-x": {"enabled": false}, "plain": {}}
        }));
        let p = Policy::new(&c);
        assert_eq!(p.ttl("fast"), Some(Duration::from_secs(5)));
        assert_eq!(p.ttl("gpt-x"), None);
        assert_eq!(p.ttl("plain"), Some(Duration::from_secs(100)));
        assert_eq!(p.ttl("other"), Some(Duration::from_secs(100)));
        let only_listed = config(json!({"all_models": false, "models": {"fast": {}}}));
        let p = Policy::new(&only_listed);
        assert_eq!(p.ttl("fast"), Some(Duration::from_secs(3600)));
        assert_eq!(p.ttl("other"), None);
    }
}
