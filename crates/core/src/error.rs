//! The one error type every Switchboard crate returns.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

/// What went wrong, independent of which provider reported it.
///
/// The server maps each kind to an HTTP status and to OpenAI- or
/// Anthropic-style error bodies; the router uses [`ErrorKind::is_retryable`]
/// to decide between retrying, falling back and giving up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// The credentials were missing or rejected (HTTP 401).
    Auth,
    /// The credentials are valid but not allowed to do this (HTTP 403).
    Permission,
    /// The model, instance or resource does not exist (HTTP 404).
    NotFound,
    /// The request itself is wrong (HTTP 400); [`Error::param`] names the field.
    InvalidRequest,
    /// The prompt plus the requested output does not fit the model's context window.
    ContextLengthExceeded,
    /// Too many requests (HTTP 429); `retry_after` is the server's requested delay.
    RateLimited {
        /// How long the upstream asked us to wait, from `Retry-After` or similar.
        #[serde(skip_serializing_if = "Option::is_none", with = "opt_duration_ms")]
        retry_after: Option<Duration>,
    },
    /// The upstream did not answer in time.
    Timeout,
    /// The upstream is overloaded or unreachable (HTTP 503, 529, connection refused).
    Unavailable,
    /// The upstream answered with an unexpected HTTP status.
    Upstream {
        /// The HTTP status the upstream returned.
        status: u16,
    },
    /// The upstream's answer could not be understood (bad JSON, truncated stream).
    Protocol,
    /// The provider does not support this operation or parameter.
    Unsupported,
    /// A configuration value is missing or invalid.
    Config,
    /// The request was cancelled by the caller.
    Cancelled,
    /// A guardrail refused the request or the answer (HTTP 400).
    ContentFilter,
    /// The caller's budget or quota is spent (HTTP 429, OpenAI's
    /// `insufficient_quota`).
    QuotaExceeded,
    /// A bug or broken invariant in the gateway or a plugin (HTTP 500).
    Internal,
}

impl ErrorKind {
    /// Whether trying the same request again (here or on another target) may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            ErrorKind::RateLimited { .. } | ErrorKind::Timeout | ErrorKind::Unavailable => true,
            ErrorKind::Upstream { status } => *status >= 500 || *status == 408,
            _ => false,
        }
    }

    /// A stable snake_case code for logs, metrics labels and error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            ErrorKind::Auth => "auth",
            ErrorKind::Permission => "permission",
            ErrorKind::NotFound => "not_found",
            ErrorKind::InvalidRequest => "invalid_request",
            ErrorKind::ContextLengthExceeded => "context_length_exceeded",
            ErrorKind::RateLimited { .. } => "rate_limited",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Upstream { .. } => "upstream",
            ErrorKind::Protocol => "protocol",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Config => "config",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::ContentFilter => "content_filter",
            ErrorKind::QuotaExceeded => "insufficient_quota",
            ErrorKind::Internal => "internal",
        }
    }

    /// The HTTP status a gateway answers with for this kind.
    pub fn http_status(&self) -> u16 {
        match self {
            ErrorKind::Auth => 401,
            ErrorKind::Permission => 403,
            ErrorKind::NotFound => 404,
            ErrorKind::InvalidRequest | ErrorKind::ContextLengthExceeded => 400,
            ErrorKind::RateLimited { .. } => 429,
            ErrorKind::Timeout => 504,
            ErrorKind::Unavailable => 503,
            ErrorKind::Upstream { status } if *status >= 500 => 502,
            ErrorKind::Upstream { status } => *status,
            ErrorKind::Protocol => 502,
            ErrorKind::Unsupported => 400,
            ErrorKind::Config => 500,
            // 499 is the de-facto "client closed request" status (nginx).
            ErrorKind::Cancelled => 499,
            ErrorKind::ContentFilter => 400,
            ErrorKind::QuotaExceeded => 429,
            ErrorKind::Internal => 500,
        }
    }

    /// Parses a kind from its [`code`](Self::code); `rate_limited` has no delay
    /// and `upstream` reports status 500.
    pub fn from_code(code: &str) -> Option<Self> {
        Some(match code {
            "auth" => ErrorKind::Auth,
            "permission" => ErrorKind::Permission,
            "not_found" => ErrorKind::NotFound,
            "invalid_request" => ErrorKind::InvalidRequest,
            "context_length_exceeded" => ErrorKind::ContextLengthExceeded,
            "rate_limited" => ErrorKind::RateLimited { retry_after: None },
            "timeout" => ErrorKind::Timeout,
            "unavailable" => ErrorKind::Unavailable,
            "upstream" => ErrorKind::Upstream { status: 500 },
            "protocol" => ErrorKind::Protocol,
            "unsupported" => ErrorKind::Unsupported,
            "config" => ErrorKind::Config,
            "cancelled" => ErrorKind::Cancelled,
            "content_filter" => ErrorKind::ContentFilter,
            "insufficient_quota" => ErrorKind::QuotaExceeded,
            "internal" => ErrorKind::Internal,
            _ => return None,
        })
    }

    /// Every kind code, in declaration order (for docs, schemas and "expected one of" messages).
    pub const CODES: &'static [&'static str] = &[
        "auth",
        "permission",
        "not_found",
        "invalid_request",
        "context_length_exceeded",
        "rate_limited",
        "timeout",
        "unavailable",
        "upstream",
        "protocol",
        "unsupported",
        "config",
        "cancelled",
        "content_filter",
        "insufficient_quota",
        "internal",
    ];
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Upstream { status } => write!(f, "upstream error (HTTP {status})"),
            ErrorKind::RateLimited {
                retry_after: Some(d),
            } => write!(f, "rate limited (retry after {} ms)", d.as_millis()),
            other => f.write_str(&other.code().replace('_', " ")),
        }
    }
}

