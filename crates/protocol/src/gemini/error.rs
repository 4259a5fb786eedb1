//! Gemini's errors: Google RPC-style bodies
//! `{"error": {"code": 429, "message": "...", "status": "RESOURCE_EXHAUSTED", "details": [...]}}`.
//!
//! | HTTP | `status` | kind |
//! | --- | --- | --- |
//! | 400 | `INVALID_ARGUMENT`, `FAILED_PRECONDITION`, `OUT_OF_RANGE` | `invalid_request`; `context_length_exceeded` when the message is about the token limit; **`auth`** when a `google.rpc.ErrorInfo` detail has reason `API_KEY_INVALID` (Gemini answers a bad key with 400, not 401) |
//! | 401 | `UNAUTHENTICATED` | `auth` |
//! | 403 | `PERMISSION_DENIED` | `permission` |
//! | 404 | `NOT_FOUND` | `not_found` |
//! | 429 | `RESOURCE_EXHAUSTED` | `rate_limited`, delay from `Retry-After`, else the `google.rpc.RetryInfo` detail's `retryDelay` (`"59s"`), else "Please retry in 3.2s" in the message |
//! | 499 | `CANCELLED` | `cancelled` |
//! | 500 | `INTERNAL`, `UNKNOWN` | `upstream` 500 (retryable) |
//! | 503 | `UNAVAILABLE` | `unavailable` |
//! | 504 | `DEADLINE_EXCEEDED` | `timeout` |
//!
//! The `status` string decides when it is known; otherwise the HTTP status
//! does. A body that is not a Google error (a proxy's HTML page) is
//! summarized. (The API key, should a body echo it, is scrubbed from the
//! error by the provider's [`Upstream`](switchboard_core::upstream::Upstream).)

use std::time::Duration;

use crate::openai;
use crate::retry_after::parse_retry_after;
use serde_json::Value;
use switchboard_core::Error;

/// Classifies an HTTP error answer.
pub fn error_from_response(status: u16, retry_after: Option<&str>, body: &[u8]) -> Error {
    let header_delay = retry_after.and_then(parse_retry_after);
    match serde_json::from_slice::<Value>(body) {
        Ok(v) if v.get("error").is_some_and(Value::is_object) => {
            classify(status, header_delay, &v["error"])
        }
        // An array holding the error object (seen from some proxies and old endpoints).
        Ok(Value::Array(items))
            if items
                .first()
                .is_some_and(|i| i.get("error").is_some_and(Value::is_object)) =>
        {
            classify(status, header_delay, &items[0]["error"])
        }
        _ => openai::error_from_parts(status, header_delay, body),
    }
}

/// Classifies an error object that arrived with HTTP 200 (inside a stream
/// or an answer): `{"code", "message", "status"}`, or the whole `{"error": ...}`.
pub fn error_from_value(error: &Value) -> Error {
    let inner = error
        .get("error")
        .filter(|e| e.is_object())
        .unwrap_or(error);
    let status = inner
        .get("code")
        .and_then(Value::as_u64)
        .and_then(|c| u16::try_from(c).ok())
        .filter(|c| (400..=599).contains(c))
        .unwrap_or(500);
    match inner {
        Value::Object(_) => classify(status, None, inner),
        Value::String(s) => Error::upstream(500, s.clone()),
        other => Error::upstream(500, other.to_string()),
    }
}

fn classify(http: u16, header_delay: Option<Duration>, e: &Value) -> Error {
    let rpc = e.get("status").and_then(Value::as_str).unwrap_or_default();
    let message = e
        .get("message")
        .and_then(Value::as_str)
        .filter(|m| !m.trim().is_empty())
        .map_or_else(
            || {
                if rpc.is_empty() {
                    format!("Gemini returned HTTP {http}")
                } else {
                    format!("Gemini returned HTTP {http} ({rpc})")
                }
            },
            |m| m.trim_end().to_owned(),
        );
    let details: &[Value] = e
        .get("details")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);
    let detail_of = |kind: &'static str| {
        details.iter().filter(move |d| {
            d.get("@type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.ends_with(kind))
        })
    };
    let key_invalid = detail_of("google.rpc.ErrorInfo").any(|d| {
        matches!(
            d.get("reason").and_then(Value::as_str),
            Some("API_KEY_INVALID" | "API_KEY_EXPIRED" | "API_KEY_NOT_FOUND")
        )
    });
    let class = match rpc {
        "INVALID_ARGUMENT" | "FAILED_PRECONDITION" | "OUT_OF_RANGE" => 400,
        "UNAUTHENTICATED" => 401,
        "PERMISSION_DENIED" => 403,
        "NOT_FOUND" => 404,
        "ALREADY_EXISTS" | "ABORTED" => 409,
        "RESOURCE_EXHAUSTED" => 429,
        "CANCELLED" => 499,
        "INTERNAL" | "UNKNOWN" | "DATA_LOSS" => 500,
        "UNIMPLEMENTED" => 501,
        "UNAVAILABLE" => 503,
        "DEADLINE_EXCEEDED" => 504,
        _ => http,
    };
    if key_invalid {
        return Error::auth(message);
    }
    match class {
        400 | 413 | 422 if is_context_length(&message) => Error::context_length_exceeded(message),
        400 | 422 => Error::invalid_request(message),
        401 => Error::auth(message),
        403 => Error::permission(message),
        404 => Error::not_found(message),
        408 | 504 => Error::timeout(message),
        429 => {
            let delay = header_delay
                .or_else(|| {
                    detail_of("google.rpc.RetryInfo").find_map(|d| {
                        d.get("retryDelay")
                            .and_then(Value::as_str)
                            .and_then(parse_proto_duration)
                    })
                })
                .or_else(|| retry_in_message(&message));
            Error::rate_limited(delay, message)
        }
        499 => Error::cancelled(message),
        503 | 529 => Error::unavailable(message),
        status => Error::upstream(status, message),
    }
}

