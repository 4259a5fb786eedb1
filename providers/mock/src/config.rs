//! The mock's configuration and the per-request `extra.mock` override.

use std::fmt;
use std::time::Duration;

use schemars::JsonSchema;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use switchboard_core::{Error, ErrorKind};

/// The largest embedding dimension the mock produces (guards against huge
/// allocations); a request or config past it is refused.
pub const MAX_EMBEDDING_DIMENSIONS: u32 = 8192;

/// The most embedding values (inputs × dimensions) one request may ask for;
/// a request past it is refused with `invalid_request`.
pub const MAX_EMBEDDING_VALUES: u64 = 1 << 20;

/// The longest `first_token_latency_ms` (10 minutes, the default request
/// timeout); a config or request override past it is refused.
pub const MAX_FIRST_TOKEN_LATENCY_MS: u64 = 600_000;

/// The longest `token_delay_ms` (one minute); a config or request override
/// past it is refused.
pub const MAX_TOKEN_DELAY_MS: u64 = 60_000;

/// The delay `key` = `value` ms if it is at most `max`, else the message
/// that says so.
fn check_delay(key: &str, value: Option<u64>, max: u64) -> Result<(), String> {
    match value {
        Some(v) if v > max => Err(format!("`{key}` must be at most {max} ms, got {v}")),
        _ => Ok(()),
    }
}

/// Settings of the mock provider. Every key has a default, so `{}` is a valid config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct MockConfig {
    /// The models served: ids (`"mock-1"`) or tables with per-model limits
    /// (`{ id = "mock-small", context_length = 1000 }`). A request for any other
    /// model fails with `not_found`.
    pub models: Vec<ModelEntry>,
    /// The context window, in words, of models without their own `context_length`.
    /// A longer prompt fails with `context_length_exceeded`.
    pub context_length: u32,
    /// The most output tokens (words) of models without their own `max_output_tokens`;
    /// longer answers are cut with finish reason `length`.
    pub max_output_tokens: u32,
    /// How answers are made: `echo` repeats the last user message, `script` plays
    /// `script` in order. Defaults to `script` when `script` is non-empty, else `echo`.
    pub mode: Option<ReplyMode>,
    /// The answers of `script` mode, used in order and then from the start again.
    pub script: Vec<String>,
    /// Milliseconds before the first event of an answer (at most 600000).
    pub first_token_latency_ms: u64,
    /// Milliseconds after each output token (at most 60000).
    pub token_delay_ms: u64,
    /// An error to inject into chat, embedding and health calls.
    pub fault: Option<FaultConfig>,
    /// The length of embedding vectors when the request does not give
    /// `dimensions` (at most 8192).
    pub embedding_dimensions: u32,
}

impl Default for MockConfig {
    fn default() -> Self {
        MockConfig {
            models: vec![ModelEntry::Id("mock-1".to_owned())],
            context_length: 128_000,
            max_output_tokens: 4096,
            mode: None,
            script: Vec::new(),
            first_token_latency_ms: 0,
            token_delay_ms: 0,
            fault: None,
            embedding_dimensions: 8,
        }
    }
}

/// How the mock makes its answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReplyMode {
    /// `You said: <last user message>`.
    Echo,
    /// The configured `script`, in order, cycling.
    Script,
}

/// One served model: just its id, or a table with its own limits.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum ModelEntry {
    /// A model id; the limits are the global ones.
    Id(String),
    /// A model with its own limits.
    Detailed(ModelSpec),
}

/// A model with its own limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// The model id.
    pub id: String,
    /// This model's context window (default: the global `context_length`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_length: Option<u32>,
    /// This model's output limit (default: the global `max_output_tokens`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<u32>,
}

impl ModelEntry {
    /// The model id.
    pub fn id(&self) -> &str {
        match self {
            ModelEntry::Id(id) => id,
            ModelEntry::Detailed(spec) => &spec.id,
        }
    }
}

