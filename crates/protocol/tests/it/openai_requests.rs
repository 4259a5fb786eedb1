//! Chat requests: wire ⇄ core, on the official fixtures and on every field.

use crate::common;

use common::{assert_json_eq, fixture, fixture_json};
use serde_json::{Value, json};
use switchboard_core::{
    ChatRequest, ContentPart, ErrorKind, ImageSource, Message, Reasoning, ReasoningEffort,
    ResponseFormat, Role, Tool, ToolCall, ToolChoice,
};
use switchboard_protocol::openai::{
    self, InboundChatRequest, RequestOptions, parse_chat_request, to_wire_request,
};

/// wire bytes → core → wire JSON.
fn round_trip(body: &[u8]) -> (InboundChatRequest, Value) {
    let inbound = parse_chat_request(body).expect("the request parses");
    let wire = inbound
        .to_wire(&RequestOptions::default())
        .expect("converts back");
    let bytes = serde_json::to_vec(&wire).expect("serializes");
    (inbound, serde_json::from_slice(&bytes).expect("valid JSON"))
}

#[test]
fn every_request_fixture_round_trips_losslessly() {
    for name in [
        "chat_request.json",
        "chat_request_image_url.json",
        "chat_request_json_schema.json",
        "chat_request_stream.json",
        "chat_request_tools.json",
    ] {
        let path = format!("openai/{name}");
        let (_, back) = round_trip(&fixture(&path));
        assert_json_eq(&back, &fixture_json(&path));
    }
}

#[test]
fn default_request_keeps_the_developer_role() {
    let (inbound, _) = round_trip(&fixture("openai/chat_request.json"));
    let req = &inbound.request;
    assert_eq!(req.model, "VAR_chat_model_id");
    assert_eq!(req.messages.len(), 2);
    assert_eq!(req.messages[0].role, Role::Developer);
    assert_eq!(req.messages[0].text(), "You are a helpful assistant.");
    assert_eq!(req.messages[1].role, Role::User);
    assert_eq!(req.last_user_text().as_deref(), Some("Hello!"));
    assert!(!inbound.is_stream());
    assert!(req.extra.is_empty());
}

#[test]
fn stream_settings_stay_out_of_the_core_request() {
    let (inbound, back) = round_trip(&fixture("openai/chat_request_stream.json"));
    assert!(inbound.is_stream());
    assert!(!inbound.include_usage());
    assert!(!inbound.request.extra.contains_key("stream"));
    assert_eq!(back["stream"], json!(true));
    // A provider converting the core request alone does not stream by accident.
    let plain = to_wire_request(&inbound.request, &RequestOptions::default()).expect("ok");
    assert_eq!(plain.stream, None);
}

#[test]
fn image_request_has_a_url_image_part_and_max_tokens() {
    let (inbound, _) = round_trip(&fixture("openai/chat_request_image_url.json"));
    let req = &inbound.request;
    assert_eq!(req.max_tokens, Some(300));
    let parts = &req.messages[0].content;
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0], ContentPart::text("What is in this image?"));
    match &parts[1] {
        ContentPart::Image {
            source: ImageSource::Url { url },
            detail,
        } => {
            assert!(url.starts_with("https://upload.wikimedia.org/"));
            assert_eq!(detail, &None);
        }
        other => panic!("expected an image URL part, got {other:?}"),
    }
}

#[test]
fn tools_request_maps_tools_and_choice() {
    let (inbound, _) = round_trip(&fixture("openai/chat_request_tools.json"));
    let req = &inbound.request;
    assert_eq!(req.tools.len(), 1);
    assert_eq!(req.tools[0].name, "get_current_weather");
    assert_eq!(
        req.tools[0].description.as_deref(),
        Some("Get the current weather in a given location")
    );
    assert_eq!(req.tools[0].parameters["required"], json!(["location"]));
    assert_eq!(req.tool_choice, Some(ToolChoice::Auto));
    assert!(req.validate().is_ok());
}

#[test]
fn json_schema_request_maps_the_response_format() {
    let (inbound, _) = round_trip(&fixture("openai/chat_request_json_schema.json"));
    let req = &inbound.request;
    assert_eq!(req.messages[0].role, Role::System);
    assert!(
        req.messages[0]
            .text()
            .starts_with("\nYou are a helpful math tutor.")
    );
    match &req.response_format {
        Some(ResponseFormat::JsonSchema {
            name,
            schema,
            strict,
            description,
        }) => {
            assert_eq!(name, "math_reasoning");
            assert_eq!(*strict, Some(true));
            assert_eq!(description, &None);
            assert_eq!(schema["required"], json!(["steps", "final_answer"]));
        }
        other => panic!("expected a JSON schema format, got {other:?}"),
    }
}

