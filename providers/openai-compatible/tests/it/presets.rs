//! Each preset's documented differences, on the wire.

use std::sync::Arc;

use futures::StreamExt;
use serde_json::{Value, json};
use switchboard_core::{
    ChatEvent, ChatRequest, ContentPart, EmbeddingsRequest, ErrorKind, Message, Provider,
    ProviderContext, ProviderInit, ResponseFormat, Role, collect_stream,
};
use switchboard_openai_compatible::{
    DROPPED_PARAMS, OpenAiCompatible, OpenAiCompatibleConfig, PresetName,
};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

pub(crate) const KEY: &str = "gsk-test-SECRET-5555";

pub(crate) fn data(name: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR")))
        .expect("fixture exists")
}

pub(crate) fn json_ok(body: String) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body, "application/json")
}

pub(crate) fn sse_ok(body: String) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body, "text/event-stream")
}

pub(crate) async fn mock(route: &str, response: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(route))
        .respond_with(response)
        .mount(&server)
        .await;
    server
}

pub(crate) async fn build(config: Value, instance: &str) -> Arc<dyn Provider> {
    OpenAiCompatible::DESCRIPTOR
        .build(config, ProviderContext::standalone(instance))
        .await
        .unwrap_or_else(|e| panic!("valid config: {e}"))
}

/// An instance of `preset` whose base URL is a mock server (under `root`)
/// answering every chat with the recorded OpenAI completion.
pub(crate) async fn answering(preset: &str, root: &str) -> (MockServer, Arc<dyn Provider>) {
    let server = mock(
        &format!("{root}/chat/completions"),
        json_ok(data("openai_chat_response.json")),
    )
    .await;
    let base_url = format!("{}{root}", server.uri());
    let p = build(
        json!({"preset": preset, "api_key": KEY, "base_url": base_url}),
        preset,
    )
    .await;
    (server, p)
}

pub(crate) async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap_or_default()
}

pub(crate) async fn last_body(server: &MockServer) -> Value {
    let all = requests(server).await;
    serde_json::from_slice(&all.last().expect("a request").body).expect("JSON body")
}

pub(crate) fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers.get(name).and_then(|v| v.to_str().ok())
}

pub(crate) fn hello(model: &str) -> ChatRequest {
    ChatRequest::new(model, vec![Message::user("Hello!")])
}

// ---- Groq ----------------------------------------------------------------

async fn groq(server: &MockServer, extra: Value) -> Arc<dyn Provider> {
    let mut config = json!({"preset": "groq", "api_key": KEY, "base_url": format!("{}/openai/v1", server.uri())});
    if let (Value::Object(c), Value::Object(e)) = (&mut config, extra) {
        c.extend(e);
    }
    build(config, "groq").await
}