/// Whether a 400's message is about the input being too long: Gemini says
/// "The input token count (1234567) exceeds the maximum number of tokens
/// allowed (1048576)."
fn is_context_length(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("exceeds the maximum number of tokens")
        || (m.contains("token count") && m.contains("exceeds"))
        || m.contains("context length")
        || m.contains("context window")
}

/// A protobuf JSON `Duration`: `"59s"`, `"1.5s"`, `"0.250s"`.
pub(crate) fn parse_proto_duration(s: &str) -> Option<Duration> {
    let secs: f64 = s.trim().strip_suffix('s')?.parse().ok()?;
    Duration::try_from_secs_f64(secs).ok()
}

/// "Please retry in 59.56s." (or "…in 250ms") in a 429's message.
fn retry_in_message(message: &str) -> Option<Duration> {
    let lower = message.to_ascii_lowercase();
    let start = lower.find("retry in ")? + "retry in ".len();
    let rest = &lower[start..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let n: f64 = rest[..end].parse().ok()?;
    let unit = &rest[end..];
    let secs = if unit.starts_with("ms") {
        n / 1000.0
    } else if unit.starts_with('s') {
        n
    } else if unit.starts_with('m') {
        n * 60.0
    } else {
        return None;
    };
    Duration::try_from_secs_f64(secs).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_core::ErrorKind;

    fn google(code: u16, status: &str, message: &str, details: Value) -> Vec<u8> {
        serde_json::json!({"error": {"code": code, "message": message, "status": status, "details": details}})
            .to_string()
            .into_bytes()
    }

    #[test]
    fn rpc_statuses_map() {
        let cases = [
            (400, "INVALID_ARGUMENT", ErrorKind::InvalidRequest),
            (400, "FAILED_PRECONDITION", ErrorKind::InvalidRequest),
            (401, "UNAUTHENTICATED", ErrorKind::Auth),
            (403, "PERMISSION_DENIED", ErrorKind::Permission),
            (404, "NOT_FOUND", ErrorKind::NotFound),
            (499, "CANCELLED", ErrorKind::Cancelled),
            (500, "INTERNAL", ErrorKind::Upstream { status: 500 }),
            (503, "UNAVAILABLE", ErrorKind::Unavailable),
            (504, "DEADLINE_EXCEEDED", ErrorKind::Timeout),
        ];
        for (code, status, kind) in cases {
            let e = error_from_response(code, None, &google(code, status, "m", Value::Null));
            assert_eq!(e.kind(), &kind, "{status}");
            assert_eq!(e.message(), "m");
        }
        let e = error_from_response(502, None, b"<html><title>502 Bad Gateway</title></html>");
        assert!(e.is_retryable());
        assert!(e.message().contains("502 Bad Gateway"));
    }

    #[test]
    fn context_length() {
        let e = error_from_response(
            400,
            None,
            &google(
                400,
                "INVALID_ARGUMENT",
                "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).",
                Value::Null,
            ),
        );
        assert_eq!(e.kind(), &ErrorKind::ContextLengthExceeded);
    }

    #[test]
    fn retry_delays() {
        let details = serde_json::json!([
            {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": []},
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "59s"}
        ]);
        let body = google(
            429,
            "RESOURCE_EXHAUSTED",
            "You exceeded your current quota. Please retry in 58.1s.",
            details,
        );
        let e = error_from_response(429, None, &body);
        assert_eq!(
            e.retry_after(),
            Some(Duration::from_secs(59)),
            "RetryInfo before the message"
        );
        let e = error_from_response(429, Some("7"), &body);
        assert_eq!(
            e.retry_after(),
            Some(Duration::from_secs(7)),
            "the header first"
        );
        let body = google(
            429,
            "RESOURCE_EXHAUSTED",
            "Please retry in 1.5s.",
            Value::Null,
        );
        assert_eq!(
            error_from_response(429, None, &body).retry_after(),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            parse_proto_duration("0.250s"),
            Some(Duration::from_millis(250))
        );
        assert_eq!(parse_proto_duration("x"), None);
        assert_eq!(
            retry_in_message("retry in 250ms"),
            Some(Duration::from_millis(250))
        );
        assert_eq!(retry_in_message("retry in soon"), None);
    }

    #[test]
    fn odd_bodies_survive() {
        // (An echoed key is scrubbed by the Upstream: see the integration
        // test `the_api_key_never_leaks`.)
        for odd in [
            &b""[..],
            b"null",
            b"[]",
            b"{\"error\": 5}",
            b"{\"error\": {\"code\": \"x\", \"details\": 3}}",
            b"\xff\xfe",
        ] {
            let e = error_from_response(500, None, odd);
            assert!(e.is_retryable(), "{:?}", String::from_utf8_lossy(odd));
        }
        assert_eq!(
            error_from_value(&Value::String("boom".into())).kind(),
            &ErrorKind::Upstream { status: 500 }
        );
    }
}
