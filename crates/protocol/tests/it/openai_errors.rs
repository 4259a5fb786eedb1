//! Errors: upstream bodies → `Error`, and `Error` → OpenAI error body.

use crate::common;

use std::time::Duration;

use common::{Rng, fixture};
use serde_json::{Value, json};
use switchboard_core::{Error, ErrorKind};
use switchboard_protocol::openai::{
    error_body, error_from_parts, error_from_response, error_to_wire, retry_after_header,
};

#[test]
fn openai_401() {
    let err = error_from_response(401, None, &fixture("openai/error_401_invalid_api_key.json"));
    assert_eq!(err.kind(), &ErrorKind::Auth);
    assert!(
        err.message()
            .starts_with("Incorrect API key provided: CHANGE_ME.")
    );
    assert!(!err.is_retryable());
}

#[test]
fn openai_429_with_and_without_retry_after() {
    let body = fixture("openai/error_429_rate_limit_exceeded.json");
    let err = error_from_response(429, Some("20"), &body);
    assert_eq!(
        err.kind(),
        &ErrorKind::RateLimited {
            retry_after: Some(Duration::from_secs(20))
        }
    );
    assert_eq!(err.retry_after(), Some(Duration::from_secs(20)));
    assert!(err.is_retryable());
    assert!(err.message().starts_with("Rate limit reached for gpt-4"));
    // Without the header, the delay in the message ("try again in 26.604s") is used.
    let err = error_from_response(429, None, &body);
    assert_eq!(err.retry_after(), Some(Duration::from_millis(26_604)));
    // An HTTP-date in the past means "now".
    let err = error_from_response(429, Some("Sun, 06 Nov 1994 08:49:37 GMT"), &body);
    assert_eq!(err.retry_after(), Some(Duration::ZERO));
    // retry-after-ms, worked out by the caller.
    let err = error_from_parts(429, Some(Duration::from_millis(1500)), &body);
    assert_eq!(err.retry_after(), Some(Duration::from_millis(1500)));
}

#[test]
fn openai_400_context_length() {
    let err = error_from_response(
        400,
        None,
        &fixture("openai/error_400_context_length_exceeded.json"),
    );
    assert_eq!(err.kind(), &ErrorKind::ContextLengthExceeded);
    assert_eq!(err.param(), Some("messages"));
    assert!(
        err.message()
            .starts_with("This model's maximum context length is 4097 tokens.")
    );
    assert!(!err.is_retryable());
}

#[test]
fn openrouter_errors() {
    let err = error_from_response(
        400,
        None,
        &fixture("openai-compatible/openrouter_error_400.json"),
    );
    assert_eq!(err.kind(), &ErrorKind::InvalidRequest);
    assert_eq!(err.message(), "Invalid model specified");
    let err = error_from_response(
        403,
        None,
        &fixture("openai-compatible/openrouter_error_403_guardrail.json"),
    );
    assert_eq!(err.kind(), &ErrorKind::Permission);
    assert_eq!(
        err.message(),
        "Request blocked: prompt injection patterns detected"
    );
    let err = error_from_response(
        429,
        Some("3"),
        &fixture("openai-compatible/openrouter_error_429_provider.json"),
    );
    assert_eq!(err.retry_after(), Some(Duration::from_secs(3)));
    assert_eq!(err.message(), "Rate limit exceeded");
}

#[test]
fn groq_error_shape() {
    let err = error_from_response(
        400,
        None,
        &fixture("openai-compatible/groq_error_shape_docs_template.json"),
    );
    assert_eq!(err.kind(), &ErrorKind::InvalidRequest);
    assert_eq!(err.message(), "String - description of the specific error");
}