#[tokio::test]
async fn groq_answers_keep_x_groq_and_timings() {
    let server = mock(
        "/openai/v1/chat/completions",
        json_ok(data("groq_chat_response.json")),
    )
    .await;
    let p = groq(&server, json!({})).await;
    let answer = p
        .chat(&hello("llama-3.1-8b-instant"))
        .await
        .expect("answer");
    assert!(answer.text().starts_with("\"Hola, ¿cómo estás hoy\""));
    assert_eq!(
        (
            answer.usage.input_tokens,
            answer.usage.output_tokens,
            answer.usage.total_tokens
        ),
        (55, 55, 110)
    );
    assert_eq!(
        answer.extra["x_groq"]["id"],
        json!("req_01jpra5n2qef6s66k65v8sy51h")
    );
    assert_eq!(
        answer.extra["usage"]["queue_time"],
        json!(1.0087154420000002)
    );
    let req = &requests(&server).await[0];
    assert_eq!(
        header(req, "authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
}

#[tokio::test]
async fn groq_rejects_its_documented_unsupported_params_before_sending() {
    let server = mock(
        "/openai/v1/chat/completions",
        json_ok(data("groq_chat_response.json")),
    )
    .await;
    let p = groq(&server, json!({})).await;

    let mut named = hello("m");
    named.messages[0].name = Some("alice".into());
    let mut logprobs = hello("m");
    logprobs.extra.insert("logprobs".into(), json!(true));
    let mut bias = hello("m");
    bias.extra
        .insert("logit_bias".into(), json!({"50256": -100}));
    let mut n2 = hello("m");
    n2.extra.insert("n".into(), json!(2));
    for (req, param) in [
        (named, "messages[].name"),
        (logprobs, "logprobs"),
        (bias, "logit_bias"),
        (n2, "n>1"),
    ] {
        let err = p.chat(&req).await.expect_err("unsupported");
        assert_eq!(err.kind(), &ErrorKind::InvalidRequest, "{err}");
        assert_eq!(err.param(), Some(param), "{err}");
        assert!(err.message().contains("Groq"), "{err}");
        let Err(err) = p.chat_stream(&req).await else {
            panic!("streamed {param} was sent");
        };
        assert_eq!(err.param(), Some(param));
    }
    assert!(requests(&server).await.is_empty(), "nothing reached Groq");

    let mut n1 = hello("m");
    n1.extra.insert("n".into(), json!(1));
    p.chat(&n1).await.expect("n = 1 is allowed");
}

#[tokio::test]
async fn drop_policy_leaves_params_out_and_says_so() {
    let server = mock(
        "/openai/v1/chat/completions",
        json_ok(data("groq_chat_response.json")),
    )
    .await;
    let p = groq(&server, json!({"unsupported_params": "drop"})).await;
    let mut req = hello("m");
    req.messages[0].name = Some("alice".into());
    req.extra.insert("logprobs".into(), json!(true));
    req.extra.insert("top_logprobs".into(), json!(2));
    let answer = p.chat(&req).await.expect("sent without them");
    assert_eq!(
        answer.extra[DROPPED_PARAMS],
        json!(["logprobs", "top_logprobs", "messages[].name"])
    );
    let sent = last_body(&server).await;
    assert_eq!(
        sent,
        json!({"model": "m", "messages": [{"role": "user", "content": "Hello!"}]})
    );
}

#[tokio::test]
async fn groq_stream_usage_comes_from_x_groq() {
    // OpenAI-recorded tool-call chunks, ending with Groq's final chunk whose
    // usage is in `x_groq.usage`.
    let openai = data("openai_chat_stream_tool_call.sse");
    let chunks: Vec<&str> = openai
        .split("\n\n")
        .filter(|e| {
            e.starts_with("data: {")
                && !e.contains("\"finish_reason\":\"tool_calls\"")
                && !e.contains("\"choices\":[]")
        })
        .collect();
    let final_chunk: Value =
        serde_json::from_str(&data("groq_stream_final_chunk_x_groq.json")).expect("JSON");
    let mut body = String::new();
    for c in chunks {
        body.push_str(c);
        body.push_str("\n\n");
    }
    body.push_str(&format!("data: {final_chunk}\n\ndata: [DONE]\n\n"));
    let server = mock("/openai/v1/chat/completions", sse_ok(body)).await;
    let p = groq(&server, json!({})).await;
    let answer = collect_stream(p.chat_stream(&hello("m")).await.expect("stream"))
        .await
        .expect("complete");
    assert_eq!(
        answer.tool_calls[0].arguments,
        "{\"city\":\"New York City\"}"
    );
    assert_eq!(
        (answer.usage.input_tokens, answer.usage.output_tokens),
        (18, 439)
    );
    assert_eq!(
        last_body(&server).await["stream_options"],
        json!({"include_usage": true})
    );
}

// ---- OpenRouter ------------------------------------------------------------

async fn openrouter(server: &MockServer) -> Arc<dyn Provider> {
    build(
        json!({
            "preset": "openrouter", "api_key": KEY,
            "base_url": format!("{}/api/v1", server.uri()),
            "headers": {"HTTP-Referer": "https://switchboard.example", "X-Title": "Switchboard"}
        }),
        "openrouter",
    )
    .await
}

#[tokio::test]
async fn openrouter_streams_skip_comments_and_need_no_include_usage() {
    let usage_chunk: Value =
        serde_json::from_str(&data("openrouter_usage_chunk.json")).expect("JSON");
    let mut body = data("openrouter_sse_comment.txt");
    body.push('\n');
    body.push_str(&data("openrouter_sse_comment.txt"));
    body.push_str("\ndata: {\"id\":\"gen-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"openai/gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hi\"},\"finish_reason\":null}]}\n\n");
    body.push_str(&data("openrouter_sse_comment.txt"));
    body.push_str("\ndata: {\"id\":\"gen-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"openai/gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" there\"},\"finish_reason\":\"stop\"}]}\n\n");
    body.push_str(&format!("data: {usage_chunk}\n\ndata: [DONE]\n\n"));
    let server = mock("/api/v1/chat/completions", sse_ok(body)).await;
    let p = openrouter(&server).await;
    let answer = collect_stream(
        p.chat_stream(&hello("openai/gpt-4o"))
            .await
            .expect("stream"),
    )
    .await
    .expect("complete");
    assert_eq!(answer.text(), "Hi there");
    assert_eq!(
        (
            answer.usage.input_tokens,
            answer.usage.output_tokens,
            answer.usage.cache_write_input_tokens
        ),
        (194, 2, 100)
    );
    let req = &requests(&server).await[0];
    assert_eq!(
        header(req, "http-referer"),
        Some("https://switchboard.example")
    );
    assert_eq!(header(req, "x-title"), Some("Switchboard"));
    let sent: Value = serde_json::from_slice(&req.body).expect("JSON");
    assert_eq!(sent["stream"], json!(true));
    assert!(
        sent.get("stream_options").is_none(),
        "deprecated at OpenRouter: {sent}"
    );
}

#[tokio::test]
async fn openrouter_mid_stream_errors_end_the_stream() {
    let mut body = String::from(
        "data: {\"id\":\"cmpl-abc123\",\"object\":\"chat.completion.chunk\",\"created\":1234567890,\"model\":\"openai/gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Par\"},\"finish_reason\":null}]}\n\n",
    );
    body.push_str(&data("openrouter_stream_midstream_error.sse"));
    let server = mock("/api/v1/chat/completions", sse_ok(body)).await;
    let p = openrouter(&server).await;
    let items: Vec<_> = p
        .chat_stream(&hello("openai/gpt-4o"))
        .await
        .expect("stream")
        .collect()
        .await;
    let last = items.last().expect("items");
    let err = last.as_ref().expect_err("error last");
    assert!(
        err.message().contains("Provider disconnected unexpectedly"),
        "{err}"
    );
    assert!(err.is_retryable(), "{err:?}");
    assert_eq!(err.instance(), Some("openrouter"));
    assert!(
        items
            .iter()
            .any(|i| matches!(i, Ok(ChatEvent::TextDelta { text }) if text == "Par"))
    );
    assert!(
        !items
            .iter()
            .any(|i| matches!(i, Ok(ChatEvent::Finish { .. })))
    );
}

#[tokio::test]
async fn openrouter_error_bodies_map_by_status() {
    for (file, status, kind) in [
        ("openrouter_error_400.json", 400, ErrorKind::InvalidRequest),
        (
            "openrouter_error_403_guardrail.json",
            403,
            ErrorKind::Permission,
        ),
        (
            "openrouter_error_429_provider.json",
            429,
            ErrorKind::RateLimited { retry_after: None },
        ),
    ] {
        let server = mock(
            "/api/v1/chat/completions",
            ResponseTemplate::new(status).set_body_raw(data(file), "application/json"),
        )
        .await;
        let p = openrouter(&server).await;
        let err = p.chat(&hello("m")).await.expect_err("error");
        assert_eq!(err.kind(), &kind, "{file}: {err}");
    }
}

// ---- Mistral ---------------------------------------------------------------

#[test]
fn wire_request_is_the_typed_request_fitted_to_the_service() {
    let config: OpenAiCompatibleConfig = serde_json::from_value(
        json!({"preset": "mistral", "api_key": KEY, "unsupported_params": "drop"}),
    )
    .expect("config");
    let p =
        OpenAiCompatible::new(config, &ProviderContext::standalone("mistral")).expect("provider");
    let mut req = ChatRequest::new(
        "mistral-large-latest",
        vec![
            Message::new(Role::Developer, "Be brief."),
            Message::user("Hello!"),
        ],
    )
    .temperature(0.7);
    req.seed = Some(42);
    req.extra.insert("logprobs".into(), json!(true));
    let fitted = p.wire_request(&req, true).expect("fitted");
    assert_eq!(fitted.dropped, vec!["logprobs"]);
    assert_eq!(
        // As sent: encoded, then read back (`to_value` would widen the f32).
        serde_json::from_slice::<Value>(&serde_json::to_vec(&fitted.request).expect("JSON"))
            .expect("JSON"),
        json!({
            "model": "mistral-large-latest",
            "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello!"}],
            "temperature": 0.7,
            "random_seed": 42,
            "stream": true
        }),
        "decimals as written, no stream_options (Mistral has none)"
    );
    let plain = p.wire_request(&req, false).expect("fitted");
    assert_eq!(plain.request.stream, None);
}