/// An error with a [kind](ErrorKind), a human message and context: which
/// provider instance it came from, which request field it concerns, and the
/// underlying cause.
///
/// Messages must never contain secrets: providers build them from status codes
/// and upstream error bodies, never from request headers.
#[derive(Clone, thiserror::Error)]
pub struct Error {
    kind: ErrorKind,
    message: Cow<'static, str>,
    instance: Option<Arc<str>>,
    param: Option<Cow<'static, str>>,
    #[source]
    source: Option<Arc<dyn std::error::Error + Send + Sync + 'static>>,
}

impl Error {
    /// Creates an error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        Error {
            kind,
            message: message.into(),
            instance: None,
            param: None,
            source: None,
        }
    }

    /// An [`ErrorKind::Auth`] error.
    pub fn auth(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Auth, message)
    }
    /// An [`ErrorKind::Permission`] error.
    pub fn permission(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Permission, message)
    }
    /// An [`ErrorKind::NotFound`] error.
    pub fn not_found(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }
    /// An [`ErrorKind::InvalidRequest`] error about request field `param`.
    pub fn invalid_param(
        param: impl Into<Cow<'static, str>>,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self::new(ErrorKind::InvalidRequest, message).with_param(param)
    }
    /// An [`ErrorKind::InvalidRequest`] error.
    pub fn invalid_request(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::InvalidRequest, message)
    }
    /// An [`ErrorKind::ContextLengthExceeded`] error.
    pub fn context_length_exceeded(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::ContextLengthExceeded, message)
    }
    /// An [`ErrorKind::RateLimited`] error with an optional server-requested delay.
    pub fn rate_limited(
        retry_after: Option<std::time::Duration>,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self::new(ErrorKind::RateLimited { retry_after }, message)
    }
    /// An [`ErrorKind::Timeout`] error.
    pub fn timeout(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Timeout, message)
    }
    /// An [`ErrorKind::Unavailable`] error.
    pub fn unavailable(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Unavailable, message)
    }
    /// An [`ErrorKind::Upstream`] error for an unexpected HTTP `status`.
    pub fn upstream(status: u16, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Upstream { status }, message)
    }
    /// An [`ErrorKind::Protocol`] error.
    pub fn protocol(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Protocol, message)
    }
    /// An [`ErrorKind::Unsupported`] error.
    pub fn unsupported(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Unsupported, message)
    }
    /// An [`ErrorKind::Config`] error.
    pub fn config(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Config, message)
    }
    /// An [`ErrorKind::ContentFilter`] error.
    pub fn content_filter(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::ContentFilter, message)
    }

    /// An [`ErrorKind::QuotaExceeded`] error.
    pub fn quota_exceeded(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::QuotaExceeded, message)
    }

    /// An [`ErrorKind::Internal`] error.
    pub fn internal(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    /// An [`ErrorKind::Cancelled`] error.
    pub fn cancelled(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Cancelled, message)
    }

    /// The same error with another message: kind, instance and param kept,
    /// the source dropped (it may say what the new message leaves out).
    pub(crate) fn with_message(mut self, message: String) -> Self {
        self.message = Cow::Owned(message);
        self.source = None;
        self
    }

    /// Sets the provider instance the error came from.
    #[must_use]
    pub fn with_instance(mut self, instance: impl Into<Arc<str>>) -> Self {
        self.instance = Some(instance.into());
        self
    }

    /// Sets the request field the error concerns (e.g. `temperature`, `messages[2].content`).
    #[must_use]
    pub fn with_param(mut self, param: impl Into<Cow<'static, str>>) -> Self {
        self.param = Some(param.into());
        self
    }

    /// Attaches the underlying cause.
    #[must_use]
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The human-readable message, without the kind or instance prefix.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The provider instance that reported the error, if known.
    pub fn instance(&self) -> Option<&str> {
        self.instance.as_deref()
    }

    /// The request field the error concerns, if any.
    pub fn param(&self) -> Option<&str> {
        self.param.as_deref()
    }

    /// Whether trying again may succeed; see [`ErrorKind::is_retryable`].
    pub fn is_retryable(&self) -> bool {
        self.kind.is_retryable()
    }

    /// The delay the upstream asked for before retrying, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self.kind {
            ErrorKind::RateLimited { retry_after } => retry_after,
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(instance) = &self.instance {
            write!(f, "[{instance}] ")?;
        }
        write!(f, "{}: {}", self.kind, self.message)?;
        if let Some(param) = &self.param {
            write!(f, " (param: {param})")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.kind).field("message", &self.message);
        if let Some(instance) = &self.instance {
            d.field("instance", instance);
        }
        if let Some(param) = &self.param {
            d.field("param", param);
        }
        if let Some(source) = &self.source {
            d.field("source", &format_args!("{source}"));
        }
        d.finish()
    }
}

