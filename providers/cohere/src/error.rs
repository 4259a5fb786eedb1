//! Cohere's error answers (SPEC `components.responses`: `{"message", "id"}`)
//! → [`Error`].

use serde_json::Value;
use switchboard_core::Error;
use switchboard_core::upstream::ErrorResponse;
use switchboard_protocol::retry_after::parse_retry_after;

/// The `message` of an error body, or a summary of a body that is not
/// Cohere's JSON.
fn message_of(status: u16, body: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        if let Some(m) = v
            .get("message")
            .and_then(Value::as_str)
            .filter(|m| !m.is_empty())
        {
            return m.to_owned();
        }
        if let Some(m) = v
            .get("error")
            .and_then(Value::as_str)
            .filter(|m| !m.is_empty())
        {
            return m.to_owned();
        }
    }
    let text = String::from_utf8_lossy(body);
    let text: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.is_empty() {
        format!("Cohere answered HTTP {status}")
    } else {
        let short: String = text.chars().take(200).collect();
        format!("Cohere answered HTTP {status}: {short}")
    }
}

/// Whether a 400's message is about the context window (Cohere says "too
/// many tokens"; others say "context length" or "context window").
fn is_context_length(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("too many tokens") || m.contains("context length") || m.contains("context window")
}

/// Classifies a non-2xx Cohere answer: 400 → invalid request (context
/// length when the message says so), 401 and 498 (invalid token) → auth,
/// 403 → permission, 404 → not found, 422 → invalid request, 429 → rate
/// limited (`Retry-After`), 499 (cancelled upstream) → cancelled,
/// 501 → unsupported, 503 and 529 → unavailable, 504 → timeout, other
/// statuses → upstream (retryable when 5xx).
pub fn classify(r: &ErrorResponse<'_>) -> Error {
    let message = message_of(r.status, r.body);
    match r.status {
        400 | 413 | 422 if is_context_length(&message) => Error::context_length_exceeded(message),
        400 | 422 => Error::invalid_request(message),
        401 | 498 => Error::auth(message),
        403 => Error::permission(message),
        404 => Error::not_found(message),
        429 => Error::rate_limited(r.retry_after().and_then(parse_retry_after), message),
        499 => Error::cancelled(message),
        501 => Error::unsupported(message),
        503 | 529 => Error::unavailable(message),
        408 | 504 => Error::timeout(message),
        status => Error::upstream(status, message),
    }
}
