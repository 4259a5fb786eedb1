//! The Anthropic provider against a mock upstream: exact headers and bodies,
//! recorded answers, errors, models, timeouts and secret hygiene.

use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{Value, json};
use switchboard_anthropic::{Anthropic, AnthropicConfig};
use switchboard_core::{
    ChatEvent, ChatRequest, ContentPart, Error, ErrorKind, FinishReason, Message, Provider,
    ProviderContext, ProviderInit, Reasoning, Role, Tool, ToolChoice, Usage, collect_stream,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const KEY: &str = "sk-ant-api03-VERY-SECRET-KEY-0123456789";

macro_rules! data {
    ($name:literal) => {
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../crates/protocol/tests/data/anthropic/",
            $name
        ))
    };
}

fn config(server: &MockServer) -> Value {
    json!({"api_key": KEY, "base_url": server.uri()})
}

async fn build(config: Value) -> Result<Anthropic, Error> {
    let config: AnthropicConfig = serde_json::from_value(config).expect("config deserializes");
    Anthropic::init(config, ProviderContext::standalone("claude")).await
}

async fn provider(server: &MockServer) -> Anthropic {
    build(config(server)).await.expect("builds")
}

fn json_response(body: &[u8]) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.to_vec(), "application/json")
}

fn sse_response(body: &[u8]) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.to_vec(), "text/event-stream; charset=utf-8")
}

async fn only_request(server: &MockServer) -> Request {
    let mut requests = server.received_requests().await.expect("recording on");
    assert_eq!(requests.len(), 1, "expected one upstream request");
    requests.remove(0)
}

fn body_of(request: &Request) -> Value {
    serde_json::from_slice(&request.body).expect("the request body is JSON")
}

fn weather_tool() -> Tool {
    Tool::new(
        "get_weather",
        "Weather for a city",
        json!({"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}),
    )
}

#[tokio::test]
async fn sends_the_documented_headers_and_body() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .and(header("x-api-key", KEY))
        .and(header("anthropic-version", "2023-06-01"))
        .and(header("content-type", "application/json"))
        .respond_with(json_response(data!("messages_response_text_recorded.json")))
        .expect(1)
        .mount(&server)
        .await;
    let p = provider(&server).await;
    let mut req = ChatRequest::new(
        "claude-sonnet-4-5",
        vec![
            Message::system("You are terse."),
            Message::user("Weather in SF?"),
        ],
    )
    .tool(weather_tool())
    .temperature(0.2);
    req.tool_choice = Some(ToolChoice::Required);
    let resp = p.chat(&req).await.expect("answers");
    assert_eq!(resp.provider, "claude");
    assert!(resp.created > 1_700_000_000, "created is set to now");
    assert_eq!(resp.usage, Usage::new(249, 26));
    let request = only_request(&server).await;
    assert!(request.headers.get("anthropic-beta").is_none());
    assert!(request.headers.get("authorization").is_none());
    let body = body_of(&request);
    assert_eq!(
        body,
        json!({
            "model": "claude-sonnet-4-5",
            "max_tokens": 4096,
            "system": "You are terse.",
            "messages": [{"role": "user", "content": "Weather in SF?"}],
            "temperature": body["temperature"],
            "tools": [{"name": "get_weather", "description": "Weather for a city",
                       "input_schema": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}}],
            "tool_choice": {"type": "any"},
        })
    );
    assert!((body["temperature"].as_f64().expect("number") - 0.2).abs() < 1e-6);
}

#[tokio::test]
async fn configured_version_beta_base_path_and_max_tokens() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/anthropic/v1/messages"))
        .and(header("anthropic-version", "2099-01-01"))
        .respond_with(json_response(data!("messages_response_text_recorded.json")))
        .expect(1)
        .mount(&server)
        .await;
    let p = build(json!({
        "api_key": KEY,
        "base_url": format!("{}/anthropic/", server.uri()),
        "anthropic_version": "2099-01-01",
        "anthropic_beta": ["context-1m-2025-08-07", "files-api-2025-04-14"],
        "default_max_tokens": 777,
        "prompt_caching": true,
    }))
    .await
    .expect("builds");
    let req = ChatRequest::new(
        "m",
        vec![Message::system("Long prefix"), Message::user("Hi")],
    );
    p.chat(&req).await.expect("answers");
    let request = only_request(&server).await;
    // One header, comma-separated (wiremock's matcher would split it).
    let beta: Vec<_> = request.headers.get_all("anthropic-beta").iter().collect();
    assert_eq!(beta.len(), 1);
    assert_eq!(beta[0], "context-1m-2025-08-07,files-api-2025-04-14");
    let body = body_of(&request);
    assert_eq!(body["max_tokens"], 777);
    assert_eq!(
        body["system"],
        json!([{"type": "text", "text": "Long prefix", "cache_control": {"type": "ephemeral"}}])
    );
    assert_eq!(
        body["messages"][0]["content"],
        json!([{"type": "text", "text": "Hi", "cache_control": {"type": "ephemeral"}}])
    );
}