fn kitchen_sink() -> Value {
    json!({
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "developer", "content": [{"type": "text", "text": "Part one."}, {"type": "text", "text": "Part two."}]},
            {"role": "user", "name": "ann", "content": [
                {"type": "text", "text": "Compare these."},
                {"type": "image_url", "image_url": {"url": "https://example.com/a.png", "detail": "high"}},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
            ]},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": "{\"q\":\"a\"}"}},
                {"id": "call_2", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}
            ]},
            {"role": "tool", "tool_call_id": "call_1", "content": "result a"},
            {"role": "tool", "tool_call_id": "call_2", "content": "result b"},
            {"role": "assistant", "content": "I can't do that.", "refusal": "policy"},
            {"role": "user", "content": "ok"}
        ],
        "temperature": 0.7,
        "top_p": 0.9,
        "max_tokens": 256,
        "stop": ["\n\n", "END"],
        "seed": 42,
        "presence_penalty": 0.5,
        "frequency_penalty": -0.25,
        "n": 2,
        "tools": [{"type": "function", "function": {
            "name": "lookup", "description": "Look something up",
            "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}, "strict": true
        }}],
        "tool_choice": {"type": "function", "function": {"name": "lookup"}},
        "parallel_tool_calls": false,
        "response_format": {"type": "json_object"},
        "reasoning_effort": "high",
        "stream": true,
        "stream_options": {"include_usage": true},
        "user": "user-1",
        "metadata": {"team": "a"},
        "logprobs": true,
        "top_logprobs": 3,
        "service_tier": "flex",
        "prediction": {"type": "content", "content": "x"}
    })
}

#[test]
fn every_field_round_trips() {
    let original = kitchen_sink();
    let body = serde_json::to_vec(&original).expect("serializes");
    let (inbound, back) = round_trip(&body);
    assert_json_eq(&back, &original);

    let req = &inbound.request;
    assert!(inbound.is_stream() && inbound.include_usage());
    assert_eq!(req.temperature, Some(0.7));
    assert_eq!(req.stop, vec!["\n\n".to_owned(), "END".to_owned()]);
    assert_eq!(req.seed, Some(42));
    assert_eq!(req.frequency_penalty, Some(-0.25));
    assert_eq!(req.tool_choice, Some(ToolChoice::Tool("lookup".into())));
    assert_eq!(req.tools[0].strict, Some(true));
    assert_eq!(req.parallel_tool_calls, Some(false));
    assert_eq!(req.response_format, Some(ResponseFormat::JsonObject));
    assert_eq!(
        req.reasoning,
        Some(Reasoning {
            effort: Some(ReasoningEffort::High),
            budget_tokens: None
        })
    );
    assert_eq!(req.user.as_deref(), Some("user-1"));
    assert_eq!(req.metadata.get("team").map(String::as_str), Some("a"));
    // Wire-only fields and unknown fields are kept in `extra`.
    assert_eq!(req.extra["n"], json!(2));
    assert_eq!(req.extra["logprobs"], json!(true));
    assert_eq!(req.extra["top_logprobs"], json!(3));
    assert_eq!(req.extra["service_tier"], json!("flex"));
    assert_eq!(req.extra["prediction"]["content"], json!("x"));

    let m = &req.messages;
    assert_eq!(m[1].content.len(), 2, "two text parts stay two parts");
    assert_eq!(m[2].name.as_deref(), Some("ann"));
    assert_eq!(
        m[2].content[1],
        ContentPart::Image {
            source: ImageSource::Url {
                url: "https://example.com/a.png".into()
            },
            detail: Some("high".into())
        }
    );
    assert_eq!(
        m[2].content[2],
        ContentPart::image_base64("image/png", "iVBORw0KGgo="),
        "a base64 data URL becomes a base64 image"
    );
    assert!(m[3].content.is_empty());
    assert_eq!(
        m[3].tool_calls[0],
        ToolCall {
            id: "call_1".into(),
            name: "lookup".into(),
            arguments: "{\"q\":\"a\"}".into()
        }
    );
    assert_eq!(m[4].tool_call_id.as_deref(), Some("call_1"));
    assert_eq!(
        m[6].content,
        vec![
            ContentPart::text("I can't do that."),
            ContentPart::Refusal {
                text: "policy".into()
            }
        ]
    );
    assert!(req.validate().is_ok());
}