impl From<reqwest::Error> for Error {
    /// Classifies a transport error. The URL is stripped first: query strings
    /// can carry API keys (Gemini's `?key=`).
    fn from(err: reqwest::Error) -> Self {
        let err = err.without_url();
        let kind = if err.is_timeout() {
            ErrorKind::Timeout
        } else if err.is_connect() {
            ErrorKind::Unavailable
        } else if err.is_decode() || err.is_body() {
            ErrorKind::Protocol
        } else if let Some(status) = err.status() {
            ErrorKind::Upstream {
                status: status.as_u16(),
            }
        } else {
            ErrorKind::Unavailable
        };
        let message = err.to_string();
        Error::new(kind, message).with_source(err)
    }
}

mod opt_duration_ms {
    use serde::Serializer;
    use std::time::Duration;

    #[allow(clippy::ref_option)]
    pub(super) fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            None => s.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryable_kinds() {
        assert!(Error::rate_limited(None, "x").is_retryable());
        assert!(Error::timeout("x").is_retryable());
        assert!(Error::unavailable("x").is_retryable());
        assert!(Error::upstream(500, "x").is_retryable());
        assert!(Error::upstream(529, "x").is_retryable());
        assert!(!Error::upstream(418, "x").is_retryable());
        assert!(!Error::auth("x").is_retryable());
        assert!(!Error::invalid_request("x").is_retryable());
        assert!(!Error::context_length_exceeded("x").is_retryable());
    }

    #[test]
    fn retry_after_is_exposed() {
        let e = Error::rate_limited(Some(Duration::from_secs(3)), "slow down");
        assert_eq!(e.retry_after(), Some(Duration::from_secs(3)));
        assert_eq!(Error::timeout("t").retry_after(), None);
    }

    #[test]
    fn display_carries_context() {
        let e =
            Error::invalid_param("temperature", "must be between 0 and 2").with_instance("openai");
        assert_eq!(
            e.to_string(),
            "[openai] invalid request: must be between 0 and 2 (param: temperature)"
        );
    }

    #[test]
    fn codes_round_trip() {
        for code in ErrorKind::CODES {
            let kind = ErrorKind::from_code(code).expect("every listed code parses");
            assert_eq!(kind.code(), *code);
        }
        assert!(ErrorKind::from_code("nope").is_none());
    }

    #[test]
    fn statuses() {
        assert_eq!(ErrorKind::Auth.http_status(), 401);
        assert_eq!(
            ErrorKind::RateLimited { retry_after: None }.http_status(),
            429
        );
        assert_eq!(ErrorKind::Upstream { status: 503 }.http_status(), 502);
        assert_eq!(ErrorKind::Upstream { status: 409 }.http_status(), 409);
    }
}
