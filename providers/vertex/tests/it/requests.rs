//! The exact URLs and bodies sent for Gemini and Claude models on Vertex,
//! checked against the captured SDK requests and Google's Claude docs; the
//! answers and errors read back.

use futures::StreamExt;
use serde_json::Value;
use switchboard_core::{ChatEvent, ChatRequest, ErrorKind, FinishReason, Message, Provider};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::*;

/// The `(path?query)` of each request google-genai sent (the captured
/// `POST <url>` lines), in file order: regional generate, regional stream,
/// global generate, global stream.
fn captured_paths() -> Vec<String> {
    include_str!("../data/gemini_requests_sdk_captured_headers.txt")
        .lines()
        .filter_map(|l| l.strip_prefix("POST "))
        .map(|url| {
            let rest = url.split_once("googleapis.com").expect("a Google URL").1;
            rest.to_owned()
        })
        .collect()
}

fn sent_path(request: &wiremock::Request) -> String {
    match request.url.query() {
        Some(q) => format!("{}?{q}", request.url.path()),
        None => request.url.path().to_owned(),
    }
}

async fn catch_all(response: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(response)
        .mount(&server)
        .await;
    server
}

async fn only_request(server: &MockServer) -> wiremock::Request {
    let mut all = server.received_requests().await.expect("recording is on");
    assert_eq!(all.len(), 1);
    all.remove(0)
}

#[tokio::test]
async fn gemini_requests_match_the_sdks_urls_and_body() {
    let paths = captured_paths();
    assert_eq!(paths.len(), 4);
    let body = fixture(include_str!(
        "../data/gemini_generate_content_request_sdk.json"
    ));
    let request = ChatRequest::new("gemini-2.5-flash", vec![Message::user("Hello")]);
    for (i, (location, stream)) in [
        ("us-central1", false),
        ("us-central1", true),
        ("global", false),
        ("global", true),
    ]
    .into_iter()
    .enumerate()
    {
        let api = if stream {
            let events = include_str!("../data/gemini_stream_generate_content_segments.json");
            let events: Vec<Value> = serde_json::from_str(events).expect("JSON");
            let sse: String = events
                .iter()
                .map(|e| format!("data: {e}\r\n\r\n"))
                .collect();
            catch_all(ResponseTemplate::new(200).set_body_raw(sse, "text/event-stream")).await
        } else {
            catch_all(json_response(GEMINI_TEXT)).await
        };
        let p = token_provider(&api, location).await;
        if stream {
            let events: Vec<_> = p
                .chat_stream(&request)
                .await
                .expect("opens")
                .collect()
                .await;
            assert!(events.iter().all(Result::is_ok));
            assert!(matches!(events.last(), Some(Ok(ChatEvent::Finish { .. }))));
        } else {
            assert_eq!(p.chat(&request).await.expect("answers").text(), "low");
        }
        let sent = only_request(&api).await;
        assert_eq!(sent_path(&sent), paths[i], "request {i}");
        assert_eq!(
            serde_json::from_slice::<Value>(&sent.body).expect("JSON"),
            body,
            "request {i}"
        );
        assert_eq!(
            sent.headers
                .get("authorization")
                .and_then(|v| v.to_str().ok()),
            Some("Bearer TEST_ACCESS_TOKEN")
        );
    }
}