#[tokio::test]
async fn thinking_is_kept_across_turns() {
    let server = MockServer::start().await;
    let first = json!({
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
        "content": [
            {"type": "thinking", "thinking": "Need the weather tool.", "signature": "EqQBsig=="},
            {"type": "redacted_thinking", "data": "EmwKAhgB"},
            {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"location": "SF"}},
        ],
        "stop_reason": "tool_use", "stop_sequence": null,
        "usage": {"input_tokens": 50, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 200, "output_tokens": 40},
    });
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .respond_with(json_response(&serde_json::to_vec(&first).expect("json")))
        .mount(&server)
        .await;
    let p = provider(&server).await;
    let mut req = ChatRequest::new("claude-sonnet-4-5", vec![Message::user("Weather in SF?")])
        .tool(weather_tool());
    req.reasoning = Some(Reasoning {
        effort: None,
        budget_tokens: Some(2048),
    });
    let resp = p.chat(&req).await.expect("first turn");
    assert_eq!(resp.finish_reason, FinishReason::ToolCalls);
    assert_eq!(
        resp.usage.input_tokens, 250,
        "cached tokens are part of the input"
    );
    assert_eq!(resp.usage.cached_input_tokens, 200);
    req.messages.push(resp.to_message());
    req.messages.push(Message::tool_result("toolu_1", "18C"));
    p.chat(&req).await.expect("second turn");
    let requests = server.received_requests().await.expect("recording");
    let second = body_of(&requests[1]);
    assert_eq!(
        second["thinking"],
        json!({"type": "enabled", "budget_tokens": 2048})
    );
    assert_eq!(second["max_tokens"], 2048 + 4096);
    assert_eq!(
        second["messages"][1]["content"],
        json!([
            {"type": "thinking", "thinking": "Need the weather tool.", "signature": "EqQBsig=="},
            {"type": "redacted_thinking", "data": "EmwKAhgB"},
            {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"location": "SF"}},
        ])
    );
    assert_eq!(
        second["messages"][2],
        json!({"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "18C"}]})
    );
}

#[tokio::test]
async fn streams_recorded_answers() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .respond_with(sse_response(data!("stream_tool_use.sse")))
        .mount(&server)
        .await;
    let p = provider(&server).await;
    let req =
        ChatRequest::new("claude-sonnet-4-5", vec![Message::user("Weather?")]).tool(weather_tool());
    let stream = p.chat_stream(&req).await.expect("streams");
    let resp = collect_stream(stream).await.expect("complete");
    assert_eq!(
        resp.text(),
        "Okay, let's check the weather for San Francisco, CA:"
    );
    assert_eq!(resp.tool_calls[0].id, "toolu_01T1x1fJ34qAmk2tNTrN7Up6");
    assert_eq!(
        resp.tool_calls[0].arguments,
        r#"{"location": "San Francisco, CA", "unit": "fahrenheit"}"#
    );
    assert_eq!(resp.usage, Usage::new(472, 89));
    assert_eq!(body_of(&only_request(&server).await)["stream"], true);
}

#[tokio::test]
async fn a_json_answer_to_a_stream_request_is_replayed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .respond_with(json_response(data!(
            "messages_response_tool_use_recorded.json"
        )))
        .mount(&server)
        .await;
    let p = provider(&server).await;
    let events: Vec<ChatEvent> = p
        .chat_stream(&ChatRequest::new("m", vec![Message::user("x")]))
        .await
        .expect("streams")
        .map(|e| e.expect("event"))
        .collect()
        .await;
    assert!(matches!(events[0], ChatEvent::Start { .. }));
    assert!(events.iter().any(|e| matches!(
        e,
        ChatEvent::ToolCallStart { id, .. } if id == "toolu_01LRanfq6DmHn1yDTB4d1SAh"
    )));
    assert!(matches!(
        events.last(),
        Some(ChatEvent::Finish {
            reason: FinishReason::ToolCalls
        })
    ));
}

