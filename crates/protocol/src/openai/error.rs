//! Errors: upstream HTTP errors and in-stream error objects → [`Error`];
//! [`Error`] → OpenAI error body and HTTP status.

use std::borrow::Cow;
use std::time::Duration;

use serde_json::{Map, Value};
use switchboard_core::{Error, ErrorKind};

use super::types::{ErrorCode, ErrorObject, ErrorResponse};
use crate::retry_after::{parse_retry_after, retry_delay_in_message};

/// What an error body says, read leniently.
#[derive(Debug, Default)]
struct Details {
    message: Option<String>,
    kind: Option<String>,
    code: Option<String>,
    /// A numeric `code` (vLLM, OpenRouter use the HTTP status).
    status_code: Option<u16>,
    param: Option<String>,
}

impl Details {
    fn from_value(v: &Value) -> Details {
        let obj = match v.get("error") {
            Some(Value::Object(o)) => o,
            Some(Value::String(s)) => {
                // `{"error": "message"}` (some proxies and servers).
                let mut d = v.as_object().map(Details::from_object).unwrap_or_default();
                d.message = Some(s.clone());
                return d;
            }
            // Flat bodies: old vLLM `{"object": "error", "message", "type", "code"}`,
            // FastAPI `{"detail": ...}`, or anything with a `message`.
            _ => match v.as_object() {
                Some(o) => o,
                None => {
                    return Details {
                        message: v.as_str().map(str::to_owned),
                        ..Default::default()
                    };
                }
            },
        };
        Details::from_object(obj)
    }

    fn from_object(o: &Map<String, Value>) -> Details {
        let string = |k: &str| match o.get(k) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            _ => None,
        };
        let mut d = Details {
            message: string("message").or_else(|| match o.get("detail") {
                Some(Value::String(s)) => Some(s.clone()),
                Some(v @ (Value::Array(_) | Value::Object(_))) => Some(v.to_string()),
                _ => None,
            }),
            kind: string("type"),
            param: string("param"),
            ..Default::default()
        };
        match o.get("code") {
            Some(Value::String(s)) => {
                d.status_code = s.parse().ok().filter(|c| (100..=599).contains(c));
                d.code = Some(s.clone());
            }
            Some(Value::Number(n)) => {
                d.status_code = n
                    .as_u64()
                    .and_then(|c| u16::try_from(c).ok())
                    .filter(|c| (100..=599).contains(c));
                d.code = Some(n.to_string());
            }
            _ => {}
        }
        // OpenRouter puts the upstream's classification in `metadata.error_type`.
        if let Some(Value::String(t)) = o.get("metadata").and_then(|m| m.get("error_type"))
            && d.code.as_ref().is_none_or(|c| c.parse::<u16>().is_ok())
        {
            d.code = Some(t.clone());
        }
        d
    }

    fn is_context_length(&self) -> bool {
        let code = |c: &str| self.code.as_deref() == Some(c);
        if code("context_length_exceeded") || code("string_above_max_length") {
            return true;
        }
        self.message.as_deref().is_some_and(|m| {
            let m = m.to_ascii_lowercase();
            m.contains("context length")
                || m.contains("context_length_exceeded")
                || m.contains("context window")
        })
    }

    fn is(&self, code_or_type: &[&str]) -> bool {
        let hit = |s: &Option<String>| s.as_deref().is_some_and(|s| code_or_type.contains(&s));
        hit(&self.code) || hit(&self.kind)
    }
}

/// A short, single-line summary of a non-JSON body (e.g. an HTML error page
/// from a proxy): its `<title>` if it has one, else its first 200 characters.
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

/// Classifies an upstream HTTP error response.
///
/// `retry_after` is the raw `Retry-After` header (delay seconds or an
/// HTTP-date). The message is the body's `error.message` (never anything
/// from the request); a body that is not JSON, such as a proxy's HTML page,
/// is summarized. Mapping: 401 → auth, 403 → permission, 404 → not found,
/// 400/413/422 about the context window → context length exceeded, other
/// 400/422 → invalid request (with the body's `param`), 408 and 504 →
/// timeout, 429 → rate limited (delay from `Retry-After`, else from a
/// "try again in 26.604s" message), 503 and 529 → unavailable, other
/// statuses → upstream `{status}` (retryable when 5xx). "About the context
/// window" means the code `context_length_exceeded` or a message mentioning
/// "context length" or "context window".
pub fn error_from_response(status: u16, retry_after: Option<&str>, body: &[u8]) -> Error {
    error_from_parts(status, retry_after.and_then(parse_retry_after), body)
}

