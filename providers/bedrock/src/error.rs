//! Bedrock's errors → [`Error`] kinds: HTTP answers (restJson1: the type in
//! the `x-amzn-errortype` header or the body's `__type` / `code`, the text in
//! `message`) and exceptions inside a ConverseStream.
//!
//! Types and statuses from the Smithy model (`@httpError`):
//! ValidationException 400, AccessDeniedException 403,
//! ResourceNotFoundException 404, ModelTimeoutException 408,
//! ThrottlingException 429, ModelNotReadyException 429, ModelErrorException
//! 424, InternalServerException 500, ServiceUnavailableException 503; the
//! restJson1 error shape from
//! <https://smithy.io/2.0/aws/protocols/aws-restjson1-protocol.html#operation-error-serialization>.

use serde_json::Value;
use switchboard_core::Error;
use switchboard_core::upstream::ErrorResponse;
use switchboard_protocol::retry_after::parse_retry_after;

/// The error of a non-2xx answer.
pub(crate) fn classify(r: &ErrorResponse<'_>) -> Error {
    let body: Value = serde_json::from_slice(r.body).unwrap_or(Value::Null);
    let kind = r
        .header("x-amzn-errortype")
        .map(str::to_owned)
        .or_else(|| text_field(&body, &["__type", "code", "Code"]))
        .map(|t| short_type(&t).to_owned());
    let message = text_field(&body, &["message", "Message"])
        .unwrap_or_else(|| format!("Amazon Bedrock answered HTTP {}", r.status));
    let retry_after = r.retry_after().and_then(parse_retry_after);
    from_type(kind.as_deref(), &message, Some(r.status), retry_after)
}

/// The error of an in-stream exception frame (`:exception-type`, JSON
/// `{"message": ..}`), or of an `:message-type: error` frame.
pub(crate) fn stream_exception(kind: &str, payload: &[u8]) -> Error {
    let body: Value = serde_json::from_slice(payload).unwrap_or(Value::Null);
    let message = text_field(&body, &["message", "Message"])
        .unwrap_or_else(|| format!("the stream ended with {kind}"));
    from_type(Some(short_type(kind)), &message, None, None)
}

/// `ThrottlingException:http://internal...` and `com.amazon...#ThrottlingException`
/// → `ThrottlingException`.
fn short_type(t: &str) -> &str {
    let t = t.split(':').next().unwrap_or(t);
    t.rsplit('#').next().unwrap_or(t).trim()
}

fn text_field(body: &Value, names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|n| body.get(*n).and_then(Value::as_str))
        .map(str::to_owned)
}

/// Whether a validation message says the prompt does not fit the model.
fn is_context_length(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    [
        "too long",
        "context length",
        "context window",
        "too many input tokens",
        "maximum context",
    ]
    .iter()
    .any(|needle| m.contains(needle))
}

/// The error for an exception type (lower camel in some streams, e.g.
/// `throttlingException`), falling back to the HTTP status.
fn from_type(
    kind: Option<&str>,
    message: &str,
    status: Option<u16>,
    retry_after: Option<std::time::Duration>,
) -> Error {
    let message = message.to_owned();
    let lower = kind.map(str::to_ascii_lowercase);
    match lower.as_deref() {
        Some("throttlingexception") => Error::rate_limited(retry_after, message),
        Some("validationexception") if is_context_length(&message) => {
            Error::context_length_exceeded(message)
        }
        Some("validationexception") => Error::invalid_request(message),
        Some("accessdeniedexception") => Error::permission(message),
        Some(
            "unrecognizedclientexception"
            | "invalidsignatureexception"
            | "expiredtokenexception"
            | "incompletesignature"
            | "missingauthenticationtokenexception",
        ) => Error::auth(message),
        Some("resourcenotfoundexception") => Error::not_found(message),
        Some("modeltimeoutexception") => Error::timeout(message),
        Some("modelnotreadyexception" | "serviceunavailableexception") => {
            Error::unavailable(message)
        }
        Some("servicequotaexceededexception") => Error::quota_exceeded(message),
        Some("internalserverexception" | "modelerrorexception" | "modelstreamerrorexception") => {
            Error::upstream(status.unwrap_or(500), message)
        }
        _ => by_status(status, &message, retry_after),
    }
}

fn by_status(
    status: Option<u16>,
    message: &str,
    retry_after: Option<std::time::Duration>,
) -> Error {
    let message = message.to_owned();
    match status {
        Some(400) if is_context_length(&message) => Error::context_length_exceeded(message),
        Some(400 | 413 | 422) => Error::invalid_request(message),
        Some(401) => Error::auth(message),
        Some(403) => Error::permission(message),
        Some(404) => Error::not_found(message),
        Some(408) => Error::timeout(message),
        Some(429) => Error::rate_limited(retry_after, message),
        Some(503) => Error::unavailable(message),
        Some(s) => Error::upstream(s, message),
        None => Error::upstream(500, message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_are_shortened() {
        assert_eq!(
            short_type("ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/"),
            "ValidationException"
        );
        assert_eq!(
            short_type("com.amazon.bedrock#ThrottlingException"),
            "ThrottlingException"
        );
    }
}
