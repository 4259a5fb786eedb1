//! The configuration file's shape.
//!
//! ```toml
//! "$schema" = "./schemas/config.schema.json"   # optional, for editors
//!
//! [server]
//! listen = "127.0.0.1:8080"
//!
//! [router]
//! max_attempts = 4
//!
//! [providers.openai]                 # an instance; `kind` defaults to its name
//! api_key = "${OPENAI_API_KEY}"
//!
//! [providers.groq]
//! kind = "openai-compatible"
//! preset = "groq"
//! api_key = "${GROQ_API_KEY}"
//!
//! [models.fast]                      # an alias routed over several targets
//! strategy = "fallback"
//! targets = ["groq/llama-3.1-8b-instant", "openai/gpt-4o-mini"]
//! ```

use std::collections::BTreeMap;
use std::net::SocketAddr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use switchboard_core::Secret;

/// The whole configuration: what `switchboard.toml` (or `.yaml`) holds after
/// every layer is applied.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The JSON Schema this file follows (for editors); ignored by Switchboard.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// The HTTP gateway (`switchboard serve`).
    #[serde(default)]
    pub server: ServerConfig,
    /// Retries, backoff and time budgets.
    #[serde(default)]
    pub router: RouterConfig,
    /// When an instance is considered unhealthy and skipped.
    #[serde(default)]
    pub health: HealthConfig,
    /// Provider instances, by instance name.
    #[serde(default)]
    pub providers: BTreeMap<String, InstanceConfig>,
    /// Model aliases routed over one or more `instance/model` targets.
    #[serde(default)]
    pub models: BTreeMap<String, ModelAlias>,
    /// Extensions, by name (`[extensions.<name>]`).
    #[serde(default)]
    pub extensions: BTreeMap<String, ExtensionConfig>,
    /// Where extensions keep durable data.
    #[serde(default)]
    pub state: StateConfig,
}

/// One `[extensions.<name>]` table: the gateway's keys (`enabled`, `order`)
/// plus the extension's own settings, validated by its config type.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ExtensionConfig {
    /// Whether the extension runs. Off by default.
    #[serde(default)]
    pub enabled: bool,
    /// Where its hooks run among the enabled extensions (lowest first; ties
    /// by name), the same order for requests and answers.
    #[serde(default)]
    pub order: i32,
    /// The extension's own settings.
    #[serde(flatten)]
    pub settings: Map<String, Value>,
}

impl ExtensionConfig {
    /// The gateway's reserved keys in `[extensions.<name>]`.
    pub const RESERVED_KEYS: &'static [&'static str] = &["enabled", "order"];
}

/// `[state]`: the store extensions keep durable data in (virtual keys, the
/// usage ledger, function definitions): an embedded SQLite file, or a
/// PostgreSQL database several gateways share. Opened when the first
/// extension is enabled, and kept. `Debug` and serialization hide `url`.
///
/// ```toml
/// [state]
/// url = "postgres://switchboard:${PGPASSWORD}@db.internal:5432/switchboard"
/// schema = "gateway"
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct StateConfig {
    /// Which store: `sqlite` (one file, nothing to install) or `postgres`
    /// (shared by every gateway naming the same database and schema).
    /// Default: `postgres` when `url` is set, else `sqlite`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<StateBackend>,
    /// SQLite: the file (relative to the config file's directory), or
    /// `":memory:"`. Default: `switchboard.db` next to the config file, or
    /// in memory without a config file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// PostgreSQL: the database, `postgres://user:password@host:5432/database`
    /// (or `postgresql://`; libpq query parameters such as `sslmode=require`
    /// work). Never printed; keep the password out of the file with
    /// `${VAR}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<Secret>,
    /// PostgreSQL: the schema the store's tables live in, created when
    /// missing (lowercase letters, digits and `_`). Default `public`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// PostgreSQL: the most connections this gateway opens. Default 10.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1000))]
    pub pool_size: Option<u32>,
    /// PostgreSQL: how long one store call may take, waiting for a pooled
    /// connection included, in milliseconds; past it the call fails (a down
    /// database never hangs a request). Default 5000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 2_147_483_647))]
    pub timeout_ms: Option<u64>,
}