#[test]
fn core_request_serializes_to_the_expected_wire_json() {
    let mut req = ChatRequest::new(
        "gpt-4o-mini",
        vec![
            Message::system("sys"),
            Message::user("hi"),
            Message::assistant_tool_calls(vec![ToolCall {
                id: "c1".into(),
                name: "f".into(),
                arguments: "{}".into(),
            }]),
            Message::tool_result("c1", "42"),
        ],
    )
    .temperature(0.2)
    .max_tokens(64)
    .tool(Tool::new("f", "does f", json!({"type": "object"})));
    req.tool_choice = Some(ToolChoice::Required);
    req.response_format = Some(ResponseFormat::JsonSchema {
        name: "s".into(),
        description: Some("d".into()),
        schema: json!({"type": "object"}),
        strict: None,
    });
    req.reasoning = Some(Reasoning {
        effort: Some(ReasoningEffort::Minimal),
        budget_tokens: None,
    });
    let wire = to_wire_request(&req, &RequestOptions::default()).expect("converts");
    let bytes = serde_json::to_vec(&wire.streaming(true)).expect("serializes");
    let v: Value = serde_json::from_slice(&bytes).expect("json");
    assert_json_eq(
        &v,
        &json!({
            "model": "gpt-4o-mini",
            "messages": [
                {"role": "system", "content": "sys"},
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
                ]},
                {"role": "tool", "content": "42", "tool_call_id": "c1"}
            ],
            "temperature": 0.2,
            "max_tokens": 64,
            "tools": [{"type": "function", "function": {"name": "f", "description": "does f", "parameters": {"type": "object"}}}],
            "tool_choice": "required",
            "response_format": {"type": "json_schema", "json_schema": {"name": "s", "description": "d", "schema": {"type": "object"}}},
            "reasoning_effort": "minimal",
            "stream": true,
            "stream_options": {"include_usage": true}
        }),
    );
    // The assistant's missing content is an explicit null, and 0.2 is written as 0.2.
    let text = String::from_utf8(bytes).expect("utf-8");
    assert!(
        text.contains(r#""role":"assistant","content":null"#),
        "{text}"
    );
    assert!(text.contains(r#""temperature":0.2,"#), "{text}");
}

#[test]
fn max_completion_tokens_option_and_inbound_aliases() {
    let req = ChatRequest::new("o3", vec![Message::user("x")]).max_tokens(100);
    let wire =
        to_wire_request(&req, &RequestOptions::default().max_completion_tokens()).expect("ok");
    assert_eq!(
        (wire.max_tokens, wire.max_completion_tokens),
        (None, Some(100))
    );

    let inbound = parse_chat_request(
        br#"{"model":"o3","messages":[{"role":"user","content":"x"}],"max_completion_tokens":77}"#,
    )
    .expect("ok");
    assert_eq!(inbound.request.max_tokens, Some(77));
    let same = parse_chat_request(
        br#"{"model":"o3","messages":[{"role":"user","content":"x"}],"max_tokens":5,"max_completion_tokens":5}"#,
    )
    .expect("equal values are fine");
    assert_eq!(same.request.max_tokens, Some(5));
    let err = parse_chat_request(
        br#"{"model":"o3","messages":[{"role":"user","content":"x"}],"max_tokens":5,"max_completion_tokens":6}"#,
    )
    .expect_err("they disagree");
    assert_eq!(err.param(), Some("max_completion_tokens"));
}

#[test]
fn reasoning_budget_maps_to_an_effort() {
    for (budget, effort) in [
        (0, "low"),
        (1024, "low"),
        (4000, "medium"),
        (8192, "medium"),
        (20_000, "high"),
    ] {
        let mut req = ChatRequest::new("m", vec![Message::user("x")]);
        req.reasoning = Some(Reasoning {
            effort: None,
            budget_tokens: Some(budget),
        });
        let wire = to_wire_request(&req, &RequestOptions::default()).expect("ok");
        assert_eq!(
            wire.reasoning_effort.as_deref(),
            Some(effort),
            "budget {budget}"
        );
    }
}

#[test]
fn unknown_reasoning_effort_passes_through() {
    let body = br#"{"model":"gpt-5.1","messages":[{"role":"user","content":"x"}],"reasoning_effort":"none"}"#;
    let (inbound, back) = round_trip(body);
    assert_eq!(inbound.request.reasoning, None);
    assert_eq!(inbound.request.extra["reasoning_effort"], json!("none"));
    assert_eq!(back["reasoning_effort"], json!("none"));
}

#[test]
fn extra_fields_merge_into_the_wire_request() {
    let mut req = ChatRequest::new("m", vec![Message::user("x")]);
    req.extra.insert("n".into(), json!(3));
    req.extra.insert("logprobs".into(), json!(true));
    req.extra.insert("service_tier".into(), json!("priority"));
    req.extra.insert("max_completion_tokens".into(), json!(9));
    let wire = to_wire_request(&req, &RequestOptions::default()).expect("ok");
    assert_eq!(wire.n, Some(3));
    assert_eq!(wire.logprobs, Some(true));
    assert_eq!(wire.max_completion_tokens, Some(9));
    let v = serde_json::to_value(&wire).expect("json");
    assert_eq!(v["service_tier"], json!("priority"));
    // No key is written twice.
    let text = serde_json::to_string(&wire).expect("json");
    assert_eq!(text.matches("\"n\":").count(), 1);

    for (key, value, param) in [
        ("temperature", json!(1), "extra.temperature"),
        ("stream", json!(true), "extra.stream"),
        ("n", json!(-1), "extra.n"),
        ("logprobs", json!("yes"), "extra.logprobs"),
    ] {
        let mut bad = req.clone();
        bad.extra.insert(key.into(), value);
        let err = to_wire_request(&bad, &RequestOptions::default()).expect_err(key);
        assert_eq!(err.kind(), &ErrorKind::InvalidRequest, "{key}");
        assert_eq!(err.param(), Some(param), "{key}");
    }
    let mut both = req.clone().max_tokens(5);
    both.extra.remove("n");
    let err = to_wire_request(&both, &RequestOptions::default()).expect_err("conflict");
    assert_eq!(err.param(), Some("extra.max_completion_tokens"));
}

#[test]
fn reasoning_content_in_history() {
    let body = br#"{"model":"deepseek-reasoner","messages":[
        {"role":"user","content":"q"},
        {"role":"assistant","content":"a","reasoning_content":"thinking..."},
        {"role":"user","content":"q2"}]}"#;
    let inbound = parse_chat_request(body).expect("ok");
    let assistant = &inbound.request.messages[1];
    assert_eq!(
        assistant.content[0],
        ContentPart::Reasoning {
            text: "thinking...".into(),
            signature: None,
            redacted: None,
            origin: None,
        }
    );
    assert_eq!(assistant.text(), "a");
    // Left out by default (DeepSeek rejects it on input), sent when asked.
    let wire = to_wire_request(&inbound.request, &RequestOptions::default()).expect("ok");
    let v = serde_json::to_value(&wire).expect("json");
    assert_eq!(
        v["messages"][1],
        json!({"role": "assistant", "content": "a"})
    );
    let wire = to_wire_request(
        &inbound.request,
        &RequestOptions::default().with_reasoning_content(),
    )
    .expect("ok");
    let v = serde_json::to_value(&wire).expect("json");
    assert_eq!(v["messages"][1]["reasoning_content"], json!("thinking..."));
}

