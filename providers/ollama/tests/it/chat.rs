//! The exact requests sent to Ollama and the answers read back, checked
//! against the documented examples in `tests/data` (sources in its README).

use futures::StreamExt;
use serde_json::{Value, json};
use switchboard_core::{
    ChatEvent, ChatRequest, ContentPart, EmbeddingsRequest, ErrorKind, FinishReason, Message,
    Provider, ProviderContext, ResponseFormat, Tool, ToolCall, Usage,
};
use switchboard_ollama::{OllamaConfig, OllamaProvider};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const INSTANCE: &str = "ollama-test";

fn fixture(text: &str) -> Value {
    serde_json::from_str(text).expect("fixture is JSON")
}

fn provider(server: &MockServer, extra: Value) -> OllamaProvider {
    let mut config = json!({ "base_url": server.uri() });
    if let (Some(c), Value::Object(e)) = (config.as_object_mut(), extra) {
        c.extend(e);
    }
    let config: OllamaConfig = serde_json::from_value(config).expect("valid config");
    OllamaProvider::new(config, ProviderContext::standalone(INSTANCE)).expect("builds")
}

async fn serve(route: &str, response: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(path(route))
        .respond_with(response)
        .mount(&server)
        .await;
    server
}

fn json_response(body: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.as_bytes().to_vec(), "application/json")
}

fn ndjson_response(body: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.as_bytes().to_vec(), "application/x-ndjson")
}

async fn sent_body(server: &MockServer) -> Value {
    let requests = server.received_requests().await.expect("recording on");
    let last = requests.last().expect("a request was sent");
    serde_json::from_slice(&last.body).expect("the request body is JSON")
}

async fn events(
    provider: &OllamaProvider,
    req: &ChatRequest,
) -> (Vec<ChatEvent>, Option<switchboard_core::Error>) {
    let mut stream = provider.chat_stream(req).await.expect("stream starts");
    let mut events = Vec::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(e) => events.push(e),
            Err(e) => {
                assert!(stream.next().await.is_none(), "nothing after an error");
                return (events, Some(e));
            }
        }
    }
    (events, None)
}

fn weather_tool() -> Tool {
    let request = fixture(include_str!("../data/chat_request_tools.json"));
    let f = &request["tools"][0]["function"];
    Tool::new(
        f["name"].as_str().expect("name"),
        f["description"].as_str().expect("description"),
        f["parameters"].clone(),
    )
}