impl StateConfig {
    /// The backend in force: `backend`, else `postgres` when `url` is set,
    /// else `sqlite`.
    pub fn backend(&self) -> StateBackend {
        self.backend.unwrap_or(if self.url.is_some() {
            StateBackend::Postgres
        } else {
            StateBackend::Sqlite
        })
    }
}

/// Where `[state]` keeps its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum StateBackend {
    /// One embedded SQLite file (`path`).
    Sqlite,
    /// A PostgreSQL database (`url`), shared by several gateways.
    Postgres,
}

/// One `[providers.<instance>]` table: the runtime's own keys plus the
/// provider's settings, validated by the provider's config type. Its `Debug`
/// output hides credentials (keys named like `api_key`, `token`, `secret`).
#[derive(Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct InstanceConfig {
    /// The provider (its `#[provider(name)]`); defaults to the instance name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Whether the instance starts enabled.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// The provider's own settings.
    #[serde(flatten)]
    pub settings: Map<String, Value>,
}

impl std::fmt::Debug for InstanceConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let settings = super::redact(&Value::Object(self.settings.clone()), None, None);
        f.debug_struct("InstanceConfig")
            .field("kind", &self.kind)
            .field("enabled", &self.enabled)
            .field("settings", &settings)
            .finish()
    }
}

impl InstanceConfig {
    /// The runtime's reserved keys in `[providers.<instance>]`.
    pub const RESERVED_KEYS: &'static [&'static str] = &["kind", "enabled"];

    /// The provider kind: `kind`, or the instance name.
    pub fn kind_or<'a>(&'a self, instance: &'a str) -> &'a str {
        self.kind.as_deref().unwrap_or(instance)
    }
}

fn default_true() -> bool {
    true
}