// Hand-written rather than `untagged`, so a typo inside a model table gets
// serde's precise message ("unknown field `contxt_length`") instead of
// "data did not match any variant".
impl<'de> Deserialize<'de> for ModelEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct EntryVisitor;
        impl<'de> Visitor<'de> for EntryVisitor {
            type Value = ModelEntry;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a model id or a table with `id`, `context_length`, `max_output_tokens`",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ModelEntry, E> {
                Ok(ModelEntry::Id(v.to_owned()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ModelEntry, A::Error> {
                ModelSpec::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(ModelEntry::Detailed)
            }
        }
        d.deserialize_any(EntryVisitor)
    }
}

/// An injected error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FaultConfig {
    /// The error kind code: `auth`, `rate_limited`, `timeout`, `unavailable`, `upstream`, ...
    #[schemars(schema_with = "error_kind_schema")]
    pub kind: String,
    /// The error message (default: `injected <kind> fault`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// When streaming, send this many events before the error (default: fail
    /// before the stream starts). Non-streaming calls fail either way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_events: Option<usize>,
    /// For `rate_limited`: the `retry_after` the error carries, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
    /// For `upstream`: the HTTP status (default 500).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Fail only the first `times` requests, then succeed (default: always fail).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
}

fn error_kind_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "type": "string", "enum": ErrorKind::CODES })
}

impl FaultConfig {
    /// Checks the fault; a failure is a config error naming `prefix.<field>`.
    pub(crate) fn validate(&self, prefix: &str) -> Result<(), Error> {
        let bad = |field: &str, msg: String| {
            Err(Error::config(msg).with_param(format!("{prefix}.{field}")))
        };
        let Some(kind) = ErrorKind::from_code(&self.kind) else {
            return bad(
                "kind",
                format!(
                    "unknown error kind `{}`; expected one of: {}",
                    self.kind,
                    ErrorKind::CODES.join(", ")
                ),
            );
        };
        if self.retry_after_ms.is_some() && !matches!(kind, ErrorKind::RateLimited { .. }) {
            return bad(
                "retry_after_ms",
                "`retry_after_ms` only applies to kind `rate_limited`".into(),
            );
        }
        match self.status {
            Some(_) if !matches!(kind, ErrorKind::Upstream { .. }) => {
                bad("status", "`status` only applies to kind `upstream`".into())
            }
            Some(s) if !(100..=599).contains(&s) => bad(
                "status",
                format!("`status` must be an HTTP status (100 to 599), got {s}"),
            ),
            _ => Ok(()),
        }
    }

    /// The error this fault injects.
    pub(crate) fn to_error(&self) -> Error {
        let kind = match ErrorKind::from_code(&self.kind) {
            Some(ErrorKind::RateLimited { .. }) => ErrorKind::RateLimited {
                retry_after: self.retry_after_ms.map(Duration::from_millis),
            },
            Some(ErrorKind::Upstream { .. }) => ErrorKind::Upstream {
                status: self.status.unwrap_or(500),
            },
            Some(kind) => kind,
            None => return Error::config(format!("unknown error kind `{}`", self.kind)),
        };
        let message = match &self.message {
            Some(m) => m.clone(),
            None => format!("injected {} fault", self.kind),
        };
        Error::new(kind, message)
    }

    /// Whether the fault also fails health checks: kinds that describe the
    /// upstream rather than one request.
    pub(crate) fn affects_health(&self) -> bool {
        !matches!(
            self.kind.as_str(),
            "not_found"
                | "invalid_request"
                | "context_length_exceeded"
                | "unsupported"
                | "cancelled"
        )
    }
}

impl MockConfig {
    /// The reply mode in effect.
    pub fn reply_mode(&self) -> ReplyMode {
        match self.mode {
            Some(mode) => mode,
            None if self.script.is_empty() => ReplyMode::Echo,
            None => ReplyMode::Script,
        }
    }

