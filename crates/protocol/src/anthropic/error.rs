//! Errors: upstream HTTP errors and in-stream `error` events → [`Error`];
//! [`Error`] → Anthropic error body and HTTP status.

use std::borrow::Cow;
use std::time::Duration;

use serde_json::{Map, Value};
use switchboard_core::{Error, ErrorKind};

use super::types::{ErrorObject, ErrorResponse};
use crate::retry_after::parse_retry_after;

/// What an error body says, read leniently.
#[derive(Debug, Default)]
struct Details {
    kind: Option<String>,
    message: Option<String>,
    request_id: Option<String>,
}

impl Details {
    fn from_value(v: &Value) -> Details {
        let string = |o: &Map<String, Value>, k: &str| match o.get(k) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            _ => None,
        };
        let Some(top) = v.as_object() else {
            return Details {
                message: v.as_str().map(str::to_owned),
                ..Default::default()
            };
        };
        let request_id = string(top, "request_id");
        match top.get("error") {
            // `{"type": "error", "error": {"type", "message"}, "request_id"}`
            Some(Value::Object(e)) => Details {
                kind: string(e, "type"),
                message: string(e, "message"),
                request_id,
            },
            // `{"error": "message"}` (proxies)
            Some(Value::String(s)) => Details {
                kind: None,
                message: Some(s.clone()),
                request_id,
            },
            // The error object itself: `{"type": "overloaded_error", "message": ...}`.
            _ => Details {
                kind: string(top, "type").filter(|t| t != "error"),
                message: string(top, "message"),
                request_id,
            },
        }
    }
}

/// A short, single-line summary of a non-JSON body (e.g. Cloudflare's HTML
/// page for a `413`): its `<title>` if it has one, else its first 200 characters.
fn summarize_text(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let lower = text.to_ascii_lowercase();
    let title = lower.find("<title>").and_then(|start| {
        let from = start + "<title>".len();
        lower[from..]
            .find("</title>")
            .map(|len| &text[from..from + len])
    });
    let source = title.unwrap_or(&text);
    let collapsed: String = source.split_whitespace().collect::<Vec<_>>().join(" ");
    collapsed.chars().take(200).collect()
}

/// Whether an `invalid_request_error` is about the context window:
/// Anthropic's "prompt is too long: 215000 tokens > 200000 maximum" and
/// "input length and `max_tokens` exceed context limit: ...", or a message
/// mentioning the context length or window (proxies in front of other models).
pub fn is_context_length_message(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("prompt is too long")
        || m.contains("exceed context limit")
        || m.contains("context length")
        || m.contains("context window")
        || m.contains("context_length_exceeded")
}

/// Classifies an upstream HTTP error response.
///
/// `retry_after` is the raw `Retry-After` header, `request_id` the
/// `request-id` header. The message is the body's `error.message` (never
/// anything from the request), followed by `(request-id: ...)` from the
/// header or the body's `request_id`; a body that is not JSON is summarized.
///
/// The body's `error.type` decides when it is one of Anthropic's:
///
/// | `error.type` (status) | kind |
/// |---|---|
/// | `invalid_request_error` (400) | `context_length_exceeded` when the message is about the context window (see [`is_context_length_message`]), else `invalid_request` |
/// | `authentication_error` (401) | `auth` |
/// | `permission_error` (403) | `permission` |
/// | `not_found_error` (404) | `not_found` |
/// | `request_too_large` (413) | `invalid_request` |
/// | `rate_limit_error` (429) | `rate_limited`, delay from `Retry-After` |
/// | `api_error` (500) | `upstream {status}` (retryable) |
/// | `timeout_error` (504) | `timeout` |
/// | `overloaded_error` (529) | `unavailable` (retryable) |
///
/// Otherwise the status decides: 400/413/422 → invalid request (or context
/// length), 401, 403, 404 as above, 408/504 → timeout, 429 → rate limited,
/// 503/529 → unavailable, anything else → `upstream {status}`.
pub fn error_from_response(
    status: u16,
    retry_after: Option<&str>,
    request_id: Option<&str>,
    body: &[u8],
) -> Error {
    error_from_parts(
        status,
        retry_after.and_then(parse_retry_after),
        request_id,
        body,
    )
}

/// Like [`error_from_response`] with the delay already worked out.
pub fn error_from_parts(
    status: u16,
    retry_after: Option<Duration>,
    request_id: Option<&str>,
    body: &[u8],
) -> Error {
    let mut details = match serde_json::from_slice::<Value>(body) {
        Ok(v) => Details::from_value(&v),
        Err(_) => {
            let summary = summarize_text(body);
            Details {
                message: (!summary.is_empty()).then(|| {
                    format!("upstream returned HTTP {status} with a non-JSON body: {summary}")
                }),
                ..Default::default()
            }
        }
    };
    if let Some(id) = request_id.filter(|id| !id.is_empty()) {
        details.request_id = Some(id.to_owned());
    }
    classify(Some(status), retry_after, details)
}