/// The HTTP gateway's settings.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Bearer token for the `/plugins` management API; the API is disabled without one.
    /// An empty token is refused at load.
    pub admin_token: Option<Secret>,
    /// Client API keys; when empty, the inference API needs no key (and the
    /// gateway refuses to listen on a non-loopback address unless
    /// `allow_unauthenticated` is set). An empty key is refused at load.
    pub api_keys: Vec<ClientKey>,
    /// Serve without client keys on a non-loopback address (anyone who can
    /// reach it can spend the provider keys). Off by default.
    pub allow_unauthenticated: bool,
    /// Largest accepted request body, in bytes.
    pub body_limit_bytes: usize,
    /// How long a client may take to send its request headers and body, in
    /// milliseconds. It also bounds a new connection's first request (protocol
    /// detection and the HTTP/2 preface included) and how long a connection
    /// with nothing in flight stays open.
    pub client_timeout_ms: u64,
    /// How long a write to a client may make no progress (the client stopped
    /// reading) before the connection, and with it the upstream request, is
    /// dropped, in milliseconds.
    pub write_timeout_ms: u64,
    /// Most client connections open at once; past it, new connections wait
    /// in the listen backlog until one closes.
    pub max_connections: usize,
    /// `Host` names accepted by a loopback listener, besides `localhost`,
    /// `*.localhost`, loopback addresses, the listen address and names without
    /// a dot (a web site cannot rebind those); `"*"` accepts any. Guards
    /// against DNS rebinding.
    pub allowed_hosts: Vec<String>,
    /// Which web pages (origins) may call the gateway from a browser.
    pub cors: CorsConfig,
    /// How long graceful shutdown waits for in-flight requests, in milliseconds.
    pub shutdown_grace_ms: u64,
    /// Reload the configuration when the file changes.
    pub watch_config: bool,
    /// Also create an instance for every linked provider whose conventional
    /// environment variable is set (`OPENAI_API_KEY`, ...), as a start
    /// without a file does; the file's own instances win on a name clash.
    pub env_providers: bool,
    /// Which requests write a line to the access log (tracing target
    /// `switchboard::access`; level INFO, WARN for a 5xx): `off`; `errors`,
    /// only requests answered with an error status (4xx, 5xx); `sampled`,
    /// every error and `access_log_sample` of the other requests; `all`.
    /// A streamed answer is logged when its head is sent, with its status.
    pub access_log: AccessLog,
    /// The fraction of successful requests logged with
    /// `access_log = "sampled"`, from 0 (none) to 1 (all): 0.01 is one
    /// request in a hundred, spread evenly (a counter, not a random draw).
    #[schemars(range(min = 0.0, max = 1.0))]
    pub access_log_sample: f64,
    /// Forward a complete OpenAI chat request whose targets all speak
    /// OpenAI's wire format as the client sent it (only `model` changed),
    /// and the upstream's answer as it came: the same-format fast path. On
    /// by default; off, every request is parsed and encoded again (answers
    /// then carry `upstream_request_id` in the body rather than the
    /// `x-switchboard-upstream-request-id` header). Requests with
    /// extensions enabled always take the full path.
    pub forward_same_format: bool,
    /// Connection worker threads of `switchboard serve`, each running its
    /// connections start to end on a runtime of its own (no hand-off
    /// between threads within a request); `0` (the default): one per CPU
    /// the process may run on. Read at start; a reload does not change it.
    pub worker_threads: usize,
    /// How long, in microseconds, a connection worker spins before it
    /// sleeps waiting for the network (at most 1000; `0`, the default: it
    /// sleeps at once). Where sleeping and waking cost tens of microseconds
    /// (virtual machines) a spin of about 40 cuts the latency a request
    /// adds, at the price of that much CPU per idle moment: worth it on
    /// cores the gateway has to itself, not on cores it shares with its
    /// load or under a tight CPU quota. Read at start.
    #[schemars(range(max = 1000))]
    pub idle_spin_us: u64,
    /// How long Responses API answers (`POST /v1/responses`) are kept for
    /// `GET /v1/responses/{id}` and `previous_response_id`.
    pub responses: ResponsesConfig,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            admin_token: None,
            api_keys: Vec::new(),
            allow_unauthenticated: false,
            body_limit_bytes: 4 * 1024 * 1024,
            client_timeout_ms: 30_000,
            write_timeout_ms: 30_000,
            max_connections: 1024,
            allowed_hosts: Vec::new(),
            cors: CorsConfig::default(),
            shutdown_grace_ms: 30_000,
            watch_config: false,
            env_providers: false,
            access_log: AccessLog::default(),
            access_log_sample: 0.01,
            forward_same_format: true,
            worker_threads: 0,
            idle_spin_us: 0,
            responses: ResponsesConfig::default(),
        }
    }
}

/// `[server.responses]`: where and how long the Responses API keeps finished
/// responses (those created without `store: false`). With an extension store
/// open they go to its `responses` namespace; otherwise to memory, where
/// only the `max_in_memory` newest are kept (the oldest goes first).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ResponsesConfig {
    /// Most responses kept in memory when no extension store is open; a new
    /// one past it evicts the oldest. At least 1.
    pub max_in_memory: usize,
    /// How long a stored response can be retrieved or continued, in seconds
    /// (default 30 days, as OpenAI keeps them). Older ones are gone: deleted
    /// when read, and swept from the extension store at most once an hour.
    pub retention_secs: u64,
}

impl ResponsesConfig {
    /// The default of `max_in_memory`.
    pub const DEFAULT_MAX_IN_MEMORY: usize = 1000;
    /// The default of `retention_secs`: 30 days.
    pub const DEFAULT_RETENTION_SECS: u64 = 30 * 24 * 3600;
}

impl Default for ResponsesConfig {
    fn default() -> Self {
        ResponsesConfig {
            max_in_memory: Self::DEFAULT_MAX_IN_MEMORY,
            retention_secs: Self::DEFAULT_RETENTION_SECS,
        }
    }
}