#[tokio::test]
async fn errors_keep_the_request_id_and_retry_after() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .respond_with(
            ResponseTemplate::new(429)
                .set_body_raw(
                    data!("error_429_rate_limit_error_recorded.json").to_vec(),
                    "application/json",
                )
                .insert_header("retry-after", "13")
                .insert_header("request-id", "req_from_header")
                .insert_header("x-should-retry", "true"),
        )
        .mount(&server)
        .await;
    let p = provider(&server).await;
    let req = ChatRequest::new("m", vec![Message::user("x")]);
    let err = p.chat(&req).await.expect_err("rate limited");
    assert_eq!(
        err.kind(),
        &ErrorKind::RateLimited {
            retry_after: Some(Duration::from_secs(13))
        }
    );
    assert_eq!(err.instance(), Some("claude"));
    assert!(
        err.message().ends_with("(request-id: req_from_header)"),
        "{err}"
    );
    let err = p
        .chat_stream(&req)
        .await
        .err()
        .expect("stream fails before events");
    assert!(err.is_retryable());

    for (status, fixture, kind) in [
        (
            529,
            &data!("error_529_overloaded_error.json")[..],
            ErrorKind::Unavailable,
        ),
        (
            401,
            &data!("error_401_authentication_error.json")[..],
            ErrorKind::Auth,
        ),
        (
            404,
            &data!("error_404_not_found_error.json")[..],
            ErrorKind::NotFound,
        ),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(
                ResponseTemplate::new(status).set_body_raw(fixture.to_vec(), "application/json"),
            )
            .mount(&server)
            .await;
        let err = provider(&server).await.chat(&req).await.expect_err("fails");
        assert_eq!(err.kind(), &kind, "{status}");
        assert!(err.message().contains("(request-id: req_"), "{err}");
    }
}

#[tokio::test]
async fn an_error_event_mid_stream_ends_it() {
    let server = MockServer::start().await;
    let text = String::from_utf8(data!("stream_text.sse").to_vec()).expect("utf8");
    let cut = text.find("event: content_block_stop").expect("stop");
    let body = format!(
        "{}{}",
        &text[..cut],
        String::from_utf8_lossy(data!("stream_error_overloaded.sse"))
    );
    Mock::given(method("POST"))
        .respond_with(sse_response(body.as_bytes()))
        .mount(&server)
        .await;
    let p = provider(&server).await;
    let mut stream = p
        .chat_stream(&ChatRequest::new("m", vec![Message::user("x")]))
        .await
        .expect("starts");
    let mut text = String::new();
    let err = loop {
        match stream.next().await {
            Some(Ok(ChatEvent::TextDelta { text: t })) => text.push_str(&t),
            Some(Ok(ChatEvent::Finish { .. })) => panic!("finished despite the error"),
            Some(Ok(_)) => {}
            Some(Err(e)) => break e,
            None => panic!("ended without the error"),
        }
    };
    assert_eq!(text, "Hello!");
    assert_eq!(err.kind(), &ErrorKind::Unavailable);
    assert_eq!(err.instance(), Some("claude"));
    assert!(stream.next().await.is_none());
}

#[tokio::test]
async fn unsupported_parameters_fail_before_sending_unless_dropped() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json_response(data!("messages_response_text_recorded.json")))
        .mount(&server)
        .await;
    let mut req = ChatRequest::new("m", vec![Message::user("x")]);
    req.seed = Some(42);
    let err = provider(&server).await.chat(&req).await.expect_err("seed");
    assert_eq!(err.kind(), &ErrorKind::Unsupported);
    assert_eq!(err.param(), Some("seed"));
    assert_eq!(err.instance(), Some("claude"));
    assert!(server.received_requests().await.expect("on").is_empty());

    let mut cfg = config(&server);
    cfg["drop_unsupported_params"] = json!(true);
    build(cfg)
        .await
        .expect("builds")
        .chat(&req)
        .await
        .expect("seed dropped");
    let body = body_of(&only_request(&server).await);
    assert_eq!(body.get("seed"), None);

    // Invalid core requests never reach a provider: the gateway validates
    // them once, before routing (crates/gateway tests).
}