// ---- DeepSeek --------------------------------------------------------------

#[tokio::test]
async fn deepseek_reasoning_comes_back_and_is_sent_back() {
    let response = json!({
        "id": "ds-1", "object": "chat.completion", "created": 1, "model": "deepseek-reasoner",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {
            "role": "assistant", "reasoning_content": "9.11 < 9.8 because ...", "content": "9.8 is greater."}}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 30,
                  "completion_tokens_details": {"reasoning_tokens": 15}}
    });
    // DeepSeek's base URL has no `/v1`: requests go to `/chat/completions`.
    let server = mock("/chat/completions", json_ok(response.to_string())).await;
    let p = build(
        json!({"preset": "deepseek", "api_key": KEY, "base_url": server.uri()}),
        "deepseek",
    )
    .await;
    let first = hello("deepseek-reasoner");
    let answer = p.chat(&first).await.expect("answer");
    assert_eq!(
        answer.content,
        vec![
            ContentPart::Reasoning {
                text: "9.11 < 9.8 because ...".into(),
                signature: None,
                redacted: None,
                origin: None,
            },
            ContentPart::text("9.8 is greater."),
        ]
    );
    assert_eq!(answer.usage.reasoning_tokens, 15);

    let mut next = first.clone();
    next.messages.push(answer.to_message());
    next.messages.push(Message::user("Why?"));
    p.chat(&next).await.expect("answer");
    let sent = last_body(&server).await;
    assert_eq!(
        sent["messages"][1]["reasoning_content"],
        json!("9.11 < 9.8 because ...")
    );
    assert_eq!(sent["messages"][1]["content"], json!("9.8 is greater."));

    let mut logprobs = hello("deepseek-reasoner");
    logprobs.extra.insert("logprobs".into(), json!(true));
    assert_eq!(
        p.chat(&logprobs).await.expect_err("rejected").param(),
        Some("logprobs")
    );
}