/// Which requests write an access-log line (`server.access_log`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AccessLog {
    /// No access log.
    Off,
    /// Only requests answered with an error status (4xx or 5xx).
    Errors,
    /// Every error, and `server.access_log_sample` of the other requests.
    #[default]
    Sampled,
    /// Every request.
    All,
}

/// Cross-origin (browser) access. A request carrying an `Origin` header that
/// is not listed is refused with a 403; listed origins get CORS headers and
/// preflight answers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct CorsConfig {
    /// Origins allowed to call the gateway, as `scheme://host[:port]`
    /// (e.g. `https://app.example.com`); `"*"` allows every origin. Empty
    /// (the default): no web page may call the gateway.
    pub allowed_origins: Vec<String>,
}

/// A key a client may use to call the gateway.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientKey {
    /// The key (`Authorization: Bearer <key>` or `x-api-key: <key>`); never empty.
    pub key: Secret,
    /// A label for logs and metrics.
    #[serde(default)]
    pub name: Option<String>,
    /// Models (aliases or `instance/model`) this key may use; empty means all.
    #[serde(default)]
    pub models: Vec<String>,
    /// The key's id in records, logs and usage (never the key itself);
    /// defaults to `name`, else `key-<index>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The key's team, handed to extensions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// Free-form metadata handed to extensions.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub metadata: Value,
    /// Which enabled extensions apply to this key's requests; absent: all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Vec<String>>,
}

impl ClientKey {
    /// The key's id: `id`, else `name`, else `key-<index>` (its position in
    /// `server.api_keys`).
    pub fn id_or(&self, index: usize) -> String {
        self.id
            .clone()
            .or_else(|| self.name.clone())
            .unwrap_or_else(|| format!("key-{index}"))
    }
}

/// Retries, backoff and time budgets for one request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct RouterConfig {
    /// Most upstream attempts for one request, over all targets.
    pub max_attempts: u32,
    /// Retries on the same target before moving to the next one.
    pub retries_per_target: u32,
    /// First backoff delay, in milliseconds; doubles per retry, with jitter.
    pub backoff_base_ms: u64,
    /// Longest backoff delay, in milliseconds.
    pub backoff_max_ms: u64,
    /// Total time budget for one request, retries included, in milliseconds.
    pub timeout_ms: u64,
    /// How long a stream may take to produce its first event before the
    /// router gives up on that target and tries the next, in milliseconds.
    pub first_event_timeout_ms: u64,
    /// Longest `Retry-After` the router waits for before retrying the same
    /// target, in milliseconds. A rate limit asking for more moves on to the
    /// next target at once, or (with none left) goes back to the client at
    /// once with its `Retry-After`.
    pub max_retry_after_ms: u64,
    /// Total time a routed stream may last, from the request to its last
    /// event, in milliseconds; when it passes, the stream ends with a
    /// `timeout` error event. Off when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_timeout_ms: Option<u64>,
}

impl Default for RouterConfig {
    fn default() -> Self {
        RouterConfig {
            max_attempts: 4,
            retries_per_target: 1,
            backoff_base_ms: 250,
            backoff_max_ms: 8_000,
            timeout_ms: 600_000,
            first_event_timeout_ms: 60_000,
            max_retry_after_ms: 10_000,
            stream_timeout_ms: None,
        }
    }
}

/// When a deployment (an instance and one of its models) or an instance is
/// unhealthy. Health is passive: real requests update their deployment's
/// health, health checks the instance's; no probe runs (and costs money)
/// unless `probe_interval_ms` is set. Errors that are the request's fault
/// never count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct HealthConfig {
    /// Consecutive failures that put a deployment (or, for health checks, an
    /// instance) in cooldown.
    pub consecutive_failures: u32,
    /// Error ratio over the recent window that puts a deployment in cooldown (0 to 1).
    pub error_ratio: f64,
    /// How many recent requests the error ratio is computed over (at most 64).
    pub window: u32,
    /// Fewest requests in the window before the ratio is considered.
    pub min_requests: u32,
    /// How long an unhealthy deployment is skipped, in milliseconds; also
    /// the longest a rate limit's `Retry-After` cools its deployment.
    pub cooldown_ms: u64,
    /// Timeout of an on-demand or periodic health check, in milliseconds.
    pub check_timeout_ms: u64,
    /// Run `health_check_all` this often, in milliseconds; off when absent.
    pub probe_interval_ms: Option<u64>,
}

