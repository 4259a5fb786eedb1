//! `[extensions.keys]`: every key has a default, so `enabled = true` alone
//! works (keys in the store, limits in this process's memory).

use std::collections::BTreeMap;

use serde::Deserialize;
use switchboard_core::Error;

/// Where the rate limits (RPM, TPM, max parallel) are counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LimitsBackend {
    /// In this process: each gateway node counts its own requests.
    #[default]
    Memory,
    /// In Redis at `redis_url`: every gateway node pointed at the same Redis
    /// shares each key's limits (one round trip per request).
    Redis,
}

/// What a request does when the limits' Redis cannot be reached or does
/// not answer within `redis_timeout_ms`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnRedisError {
    /// Admit the request without its limits checked, and count it in
    /// `switchboard_keys_limits_unchecked_total`.
    #[default]
    Open,
    /// Refuse the request with 503 `unavailable`.
    Closed,
}

/// What a request does when its key's spending cannot be read from the
/// usage ledger (the store is unreachable or too slow).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnBudgetError {
    /// Refuse it with 503 `unavailable`: no spending past a budget unseen.
    #[default]
    Closed,
    /// Admit it without its budget checked.
    Open,
}

/// Limits shared by a group of requests: every key of a team
/// (`[extensions.keys.teams.<team>]`), or every request for one model or
/// alias as the client names it (`[extensions.keys.models."<name>"]`).
/// Each `None` is unlimited.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SharedLimits {
    /// Requests per minute, all of the group's requests together.
    pub rpm: Option<u64>,
    /// Tokens per minute, all of the group's requests together.
    pub tpm: Option<u64>,
    /// Requests of the group running at once.
    pub max_parallel: Option<u32>,
}

/// The keys of `[extensions.keys]` (besides `enabled` and `order`).
#[derive(Clone, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct KeysConfig {
    /// How long a key read from the store is trusted before it is read
    /// again, in milliseconds: a revoke made on another node sharing the
    /// store takes effect within it (on this node, at once). Also how long
    /// a key's spending is cached for its budget.
    #[schemars(range(min = 0, max = 60_000))]
    pub cache_ttl_ms: u64,
    /// The most keys kept in the cache.
    #[schemars(range(min = 1))]
    pub cache_capacity: usize,
    /// Characters per token when a request's tokens are estimated for the
    /// tokens-per-minute limit.
    pub estimate_chars_per_token: f64,
    /// Where the rate limits are counted: `memory` (this process) or
    /// `redis` (shared by every gateway node using that Redis).
    pub limits_backend: LimitsBackend,
    /// With `limits_backend = "redis"`: the Redis to use,
    /// `redis://[:password@]host:port[/db]` (`${VAR}` allowed; `rediss://`
    /// is not supported).
    pub redis_url: String,
    /// With `limits_backend = "redis"`: the prefix of every key the limits
    /// write (no `{` or `}`: each API key's structures share the hash tag
    /// `{<key id>}`).
    pub redis_prefix: String,
    /// With `limits_backend = "redis"`: the bound on every Redis call
    /// (connecting included), in milliseconds (1 to 10000).
    #[schemars(range(min = 1, max = 10_000))]
    pub redis_timeout_ms: u64,
    /// With `limits_backend = "redis"`: how long a running request holds
    /// its `max_parallel` slot at most, in seconds (1 to 86400): a slot a
    /// crashed node never released frees itself after it. Set it above
    /// your longest request.
    #[schemars(range(min = 1, max = 86_400))]
    pub redis_slot_lease_secs: u64,
    /// With `limits_backend = "redis"`: what a request does when Redis
    /// fails or is slow: `open` admits it unchecked (counted in a metric),
    /// `closed` refuses it with 503.
    pub on_redis_error: OnRedisError,
    /// What a request does when its key's spending cannot be read for its
    /// budget: `closed` (the default) refuses it with 503, `open` admits
    /// it unchecked.
    pub on_budget_error: OnBudgetError,
    /// Limits shared by every key of a team (the key's `team`), checked
    /// after the key's own: `[extensions.keys.teams.research] rpm = 100`.
    pub teams: BTreeMap<String, SharedLimits>,
    /// Limits shared by every request for a model or alias, named as
    /// clients send it (before routing), checked after the key's and the
    /// team's: `[extensions.keys.models."gpt-4o"] tpm = 200000`.
    pub models: BTreeMap<String, SharedLimits>,
}

impl Default for KeysConfig {
    fn default() -> Self {
        KeysConfig {
            cache_ttl_ms: 1000,
            cache_capacity: 10_000,
            estimate_chars_per_token: 4.0,
            limits_backend: LimitsBackend::Memory,
            redis_url: "redis://127.0.0.1:6379".to_owned(),
            redis_prefix: "switchboard:keys:".to_owned(),
            redis_timeout_ms: 250,
            redis_slot_lease_secs: 900,
            on_redis_error: OnRedisError::Open,
            on_budget_error: OnBudgetError::Closed,
            teams: BTreeMap::new(),
            models: BTreeMap::new(),
        }
    }
}

impl std::fmt::Debug for KeysConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeysConfig")
            .field("cache_ttl_ms", &self.cache_ttl_ms)
            .field("cache_capacity", &self.cache_capacity)
            .field("estimate_chars_per_token", &self.estimate_chars_per_token)
            .field("limits_backend", &self.limits_backend)
            .field("redis_url", &redact_url(&self.redis_url))
            .field("redis_prefix", &self.redis_prefix)
            .field("redis_timeout_ms", &self.redis_timeout_ms)
            .field("redis_slot_lease_secs", &self.redis_slot_lease_secs)
            .field("on_redis_error", &self.on_redis_error)
            .field("on_budget_error", &self.on_budget_error)
            .field("teams", &self.teams)
            .field("models", &self.models)
            .finish()
    }
}