// ---- local servers ---------------------------------------------------------

#[tokio::test]
async fn local_servers_need_no_key_and_read_vllm_errors() {
    let old_vllm = json!({"object": "error", "message": "This model's maximum context length is 131072 tokens. However, you requested 140000 tokens.", "type": "BadRequestError", "param": null, "code": 400});
    let server = mock(
        "/v1/chat/completions",
        ResponseTemplate::new(400).set_body_raw(old_vllm.to_string(), "application/json"),
    )
    .await;
    let p = build(
        json!({"preset": "vllm", "base_url": format!("{}/v1", server.uri())}),
        "local",
    )
    .await;
    let err = p.chat(&hello("m")).await.expect_err("400");
    assert_eq!(err.kind(), &ErrorKind::ContextLengthExceeded, "{err}");
    assert!(header(&requests(&server).await[0], "authorization").is_none());

    for (name, url) in [
        (PresetName::Vllm, "http://localhost:8000/v1"),
        (PresetName::Llamacpp, "http://localhost:8080/v1"),
        (PresetName::Lmstudio, "http://localhost:1234/v1"),
    ] {
        assert_eq!(name.preset().base_url, url);
        assert!(!name.preset().key_required);
        let config: OpenAiCompatibleConfig =
            serde_json::from_value(json!({"preset": name})).expect("config");
        assert!(
            <OpenAiCompatible as ProviderInit>::validate(&config).is_ok(),
            "{name:?} needs no key"
        );
    }
}

