//! The provider against a fake upstream: the request it sends (path, body)
//! and what it makes of the answers.

use futures::StreamExt;
use serde_json::{Value, json};
use switchboard_core::{
    ChatEvent, ChatRequest, ContentPart, ErrorKind, FinishReason, ImageSource, Message, Provider,
    Reasoning, Role, Tool, ToolChoice, collect_stream,
};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::support::{FakeEnv, build_with_env, data, stream_body};

async fn server_with(route: &str, response: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(route))
        .respond_with(response)
        .mount(&server)
        .await;
    server
}

async fn provider(server: &MockServer, extra: Value) -> switchboard_bedrock::BedrockProvider {
    let mut config = json!({"base_url": server.uri(), "api_key": "k", "region": "us-east-1"});
    if let (Some(c), Some(e)) = (config.as_object_mut(), extra.as_object()) {
        c.extend(e.clone());
    }
    build_with_env(config, &FakeEnv::default())
        .await
        .expect("builds")
}

fn text_answer() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(
        data!("converse_response_text_after_tool_result_recorded.json"),
        "application/json",
    )
}

async fn sent_body(server: &MockServer) -> Value {
    let requests: Vec<Request> = server.received_requests().await.expect("recording");
    serde_json::from_slice(&requests[0].body).expect("JSON body")
}

#[tokio::test]
async fn inference_profile_arns_are_one_encoded_path_segment() {
    let arn = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-sonnet-20240620-v1:0";
    let route = "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse";
    let server = server_with(route, text_answer()).await;
    let p = provider(&server, json!({})).await;
    let r = p
        .chat(&ChatRequest::new(arn, vec![Message::user("Hi")]))
        .await
        .expect("answers");
    assert_eq!(r.model, arn);
    assert_eq!(r.provider, "bedrock");
}

#[tokio::test]
async fn the_request_body_carries_every_mapped_parameter() {
    let model = "us.anthropic.claude-3-7-sonnet-20250219-v1:0";
    let server = server_with(
        "/model/us.anthropic.claude-3-7-sonnet-20250219-v1%3A0/converse",
        text_answer(),
    )
    .await;
    let p = provider(&server, json!({})).await;
    let mut user = Message::user("What is in this picture?");
    user.content.push(ContentPart::Image {
        source: ImageSource::Url {
            url: "data:image/jpeg;base64,/9j/4AAQ".into(),
        },
        detail: None,
    });
    let mut req = ChatRequest::new(
        model,
        vec![
            Message::system("Be brief."),
            Message::new(Role::Developer, "Follow the rules."),
            user,
        ],
    );
    req.max_tokens = Some(500);
    req.temperature = Some(0.5);
    req.top_p = Some(0.9);
    req.stop = vec!["END".into()];
    req.tools = vec![Tool::new(
        "get_lat_long",
        "Coordinates of a place",
        json!({"type": "object", "properties": {"place": {"type": "string"}}}),
    )];
    req.tool_choice = Some(ToolChoice::Tool("get_lat_long".into()));
    req.reasoning = Some(Reasoning {
        effort: None,
        budget_tokens: Some(2048),
    });
    p.chat(&req).await.expect("answers");
    let body = sent_body(&server).await;
    assert_eq!(
        body["system"],
        json!([{"text": "Be brief."}, {"text": "Follow the rules."}])
    );
    assert_eq!(
        body["messages"],
        json!([{"role": "user", "content": [
            {"text": "What is in this picture?"},
            {"image": {"format": "jpeg", "source": {"bytes": "/9j/4AAQ"}}}
        ]}])
    );
    assert_eq!(
        body["inferenceConfig"],
        json!({"maxTokens": 2548, "temperature": 0.5, "topP": 0.8999999761581421, "stopSequences": ["END"]})
    );
    assert_eq!(
        body["toolConfig"],
        json!({"tools": [{"toolSpec": {"name": "get_lat_long", "description": "Coordinates of a place",
                "inputSchema": {"json": {"type": "object", "properties": {"place": {"type": "string"}}}}}}],
               "toolChoice": {"tool": {"name": "get_lat_long"}}})
    );
    assert_eq!(
        body["additionalModelRequestFields"],
        json!({"thinking": {"type": "enabled", "budget_tokens": 2048}})
    );
}

#[tokio::test]
async fn parameters_converse_lacks_are_refused_or_dropped() {
    let server = server_with("/model/m/converse", text_answer()).await;
    let mut req = ChatRequest::new("m", vec![Message::user("Hi")]);
    req.seed = Some(1);
    let p = provider(&server, json!({})).await;
    let err = p.chat(&req).await.expect_err("no seed in Converse");
    assert_eq!(err.kind(), &ErrorKind::Unsupported);
    assert_eq!(err.param(), Some("seed"));
    let mut image = Message::user("");
    image.content = vec![ContentPart::image_url("https://example.com/a.png")];
    let err = p
        .chat(&ChatRequest::new("m", vec![image]))
        .await
        .expect_err("no image URLs");
    assert_eq!(err.kind(), &ErrorKind::Unsupported);
    let mut json_mode = ChatRequest::new("m", vec![Message::user("Hi")]);
    json_mode.response_format = Some(switchboard_core::ResponseFormat::JsonObject);
    let err = p
        .chat(&json_mode)
        .await
        .expect_err("no schema-less JSON mode");
    assert_eq!(err.param(), Some("response_format"));
    let p = provider(&server, json!({"drop_unsupported_params": true})).await;
    p.chat(&req).await.expect("seed dropped");
    assert!(sent_body(&server).await.get("seed").is_none());
}