/// `url` with the credentials before `@` replaced by `***`.
pub(crate) fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme + 3 => {
            format!("{}***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

impl KeysConfig {
    /// Checks values beyond their types (the Redis keys only with
    /// `limits_backend = "redis"`); an error names its key.
    pub fn validate(&self) -> Result<(), Error> {
        if self.cache_ttl_ms > 60_000 {
            return Err(
                Error::config("`cache_ttl_ms` is at most 60000 (one minute)")
                    .with_param("cache_ttl_ms"),
            );
        }
        if !(self.estimate_chars_per_token.is_finite() && self.estimate_chars_per_token > 0.0) {
            return Err(Error::config("`estimate_chars_per_token` must be above 0")
                .with_param("estimate_chars_per_token"));
        }
        for (table, names) in [("teams", &self.teams), ("models", &self.models)] {
            for name in names.keys() {
                // The name is the Redis hash tag of the group's counters.
                if name.is_empty() || name.contains(['{', '}']) {
                    return Err(Error::config(format!(
                        "`{table}` names must not be empty nor hold `{{` or `}}` (got `{name}`)"
                    ))
                    .with_param(table));
                }
            }
        }
        if self.limits_backend != LimitsBackend::Redis {
            return Ok(());
        }
        if !self.redis_url.starts_with("redis://") {
            return Err(Error::config(format!(
                "`redis_url` must start with `redis://` (got `{}`)",
                redact_url(&self.redis_url)
            ))
            .with_param("redis_url"));
        }
        if self.redis_prefix.is_empty() || self.redis_prefix.contains(['{', '}']) {
            return Err(Error::config(
                "`redis_prefix` must not be empty nor hold `{` or `}` (the key id is the hash tag)",
            )
            .with_param("redis_prefix"));
        }
        if !(1..=10_000).contains(&self.redis_timeout_ms) {
            return Err(Error::config(format!(
                "`redis_timeout_ms` must be between 1 and 10000 (got {})",
                self.redis_timeout_ms
            ))
            .with_param("redis_timeout_ms"));
        }
        if !(1..=86_400).contains(&self.redis_slot_lease_secs) {
            return Err(Error::config(format!(
                "`redis_slot_lease_secs` must be between 1 and 86400 (got {})",
                self.redis_slot_lease_secs
            ))
            .with_param("redis_slot_lease_secs"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn config(v: serde_json::Value) -> KeysConfig {
        serde_json::from_value(v).expect("parses")
    }

    #[test]
    fn redis_keys_are_checked_only_for_the_redis_backend() {
        config(json!({"redis_url": "nope", "redis_prefix": ""}))
            .validate()
            .expect("memory ignores them");
        let redis = config(json!({"limits_backend": "redis"}));
        redis.validate().expect("the defaults are valid");
        assert_eq!(redis.on_redis_error, OnRedisError::Open);
        for (v, param) in [
            (json!({"redis_url": "http://x"}), "redis_url"),
            (json!({"redis_prefix": ""}), "redis_prefix"),
            (json!({"redis_prefix": "a{b}:"}), "redis_prefix"),
            (json!({"redis_timeout_ms": 0}), "redis_timeout_ms"),
            (json!({"redis_timeout_ms": 10_001}), "redis_timeout_ms"),
            (json!({"redis_slot_lease_secs": 0}), "redis_slot_lease_secs"),
        ] {
            let mut v = v;
            v["limits_backend"] = json!("redis");
            let err = config(v.clone()).validate().expect_err("invalid");
            assert_eq!(err.param(), Some(param), "{v}: {err}");
        }
    }

    #[test]
    fn team_and_model_limits_parse_and_names_are_checked() {
        let c = config(json!({
            "teams": {"research": {"rpm": 100, "max_parallel": 4}},
            "models": {"gpt-4o": {"tpm": 1000}},
            "on_budget_error": "open"
        }));
        c.validate().expect("valid");
        assert_eq!(c.teams["research"].rpm, Some(100));
        assert_eq!(c.models["gpt-4o"].tpm, Some(1000));
        assert_eq!(c.on_budget_error, OnBudgetError::Open);
        assert_eq!(KeysConfig::default().on_budget_error, OnBudgetError::Closed);
        for (v, param) in [
            (json!({"teams": {"a{b}": {"rpm": 1}}}), "teams"),
            (json!({"models": {"": {"rpm": 1}}}), "models"),
        ] {
            let err = config(v.clone()).validate().expect_err("invalid");
            assert_eq!(err.param(), Some(param), "{v}: {err}");
        }
        let unknown: Result<KeysConfig, _> =
            serde_json::from_value(json!({"teams": {"a": {"rpn": 1}}}));
        assert!(unknown.is_err(), "a misspelt limit is an error");
    }

    #[test]
    fn the_redis_password_never_shows() {
        let c = config(json!({"redis_url": "redis://:hunter2@limits:6379/0"}));
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("redis://***@limits:6379/0"), "{shown}");
        let err = config(json!({"limits_backend": "redis", "redis_url": "x://u:hunter2@h"}))
            .validate()
            .expect_err("bad scheme");
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }
}