#[tokio::test]
async fn lmstudio_rejects_json_object_but_takes_json_schema() {
    let server = mock(
        "/v1/chat/completions",
        json_ok(data("openai_chat_response.json")),
    )
    .await;
    let p = build(
        json!({"preset": "lmstudio", "base_url": format!("{}/v1", server.uri())}),
        "lmstudio",
    )
    .await;
    let mut req = hello("qwen");
    req.response_format = Some(ResponseFormat::JsonObject);
    assert_eq!(
        p.chat(&req).await.expect_err("json_object").param(),
        Some("response_format=json_object")
    );
    req.response_format = Some(ResponseFormat::JsonSchema {
        name: "x".into(),
        description: None,
        schema: json!({"type": "object"}),
        strict: None,
    });
    p.chat(&req).await.expect("json_schema is fine");
}

// ---- custom endpoints, overrides, instances ---------------------------------

#[tokio::test]
async fn custom_endpoint_with_a_custom_auth_header() {
    let server = mock(
        "/openai/deployments/x/chat/completions",
        json_ok(data("openai_chat_response.json")),
    )
    .await;
    let p = build(
        json!({
            "base_url": format!("{}/openai/deployments/x", server.uri()),
            "api_key": KEY, "auth": "header", "auth_header": "api-key",
            "max_tokens_field": "max_completion_tokens"
        }),
        "azure-like",
    )
    .await;
    p.chat(&hello("m").max_tokens(5)).await.expect("answer");
    let req = &requests(&server).await[0];
    assert_eq!(header(req, "api-key"), Some(KEY));
    assert!(header(req, "authorization").is_none());
    let sent: Value = serde_json::from_slice(&req.body).expect("JSON");
    assert_eq!(sent["max_completion_tokens"], json!(5));
}

#[tokio::test]
async fn preset_fields_can_be_overridden() {
    let server = mock(
        "/openai/v1/chat/completions",
        json_ok(data("groq_chat_response.json")),
    )
    .await;
    // An empty list lifts every restriction; a rename is added.
    let p = groq(
        &server,
        json!({"unsupported": [], "rename_params": {"seed": "random_seed"}}),
    )
    .await;
    let mut req = hello("m");
    req.extra.insert("logprobs".into(), json!(true));
    req.seed = Some(1);
    p.chat(&req).await.expect("allowed now");
    let sent = last_body(&server).await;
    assert_eq!(
        (sent["logprobs"].clone(), sent["random_seed"].clone()),
        (json!(true), json!(1))
    );
}

#[tokio::test]
async fn groq_and_together_instances_coexist() {
    let groq_server = mock(
        "/openai/v1/chat/completions",
        json_ok(data("groq_chat_response.json")),
    )
    .await;
    let together_server = mock(
        "/v1/chat/completions",
        json_ok(data("openai_chat_response.json")),
    )
    .await;
    let descriptor = switchboard_core::catalog()
        .expect("catalog")
        .get("openai-compatible")
        .expect("linked");
    let groq = descriptor
        .build(
            json!({"preset": "groq", "api_key": "gsk-one", "base_url": format!("{}/openai/v1", groq_server.uri())}),
            ProviderContext::standalone("groq"),
        )
        .await
        .expect("groq");
    let together = descriptor
        .build(
            json!({"preset": "together", "api_key": "tgp-two", "base_url": format!("{}/v1", together_server.uri())}),
            ProviderContext::standalone("together"),
        )
        .await
        .expect("together");
    let (ra, rb) = (hello("llama"), hello("mixtral"));
    let (a, b) = tokio::join!(groq.chat(&ra), together.chat(&rb));
    let (a, b) = (a.expect("groq answer"), b.expect("together answer"));
    assert_eq!(
        (a.provider.as_str(), b.provider.as_str()),
        ("groq", "together")
    );
    assert!(a.text().starts_with("\"Hola"));
    assert_eq!(b.text(), "Hello! How can I assist you today?");
    assert_eq!(
        header(&requests(&groq_server).await[0], "authorization"),
        Some("Bearer gsk-one")
    );
    assert_eq!(
        header(&requests(&together_server).await[0], "authorization"),
        Some("Bearer tgp-two")
    );
    // A Groq-only restriction does not leak into the Together instance.
    let mut named = hello("m");
    named.messages[0].name = Some("alice".into());
    assert!(groq.chat(&named).await.is_err());
    together.chat(&named).await.expect("Together accepts names");
}