#[tokio::test]
async fn claude_requests_go_to_raw_predict_without_model_and_with_the_vertex_version() {
    let documented = fixture(include_str!(
        "../data/anthropic_streamrawpredict_request_docs.json"
    ));
    let sse =
        include_bytes!("../../../../crates/protocol/tests/data/anthropic/stream_text_recorded.sse");
    let api = catch_all(
        ResponseTemplate::new(200).set_body_raw(sse.to_vec(), "text/event-stream; charset=utf-8"),
    )
    .await;
    let p = token_provider(&api, "us-east5").await;
    let request = ChatRequest::new(
        "claude-3-5-sonnet-v2@20241022",
        vec![Message::user("Hello!")],
    )
    .max_tokens(50);
    let events: Vec<_> = p
        .chat_stream(&request)
        .await
        .expect("opens")
        .collect()
        .await;
    let text: String = events
        .iter()
        .filter_map(|e| match e {
            Ok(ChatEvent::TextDelta { text, .. }) => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(text, "[12345,67890]");
    let sent = only_request(&api).await;
    assert_eq!(
        sent_path(&sent),
        "/v1/projects/my-project/locations/us-east5/publishers/anthropic/models/claude-3-5-sonnet-v2@20241022:streamRawPredict"
    );
    assert_eq!(
        serde_json::from_slice::<Value>(&sent.body).expect("JSON"),
        documented
    );
}

#[tokio::test]
async fn claude_raw_predict_answers_decode() {
    let api = catch_all(json_response(include_str!(
        "../data/anthropic_rawpredict_response_docs.json"
    )))
    .await;
    let p = token_provider(&api, "us-east5").await;
    let request = ChatRequest::new("claude-2.1", vec![Message::user("Hello!")]);
    let answer = p.chat(&request).await.expect("answers");
    assert_eq!(answer.text(), "Hello! Nice to meet you.");
    assert_eq!(answer.finish_reason, FinishReason::Stop);
    assert_eq!(
        (answer.usage.input_tokens, answer.usage.output_tokens),
        (11, 11)
    );
    assert_eq!(answer.provider, INSTANCE);
    let sent = only_request(&api).await;
    assert!(sent.url.path().ends_with("/models/claude-2.1:rawPredict"));
    let body: Value = serde_json::from_slice(&sent.body).expect("JSON");
    assert!(body.get("model").is_none() && body.get("stream").is_none());
    assert_eq!(body["anthropic_version"], "vertex-2023-10-16");

    let api = catch_all(json_response(include_str!(
        "../data/anthropic_rawpredict_response_tool_use_docs.json"
    )))
    .await;
    let p = token_provider(&api, "us-east5").await;
    let answer = p.chat(&request).await.expect("answers");
    assert_eq!(answer.finish_reason, FinishReason::ToolCalls);
    assert_eq!(answer.tool_calls.len(), 1);
    assert_eq!(
        answer.tool_calls[0].id,
        "toolu_vrtx_01TAJCTkxe8HhRoaQ69N4ouP"
    );
    assert_eq!(answer.tool_calls[0].name, "text_search_places_api");
    assert_eq!(answer.id, "msg_vrtx_01ErR7VMNQdnvDt3n7Nmc4ER");
}

#[tokio::test]
async fn errors_map_by_their_body() {
    let google = |code: u16, status: &str| {
        ResponseTemplate::new(code).set_body_raw(
            format!(
                r#"{{"error": {{"code": {code}, "message": "denied", "status": "{status}"}}}}"#
            ),
            "application/json",
        )
    };
    let anthropic = ResponseTemplate::new(429).set_body_raw(
        r#"{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}"#,
        "application/json",
    );
    let cases = [
        (
            "claude-sonnet-4-5",
            google(403, "PERMISSION_DENIED"),
            ErrorKind::Permission,
        ),
        (
            "gemini-2.5-flash",
            google(404, "NOT_FOUND"),
            ErrorKind::NotFound,
        ),
        (
            "gemini-2.5-flash",
            google(401, "UNAUTHENTICATED"),
            ErrorKind::Auth,
        ),
        (
            "claude-sonnet-4-5",
            anthropic,
            ErrorKind::RateLimited { retry_after: None },
        ),
    ];
    for (model, response, kind) in cases {
        let api = catch_all(response).await;
        let p = token_provider(&api, "global").await;
        let err = p
            .chat(&ChatRequest::new(model, vec![Message::user("Hi")]))
            .await
            .expect_err("fails");
        assert_eq!(*err.kind(), kind, "{model}: {err}");
        assert_eq!(err.instance(), Some(INSTANCE));
    }
    let api = catch_all(json_response(GEMINI_TEXT)).await;
    let p = token_provider(&api, "global").await;
    let err = p
        .chat(&ChatRequest::new("gemini/../x", vec![Message::user("Hi")]))
        .await
        .expect_err("bad id");
    assert_eq!(err.param(), Some("model"));
}
