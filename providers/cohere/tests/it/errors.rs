//! Cohere's error statuses (SPEC `components.responses`: `{"message", "id"}`).

use std::time::Duration;

use http::HeaderMap;
use serde_json::json;
use switchboard_cohere::classify;
use switchboard_core::ErrorKind;
use switchboard_core::upstream::ErrorResponse;

fn classify_with(status: u16, body: &[u8], retry_after: Option<&str>) -> switchboard_core::Error {
    let mut headers = HeaderMap::new();
    if let Some(v) = retry_after {
        headers.insert("retry-after", v.parse().expect("a header value"));
    }
    classify(&ErrorResponse {
        status,
        headers: &headers,
        body,
    })
}

fn body(message: &str) -> Vec<u8> {
    json!({"id": "e1", "message": message})
        .to_string()
        .into_bytes()
}

#[test]
fn statuses_map_to_kinds() {
    let cases: &[(u16, ErrorKind)] = &[
        (400, ErrorKind::InvalidRequest),
        (401, ErrorKind::Auth),
        (403, ErrorKind::Permission),
        (404, ErrorKind::NotFound),
        (422, ErrorKind::InvalidRequest),
        (498, ErrorKind::Auth),
        (499, ErrorKind::Cancelled),
        (500, ErrorKind::Upstream { status: 500 }),
        (501, ErrorKind::Unsupported),
        (503, ErrorKind::Unavailable),
        (504, ErrorKind::Timeout),
    ];
    for (status, kind) in cases {
        let err = classify_with(*status, &body("invalid api token"), None);
        assert_eq!(err.kind(), kind, "HTTP {status}");
        assert_eq!(err.message(), "invalid api token");
    }
}

#[test]
fn too_many_tokens_is_context_length() {
    let err = classify_with(
        400,
        &body(
            "too many tokens: total number of tokens in the prompt cannot exceed 4081 - received 4733",
        ),
        None,
    );
    assert_eq!(err.kind(), &ErrorKind::ContextLengthExceeded, "{err}");
}

#[test]
fn rate_limits_carry_the_delay() {
    let err = classify_with(429, &body("trial key limit"), Some("3"));
    assert_eq!(err.retry_after(), Some(Duration::from_secs(3)));
}

#[test]
fn a_body_that_is_not_cohere_json_is_summarized() {
    let err = classify_with(502, b"<html>\n bad   gateway </html>", None);
    assert_eq!(err.kind(), &ErrorKind::Upstream { status: 502 });
    assert!(err.message().contains("bad gateway"), "{err}");
    let empty = classify_with(500, b"", None);
    assert!(empty.message().contains("HTTP 500"), "{empty}");
}