#[tokio::test]
async fn models_from_config_or_endpoint_and_embeddings_by_preset() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/models"))
        .respond_with(json_ok(data("openai_models_list.json")))
        .mount(&server)
        .await;
    let listed = build(
        json!({"preset": "vllm", "base_url": format!("{}/v1", server.uri())}),
        "vllm",
    )
    .await;
    assert_eq!(listed.models().await.expect("models").len(), 3);
    let fixed = build(
        json!({"preset": "vllm", "base_url": format!("{}/v1", server.uri()), "models": ["a", "b"]}),
        "vllm",
    )
    .await;
    let ids: Vec<String> = fixed
        .models()
        .await
        .expect("models")
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(ids, vec!["a", "b"]);

    let groq = build(json!({"preset": "groq", "api_key": KEY}), "groq").await;
    let err = groq
        .embed(&EmbeddingsRequest::new("e", vec!["x".into()]))
        .await
        .expect_err("no embeddings at Groq");
    assert_eq!(err.kind(), &ErrorKind::Unsupported);
    assert_eq!(err.instance(), Some("groq"));
}

#[tokio::test]
async fn config_errors_name_the_key() {
    for (config, param) in [
        (json!({}), Some("base_url")),
        (json!({"preset": "groq"}), Some("api_key")),
        (json!({"preset": "groq", "api_key": ""}), Some("api_key")),
        (
            json!({"preset": "vllm", "unsupported": ["bad name"]}),
            Some("unsupported[0]"),
        ),
        (
            json!({"preset": "vllm", "auth": "header", "api_key": "k"}),
            Some("auth_header"),
        ),
        (
            json!({"preset": "vllm", "timeout_ms": 0}),
            Some("timeout_ms"),
        ),
        (json!({"preset": "nope"}), None),
        (json!({"preset": "vllm", "bogus": true}), None),
    ] {
        let Err(err) = OpenAiCompatible::DESCRIPTOR
            .build(config.clone(), ProviderContext::standalone("x"))
            .await
        else {
            panic!("{config} was accepted");
        };
        assert_eq!(err.kind(), &ErrorKind::Config, "{config}: {err}");
        if let Some(p) = param {
            assert_eq!(err.param(), Some(p), "{config}: {err}");
        }
    }
}

#[tokio::test]
async fn the_key_is_in_no_debug_output_or_error() {
    let config: OpenAiCompatibleConfig = serde_json::from_value(json!({
        "preset": "openrouter", "api_key": KEY, "headers": {"X-Proxy-Token": "proxy-SECRET"}
    }))
    .expect("config");
    let provider = OpenAiCompatible::new(config.clone(), &ProviderContext::standalone("or"))
        .expect("provider");
    for text in [
        format!("{config:?}"),
        format!("{provider:?}"),
        serde_json::to_string(&config).expect("serializes"),
    ] {
        assert!(
            !text.contains(KEY) && !text.contains("proxy-SECRET"),
            "{text}"
        );
    }
    // An upstream echoing the key in its message.
    let body = json!({"error": {"message": format!("Invalid key {KEY}"), "code": 401}});
    let server = mock(
        "/api/v1/chat/completions",
        ResponseTemplate::new(401).set_body_raw(body.to_string(), "application/json"),
    )
    .await;
    let p = openrouter(&server).await;
    let err = p.chat(&hello("m")).await.expect_err("401");
    assert_eq!(err.kind(), &ErrorKind::Auth);
    for text in [err.to_string(), format!("{err:?}")] {
        assert!(!text.contains(KEY), "{text}");
    }
}