#[tokio::test]
async fn plain_chat_sends_the_documented_body_and_reads_the_documented_answer() {
    let server = serve(
        "/api/chat",
        json_response(include_str!("../data/chat_response.json")),
    )
    .await;
    let p = provider(&server, json!({}));
    let req = ChatRequest::new("llama3.2", vec![Message::user("why is the sky blue?")]);
    let resp = p.chat(&req).await.expect("answers");
    assert_eq!(
        sent_body(&server).await,
        fixture(include_str!("../data/chat_request.json"))
    );
    let requests = server.received_requests().await.expect("recorded");
    assert_eq!(requests[0].method.as_str(), "POST");
    assert_eq!(
        requests[0]
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    assert!(
        requests[0].headers.get("authorization").is_none(),
        "no key, no header"
    );

    assert_eq!(resp.text(), "Hello! How are you today?");
    assert_eq!(
        resp.finish_reason,
        FinishReason::Stop,
        "no done_reason in this docs example"
    );
    assert_eq!(resp.usage, Usage::new(26, 298));
    assert_eq!(resp.model, "llama3.2");
    assert_eq!(resp.provider, INSTANCE);
    assert_eq!(resp.created, 1_702_390_423, "2023-12-12T14:13:43Z");
    assert!(resp.id.starts_with("chatcmpl-ollama-"));
    assert_eq!(resp.extra["total_duration"], json!(5_191_566_416_u64));
    assert_eq!(resp.extra["eval_duration"], json!(4_799_921_000_u64));
}

#[tokio::test]
async fn streaming_always_sends_stream_true() {
    let server = serve(
        "/api/chat",
        ndjson_response(include_str!("../data/chat_stream_docs.ndjson")),
    )
    .await;
    let p = provider(&server, json!({}));
    let req = ChatRequest::new("llama3.2", vec![Message::user("why is the sky blue?")]);
    let (events, err) = events(&p, &req).await;
    assert!(err.is_none(), "{err:?}");
    // The docs' request has no `stream` (Ollama streams by default); we always say so.
    let mut expected = fixture(include_str!("../data/chat_request_stream.json"));
    expected["stream"] = json!(true);
    assert_eq!(sent_body(&server).await, expected);
    let ChatEvent::Start { model, .. } = &events[0] else {
        panic!("{events:?}")
    };
    assert_eq!(model, "llama3.2");
    assert_eq!(
        &events[1..],
        &[
            ChatEvent::TextDelta { text: "The".into() },
            ChatEvent::Usage(Usage::new(26, 282)),
            ChatEvent::Finish {
                reason: FinishReason::Stop
            },
        ]
    );
}

#[tokio::test]
async fn tool_requests_and_answers_follow_the_docs() {
    let server = serve(
        "/api/chat",
        json_response(include_str!("../data/chat_response_tool_calls.json")),
    )
    .await;
    let p = provider(&server, json!({}));
    let req = ChatRequest::new(
        "llama3.2",
        vec![Message::user("what is the weather in tokyo?")],
    )
    .tool(weather_tool());
    let resp = p.chat(&req).await.expect("answers");
    assert_eq!(
        sent_body(&server).await,
        fixture(include_str!("../data/chat_request_tools.json"))
    );
    assert_eq!(
        resp.finish_reason,
        FinishReason::ToolCalls,
        "Ollama says `stop`"
    );
    assert_eq!(resp.tool_calls.len(), 1);
    assert_eq!(resp.tool_calls[0].name, "get_weather");
    assert_eq!(resp.tool_calls[0].arguments, r#"{"city":"Tokyo"}"#);
    assert!(resp.tool_calls[0].id.starts_with("call_"));
    assert_eq!(resp.text(), "");
    assert_eq!(resp.extra["done_reason"], json!("stop"));

    // Streamed: the whole call in one chunk.
    let server = serve(
        "/api/chat",
        ndjson_response(include_str!("../data/chat_stream_tools_docs.ndjson")),
    )
    .await;
    let p = provider(&server, json!({}));
    let (events, err) = events(&p, &req).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(
        sent_body(&server).await,
        fixture(include_str!("../data/chat_request_stream_tools.json"))
    );
    let ChatEvent::ToolCallStart { index: 0, id, name } = &events[1] else {
        panic!("{events:?}")
    };
    assert_eq!(name, "get_weather");
    assert!(id.starts_with("call_") && id.ends_with("_0"), "{id}");
    assert_eq!(
        events[2],
        ChatEvent::ToolCallDelta {
            index: 0,
            arguments: r#"{"city":"Tokyo"}"#.into()
        }
    );
    assert_eq!(events[3], ChatEvent::Usage(Usage::new(169, 15)));
    assert_eq!(
        events[4],
        ChatEvent::Finish {
            reason: FinishReason::ToolCalls
        }
    );
}

#[tokio::test]
async fn tool_results_go_back_with_tool_name() {
    let server = serve(
        "/api/chat",
        json_response(include_str!("../data/chat_response_after_tool_result.json")),
    )
    .await;
    let p = provider(&server, json!({}));
    let req = ChatRequest::new(
        "llama3.2",
        vec![
            Message::user("what is the weather in Toronto?"),
            Message::assistant_tool_calls(vec![ToolCall {
                id: "call_1".into(),
                name: "get_weather".into(),
                arguments: r#"{"city": "Toronto"}"#.into(),
            }]),
            Message::tool_result("call_1", "11 degrees celsius"),
        ],
    )
    .tool(weather_tool());
    let resp = p.chat(&req).await.expect("answers");
    // The docs' body, plus what current servers also read: the call's `id`
    // and `function.index`, and the result's `tool_call_id`.
    let mut expected = fixture(include_str!(
        "../data/chat_request_tool_result_history.json"
    ));
    expected["messages"][1]["tool_calls"][0]["id"] = json!("call_1");
    expected["messages"][1]["tool_calls"][0]["function"]["index"] = json!(0);
    expected["messages"][2]["tool_call_id"] = json!("call_1");
    assert_eq!(sent_body(&server).await, expected);
    assert_eq!(resp.text(), "The current temperature in Toronto is 11°C.");
    assert_eq!(resp.finish_reason, FinishReason::Stop);
    assert_eq!(resp.usage, Usage::new(94, 11));
}

#[tokio::test]
async fn structured_output_and_images_follow_the_docs() {
    let server = serve(
        "/api/chat",
        json_response(include_str!("../data/chat_response_format_schema.json")),
    )
    .await;
    let p = provider(&server, json!({}));
    let documented = fixture(include_str!("../data/chat_request_format_schema.json"));
    let req = ChatRequest {
        response_format: Some(ResponseFormat::JsonSchema {
            name: "person".into(),
            description: None,
            schema: documented["format"].clone(),
            strict: Some(true),
        }),
        ..ChatRequest::new(
            "llama3.1",
            vec![Message::user(
                documented["messages"][0]["content"].as_str().expect("text"),
            )],
        )
        .temperature(0.0)
    };
    let resp = p.chat(&req).await.expect("answers");
    assert_eq!(sent_body(&server).await, documented);
    let answer: Value = serde_json::from_str(&resp.text()).expect("JSON answer");
    assert_eq!(answer, json!({"age": 22, "available": false}));

    let server = serve(
        "/api/chat",
        json_response(include_str!("../data/chat_response_images.json")),
    )
    .await;
    let p = provider(&server, json!({}));
    let documented = fixture(include_str!("../data/chat_request_images.json"));
    let image = documented["messages"][0]["images"][0]
        .as_str()
        .expect("base64");
    let req = ChatRequest::new(
        "llava",
        vec![Message {
            content: vec![
                ContentPart::text("what is in this image?"),
                ContentPart::image_base64("image/png", image),
            ],
            ..Message::user("")
        }],
    );
    let resp = p.chat(&req).await.expect("answers");
    let mut expected = documented;
    expected["stream"] = json!(false);
    assert_eq!(sent_body(&server).await, expected);
    assert!(resp.text().contains("little pig"));
}

#[tokio::test]
async fn thinking_streams_as_reasoning() {
    let server = serve(
        "/api/chat",
        ndjson_response(include_str!(
            "../data/chat_stream_thinking_constructed.ndjson"
        )),
    )
    .await;
    let p = provider(&server, json!({}));
    let mut req = ChatRequest::new("qwen3", vec![Message::user("Hi")]);
    req.reasoning = Some(switchboard_core::Reasoning::default());
    let stream = p.chat_stream(&req).await.expect("starts");
    let resp = switchboard_core::collect_stream(stream)
        .await
        .expect("complete");
    assert_eq!(sent_body(&server).await["think"], json!(true));
    assert_eq!(
        resp.content,
        vec![
            ContentPart::Reasoning {
                text: "The user greets me. I should greet back.".into(),
                signature: None,
                redacted: None,
                origin: None,
            },
            ContentPart::text("Hi there!"),
        ]
    );
    assert_eq!(resp.finish_reason, FinishReason::Length);
    assert_eq!(resp.usage, Usage::new(11, 20));
}

#[tokio::test]
async fn an_error_line_mid_stream_ends_the_stream_with_an_error() {
    // ERRORS.MDX's example is an /api/generate stream; its lines have no
    // `message`, so only the error line matters here.
    let server = serve(
        "/api/chat",
        ndjson_response(include_str!("../data/generate_stream_error.ndjson")),
    )
    .await;
    let p = provider(&server, json!({}));
    let (events, err) = events(&p, &ChatRequest::new("gemma4", vec![Message::user("hi")])).await;
    let err = err.expect("the error line ends the stream");
    assert!(matches!(events.first(), Some(ChatEvent::Start { .. })));
    assert!(!events.iter().any(|e| matches!(e, ChatEvent::Finish { .. })));
    assert!(
        err.message()
            .contains("an error was encountered while running the model"),
        "{err}"
    );
    assert!(err.is_retryable());
    assert_eq!(err.instance(), Some(INSTANCE));
}

#[tokio::test]
async fn error_bodies_are_classified() {
    let server = serve(
        "/api/chat",
        ResponseTemplate::new(500).set_body_raw(
            include_str!("../data/error.json").as_bytes().to_vec(),
            "application/json",
        ),
    )
    .await;
    let p = provider(&server, json!({}));
    let req = ChatRequest::new("llama3.2", vec![Message::user("hi")]);
    let err = p.chat(&req).await.expect_err("500");
    assert_eq!(err.kind(), &ErrorKind::Upstream { status: 500 });
    assert_eq!(err.message(), "the model failed to generate a response");
    assert_eq!(err.instance(), Some(INSTANCE));

    let server = serve(
        "/api/chat",
        ResponseTemplate::new(404).set_body_raw(
            br#"{"error":"model \"llama9\" not found, try pulling it first"}"#.to_vec(),
            "application/json",
        ),
    )
    .await;
    let p = provider(&server, json!({}));
    let err = p
        .chat_stream(&req)
        .await
        .err()
        .expect("404 before any event");
    assert_eq!(err.kind(), &ErrorKind::NotFound);

    // A 200 whose body is an error object.
    let server = serve(
        "/api/chat",
        json_response(r#"{"error":"unexpected server status"}"#),
    )
    .await;
    let err = provider(&server, json!({}))
        .chat(&req)
        .await
        .expect_err("error body");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn an_echoed_key_is_scrubbed() {
    let server = serve(
        "/api/chat",
        ResponseTemplate::new(401).set_body_raw(
            br#"{"error":"bad key sk-abc!"}"#.to_vec(),
            "application/json",
        ),
    )
    .await;
    let p = provider(&server, json!({"api_key": "sk-abc"}));
    let req = ChatRequest::new("llama3.2", vec![Message::user("hi")]);
    let e = p.chat(&req).await.expect_err("401");
    assert_eq!(e.kind(), &ErrorKind::Auth);
    assert_eq!(e.message(), "bad key ***!");
}

#[tokio::test]
async fn config_reaches_the_wire() {
    let server = serve(
        "/api/chat",
        json_response(include_str!("../data/chat_response.json")),
    )
    .await;
    let p = provider(
        &server,
        json!({"api_key": "ollama-key-123", "keep_alive": -1, "options": {"num_ctx": 8192, "temperature": 1.0}}),
    );
    let req = ChatRequest::new("llama3.2", vec![Message::user("hi")]).temperature(0.5);
    p.chat(&req).await.expect("answers");
    let requests = server.received_requests().await.expect("recorded");
    assert_eq!(
        requests[0]
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok()),
        Some("Bearer ollama-key-123")
    );
    let body = sent_body(&server).await;
    assert_eq!(body["keep_alive"], json!(-1));
    assert_eq!(
        body["options"],
        json!({"num_ctx": 8192, "temperature": 0.5})
    );
    assert!(!format!("{p:?}").contains("ollama-key-123"));
}

#[tokio::test]
async fn models_list_tags_with_details() {
    let server = serve(
        "/api/tags",
        json_response(include_str!("../data/tags_response.json")),
    )
    .await;
    let p = provider(&server, json!({}));
    let models = p.models().await.expect("lists");
    assert_eq!(models.len(), 2);
    assert_eq!(models[0].id, "deepseek-r1:latest");
    assert_eq!(
        models[0].display_name.as_deref(),
        Some("deepseek-r1:latest (qwen2, 7.6B, Q4_K_M)")
    );
    assert_eq!(models[0].owned_by.as_deref(), Some("library"));
    assert_eq!(models[0].provider, INSTANCE);
    assert!(models[0].created.is_some());
    let local = p.local_models().await.expect("lists");
    assert_eq!(local[1].details.quantization_level, "Q4_K_M");
    assert_eq!(local[1].details.parameter_size, "3.2B");
    assert_eq!(local[1].size, 2_019_393_189);
}

#[tokio::test]
async fn model_details_come_from_show() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/tags"))
        .respond_with(json_response(include_str!("../data/tags_response.json")))
        .mount(&server)
        .await;
    // The shape of `POST /api/show` (api/types.go ShowResponse): details,
    // GGUF `model_info`, capabilities. Constructed, not recorded.
    Mock::given(method("POST"))
        .and(path("/api/show"))
        .respond_with(json_response(
            r#"{"details":{"family":"llama","parameter_size":"3.2B","quantization_level":"Q4_K_M"},
                "model_info":{"general.architecture":"llama","llama.context_length":131072},
                "capabilities":["completion","tools"]}"#,
        ))
        .mount(&server)
        .await;
    let p = provider(&server, json!({"model_details": true}));
    let models = p.models().await.expect("lists");
    assert_eq!(models[1].context_length, Some(131_072));
    assert!(models[1].capabilities.tools && models[1].capabilities.streaming);
    assert!(!models[1].capabilities.vision);
    let shows: Vec<Value> = server
        .received_requests()
        .await
        .expect("recorded")
        .iter()
        .filter(|r| r.url.path() == "/api/show")
        .map(|r| serde_json::from_slice(&r.body).expect("json"))
        .collect();
    assert_eq!(shows.len(), 2);
    assert!(shows.contains(&json!({"model": "llama3.2:latest"})));
}

#[tokio::test]
async fn embeddings_use_api_embed() {
    let server = serve(
        "/api/embed",
        json_response(include_str!("../data/embed_response.json")),
    )
    .await;
    let p = provider(&server, json!({}));
    let mut req = EmbeddingsRequest::new("all-minilm", vec!["Why is the sky blue?".into()]);
    req.extra.insert("truncate".into(), json!(false));
    let resp = p.embed(&req).await.expect("embeds");
    // The docs send a single string; we always send the array form (also documented).
    assert_eq!(
        sent_body(&server).await,
        json!({"model": "all-minilm", "input": ["Why is the sky blue?"], "truncate": false})
    );
    assert_eq!(resp.embeddings.len(), 1);
    assert_eq!(resp.embeddings[0].len(), 10);
    assert_eq!(resp.usage.input_tokens, 8);
    assert_eq!(resp.provider, INSTANCE);

    // A count that does not match the inputs is a protocol error.
    let req = EmbeddingsRequest::new("all-minilm", vec!["a".into(), "b".into()]);
    assert_eq!(
        p.embed(&req).await.expect_err("mismatch").kind(),
        &ErrorKind::Protocol
    );
}

#[tokio::test]
async fn health_asks_for_the_version() {
    let server = serve(
        "/api/version",
        json_response(include_str!("../data/version_response.json")),
    )
    .await;
    let report = provider(&server, json!({}))
        .health()
        .await
        .expect("healthy");
    assert_eq!(report.detail.as_deref(), Some("Ollama 0.5.1"));
}

#[tokio::test]
async fn an_answer_forced_into_ndjson_is_still_read() {
    // A proxy that ignores `stream: false`.
    let server = serve(
        "/api/chat",
        ndjson_response(include_str!("../data/chat_stream_constructed.ndjson")),
    )
    .await;
    let resp = provider(&server, json!({}))
        .chat(&ChatRequest::new("llama3.2", vec![Message::user("hi")]))
        .await
        .expect("folded");
    assert_eq!(resp.text(), "Hello! How can I help you today?");
    assert_eq!(resp.usage, Usage::new(26, 9));
}

#[tokio::test]
async fn base_url_with_api_suffix_works() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/chat"))
        .and(header("content-type", "application/json"))
        .respond_with(json_response(include_str!("../data/chat_response.json")))
        .mount(&server)
        .await;
    let p = provider(
        &server,
        json!({"base_url": format!("{}/api/", server.uri())}),
    );
    p.chat(&ChatRequest::new("llama3.2", vec![Message::user("hi")]))
        .await
        .expect("answers");
}