#[test]
fn replayed_response_messages_are_accepted() {
    // What `message.model_dump()` of an openai-python response looks like.
    let body = br#"{"model":"m","messages":[
        {"role":"user","content":"q"},
        {"role":"assistant","content":"a","refusal":null,"annotations":[],"audio":null,"function_call":null,"tool_calls":null}]}"#;
    let inbound = parse_chat_request(body).expect("ok");
    assert_eq!(
        inbound.request.messages[1].content,
        vec![ContentPart::text("a")]
    );
    assert!(inbound.request.messages[1].tool_calls.is_empty());
}

#[test]
fn data_urls_that_are_not_plain_base64_stay_urls() {
    let body = br#"{"model":"m","messages":[{"role":"user","content":[
        {"type":"image_url","image_url":{"url":"data:image/png;charset=x;base64,AAAA"}},
        {"type":"image_url","image_url":{"url":"data:,hello"}}]}]}"#;
    let (inbound, back) = round_trip(body);
    for part in &inbound.request.messages[0].content {
        assert!(matches!(
            part,
            ContentPart::Image {
                source: ImageSource::Url { .. },
                ..
            }
        ));
    }
    assert_json_eq(&back, &serde_json::from_slice(body).expect("json"));
}

#[track_caller]
fn rejects(body: &str, kind: ErrorKind, param: Option<&str>) -> String {
    let err = parse_chat_request(body.as_bytes()).expect_err(body);
    assert_eq!(err.kind(), &kind, "{body}: {err}");
    assert_eq!(err.param(), param, "{body}: {err}");
    err.message().to_owned()
}