    /// Checks what the types cannot; errors are config errors naming the key.
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |key: String, msg: String| Err(Error::config(msg).with_param(key));
        if self.models.is_empty() {
            return bad(
                "models".into(),
                "`models` must list at least one model".into(),
            );
        }
        for (i, m) in self.models.iter().enumerate() {
            if m.id().trim().is_empty() {
                return bad(
                    format!("models[{i}]"),
                    "a model id must not be empty".into(),
                );
            }
            if self.models[..i].iter().any(|prev| prev.id() == m.id()) {
                return bad(
                    format!("models[{i}]"),
                    format!("model `{}` is listed twice", m.id()),
                );
            }
            if let ModelEntry::Detailed(spec) = m {
                for (key, v) in [
                    ("context_length", spec.context_length),
                    ("max_output_tokens", spec.max_output_tokens),
                ] {
                    if v == Some(0) {
                        return bad(
                            format!("models[{i}].{key}"),
                            format!("`{key}` must be positive"),
                        );
                    }
                }
            }
        }
        for (key, v) in [
            ("context_length", self.context_length),
            ("max_output_tokens", self.max_output_tokens),
        ] {
            if v == 0 {
                return bad(key.into(), format!("`{key}` must be positive"));
            }
        }
        if self.mode == Some(ReplyMode::Script) && self.script.is_empty() {
            return bad(
                "script".into(),
                "`mode = \"script\"` needs a non-empty `script`".into(),
            );
        }
        for (key, value, max) in [
            (
                "first_token_latency_ms",
                self.first_token_latency_ms,
                MAX_FIRST_TOKEN_LATENCY_MS,
            ),
            ("token_delay_ms", self.token_delay_ms, MAX_TOKEN_DELAY_MS),
        ] {
            if let Err(msg) = check_delay(key, Some(value), max) {
                return bad(key.into(), msg);
            }
        }
        if !(1..=MAX_EMBEDDING_DIMENSIONS).contains(&self.embedding_dimensions) {
            return bad(
                "embedding_dimensions".into(),
                format!("`embedding_dimensions` must be between 1 and {MAX_EMBEDDING_DIMENSIONS}"),
            );
        }
        match &self.fault {
            Some(fault) => fault.validate("fault"),
            None => Ok(()),
        }
    }

    /// The limits of model `id`: (context length, max output tokens), or `None`
    /// when the model is not served.
    pub fn model_limits(&self, id: &str) -> Option<(u32, u32)> {
        self.models.iter().find(|m| m.id() == id).map(|m| match m {
            ModelEntry::Id(_) => (self.context_length, self.max_output_tokens),
            ModelEntry::Detailed(s) => (
                s.context_length.unwrap_or(self.context_length),
                s.max_output_tokens.unwrap_or(self.max_output_tokens),
            ),
        })
    }
}

/// The per-request override read from `request.extra["mock"]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RequestOverride {
    /// Answer this text (takes precedence over tools, formats and the reply mode).
    pub(crate) reply: Option<String>,
    /// Inject this fault instead of the configured one.
    pub(crate) fault: Option<FaultConfig>,
    /// Overrides `first_token_latency_ms`; `delay_ms` is accepted as an alias.
    #[serde(alias = "delay_ms")]
    pub(crate) first_token_latency_ms: Option<u64>,
    /// Overrides `token_delay_ms`.
    pub(crate) token_delay_ms: Option<u64>,
}

impl RequestOverride {
    /// Reads `extra["mock"]`; a malformed override is an invalid request.
    pub(crate) fn from_extra(
        extra: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Self, Error> {
        let Some(value) = extra.get("mock") else {
            return Ok(Self::default());
        };
        if !value.is_object() {
            return Err(Error::invalid_param(
                "extra.mock",
                "`extra.mock` must be an object",
            ));
        }
        let parsed = RequestOverride::deserialize(value).map_err(|e| {
            Error::invalid_param("extra.mock", format!("invalid `extra.mock`: {e}"))
        })?;
        for (key, value, max) in [
            (
                "first_token_latency_ms",
                parsed.first_token_latency_ms,
                MAX_FIRST_TOKEN_LATENCY_MS,
            ),
            ("token_delay_ms", parsed.token_delay_ms, MAX_TOKEN_DELAY_MS),
        ] {
            check_delay(key, value, max)
                .map_err(|msg| Error::invalid_param(format!("extra.mock.{key}"), msg))?;
        }
        if let Some(fault) = &parsed.fault {
            fault.validate("extra.mock.fault").map_err(|e| {
                Error::invalid_param(
                    e.param().unwrap_or("extra.mock.fault").to_owned(),
                    e.message().to_owned(),
                )
            })?;
        }
        Ok(parsed)
    }
}