#[tokio::test]
async fn models_are_listed_page_by_page() {
    let server = MockServer::start().await;
    let page1 = json!({
        "data": [{"type": "model", "id": "claude-b", "display_name": "B", "created_at": "2025-02-19T00:00:00Z"}],
        "has_more": true, "first_id": "claude-b", "last_id": "claude-b",
    });
    let page2 = json!({
        "data": [{"type": "model", "id": "claude-a", "display_name": "A", "created_at": "2024-02-29T12:00:00Z"}],
        "has_more": false, "first_id": "claude-a", "last_id": "claude-a",
    });
    Mock::given(method("GET"))
        .and(path("/v1/models"))
        .and(query_param("after_id", "claude-b"))
        .and(header("x-api-key", KEY))
        .respond_with(json_response(&serde_json::to_vec(&page2).expect("json")))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/models"))
        .and(header("anthropic-version", "2023-06-01"))
        .respond_with(json_response(&serde_json::to_vec(&page1).expect("json")))
        .mount(&server)
        .await;
    let p = provider(&server).await;
    let models = p.models().await.expect("lists");
    let ids: Vec<&str> = models.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["claude-b", "claude-a"]);
    assert_eq!(models[0].provider, "claude");
    assert_eq!(models[0].display_name.as_deref(), Some("B"));
    assert_eq!(models[0].created, Some(1_739_923_200));
    assert!(models[0].capabilities.reasoning && models[0].capabilities.tools);
    let requests = server.received_requests().await.expect("on");
    assert_eq!(requests[0].url.query(), Some("limit=1000"));

    let health = p.health().await.expect("healthy");
    assert_eq!(health.detail.as_deref(), Some("newest model: claude-b"));
    let last = server
        .received_requests()
        .await
        .expect("on")
        .pop()
        .expect("one");
    assert_eq!(last.url.query(), Some("limit=1"));

    let mut cfg = config(&server);
    cfg["models"] = json!(["claude-fixed"]);
    let fixed = build(cfg)
        .await
        .expect("builds")
        .models()
        .await
        .expect("static");
    assert_eq!(fixed[0].id, "claude-fixed");
    assert_eq!(fixed[0].provider, "claude");
}

#[tokio::test]
async fn a_stalled_stream_times_out() {
    // Headers and the first event arrive, then nothing.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.expect("accept");
        let mut buf = vec![0u8; 65536];
        let _ = socket.read(&mut buf).await;
        let event = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_x\",\"model\":\"m\",\"content\":[],\"usage\":{\"input_tokens\":1,\"output_tokens\":1}}}\n\n";
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{event}\r\n",
            event.len()
        );
        socket.write_all(head.as_bytes()).await.expect("write");
        tokio::time::sleep(Duration::from_secs(10)).await;
    });
    let p = build(json!({"api_key": KEY, "base_url": format!("http://{addr}"), "timeout_ms": 300}))
        .await
        .expect("builds");
    let mut stream = p
        .chat_stream(&ChatRequest::new("m", vec![Message::user("x")]))
        .await
        .expect("headers arrive");
    let start = Instant::now();
    assert!(matches!(
        stream.next().await,
        Some(Ok(ChatEvent::Start { .. }))
    ));
    let err = match stream.next().await {
        Some(Err(e)) => e,
        other => panic!("expected a timeout, got {other:?}"),
    };
    assert_eq!(err.kind(), &ErrorKind::Timeout);
    assert_eq!(err.instance(), Some("claude"));
    assert!(start.elapsed() < Duration::from_secs(3));
    server.abort();
}

