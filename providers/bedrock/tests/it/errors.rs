//! Bedrock's error types → error kinds, over HTTP and inside a stream.

use std::time::Duration;

use futures::StreamExt;
use serde_json::json;
use switchboard_core::{ChatEvent, ChatRequest, ErrorKind, Message, Provider};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{FakeEnv, MODEL, build_with_env, event_frame, exception_frame};

async fn provider_for(
    response: ResponseTemplate,
) -> (MockServer, switchboard_bedrock::BedrockProvider) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(response)
        .mount(&server)
        .await;
    let config = json!({"base_url": server.uri(), "api_key": "test-key", "region": "us-east-1"});
    let provider = build_with_env(config, &FakeEnv::default())
        .await
        .expect("builds");
    (server, provider)
}

fn request() -> ChatRequest {
    ChatRequest::new(MODEL, vec![Message::user("Hi")])
}

/// The error kind of a `status` answer typed `kind` (in the header, or in
/// the body's `__type` when `in_body`).
async fn kind_of(status: u16, kind: &str, message: &str, in_body: bool) -> ErrorKind {
    let mut body = json!({"message": message});
    let mut response = ResponseTemplate::new(status);
    if in_body {
        body["__type"] = json!(format!("com.amazon.bedrock#{kind}"));
    } else {
        response = response.insert_header(
            "x-amzn-errortype",
            format!("{kind}:http://internal.amazon.com/coral/com.amazon.bedrock/").as_str(),
        );
    }
    if kind == "ThrottlingException" {
        response = response.insert_header("retry-after", "3");
    }
    let response = response.set_body_raw(body.to_string(), "application/json");
    let (_server, provider) = provider_for(response).await;
    let err = provider.chat(&request()).await.expect_err("an error");
    assert!(err.message().contains(message), "{err}");
    assert_eq!(err.instance(), Some("bedrock"));
    err.kind().clone()
}

#[tokio::test]
async fn http_error_types_map_to_kinds() {
    let cases = [
        (
            429,
            "ThrottlingException",
            ErrorKind::RateLimited {
                retry_after: Some(Duration::from_secs(3)),
            },
        ),
        (400, "ValidationException", ErrorKind::InvalidRequest),
        (403, "AccessDeniedException", ErrorKind::Permission),
        (404, "ResourceNotFoundException", ErrorKind::NotFound),
        (429, "ModelNotReadyException", ErrorKind::Unavailable),
        (503, "ServiceUnavailableException", ErrorKind::Unavailable),
        (408, "ModelTimeoutException", ErrorKind::Timeout),
        (
            500,
            "InternalServerException",
            ErrorKind::Upstream { status: 500 },
        ),
        (
            424,
            "ModelErrorException",
            ErrorKind::Upstream { status: 424 },
        ),
        (403, "UnrecognizedClientException", ErrorKind::Auth),
    ];
    for (status, kind, expected) in cases {
        for in_body in [false, true] {
            let got = kind_of(status, kind, "the upstream message", in_body).await;
            assert_eq!(got, expected, "{kind} (in body: {in_body})");
        }
    }
}

#[tokio::test]
async fn a_prompt_too_long_is_a_context_length_error() {
    let got = kind_of(
        400,
        "ValidationException",
        "Input is too long for requested model.",
        false,
    )
    .await;
    assert_eq!(got, ErrorKind::ContextLengthExceeded);
}

#[tokio::test]
async fn in_stream_exceptions_end_the_stream_with_their_kind() {
    for (frame, expected) in [
        (
            exception_frame("throttlingException", "Too many tokens"),
            ErrorKind::RateLimited { retry_after: None },
        ),
        (
            exception_frame("modelStreamErrorException", "Too many tokens"),
            ErrorKind::Upstream { status: 500 },
        ),
        (
            exception_frame("ValidationException", "Too many tokens"),
            ErrorKind::InvalidRequest,
        ),
    ] {
        let mut body = event_frame("messageStart", &json!({"role": "assistant"}));
        body.extend(event_frame(
            "contentBlockDelta",
            &json!({"delta": {"text": "Hel"}, "contentBlockIndex": 0}),
        ));
        body.extend(frame);
        let response =
            ResponseTemplate::new(200).set_body_raw(body, "application/vnd.amazon.eventstream");
        let (_server, provider) = provider_for(response).await;
        let mut stream = provider.chat_stream(&request()).await.expect("opens");
        let mut events = Vec::new();
        let mut error = None;
        while let Some(item) = stream.next().await {
            match item {
                Ok(e) => events.push(e),
                Err(e) => error = Some(e),
            }
        }
        assert!(matches!(events[0], ChatEvent::Start { .. }));
        assert_eq!(events[1], ChatEvent::TextDelta { text: "Hel".into() });
        let err = error.expect("the stream ends with an error");
        assert_eq!(err.kind(), &expected);
        assert!(err.message().contains("Too many tokens"), "{err}");
        assert_eq!(err.instance(), Some("bedrock"));
    }
}