#[test]
fn bad_requests_name_the_field() {
    use ErrorKind::{InvalidRequest, Unsupported};
    let msg = rejects(
        r#"{"model":"m","messages":[{"role":"wizard","content":"x"}]}"#,
        InvalidRequest,
        Some("messages[0].role"),
    );
    assert!(msg.contains("wizard"));
    rejects(
        r#"{"model":"m","messages":[{"role":"function","name":"f","content":"x"}]}"#,
        InvalidRequest,
        Some("messages[0].role"),
    );
    rejects(
        r#"{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"x"},{"type":"input_audio","input_audio":{"data":"AAAA","format":"wav"}}]}]}"#,
        Unsupported,
        Some("messages[0].content[1]"),
    );
    let msg = rejects(
        r#"{"model":"m","messages":[{"role":"user","content":[{"type":"file","file":{"file_id":"f"}}]}]}"#,
        Unsupported,
        Some("messages[0].content[0]"),
    );
    assert!(msg.contains("`file`"), "{msg}");
    rejects(
        r#"{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"x","cache_control":{"type":"ephemeral"}}]}]}"#,
        Unsupported,
        Some("messages[0].content[0].cache_control"),
    );
    rejects(
        r#"{"model":"m","messages":[{"role":"user","content":"x","weird":1}]}"#,
        Unsupported,
        Some("messages[0].weird"),
    );
    rejects(
        r#"{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"web_search"}]}"#,
        Unsupported,
        Some("tools[0].type"),
    );
    rejects(
        r#"{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function"}]}"#,
        InvalidRequest,
        Some("tools[0].function"),
    );
    rejects(
        r#"{"model":"m","messages":[{"role":"user","content":"x"}],"tool_choice":"sometimes"}"#,
        InvalidRequest,
        Some("tool_choice"),
    );
    rejects(
        r#"{"model":"m","messages":[{"role":"user","content":"x"}],"tool_choice":{"type":"allowed_tools","mode":"auto","tools":[]}}"#,
        Unsupported,
        Some("tool_choice"),
    );
    rejects(
        r#"{"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"xml"}}"#,
        Unsupported,
        Some("response_format"),
    );
    rejects(
        r#"{"model":"m","messages":[{"role":"user","content":"x"}],"temperature":"hot"}"#,
        InvalidRequest,
        Some("temperature"),
    );
    rejects(
        r#"{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":-1}"#,
        InvalidRequest,
        Some("max_tokens"),
    );
    rejects(
        r#"{"model":"m","messages":[{"role":"user","content":"x"}],"metadata":{"a":1}}"#,
        InvalidRequest,
        Some("metadata.a"),
    );
    let msg = rejects(
        r#"{"model":"m","messages":[{"role":"user","content":5}]}"#,
        InvalidRequest,
        Some("messages[0].content"),
    );
    assert!(
        msg.contains("a string or an array of content parts"),
        "{msg}"
    );
    rejects(
        r#"{"model":"m","messages":[{"content":"x"}]}"#,
        InvalidRequest,
        Some("messages[0].role"),
    );
    rejects(r#"{"messages":[]}"#, InvalidRequest, Some("model"));
    let msg = rejects(r#"{"model":"m","messages":["#, InvalidRequest, None);
    assert!(msg.contains("not valid JSON"));
    rejects(
        r#"{"model":"m","messages":[]} trailing"#,
        InvalidRequest,
        None,
    );
    rejects("", InvalidRequest, None);
}

#[test]
fn parsed_requests_are_then_validated_by_the_core() {
    let inbound = parse_chat_request(
        br#"{"model":"m","messages":[{"role":"user","content":"x"}],"temperature":3}"#,
    )
    .expect("in range or not, it parses");
    assert_eq!(
        inbound.request.validate().expect_err("too hot").param(),
        Some("temperature")
    );
}

#[test]
fn wire_types_are_lossless_on_their_own() {
    // Even what the core cannot hold survives a parse/serialize of the wire type.
    let original = json!({
        "model": "m",
        "messages": [{"role": "user", "content": [
            {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}},
            {"type": "file", "file": {"file_id": "f"}},
            {"type": "text", "text": "x", "cache_control": {"type": "ephemeral"}}
        ], "custom_field": 1}],
        "tools": [{"type": "web_search", "search_context_size": "low"}],
        "tool_choice": {"type": "allowed_tools", "mode": "auto", "tools": []},
        "response_format": {"type": "xml", "strict": true},
        "web_search_options": {}
    });
    let bytes = serde_json::to_vec(&original).expect("json");
    let wire: openai::ChatCompletionRequest<'_> = serde_json::from_slice(&bytes).expect("parses");
    assert_json_eq(&serde_json::to_value(&wire).expect("json"), &original);
}
