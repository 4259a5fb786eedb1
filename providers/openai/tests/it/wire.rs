//! What goes over the wire, byte for byte, checked against OpenAI's documented
//! request examples; and what comes back, read from recorded answers.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use serde_json::{Value, json};
use switchboard_core::{
    ChatEvent, ChatRequest, ContentPart, EmbeddingsRequest, ErrorKind, Message, Provider,
    ProviderContext, ProviderInit, Reasoning, ReasoningEffort, ResponseFormat, Role, Tool,
    collect_stream,
};
use switchboard_openai::{OpenAi, OpenAiConfig, UPSTREAM_REQUEST_ID};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const KEY: &str = "sk-wire-SECRET-9876";

fn fixture(name: &str) -> Value {
    let text = std::fs::read_to_string(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR")))
        .expect("fixture exists");
    serde_json::from_str(&text).expect("fixture is JSON")
}

fn fixture_text(name: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR")))
        .expect("fixture exists")
}

async fn server_with(route: &str, response: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method(if route == "/v1/models" { "GET" } else { "POST" }))
        .and(path(route))
        .respond_with(response)
        .mount(&server)
        .await;
    server
}

fn json_response(body: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.to_owned(), "application/json")
}

fn sse_response(body: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.to_owned(), "text/event-stream")
}

async fn provider(server: &MockServer, extra: Value) -> Arc<dyn Provider> {
    let mut config = json!({ "api_key": KEY, "base_url": format!("{}/v1", server.uri()) });
    if let (Value::Object(c), Value::Object(e)) = (&mut config, extra) {
        c.extend(e);
    }
    OpenAi::DESCRIPTOR
        .build(config, ProviderContext::standalone("openai"))
        .await
        .expect("valid config")
}

async fn last_request(server: &MockServer) -> Request {
    server
        .received_requests()
        .await
        .and_then(|r| r.last().cloned())
        .expect("one request")
}

fn body(req: &Request) -> Value {
    serde_json::from_slice(&req.body).expect("JSON body")
}

fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers.get(name).and_then(|v| v.to_str().ok())
}

/// The documented "Default" request: developer + user message.
fn default_request() -> ChatRequest {
    ChatRequest::new(
        "VAR_chat_model_id",
        vec![
            Message::new(Role::Developer, "You are a helpful assistant."),
            Message::user("Hello!"),
        ],
    )
}