/// Like [`error_from_response`] with the delay already worked out (e.g. from
/// `retry-after-ms` via [`parse_retry_after_ms`](crate::retry_after::parse_retry_after_ms)).
pub fn error_from_parts(status: u16, retry_after: Option<Duration>, body: &[u8]) -> Error {
    let details = match serde_json::from_slice::<Value>(body) {
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
    classify(status, retry_after, details)
}

fn classify(status: u16, retry_after: Option<Duration>, d: Details) -> Error {
    let message = d
        .message
        .clone()
        .unwrap_or_else(|| format!("upstream returned HTTP {status}"));
    let with_param = |e: Error| match &d.param {
        Some(p) => e.with_param(p.clone()),
        None => e,
    };
    match status {
        400 | 413 | 422 if d.is_context_length() => {
            with_param(Error::context_length_exceeded(message))
        }
        400 | 422 => with_param(Error::invalid_request(message)),
        401 => Error::auth(message),
        403 => Error::permission(message),
        404 => Error::not_found(message),
        408 | 504 => Error::timeout(message),
        429 => {
            let delay = retry_after.or_else(|| retry_delay_in_message(&message));
            Error::rate_limited(delay, message)
        }
        503 | 529 => Error::unavailable(message),
        _ => Error::upstream(status, message),
    }
}

/// Classifies an error object found in a response body with HTTP 200 or in a
/// stream (`{"error": {...}}`, or the object itself). A numeric `code` is
/// taken as the HTTP status (OpenRouter, vLLM); otherwise the `code` and
/// `type` strings decide, and unknown errors are upstream errors (status 500).
pub fn error_from_value(error: &Value) -> Error {
    let d = Details::from_value(error);
    if let Some(status) = d.status_code {
        return classify(status, None, d);
    }
    let status = if d.is_context_length() {
        400
    } else if d.is(&[
        "rate_limit_exceeded",
        "rate_limit_error",
        "tokens",
        "requests",
    ]) {
        429
    } else if d.is(&["invalid_api_key", "authentication_error"]) {
        401
    } else if d.is(&["permission_error", "permission_denied"]) {
        403
    } else if d.is(&["not_found_error", "model_not_found"]) {
        404
    } else if d.is(&["invalid_request_error"]) {
        400
    } else if d.is(&["overloaded_error", "overloaded"]) {
        529
    } else if d.is(&["timeout", "timeout_error"]) {
        504
    } else {
        500
    };
    let mut err = classify(status, None, d);
    if err.message().is_empty() {
        err = Error::new(
            err.kind().clone(),
            "the upstream reported an error without a message",
        );
    }
    err
}

/// The OpenAI error `type` for a kind.
pub fn error_type(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Auth => "authentication_error",
        ErrorKind::Permission => "permission_error",
        ErrorKind::NotFound => "not_found_error",
        ErrorKind::InvalidRequest | ErrorKind::ContextLengthExceeded | ErrorKind::Unsupported => {
            "invalid_request_error"
        }
        ErrorKind::RateLimited { .. } => "rate_limit_error",
        ErrorKind::Upstream { status } if *status < 500 => "invalid_request_error",
        _ => "server_error",
    }
}

/// The OpenAI error `code` for a kind: `invalid_api_key`,
/// `context_length_exceeded`, `rate_limit_exceeded`, else the kind's own code.
pub fn error_code(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Auth => "invalid_api_key",
        ErrorKind::ContextLengthExceeded => "context_length_exceeded",
        ErrorKind::RateLimited { .. } => "rate_limit_exceeded",
        other => other.code(),
    }
}

/// The HTTP status and OpenAI error body for an error (the gateway's answer).
/// The message is the error's message; the instance name is not included.
pub fn error_to_wire(err: &Error) -> (u16, ErrorResponse<'_>) {
    let kind = err.kind();
    (
        kind.http_status(),
        ErrorResponse {
            error: ErrorObject {
                message: Cow::Borrowed(err.message()),
                kind: Some(Cow::Borrowed(error_type(kind))),
                param: err.param().map(Cow::Borrowed),
                code: Some(ErrorCode::Text(Cow::Borrowed(error_code(kind)))),
                extra: Map::new(),
            },
        },
    )
}

/// The status and serialized JSON body for an error.
pub fn error_body(err: &Error) -> (u16, Vec<u8>) {
    let (status, body) = error_to_wire(err);
    let bytes = serde_json::to_vec(&body).unwrap_or_else(|_| {
        br#"{"error":{"message":"internal error","type":"server_error","param":null,"code":null}}"#
            .to_vec()
    });
    (status, bytes)
}

/// The `Retry-After` header value (whole seconds, rounded up) to send with an
/// error, if the error carries a delay.
pub fn retry_after_header(err: &Error) -> Option<String> {
    let d = err.retry_after()?;
    let secs = d.as_secs().saturating_add(u64::from(d.subsec_nanos() > 0));
    Some(secs.to_string())
}