#[tokio::test]
async fn a_tool_loop_merges_tool_results_into_one_user_turn() {
    let server = server_with("/model/m/converse", text_answer()).await;
    let p = provider(&server, json!({})).await;
    let mut assistant = Message::assistant("");
    assistant.tool_calls = vec![
        switchboard_core::ToolCall {
            id: "a".into(),
            name: "f".into(),
            arguments: "{}".into(),
        },
        switchboard_core::ToolCall {
            id: "b".into(),
            name: "f".into(),
            arguments: r#"{"x":1}"#.into(),
        },
    ];
    let mut req = ChatRequest::new(
        "m",
        vec![
            Message::user("Go"),
            assistant,
            Message::tool_result("a", "ok"),
            Message::tool_error("b", "failed"),
        ],
    );
    req.tools = vec![Tool::new("f", "f", json!({"type": "object"}))];
    req.tool_choice = Some(ToolChoice::None);
    p.chat(&req).await.expect("answers");
    let body = sent_body(&server).await;
    assert_eq!(
        body["messages"][2],
        json!({"role": "user", "content": [
            {"toolResult": {"toolUseId": "a", "content": [{"text": "ok"}]}},
            {"toolResult": {"toolUseId": "b", "content": [{"text": "failed"}], "status": "error"}}
        ]})
    );
    assert_eq!(body["messages"].as_array().map(Vec::len), Some(3));
    // "none" with tool history: tools sent (the API needs them), no choice.
    assert!(body["toolConfig"].get("toolChoice").is_none());
}

#[tokio::test]
async fn a_stream_is_decoded_and_a_json_answer_to_a_stream_is_replayed() {
    let server = server_with(
        "/model/m/converse-stream",
        ResponseTemplate::new(200)
            .insert_header("x-amzn-requestid", "req-123")
            .set_body_raw(
                stream_body(data!("converse_stream_reasoning_constructed.json")),
                "application/vnd.amazon.eventstream",
            ),
    )
    .await;
    let p = provider(&server, json!({})).await;
    let req = ChatRequest::new("m", vec![Message::user("Hi")]);
    let stream = p.chat_stream(&req).await.expect("opens");
    let events: Vec<ChatEvent> = stream.map(|e| e.expect("no error")).collect().await;
    assert_eq!(
        events[0],
        ChatEvent::Start {
            id: "req-123".into(),
            model: "m".into(),
            created: None,
        }
    );
    let r = collect_stream(p.chat_stream(&req).await.expect("opens"))
        .await
        .expect("collects");
    assert_eq!(r.text(), "Hello!");
    assert_eq!(r.finish_reason, FinishReason::Stop);

    let json_server = server_with("/model/m/converse-stream", text_answer()).await;
    let p = provider(&json_server, json!({})).await;
    let r = collect_stream(p.chat_stream(&req).await.expect("opens"))
        .await
        .expect("collects");
    assert!(r.text().starts_with("The coordinates of Montreal"));
}

#[tokio::test]
async fn models_are_the_configured_list() {
    let server = MockServer::start().await;
    let p = provider(&server, json!({"models": ["us.amazon.nova-pro-v1:0"]})).await;
    let models = p.models().await.expect("lists");
    assert_eq!(models.len(), 1);
    assert_eq!(models[0].id, "us.amazon.nova-pro-v1:0");
    assert!(models[0].capabilities.tools);
}

#[tokio::test]
async fn prompt_caching_adds_cache_points() {
    let server = server_with("/model/m/converse", text_answer()).await;
    let p = provider(&server, json!({"prompt_caching": true})).await;
    let mut req = ChatRequest::new(
        "m",
        vec![
            Message::system("Long instructions."),
            Message::user("First"),
            Message::assistant("Answer"),
            Message::user("Second"),
        ],
    );
    req.tools = vec![Tool::new("f", "f", json!({"type": "object"}))];
    p.chat(&req).await.expect("answers");
    let body = sent_body(&server).await;
    let point = json!({"cachePoint": {"type": "default"}});
    assert_eq!(body["system"][1], point);
    assert_eq!(body["toolConfig"]["tools"][1], point);
    assert_eq!(body["messages"][2]["content"][1], point);
    assert_eq!(
        body["messages"][0]["content"].as_array().map(Vec::len),
        Some(1),
        "only the last user message gets one"
    );
}