#[tokio::test]
async fn plain_request_matches_the_documented_example_and_headers() {
    let server = server_with(
        "/v1/chat/completions",
        json_response(&fixture_text("chat_response.json")).insert_header("x-request-id", "req_123"),
    )
    .await;
    let p = provider(
        &server,
        json!({"organization": "org-abc", "project": "proj_xyz", "headers": {"X-Client": "switchboard-test"}}),
    )
    .await;
    let answer = p.chat(&default_request()).await.expect("answer");
    assert_eq!(answer.text(), "Hello! How can I assist you today?");
    assert_eq!(answer.provider, "openai");
    assert_eq!(
        answer.extra.get(UPSTREAM_REQUEST_ID),
        Some(&json!("req_123"))
    );
    assert_eq!(answer.extra.get("service_tier"), Some(&json!("default")));

    let req = last_request(&server).await;
    assert_eq!(body(&req), fixture("chat_request.json"));
    assert_eq!(
        header(&req, "authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(header(&req, "openai-organization"), Some("org-abc"));
    assert_eq!(header(&req, "openai-project"), Some("proj_xyz"));
    assert_eq!(header(&req, "x-client"), Some("switchboard-test"));
    assert_eq!(header(&req, "content-type"), Some("application/json"));
}

#[tokio::test]
async fn streaming_always_asks_for_usage_and_reads_the_usage_only_chunk() {
    let server = server_with(
        "/v1/chat/completions",
        sse_response(&fixture_text("chat_stream_text.sse")),
    )
    .await;
    let p = provider(&server, json!({})).await;
    let events: Vec<ChatEvent> = p
        .chat_stream(&default_request())
        .await
        .expect("stream")
        .map(|e| e.expect("no error"))
        .collect()
        .await;
    let mut expected = fixture("chat_request_stream.json");
    expected["stream_options"] = json!({"include_usage": true});
    assert_eq!(body(&last_request(&server).await), expected);
    // The usage chunk has `choices: []` and comes after the finish chunk.
    let usage = events.iter().find_map(|e| match e {
        ChatEvent::Usage(u) => Some(*u),
        _ => None,
    });
    assert_eq!(
        usage.map(|u| (u.input_tokens, u.output_tokens, u.total_tokens)),
        Some((14, 30, 44))
    );
    assert!(matches!(events.last(), Some(ChatEvent::Finish { .. })));
}

#[tokio::test]
async fn reasoning_models_get_max_completion_tokens_and_reasoning_effort() {
    let server = server_with(
        "/v1/chat/completions",
        json_response(&fixture_text("chat_response.json")),
    )
    .await;
    let p = provider(&server, json!({})).await;

    let mut req = ChatRequest::new("o3-mini", vec![Message::user("Hi")]).max_tokens(500);
    req.reasoning = Some(Reasoning {
        effort: Some(ReasoningEffort::High),
        budget_tokens: None,
    });
    p.chat(&req).await.expect("answer");
    let sent = body(&last_request(&server).await);
    assert_eq!(sent["max_completion_tokens"], json!(500));
    assert!(sent.get("max_tokens").is_none(), "{sent}");
    assert_eq!(sent["reasoning_effort"], json!("high"));

    p.chat(&ChatRequest::new("gpt-4o", vec![Message::user("Hi")]).max_tokens(500))
        .await
        .expect("answer");
    let sent = body(&last_request(&server).await);
    assert_eq!(sent["max_tokens"], json!(500));
    assert!(sent.get("max_completion_tokens").is_none(), "{sent}");
}

#[tokio::test]
async fn the_max_tokens_rule_is_configurable() {
    let server = server_with(
        "/v1/chat/completions",
        json_response(&fixture_text("chat_response.json")),
    )
    .await;
    let forced = provider(
        &server,
        json!({"max_tokens_field": "max_completion_tokens"}),
    )
    .await;
    forced
        .chat(&ChatRequest::new("gpt-4o", vec![Message::user("Hi")]).max_tokens(7))
        .await
        .expect("answer");
    assert_eq!(
        body(&last_request(&server).await)["max_completion_tokens"],
        json!(7)
    );

    let custom = provider(
        &server,
        json!({"reasoning_model_prefixes": ["my-reasoner"]}),
    )
    .await;
    custom
        .chat(&ChatRequest::new("my-reasoner-2", vec![Message::user("Hi")]).max_tokens(9))
        .await
        .expect("answer");
    assert_eq!(
        body(&last_request(&server).await)["max_completion_tokens"],
        json!(9)
    );
}

#[tokio::test]
async fn image_request_matches_the_documented_example() {
    let server = server_with(
        "/v1/chat/completions",
        json_response(&fixture_text("chat_response_image_url.json")),
    )
    .await;
    // The docs example sends `max_tokens` to gpt-5.4; our default rule would
    // send `max_completion_tokens` (gpt-5 is a reasoning model), so pin it.
    let p = provider(&server, json!({"max_tokens_field": "max_tokens"})).await;
    let documented = fixture("chat_request_image_url.json");
    let url = documented["messages"][0]["content"][1]["image_url"]["url"]
        .as_str()
        .expect("url")
        .to_owned();
    let req = ChatRequest::new(
        "gpt-5.4",
        vec![Message {
            role: Role::User,
            content: vec![
                ContentPart::text("What is in this image?"),
                ContentPart::image_url(url),
            ],
            tool_calls: vec![],
            tool_call_id: None,
            name: None,
            is_error: false,
        }],
    )
    .max_tokens(300);
    let answer = p.chat(&req).await.expect("answer");
    assert!(
        answer
            .text()
            .starts_with("The image shows a wooden boardwalk")
    );
    assert_eq!(body(&last_request(&server).await), documented);
}

#[tokio::test]
async fn tools_request_matches_the_documented_example() {
    let server = server_with(
        "/v1/chat/completions",
        json_response(&fixture_text("chat_response_tool_calls.json")),
    )
    .await;
    let p = provider(&server, json!({})).await;
    let documented = fixture("chat_request_tools.json");
    let f = &documented["tools"][0]["function"];
    let mut req = ChatRequest::new(
        "gpt-5.4",
        vec![Message::user("What is the weather like in Boston today?")],
    )
    .tool(Tool::new(
        f["name"].as_str().expect("name"),
        f["description"].as_str().expect("description"),
        f["parameters"].clone(),
    ));
    req.tool_choice = Some(switchboard_core::ToolChoice::Auto);
    let answer = p.chat(&req).await.expect("answer");
    assert_eq!(body(&last_request(&server).await), documented);
    assert_eq!(answer.tool_calls.len(), 1);
    assert_eq!(
        answer.tool_calls[0].arguments,
        "{\n\"location\": \"Boston, MA\"\n}"
    );
    assert_eq!(
        answer.finish_reason,
        switchboard_core::FinishReason::ToolCalls
    );
    assert!(answer.content.is_empty(), "content null adds no part");
}

#[tokio::test]
async fn json_schema_request_matches_the_cookbook_example() {
    let server = server_with(
        "/v1/chat/completions",
        json_response(&fixture_text("chat_response_json_schema.json")),
    )
    .await;
    let p = provider(&server, json!({})).await;
    let documented = fixture("chat_request_json_schema.json");
    let js = &documented["response_format"]["json_schema"];
    let mut req = ChatRequest::new(
        "gpt-4o-2024-08-06",
        vec![
            Message::system(
                documented["messages"][0]["content"]
                    .as_str()
                    .expect("system"),
            ),
            Message::user(documented["messages"][1]["content"].as_str().expect("user")),
        ],
    );
    req.response_format = Some(ResponseFormat::JsonSchema {
        name: js["name"].as_str().expect("name").into(),
        description: None,
        schema: js["schema"].clone(),
        strict: Some(true),
    });
    let answer = p.chat(&req).await.expect("answer");
    assert_eq!(body(&last_request(&server).await), documented);
    let parsed: Value = serde_json::from_str(&answer.text()).expect("JSON answer");
    assert_eq!(parsed["final_answer"], json!("-15/4"));
}

#[tokio::test]
async fn cached_and_reasoning_tokens_are_reported() {
    let mut response = fixture("chat_response.json");
    response["usage"]["prompt_tokens_details"]["cached_tokens"] = json!(12);
    response["usage"]["completion_tokens_details"]["reasoning_tokens"] = json!(6);
    let server = server_with("/v1/chat/completions", json_response(&response.to_string())).await;
    let p = provider(&server, json!({})).await;
    let usage = p.chat(&default_request()).await.expect("answer").usage;
    assert_eq!(
        (
            usage.input_tokens,
            usage.output_tokens,
            usage.cached_input_tokens,
            usage.reasoning_tokens,
            usage.total_tokens
        ),
        (19, 10, 12, 6, 29)
    );
}

#[tokio::test]
async fn intermediate_null_usage_and_refusals_stream() {
    // The SPEC says intermediate chunks carry `"usage": null` with include_usage;
    // the 2024 recordings omit the key. Accept both.
    let sse = fixture_text("chat_stream_refusal.sse").replace(
        "\"finish_reason\":null}]}",
        "\"finish_reason\":null}],\"usage\":null}",
    );
    assert!(sse.contains("\"usage\":null"));
    let server = server_with("/v1/chat/completions", sse_response(&sse)).await;
    let p = provider(&server, json!({})).await;
    let answer = collect_stream(p.chat_stream(&default_request()).await.expect("stream"))
        .await
        .expect("complete");
    assert_eq!(
        answer.content,
        vec![ContentPart::Refusal {
            text: "I'm sorry, I can't assist with that request.".into()
        }]
    );
    assert_eq!(answer.usage.total_tokens, 90);
}

#[tokio::test]
async fn errors_keep_the_request_id_and_the_retry_delay() {
    let server = server_with(
        "/v1/chat/completions",
        ResponseTemplate::new(429)
            .set_body_raw(
                fixture_text("error_429_rate_limit_exceeded.json"),
                "application/json",
            )
            .insert_header("x-request-id", "req_rl_1"),
    )
    .await;
    let p = provider(&server, json!({})).await;
    let err = p.chat(&default_request()).await.expect_err("429");
    // No Retry-After header: the delay comes from "Please try again in 26.604s".
    assert_eq!(
        err.kind(),
        &ErrorKind::RateLimited {
            retry_after: Some(Duration::from_millis(26_604))
        }
    );
    assert!(
        err.message().contains("(upstream request id: req_rl_1)"),
        "{err}"
    );
    assert_eq!(err.instance(), Some("openai"));

    let server = server_with(
        "/v1/chat/completions",
        ResponseTemplate::new(400).set_body_raw(
            fixture_text("error_400_context_length_exceeded.json"),
            "application/json",
        ),
    )
    .await;
    let p = provider(&server, json!({})).await;
    let err = p.chat(&default_request()).await.expect_err("400");
    assert_eq!(err.kind(), &ErrorKind::ContextLengthExceeded);
    assert_eq!(err.param(), Some("messages"));
}

#[tokio::test]
async fn models_and_embeddings_match_the_documented_examples() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/models"))
        .respond_with(json_response(&fixture_text("models_list.json")))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/embeddings"))
        .respond_with(json_response(&fixture_text("embeddings_response.json")))
        .mount(&server)
        .await;
    let p = provider(&server, json!({})).await;
    let models = p.models().await.expect("models");
    assert_eq!(models.len(), 3);
    assert_eq!(models[2].owned_by.as_deref(), Some("openai"));
    assert!(models.iter().all(|m| m.provider == "openai"));

    let mut req = EmbeddingsRequest::new(
        "text-embedding-ada-002",
        vec!["The food was delicious and the waiter...".into()],
    );
    req.extra.insert("encoding_format".into(), json!("float"));
    let emb = p.embed(&req).await.expect("embeddings");
    assert_eq!(
        emb.embeddings,
        vec![vec![0.0023064255, -0.009327292, -0.0028842222]]
    );
    assert_eq!(
        body(&last_request(&server).await),
        fixture("embeddings_request.json")
    );
}

#[tokio::test]
async fn timeout_ms_overrides_the_context_timeout() {
    let server = server_with(
        "/v1/chat/completions",
        json_response(&fixture_text("chat_response.json")).set_delay(Duration::from_secs(5)),
    )
    .await;
    let p = provider(&server, json!({"timeout_ms": 200})).await;
    let start = std::time::Instant::now();
    let err = p.chat(&default_request()).await.expect_err("too slow");
    assert_eq!(err.kind(), &ErrorKind::Timeout);
    assert!(start.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn the_key_is_in_no_debug_output_or_error() {
    let config: OpenAiConfig = serde_json::from_value(json!({
        "api_key": KEY, "headers": {"X-Proxy-Token": "proxy-SECRET"}
    }))
    .expect("config");
    let provider = OpenAi::init(config.clone(), ProviderContext::standalone("openai"))
        .await
        .expect("provider");
    for text in [
        format!("{config:?}"),
        format!("{provider:?}"),
        format!("{:?}", provider.upstream()),
        serde_json::to_string(&config).expect("serializes"),
    ] {
        assert!(
            !text.contains(KEY) && !text.contains("proxy-SECRET"),
            "{text}"
        );
    }
    // A transport error (nothing listens) does not carry it either.
    let refused = switchboard_testkit::refused_base_url().await.expect("port");
    let p = provider_at(&refused).await;
    let err = p.chat(&default_request()).await.expect_err("refused");
    assert_eq!(err.kind(), &ErrorKind::Unavailable);
    for text in [err.to_string(), format!("{err:?}")] {
        assert!(!text.contains(KEY), "{text}");
    }
}

async fn provider_at(base: &str) -> Arc<dyn Provider> {
    OpenAi::DESCRIPTOR
        .build(
            json!({"api_key": KEY, "base_url": format!("{base}/v1")}),
            ProviderContext::standalone("openai"),
        )
        .await
        .expect("valid config")
}

#[tokio::test]
async fn config_errors_name_the_key() {
    let ctx = || ProviderContext::standalone("openai");
    let Err(err) = OpenAi::DESCRIPTOR.build(json!({}), ctx()).await else {
        panic!("built without a key");
    };
    assert_eq!(err.kind(), &ErrorKind::Config);
    assert!(err.to_string().contains("api_key"), "{err}");

    for (config, param) in [
        (json!({"api_key": "k", "bogus": 1}), None),
        (json!({"api_key": ""}), Some("api_key")),
        (json!({"api_key": "k", "timeout_ms": 0}), Some("timeout_ms")),
        (
            json!({"api_key": "k", "base_url": "ftp://x"}),
            Some("base_url"),
        ),
        (
            json!({"api_key": "k", "headers": {"Authorization": "Bearer x"}}),
            Some("headers.Authorization"),
        ),
    ] {
        let Err(err) = OpenAi::DESCRIPTOR.build(config.clone(), ctx()).await else {
            panic!("{config} was accepted");
        };
        assert_eq!(err.kind(), &ErrorKind::Config, "{config}");
        if let Some(p) = param {
            assert_eq!(err.param(), Some(p), "{config}: {err}");
        }
        assert_eq!(err.instance(), Some("openai"));
    }
    let schema = OpenAi::DESCRIPTOR.config_schema();
    assert_eq!(schema["required"], json!(["api_key"]));
}
