//! Ollama's errors: `{"error": "<message>"}` bodies with an HTTP status, and
//! `{"error": ...}` lines inside a stream (whose HTTP status stays 200).

use serde_json::Value;
use switchboard_core::Error;
use switchboard_protocol::openai;

/// Classifies an error response. Ollama's bodies are `{"error": "..."}`
/// (ERRORS.MDX); the mapping is the common one: 400 → invalid request (or
/// context length exceeded when the message is about the context window),
/// 401 → auth, 403 → permission, 404 (model not found) → not found,
/// 408/504 → timeout, 429 → rate limited (`Retry-After` honoured),
/// 502/503 → unavailable or a retryable upstream error, other 5xx →
/// retryable upstream error. A non-JSON body (a proxy's HTML page) is
/// summarized. (The API key, if the body echoes it, is scrubbed from the
/// error by the provider's [`Upstream`](switchboard_core::upstream::Upstream).)
pub(crate) fn error_from_response(status: u16, retry_after: Option<&str>, body: &[u8]) -> Error {
    openai::error_from_response(status, retry_after, body)
}

/// Classifies an `{"error": ...}` line of a stream. A `status` on the line is
/// used as the HTTP status; without one the error is a retryable upstream
/// error (the model failed while generating).
pub(crate) fn error_from_stream_line(error: &Value, status: Option<u64>) -> Error {
    let body = serde_json::json!({ "error": error });
    match status
        .and_then(|s| u16::try_from(s).ok())
        .filter(|s| (400..=599).contains(s))
    {
        Some(status) => openai::error_from_parts(status, None, body.to_string().as_bytes()),
        None => {
            let message = match error {
                Value::String(s) => s.clone(),
                Value::Object(o) => o
                    .get("message")
                    .and_then(Value::as_str)
                    .map_or_else(|| error.to_string(), str::to_owned),
                other => other.to_string(),
            };
            Error::upstream(500, format!("the model failed while answering: {message}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_core::ErrorKind;

    #[test]
    fn statuses_map() {
        let body = br#"{"error":"model \"llama9\" not found, try pulling it first"}"#;
        let e = error_from_response(404, None, body);
        assert_eq!(e.kind(), &ErrorKind::NotFound);
        assert!(e.message().contains("try pulling it first"));
        let e = error_from_response(
            400,
            None,
            br#"{"error":"the input length exceeds the context length"}"#,
        );
        assert_eq!(e.kind(), &ErrorKind::ContextLengthExceeded);
        let e = error_from_response(429, Some("3"), br#"{"error":"too many requests"}"#);
        assert_eq!(e.retry_after(), Some(std::time::Duration::from_secs(3)));
        let e = error_from_response(
            500,
            None,
            br#"{"error":"the model failed to generate a response"}"#,
        );
        assert!(e.is_retryable());
        let e = error_from_response(502, None, b"<html><title>Bad Gateway</title></html>");
        assert!(e.is_retryable());
        assert!(e.message().contains("Bad Gateway"));
    }

    #[test]
    fn stream_lines() {
        let e = error_from_stream_line(&Value::String("boom".into()), None);
        assert!(e.is_retryable());
        assert!(e.message().contains("boom"));
        let e = error_from_stream_line(&Value::String("slow down".into()), Some(429));
        assert_eq!(e.kind(), &ErrorKind::RateLimited { retry_after: None });
    }
}
