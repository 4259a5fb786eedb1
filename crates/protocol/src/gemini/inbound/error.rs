//! Errors in Google's format, for Gemini-format clients:
//! `{"error": {"code": 400, "message": "...", "status": "INVALID_ARGUMENT"}}`.

use serde_json::{Value, json};
use switchboard_core::{Error, ErrorKind};

/// The `google.rpc.Code` name Google's APIs send with an HTTP status.
pub fn rpc_status(http: u16) -> &'static str {
    match http {
        400 | 413 | 415 | 422 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ABORTED",
        408 | 504 => "DEADLINE_EXCEEDED",
        429 => "RESOURCE_EXHAUSTED",
        499 => "CANCELLED",
        501 => "UNIMPLEMENTED",
        503 => "UNAVAILABLE",
        400..=499 => "FAILED_PRECONDITION",
        _ => "INTERNAL",
    }
}

/// The HTTP status a Gemini-format client is answered with for `err`: the
/// kind's status, except that content-filter refusals are 400 and spent
/// quotas 429 (as Google sends them).
pub fn error_status(err: &Error) -> u16 {
    match err.kind() {
        ErrorKind::ContentFilter => 400,
        ErrorKind::QuotaExceeded => 429,
        kind => kind.http_status(),
    }
}

/// The error object for `err` answered with HTTP `status`: `code`,
/// `message`, `status` ([`rpc_status`]) and, when the error carries a
/// delay, a `google.rpc.RetryInfo` detail (`retryDelay: "<seconds>s"`).
pub fn error_value(err: &Error, status: u16) -> Value {
    let mut error = json!({
        "code": status,
        "message": err.message(),
        "status": rpc_status(status),
    });
    if let Some(delay) = err.retry_after() {
        error["details"] = json!([{
            "@type": "type.googleapis.com/google.rpc.RetryInfo",
            "retryDelay": format!("{}s", delay.as_secs_f64().ceil() as u64),
        }]);
    }
    json!({ "error": error })
}

/// The status ([`error_status`]) and serialized body of `err`.
pub fn error_body(err: &Error) -> (u16, Vec<u8>) {
    let status = error_status(err);
    let body = serde_json::to_vec(&error_value(err, status)).unwrap_or_else(|_| {
        br#"{"error":{"code":500,"message":"internal error","status":"INTERNAL"}}"#.to_vec()
    });
    (status, body)
}