#[tokio::test]
async fn the_key_never_leaks() {
    let server = MockServer::start().await;
    let echo = json!({"type": "error", "error": {"type": "authentication_error",
        "message": format!("invalid x-api-key: {KEY}")}});
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_raw(serde_json::to_vec(&echo).expect("json"), "application/json"),
        )
        .mount(&server)
        .await;
    let p = provider(&server).await;
    let rendered = format!("{p:?} {:?}", p.config());
    assert!(!rendered.contains(KEY), "{rendered}");
    assert!(rendered.contains("***"));
    let req = ChatRequest::new("m", vec![Message::user("x")]);
    let err = p.chat(&req).await.expect_err("401");
    assert_eq!(err.kind(), &ErrorKind::Auth);
    for text in [
        err.to_string(),
        format!("{err:?}"),
        err.message().to_owned(),
    ] {
        assert!(!text.contains(KEY), "{text}");
    }
    assert!(err.message().contains("invalid x-api-key: ***"));
    let err = p.chat_stream(&req).await.err().expect("401");
    assert!(!format!("{err:?}").contains(KEY));

    // A mid-stream error that echoes the key.
    let server = MockServer::start().await;
    let body = format!(
        "event: error\ndata: {{\"type\":\"error\",\"error\":{{\"type\":\"api_error\",\"message\":\"bad {KEY}\"}}}}\n\n"
    );
    Mock::given(method("POST"))
        .respond_with(sse_response(body.as_bytes()))
        .mount(&server)
        .await;
    let mut stream = provider(&server)
        .await
        .chat_stream(&req)
        .await
        .expect("starts");
    let err = stream.next().await.expect("item").expect_err("error event");
    assert!(!format!("{err} {err:?}").contains(KEY));

    // Config errors do not quote the key either.
    let err = build(json!({"api_key": format!("{KEY}\n"), "base_url": "http://x"}))
        .await
        .expect_err("newline in key");
    assert_eq!(err.param(), Some("api_key"));
    assert!(!format!("{err} {err:?}").contains(KEY));
}

#[tokio::test]
async fn config_is_validated() {
    for (cfg, param) in [
        (json!({"api_key": ""}), "api_key"),
        (json!({"api_key": "k", "base_url": "ftp://x"}), "base_url"),
        (
            json!({"api_key": "k", "default_max_tokens": 0}),
            "default_max_tokens",
        ),
        (
            json!({"api_key": "k", "anthropic_beta": ["a,b"]}),
            "anthropic_beta[0]",
        ),
        (
            json!({"api_key": "k", "anthropic_version": ""}),
            "anthropic_version",
        ),
        (json!({"api_key": "k", "timeout_ms": 0}), "timeout_ms"),
    ] {
        let err = build(cfg.clone()).await.expect_err("invalid");
        assert_eq!(err.kind(), &ErrorKind::Config, "{cfg}");
        assert_eq!(err.param(), Some(param), "{cfg}");
        assert_eq!(err.instance(), Some("claude"));
    }
    // Through the descriptor, as the runtime builds it: defaults apply.
    let ctx = ProviderContext::standalone("claude");
    let built = Anthropic::DESCRIPTOR
        .build(json!({"api_key": "k"}), ctx)
        .await
        .expect("defaults are valid");
    drop(built);
    let unknown = Anthropic::DESCRIPTOR
        .build(
            json!({"api_key": "k", "nope": 1}),
            ProviderContext::standalone("claude"),
        )
        .await
        .err()
        .expect("unknown key");
    assert_eq!(unknown.kind(), &ErrorKind::Config);
    let schema = (Anthropic::DESCRIPTOR.config_schema)();
    for key in [
        "api_key",
        "base_url",
        "anthropic_version",
        "anthropic_beta",
        "default_max_tokens",
        "timeout_ms",
        "models",
        "drop_unsupported_params",
        "prompt_caching",
    ] {
        assert!(
            schema["properties"].get(key).is_some(),
            "schema lacks {key}"
        );
    }
    assert_eq!(Anthropic::DESCRIPTOR.name, "anthropic");
    let caps = Anthropic::DESCRIPTOR.capabilities;
    assert!(caps.streaming && caps.tools && caps.vision && caps.reasoning && caps.json_schema);
    assert!(!caps.embeddings);
}

#[tokio::test]
async fn images_are_sent_as_blocks() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json_response(data!("messages_response_text_recorded.json")))
        .mount(&server)
        .await;
    let req = ChatRequest::new(
        "m",
        vec![Message {
            role: Role::User,
            content: vec![
                ContentPart::image_base64("image/jpeg", "/9j/4AAQ"),
                ContentPart::text("Describe this image."),
            ],
            tool_calls: vec![],
            tool_call_id: None,
            name: None,
            is_error: false,
        }],
    );
    provider(&server).await.chat(&req).await.expect("answers");
    let body = body_of(&only_request(&server).await);
    let expected: Value =
        serde_json::from_slice(data!("messages_request_image_base64.json")).expect("fixture");
    let mut expected_content = expected["messages"][0]["content"].clone();
    expected_content[0]["source"]["data"] = json!("/9j/4AAQ");
    assert_eq!(body["messages"][0]["content"], expected_content);
}