/// Classifies an error object found in a stream (`event: error`) or in a
/// body answered with HTTP 200: `{"type": "error", "error": {...}}` or the
/// inner object itself. The `type` decides as in [`error_from_response`]
/// (`overloaded_error` → `unavailable`, `api_error` → `upstream 500`, ...);
/// an unknown or missing type is `upstream 500`.
pub fn error_from_value(error: &Value) -> Error {
    let details = Details::from_value(error);
    let mut err = classify(None, None, details);
    if err.message().is_empty() {
        err = Error::new(
            err.kind().clone(),
            "the upstream reported an error without a message",
        );
    }
    err
}

fn classify(status: Option<u16>, retry_after: Option<Duration>, d: Details) -> Error {
    let base = d.message.clone().unwrap_or_else(|| match status {
        Some(s) => format!("upstream returned HTTP {s}"),
        None => String::new(),
    });
    let message = match &d.request_id {
        Some(id) if base.is_empty() => format!("(request-id: {id})"),
        Some(id) => format!("{base} (request-id: {id})"),
        None => base,
    };
    let context = d.message.as_deref().is_some_and(is_context_length_message);
    let by_type = match d.kind.as_deref() {
        Some("invalid_request_error") if context => Some(ErrorKind::ContextLengthExceeded),
        Some("invalid_request_error" | "request_too_large") => Some(ErrorKind::InvalidRequest),
        Some("authentication_error") => Some(ErrorKind::Auth),
        Some("permission_error") => Some(ErrorKind::Permission),
        Some("not_found_error") => Some(ErrorKind::NotFound),
        Some("rate_limit_error") => Some(ErrorKind::RateLimited { retry_after }),
        Some("api_error") => Some(ErrorKind::Upstream {
            status: status.filter(|s| *s >= 500).unwrap_or(500),
        }),
        Some("timeout_error") => Some(ErrorKind::Timeout),
        Some("overloaded_error") => Some(ErrorKind::Unavailable),
        _ => None,
    };
    let by_status = match status {
        Some(400 | 413 | 422) if context => ErrorKind::ContextLengthExceeded,
        Some(400 | 413 | 422) => ErrorKind::InvalidRequest,
        Some(401) => ErrorKind::Auth,
        Some(403) => ErrorKind::Permission,
        Some(404) => ErrorKind::NotFound,
        Some(408 | 504) => ErrorKind::Timeout,
        Some(429) => ErrorKind::RateLimited { retry_after },
        Some(503 | 529) => ErrorKind::Unavailable,
        Some(s) => ErrorKind::Upstream { status: s },
        None => ErrorKind::Upstream { status: 500 },
    };
    Error::new(by_type.unwrap_or(by_status), message)
}

/// The Anthropic error `type` for a kind.
pub fn error_type(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Auth => "authentication_error",
        ErrorKind::Permission => "permission_error",
        ErrorKind::NotFound => "not_found_error",
        ErrorKind::InvalidRequest | ErrorKind::ContextLengthExceeded | ErrorKind::Unsupported => {
            "invalid_request_error"
        }
        ErrorKind::RateLimited { .. } => "rate_limit_error",
        ErrorKind::Timeout => "timeout_error",
        ErrorKind::Unavailable => "overloaded_error",
        ErrorKind::Upstream { status } if *status < 500 => "invalid_request_error",
        _ => "api_error",
    }
}

/// The HTTP status the gateway answers an Anthropic client with: the kind's
/// [`http_status`](ErrorKind::http_status), except `unavailable`, which is
/// Anthropic's `529` (`overloaded_error`), the status its SDKs retry on.
pub fn error_status(kind: &ErrorKind) -> u16 {
    match kind {
        ErrorKind::Unavailable => 529,
        other => other.http_status(),
    }
}

/// The HTTP status and Anthropic error body for an error (the gateway's
/// answer). The message is the error's message; the instance name is not
/// included. Set `request_id` on the body to echo the gateway's own id.
pub fn error_to_wire(err: &Error) -> (u16, ErrorResponse<'_>) {
    let kind = err.kind();
    let message = match err.param() {
        Some(param) if !err.message().contains(param) => {
            Cow::Owned(format!("{}: {}", param, err.message()))
        }
        _ => Cow::Borrowed(err.message()),
    };
    (
        error_status(kind),
        ErrorResponse {
            kind: Cow::Borrowed("error"),
            error: ErrorObject {
                kind: Cow::Borrowed(error_type(kind)),
                message,
                extra: Map::new(),
            },
            request_id: None,
        },
    )
}

/// The status and serialized JSON body for an error.
pub fn error_body(err: &Error) -> (u16, Vec<u8>) {
    let (status, body) = error_to_wire(err);
    let bytes = serde_json::to_vec(&body).unwrap_or_else(|_| {
        br#"{"type":"error","error":{"type":"api_error","message":"internal error"}}"#.to_vec()
    });
    (status, bytes)
}

/// The `retry-after` header value (whole seconds, rounded up) to send with
/// an error, if the error carries a delay.
pub fn retry_after_header(err: &Error) -> Option<String> {
    crate::openai::retry_after_header(err)
}