#[test]
fn vllm_integer_codes_and_flat_bodies() {
    // Current vLLM: `code` is the integer status.
    let body = br#"{"error":{"message":"This model's maximum context length is 131072 tokens. However, you requested 140000 tokens.","type":"BadRequestError","param":null,"code":400}}"#;
    assert_eq!(
        error_from_response(400, None, body).kind(),
        &ErrorKind::ContextLengthExceeded
    );
    // Older vLLM: a flat body.
    let body = br#"{"object":"error","message":"This model's maximum context length is 131072 tokens.","type":"BadRequestError","param":null,"code":400}"#;
    let err = error_from_response(400, None, body);
    assert_eq!(err.kind(), &ErrorKind::ContextLengthExceeded);
    assert_eq!(
        err.message(),
        "This model's maximum context length is 131072 tokens."
    );
    let err = error_from_response(
        422,
        None,
        br#"{"detail":[{"loc":["body","messages"],"msg":"field required"}]}"#,
    );
    assert_eq!(err.kind(), &ErrorKind::InvalidRequest);
    assert!(err.message().contains("field required"));
    let err = error_from_response(500, None, br#"{"error":"boom"}"#);
    assert_eq!(err.message(), "boom");
}

#[test]
fn statuses_map_to_kinds() {
    let cases: &[(u16, ErrorKind)] = &[
        (400, ErrorKind::InvalidRequest),
        (401, ErrorKind::Auth),
        (402, ErrorKind::Upstream { status: 402 }),
        (403, ErrorKind::Permission),
        (404, ErrorKind::NotFound),
        (408, ErrorKind::Timeout),
        (409, ErrorKind::Upstream { status: 409 }),
        (413, ErrorKind::Upstream { status: 413 }),
        (422, ErrorKind::InvalidRequest),
        (429, ErrorKind::RateLimited { retry_after: None }),
        (500, ErrorKind::Upstream { status: 500 }),
        (502, ErrorKind::Upstream { status: 502 }),
        (503, ErrorKind::Unavailable),
        (504, ErrorKind::Timeout),
        (529, ErrorKind::Unavailable),
    ];
    for (status, kind) in cases {
        let err = error_from_response(*status, None, br#"{"error":{"message":"m","type":"t"}}"#);
        assert_eq!(err.kind(), kind, "HTTP {status}");
        assert_eq!(err.message(), "m");
        assert_eq!(
            err.is_retryable(),
            *status >= 500 || *status == 408 || *status == 429,
            "HTTP {status}"
        );
    }
}

#[test]
fn non_json_bodies_are_summarized() {
    let html = b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>";
    let err = error_from_response(502, None, html);
    assert_eq!(err.kind(), &ErrorKind::Upstream { status: 502 });
    assert!(err.is_retryable());
    assert_eq!(
        err.message(),
        "upstream returned HTTP 502 with a non-JSON body: 502 Bad Gateway"
    );
    let err = error_from_response(
        503,
        None,
        b"upstream connect error or disconnect/reset before headers",
    );
    assert_eq!(err.kind(), &ErrorKind::Unavailable);
    assert!(
        err.message()
            .ends_with("upstream connect error or disconnect/reset before headers")
    );
    let err = error_from_response(500, None, b"");
    assert_eq!(err.message(), "upstream returned HTTP 500");
    let long = "x".repeat(10_000);
    let err = error_from_response(500, None, long.as_bytes());
    assert!(err.message().len() < 300);
    let err = error_from_response(500, None, b"\xff\xfe garbage");
    assert!(err.message().contains("garbage"));
}

#[test]
fn arbitrary_bodies_never_panic() {
    let mut rng = Rng(7);
    let seeds = [
        fixture("openai/error_429_rate_limit_exceeded.json"),
        fixture("openai-compatible/openrouter_error_429_provider.json"),
    ];
    for round in 0..2_000 {
        let mut body = seeds[round % 2].clone();
        for _ in 0..(rng.next_u64() % 8) {
            let at = (rng.next_u64() as usize) % body.len();
            body[at] = rng.next_u64() as u8;
        }
        let status = 400 + (rng.next_u64() % 200) as u16;
        let retry = format!("{}", rng.next_u64() % 100);
        let err = error_from_response(status, Some(&retry), &body);
        assert!(!err.message().is_empty());
    }
}

#[test]
fn errors_to_openai_bodies() {
    let cases = [
        (
            Error::auth("bad key"),
            401,
            "authentication_error",
            "invalid_api_key",
        ),
        (
            Error::permission("no"),
            403,
            "permission_error",
            "permission",
        ),
        (
            Error::not_found("no such model"),
            404,
            "not_found_error",
            "not_found",
        ),
        (
            Error::invalid_param("temperature", "too hot"),
            400,
            "invalid_request_error",
            "invalid_request",
        ),
        (
            Error::context_length_exceeded("too long"),
            400,
            "invalid_request_error",
            "context_length_exceeded",
        ),
        (
            Error::rate_limited(Some(Duration::from_millis(1500)), "slow"),
            429,
            "rate_limit_error",
            "rate_limit_exceeded",
        ),
        (
            Error::timeout("slow upstream"),
            504,
            "server_error",
            "timeout",
        ),
        (
            Error::unavailable("down"),
            503,
            "server_error",
            "unavailable",
        ),
        (
            Error::upstream(500, "boom"),
            502,
            "server_error",
            "upstream",
        ),
        (
            Error::upstream(402, "pay"),
            402,
            "invalid_request_error",
            "upstream",
        ),
        (Error::protocol("garbled"), 502, "server_error", "protocol"),
        (
            Error::unsupported("no audio"),
            400,
            "invalid_request_error",
            "unsupported",
        ),
    ];
    for (err, status, kind, code) in cases {
        let (got_status, body) = error_to_wire(&err);
        assert_eq!(got_status, status, "{err}");
        let v = serde_json::to_value(&body).expect("json");
        assert_eq!(v["error"]["type"], json!(kind), "{err}");
        assert_eq!(v["error"]["code"], json!(code), "{err}");
        assert_eq!(v["error"]["message"], json!(err.message()));
        let obj = v["error"].as_object().expect("object");
        for key in ["message", "type", "param", "code"] {
            assert!(
                obj.contains_key(key),
                "OpenAI error bodies always have `{key}`"
            );
        }
    }
    let (_, bytes) =
        error_body(&Error::invalid_param("messages[0].role", "bad role").with_instance("openai"));
    let v: Value = serde_json::from_slice(&bytes).expect("json");
    assert_eq!(v["error"]["param"], json!("messages[0].role"));
    assert!(
        !String::from_utf8_lossy(&bytes).contains("openai"),
        "the instance name stays internal"
    );

    assert_eq!(
        retry_after_header(&Error::rate_limited(Some(Duration::from_millis(1500)), "x")).as_deref(),
        Some("2")
    );
    assert_eq!(
        retry_after_header(&Error::rate_limited(Some(Duration::from_secs(3)), "x")).as_deref(),
        Some("3")
    );
    assert_eq!(retry_after_header(&Error::rate_limited(None, "x")), None);
}

#[test]
fn our_error_bodies_read_back_as_the_same_kind() {
    for err in [
        Error::auth("a"),
        Error::permission("p"),
        Error::not_found("n"),
        Error::invalid_param("x", "i"),
        Error::context_length_exceeded("c"),
        Error::rate_limited(Some(Duration::from_secs(2)), "r"),
        Error::timeout("t"),
        Error::unavailable("u"),
    ] {
        let (status, body) = error_body(&err);
        let retry = retry_after_header(&err);
        let back = error_from_response(status, retry.as_deref(), &body);
        assert_eq!(back.kind(), err.kind(), "{err}");
        assert_eq!(back.message(), err.message());
        assert_eq!(back.param(), err.param());
    }
}