impl Default for HealthConfig {
    fn default() -> Self {
        HealthConfig {
            consecutive_failures: 5,
            error_ratio: 0.5,
            window: 20,
            min_requests: 10,
            cooldown_ms: 30_000,
            check_timeout_ms: 10_000,
            probe_interval_ms: None,
        }
    }
}

/// How an alias picks among its targets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// In order: the next target only when the previous one failed.
    #[default]
    Fallback,
    /// Rotate the first target per request; the rest are fallbacks.
    RoundRobin,
    /// Pick the first target at random by weight; the rest are fallbacks.
    Weighted,
    /// The target with the lowest recent latency first.
    LeastLatency,
}

/// `[models.<alias>]`: a name clients use, routed over targets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelAlias {
    /// How to pick among the targets.
    #[serde(default)]
    pub strategy: Strategy,
    /// `instance/model` targets, each a string or `{ target, weight }`.
    pub targets: Vec<TargetSpec>,
    /// Which errors of a target move the request on to the next target
    /// (before a stream's first event).
    #[serde(default)]
    pub fallback_on: FallbackOn,
    /// Which enabled extensions apply to requests for this alias; absent: all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Vec<String>>,
}

/// Which errors of a target move a request on to the alias's next target.
///
/// Request-level errors (invalid request, content filtered) never do: the
/// same request would fail everywhere. A context-length error moves on only
/// to a target with a larger context window (except with `never`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum FallbackOn {
    /// Every error that is not the request's fault: the instance's (auth,
    /// permission, rate limited, unavailable, timeout, malformed answers,
    /// upstream statuses) and the target's (model not found, unsupported).
    #[default]
    Instance,
    /// Only errors worth retrying: rate limited, unavailable, timeout, 5xx.
    Retryable,
    /// Never: the first target's error is the answer (retries on it still run).
    Never,
}

/// One target of an alias.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum TargetSpec {
    /// `instance/model`.
    Plain(String),
    /// `instance/model` with a weight (for `weighted`).
    Weighted {
        /// `instance/model`.
        target: String,
        /// Relative weight (default 1).
        #[serde(default = "default_weight")]
        weight: u32,
    },
}

fn default_weight() -> u32 {
    1
}

impl TargetSpec {
    /// The `instance/model` string.
    pub fn target(&self) -> &str {
        match self {
            TargetSpec::Plain(t) | TargetSpec::Weighted { target: t, .. } => t,
        }
    }

    /// The weight (1 for plain targets).
    pub fn weight(&self) -> u32 {
        match self {
            TargetSpec::Plain(_) => 1,
            TargetSpec::Weighted { weight, .. } => *weight,
        }
    }
}

/// A provider crate of the workspace and the Cargo feature of the
/// `switchboard` crate that links it (the facade's `PROVIDER_FEATURES`).
/// Given to [`ConfigLoader::known_providers`](super::ConfigLoader::known_providers),
/// it turns an unknown `kind` into "build with `--features x`".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProviderFeature {
    /// The provider's name (its `kind`).
    pub provider: &'static str,
    /// The Cargo feature of the `switchboard` crate that links it.
    pub feature: &'static str,
    /// Whether this build has the feature on.
    pub enabled: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_credentials() {
        let cfg: InstanceConfig = serde_json::from_value(serde_json::json!({
            "kind": "openai", "api_key": "sk-live-123", "base_url": "http://x"
        }))
        .expect("valid");
        let shown = format!("{cfg:?}");
        assert!(!shown.contains("sk-live-123"), "{shown}");
        assert!(shown.contains("http://x"), "{shown}");
    }
}
