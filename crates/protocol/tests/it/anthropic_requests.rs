//! Anthropic requests: every request fixture through wire → core → wire, and
//! the core → wire mapping rules.

use crate::common;

use common::{assert_json_eq, fixture, fixture_json};
use serde_json::{Value, json};
use switchboard_core::{
    ChatRequest, ContentPart, ErrorKind, Message, Reasoning, ReasoningEffort, ResponseFormat, Role,
    Tool, ToolCall, ToolChoice,
};
use switchboard_protocol::anthropic::{
    self, DEFAULT_MAX_TOKENS, InboundMessagesRequest, MessagesRequest, RequestOptions,
};

const REQUESTS: &[&str] = &[
    "messages_request_system.json",
    "messages_request_image_base64.json",
    "messages_request_stream.json",
    "messages_request_stream_tool_use.json",
    "messages_request_stream_thinking.json",
    "messages_request_recorded.json",
    "messages_request_tools_recorded.json",
    "messages_request_tool_result_recorded.json",
    "messages_request_stream_recorded.json",
    "messages_request_stream_tools_recorded.json",
];

fn path(name: &str) -> String {
    format!("anthropic/{name}")
}

fn to_json(wire: &MessagesRequest<'_>) -> Value {
    let bytes = serde_json::to_vec(wire).expect("serializable");
    serde_json::from_slice(&bytes).expect("JSON")
}

fn wire_of(req: &ChatRequest) -> Value {
    to_json(&anthropic::to_wire_request(req, &RequestOptions::default()).expect("converts"))
}

/// Removes what the core drops on purpose (the `caller` the API adds to
/// `tool_use` blocks), so the rest can be compared exactly.
fn without_dropped(mut v: Value) -> Value {
    if let Some(messages) = v.get_mut("messages").and_then(Value::as_array_mut) {
        for m in messages {
            if let Some(blocks) = m.get_mut("content").and_then(Value::as_array_mut) {
                for b in blocks {
                    if let Some(o) = b.as_object_mut() {
                        o.remove("caller");
                    }
                }
            }
        }
    }
    v
}

#[test]
fn every_request_fixture_survives_wire_core_wire() {
    for name in REQUESTS {
        let body = fixture(&path(name));
        let inbound = anthropic::parse_messages_request(&body)
            .unwrap_or_else(|e| panic!("{name} does not parse: {e}"));
        let back = to_json(
            &inbound
                .to_wire(&RequestOptions::default())
                .expect("converts back"),
        );
        assert_json_eq(&back, &without_dropped(fixture_json(&path(name))));
    }
}

#[test]
fn wire_types_keep_every_field() {
    for name in REQUESTS {
        let body = fixture(&path(name));
        let wire: MessagesRequest<'_> = serde_json::from_slice(&body).expect("parses");
        assert_json_eq(&to_json(&wire), &fixture_json(&path(name)));
    }
}

#[test]
fn strings_are_borrowed_from_the_body() {
    let body = fixture(&path("messages_request_system.json"));
    let wire: MessagesRequest<'_> = serde_json::from_slice(&body).expect("parses");
    assert!(matches!(wire.model, std::borrow::Cow::Borrowed(_)));
}

#[test]
fn fixture_requests_map_to_core() {
    let system = anthropic::parse_messages_request(&fixture(&path("messages_request_system.json")))
        .expect("parses")
        .request;
    assert_eq!(system.messages[0].role, Role::System);
    assert_eq!(system.max_tokens, Some(2048));
    assert_eq!(system.messages[1].role, Role::User);

    let image =
        anthropic::parse_messages_request(&fixture(&path("messages_request_image_base64.json")))
            .expect("parses")
            .request;
    assert_eq!(
        image.messages[0].content[0],
        ContentPart::image_base64("image/jpeg", "$BASE64_IMAGE_DATA")
    );

    let tools =
        anthropic::parse_messages_request(&fixture(&path("messages_request_stream_tool_use.json")))
            .expect("parses");
    assert!(tools.is_stream());
    assert_eq!(tools.request.tool_choice, Some(ToolChoice::Required));
    assert_eq!(tools.request.tools[0].name, "get_weather");

    let thinking =
        anthropic::parse_messages_request(&fixture(&path("messages_request_stream_thinking.json")))
            .expect("parses")
            .request;
    assert_eq!(
        thinking.reasoning,
        Some(Reasoning {
            effort: None,
            budget_tokens: Some(16000)
        })
    );

    let structured =
        anthropic::parse_messages_request(&fixture(&path("messages_request_recorded.json")))
            .expect("parses")
            .request;
    let Some(ResponseFormat::JsonSchema { name, schema, .. }) = &structured.response_format else {
        panic!("no json schema: {:?}", structured.response_format);
    };
    assert_eq!(name, anthropic::DEFAULT_SCHEMA_NAME);
    assert_eq!(schema["title"], "OrderItem");

    let result = anthropic::parse_messages_request(&fixture(&path(
        "messages_request_tool_result_recorded.json",
    )))
    .expect("parses")
    .request;
    let roles: Vec<Role> = result.messages.iter().map(|m| m.role).collect();
    assert_eq!(roles, [Role::User, Role::Assistant, Role::Tool]);
    let call = &result.messages[1].tool_calls[0];
    assert_eq!(call.id, "toolu_01LRanfq6DmHn1yDTB4d1SAh");
    let args: Value = serde_json::from_str(&call.arguments).expect("JSON arguments");
    assert_eq!(args, json!({"location": "San Francisco, CA", "units": "f"}));
    assert_eq!(
        result.messages[2].tool_call_id.as_deref(),
        Some("toolu_01LRanfq6DmHn1yDTB4d1SAh")
    );
    // The result is a JSON text; its own `\u00b0` escape is kept as text.
    assert!(result.messages[2].text().contains(r"68\u00b0F"));
}

#[test]
fn system_and_developer_messages_become_the_system_prompt() {
    let one = ChatRequest::new("m", vec![Message::system("Be brief."), Message::user("Hi")]);
    assert_eq!(wire_of(&one)["system"], "Be brief.");
    let mut many = ChatRequest::new(
        "m",
        vec![
            Message::system("First."),
            Message::user("Hi"),
            Message::new(Role::Developer, "Second."),
            Message::assistant("Hello"),
        ],
    );
    many.messages.push(Message::user("Bye"));
    let w = wire_of(&many);
    assert_eq!(
        w["system"],
        json!([{"type": "text", "text": "First."}, {"type": "text", "text": "Second."}])
    );
    assert_eq!(
        w["messages"],
        json!([
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello"},
            {"role": "user", "content": "Bye"},
        ])
    );
    let mut with_image = ChatRequest::new("m", vec![Message::user("x")]);
    with_image.messages.insert(
        0,
        Message {
            role: Role::System,
            content: vec![ContentPart::image_url("https://x/y.png")],
            tool_calls: vec![],
            tool_call_id: None,
            name: None,
            is_error: false,
        },
    );
    let err = anthropic::to_wire_request(&with_image, &RequestOptions::default())
        .expect_err("image in system");
    assert_eq!(err.param(), Some("messages[0].content[0]"));
}

fn tool_conversation() -> ChatRequest {
    let mut req = ChatRequest::new(
        "claude-sonnet-4-5",
        vec![
            Message::user("Weather in SF and NYC?"),
            Message {
                role: Role::Assistant,
                content: vec![
                    ContentPart::Reasoning {
                        text: "Two cities, two calls.".into(),
                        signature: Some("sig-1".into()),
                        redacted: None,
                        origin: Some(anthropic::ORIGIN.into()),
                    },
                    ContentPart::Reasoning {
                        text: String::new(),
                        signature: None,
                        redacted: Some("ENCRYPTED".into()),
                        origin: Some(anthropic::ORIGIN.into()),
                    },
                    ContentPart::text("Checking."),
                ],
                tool_calls: vec![
                    ToolCall {
                        id: "toolu_1".into(),
                        name: "get_weather".into(),
                        arguments: r#"{"location":"SF"}"#.into(),
                    },
                    ToolCall {
                        id: "toolu_2".into(),
                        name: "get_weather".into(),
                        arguments: String::new(),
                    },
                ],
                tool_call_id: None,
                name: None,
                is_error: false,
            },
            Message::tool_result("toolu_1", "18C"),
            Message {
                role: Role::Tool,
                content: vec![
                    ContentPart::text("see chart"),
                    ContentPart::image_base64("image/png", "AAAA"),
                ],
                tool_calls: vec![],
                tool_call_id: Some("toolu_2".into()),
                name: Some("get_weather".into()),
                is_error: true,
            },
            Message::user("Thanks!"),
        ],
    );
    req.tools.push(Tool::new(
        "get_weather",
        "Weather for a city",
        json!({"type": "object", "properties": {"location": {"type": "string"}}}),
    ));
    req
}

#[test]
fn tool_results_merge_into_one_user_turn_and_thinking_goes_back_first() {
    let w = wire_of(&tool_conversation());
    assert_eq!(
        w["messages"],
        json!([
            {"role": "user", "content": "Weather in SF and NYC?"},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "Two cities, two calls.", "signature": "sig-1"},
                {"type": "redacted_thinking", "data": "ENCRYPTED"},
                {"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"location": "SF"}},
                {"type": "tool_use", "id": "toolu_2", "name": "get_weather", "input": {}},
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "18C"},
                {"type": "tool_result", "tool_use_id": "toolu_2", "is_error": true, "content": [
                    {"type": "text", "text": "see chart"},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}},
                ]},
                {"type": "text", "text": "Thanks!"},
            ]},
        ])
    );
    assert_eq!(
        w["tools"],
        json!([{"name": "get_weather", "description": "Weather for a city",
                "input_schema": {"type": "object", "properties": {"location": {"type": "string"}}}}])
    );
}

#[test]
fn core_wire_core_round_trip_keeps_the_conversation() {
    let req = tool_conversation();
    let wire = anthropic::to_wire_request(&req, &RequestOptions::default()).expect("converts");
    let back = anthropic::from_wire_request(wire).expect("back").request;
    // Arguments come back as compact JSON of the parsed input; empty ones as `{}`.
    let mut expected = req.clone();
    expected.max_tokens = Some(DEFAULT_MAX_TOKENS);
    expected.messages[1].tool_calls[1].arguments = "{}".into();
    // Anthropic has no participant names.
    expected.messages[3].name = None;
    assert_eq!(back, expected);
}

#[test]
fn unsigned_reasoning_and_empty_text_are_left_out() {
    let req = ChatRequest::new(
        "m",
        vec![
            Message::user("Hi"),
            Message {
                role: Role::Assistant,
                content: vec![
                    ContentPart::Reasoning {
                        text: "DeepSeek thoughts".into(),
                        signature: None,
                        redacted: None,
                        origin: None,
                    },
                    ContentPart::text(""),
                    ContentPart::text("Hello"),
                ],
                tool_calls: vec![],
                tool_call_id: None,
                name: None,
                is_error: false,
            },
            Message {
                role: Role::Assistant,
                content: vec![ContentPart::Reasoning {
                    text: "only thoughts".into(),
                    signature: None,
                    redacted: None,
                    origin: None,
                }],
                tool_calls: vec![],
                tool_call_id: None,
                name: None,
                is_error: false,
            },
            Message::user("More"),
        ],
    );
    assert_eq!(
        wire_of(&req)["messages"],
        json!([
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello"},
            {"role": "user", "content": "More"},
        ])
    );
}

#[test]
fn invalid_tool_arguments_are_an_error_naming_the_message() {
    for bad in ["{not json", "[1,2]", "\"str\""] {
        let mut req = tool_conversation();
        req.messages[1].tool_calls[1].arguments = bad.into();
        let err = anthropic::to_wire_request(&req, &RequestOptions::default()).expect_err(bad);
        assert_eq!(err.kind(), &ErrorKind::InvalidRequest);
        assert_eq!(err.param(), Some("messages[1].tool_calls[1].arguments"));
        assert!(err.message().contains("toolu_2"), "{err}");
    }
}

#[test]
fn images_by_url_and_data_url() {
    let req = ChatRequest::new(
        "m",
        vec![Message {
            role: Role::User,
            content: vec![
                ContentPart::image_url("https://example.com/a.png"),
                ContentPart::image_url("data:image/gif;base64,R0lG"),
                ContentPart::Image {
                    source: switchboard_core::ImageSource::Url {
                        url: "https://example.com/b.png".into(),
                    },
                    detail: Some("high".into()),
                },
            ],
            tool_calls: vec![],
            tool_call_id: None,
            name: None,
            is_error: false,
        }],
    );
    assert_eq!(
        wire_of(&req)["messages"][0]["content"],
        json!([
            {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}},
            {"type": "image", "source": {"type": "base64", "media_type": "image/gif", "data": "R0lG"}},
            {"type": "image", "source": {"type": "url", "url": "https://example.com/b.png"}},
        ])
    );
    let mut assistant_image = req.clone();
    assistant_image.messages[0].role = Role::Assistant;
    let err = anthropic::to_wire_request(&assistant_image, &RequestOptions::default())
        .expect_err("image in assistant");
    assert_eq!(err.param(), Some("messages[0].content[0]"));
}

#[test]
fn parameters_map_to_their_anthropic_names() {
    let mut req = ChatRequest::new("m", vec![Message::user("Hi")]).max_tokens(100);
    req.temperature = Some(0.5);
    req.top_p = Some(0.9);
    req.stop = vec!["END".into()];
    req.user = Some("user-42".into());
    req.tools
        .push(Tool::new("f", "d", json!({"type": "object"})));
    req.tool_choice = Some(ToolChoice::Tool("f".into()));
    req.parallel_tool_calls = Some(false);
    req.extra.insert("top_k".into(), json!(5));
    req.extra.insert("service_tier".into(), json!("auto"));
    let w = wire_of(&req);
    assert_json_eq(
        &w,
        &json!({
            "model": "m",
            "max_tokens": 100,
            "messages": [{"role": "user", "content": "Hi"}],
            "temperature": 0.5,
            "top_p": 0.9,
            "top_k": 5,
            "stop_sequences": ["END"],
            "metadata": {"user_id": "user-42"},
            "tools": [{"name": "f", "description": "d", "input_schema": {"type": "object"}}],
            "tool_choice": {"type": "tool", "name": "f", "disable_parallel_tool_use": true},
            "service_tier": "auto",
        }),
    );
    let back = anthropic::from_wire_request(
        anthropic::to_wire_request(&req, &RequestOptions::default()).expect("converts"),
    )
    .expect("back")
    .request;
    assert_eq!(back, req);
}

#[test]
fn tool_choices() {
    let mut req = ChatRequest::new("m", vec![Message::user("Hi")]);
    req.tools
        .push(Tool::new("f", "d", json!({"type": "object"})));
    for (choice, parallel, expected) in [
        (Some(ToolChoice::Auto), None, json!({"type": "auto"})),
        (Some(ToolChoice::Required), None, json!({"type": "any"})),
        (Some(ToolChoice::None), Some(false), json!({"type": "none"})),
        (
            None,
            Some(false),
            json!({"type": "auto", "disable_parallel_tool_use": true}),
        ),
        (
            Some(ToolChoice::Required),
            Some(false),
            json!({"type": "any", "disable_parallel_tool_use": true}),
        ),
    ] {
        req.tool_choice = choice;
        req.parallel_tool_calls = parallel;
        assert_eq!(wire_of(&req)["tool_choice"], expected);
    }
    req.tool_choice = None;
    req.parallel_tool_calls = Some(true);
    assert_eq!(wire_of(&req).get("tool_choice"), None);
}

#[test]
fn reasoning_maps_to_a_thinking_budget() {
    let mut req = ChatRequest::new("m", vec![Message::user("27 * 453?")]);
    for (effort, budget) in [
        (ReasoningEffort::Minimal, 1024),
        (ReasoningEffort::Low, 2048),
        (ReasoningEffort::Medium, 8192),
        (ReasoningEffort::High, 16_384),
    ] {
        req.reasoning = Some(Reasoning {
            effort: Some(effort),
            budget_tokens: None,
        });
        let w = wire_of(&req);
        assert_eq!(
            w["thinking"],
            json!({"type": "enabled", "budget_tokens": budget})
        );
        // No max_tokens given: room for the budget plus the default answer.
        assert_eq!(w["max_tokens"], json!(budget + DEFAULT_MAX_TOKENS));
    }
    req.reasoning = Some(Reasoning {
        effort: Some(ReasoningEffort::Low),
        budget_tokens: Some(5000),
    });
    req.max_tokens = Some(20_000);
    let w = wire_of(&req);
    assert_eq!(w["thinking"]["budget_tokens"], 5000);
    assert_eq!(w["max_tokens"], 20_000);
    // A newer thinking type given through `extra` passes through.
    let mut adaptive = ChatRequest::new("m", vec![Message::user("x")]);
    adaptive
        .extra
        .insert("thinking".into(), json!({"type": "adaptive"}));
    assert_eq!(wire_of(&adaptive)["thinking"], json!({"type": "adaptive"}));
    req.extra
        .insert("thinking".into(), json!({"type": "adaptive"}));
    let err = anthropic::to_wire_request(&req, &RequestOptions::default()).expect_err("twice");
    assert_eq!(err.param(), Some("extra.thinking"));
}

#[test]
fn default_max_tokens_is_configurable() {
    let req = ChatRequest::new("m", vec![Message::user("Hi")]);
    assert_eq!(wire_of(&req)["max_tokens"], DEFAULT_MAX_TOKENS);
    let opts = RequestOptions::default().default_max_tokens(1000);
    let w = anthropic::to_wire_request(&req, &opts).expect("converts");
    assert_eq!(w.max_tokens, 1000);
}

#[test]
fn unsupported_parameters_are_errors_unless_dropped() {
    let base = ChatRequest::new("m", vec![Message::user("Hi")]);
    type Setter = Box<dyn Fn(&mut ChatRequest)>;
    let cases: Vec<(&str, Setter)> = vec![
        ("seed", Box::new(|r| r.seed = Some(7))),
        (
            "presence_penalty",
            Box::new(|r| r.presence_penalty = Some(0.5)),
        ),
        (
            "frequency_penalty",
            Box::new(|r| r.frequency_penalty = Some(0.5)),
        ),
        (
            "metadata",
            Box::new(|r| {
                r.metadata.insert("k".into(), "v".into());
            }),
        ),
    ];
    for (param, set) in cases {
        let mut req = base.clone();
        set(&mut req);
        let err = anthropic::to_wire_request(&req, &RequestOptions::default()).expect_err(param);
        assert_eq!(err.kind(), &ErrorKind::Unsupported, "{param}");
        assert_eq!(err.param(), Some(param));
        assert!(err.message().contains(param), "{err}");
        let dropped =
            anthropic::to_wire_request(&req, &RequestOptions::default().drop_unsupported())
                .expect("dropped");
        let v = to_json(&dropped);
        assert_eq!(v.get(param), None);
        assert_eq!(v.get("metadata"), None);
    }
    let err =
        anthropic::to_wire_request(&base.clone().temperature(1.5), &RequestOptions::default())
            .expect_err("too hot");
    assert_eq!(err.param(), Some("temperature"));
}

#[test]
fn response_formats() {
    let schema = json!({"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"], "additionalProperties": false});
    let mut req = ChatRequest::new("m", vec![Message::user("Hi")]);
    req.response_format = Some(ResponseFormat::JsonSchema {
        name: "thing".into(),
        description: None,
        schema: schema.clone(),
        strict: Some(true),
    });
    assert_eq!(
        wire_of(&req)["output_config"],
        json!({"format": {"type": "json_schema", "schema": schema}})
    );
    req.extra
        .insert("output_config".into(), json!({"effort": "low"}));
    assert_eq!(
        wire_of(&req)["output_config"],
        json!({"format": {"type": "json_schema", "schema": schema}, "effort": "low"})
    );
    req.extra.insert(
        "output_config".into(),
        json!({"format": {"type": "json_schema", "schema": {}}}),
    );
    let err = anthropic::to_wire_request(&req, &RequestOptions::default()).expect_err("twice");
    assert_eq!(err.param(), Some("extra.output_config.format"));
    req.extra.clear();
    req.response_format = Some(ResponseFormat::JsonObject);
    let err = anthropic::to_wire_request(&req, &RequestOptions::default()).expect_err("no mode");
    assert_eq!(err.kind(), &ErrorKind::Unsupported);
    assert_eq!(err.param(), Some("response_format"));
    req.response_format = Some(ResponseFormat::Text);
    assert_eq!(wire_of(&req).get("output_config"), None);
}

#[test]
fn extra_entries_that_duplicate_fields_are_errors() {
    for key in [
        "system",
        "stop_sequences",
        "max_tokens",
        "metadata",
        "stream",
        "tools",
    ] {
        let mut req = ChatRequest::new("m", vec![Message::user("Hi")]);
        req.extra.insert(key.into(), json!(1));
        let err = anthropic::to_wire_request(&req, &RequestOptions::default()).expect_err(key);
        assert_eq!(err.param(), Some(format!("extra.{key}").as_str()), "{key}");
    }
    let mut req = ChatRequest::new("m", vec![Message::user("Hi")]);
    req.extra.insert("top_k".into(), json!(-1));
    assert!(anthropic::to_wire_request(&req, &RequestOptions::default()).is_err());
}

#[test]
fn cache_breakpoints_mark_system_tools_and_the_last_message() {
    let req = tool_conversation();
    let mut req = req;
    req.messages.insert(0, Message::system("You are helpful."));
    let wire = anthropic::to_wire_request(&req, &RequestOptions::default().cache_breakpoints())
        .expect("converts");
    let w = to_json(&wire);
    let cc = json!({"type": "ephemeral"});
    assert_eq!(
        w["system"],
        json!([{"type": "text", "text": "You are helpful.", "cache_control": cc}])
    );
    assert_eq!(w["tools"][0]["cache_control"], cc);
    let last = &w["messages"][2]["content"];
    assert_eq!(last[2]["cache_control"], cc);
    assert_eq!(last[0].get("cache_control"), None);
    // Inbound cache_control is accepted (and dropped): the request converts.
    let body = serde_json::to_vec(&wire).expect("serializes");
    let back = anthropic::parse_messages_request(&body).expect("cache_control accepted");
    assert_eq!(back.request.messages.len(), req.messages.len());
}

fn parse_err(body: Value) -> switchboard_core::Error {
    let bytes = serde_json::to_vec(&body).expect("json");
    match anthropic::parse_messages_request(&bytes) {
        Ok(r) => panic!("parsed: {r:?}"),
        Err(e) => e,
    }
}

#[test]
fn inbound_errors_name_the_field() {
    let base =
        json!({"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "Hi"}]});
    let mut no_max = base.clone();
    no_max.as_object_mut().expect("object").remove("max_tokens");
    let err = parse_err(no_max);
    assert_eq!(err.kind(), &ErrorKind::InvalidRequest);
    assert_eq!(err.param(), Some("max_tokens"));

    let mut bad_content = base.clone();
    bad_content["messages"][0]["content"] = json!(42);
    let err = parse_err(bad_content);
    assert_eq!(err.param(), Some("messages[0].content"));
    assert!(
        err.message()
            .contains("a string or an array of content blocks"),
        "{err}"
    );

    let mut bad_system = base.clone();
    bad_system["system"] = json!(42);
    let err = parse_err(bad_system);
    assert!(err.message().contains("text blocks"), "{err}");

    let mut document = base.clone();
    document["messages"][0]["content"] = json!([
        {"type": "text", "text": "Summarize"},
        {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBER"}},
    ]);
    let err = parse_err(document);
    assert_eq!(err.kind(), &ErrorKind::Unsupported);
    assert_eq!(err.param(), Some("messages[0].content[1]"));
    assert!(err.message().contains("document"), "{err}");

    let mut server_tool = base.clone();
    server_tool["tools"] =
        json!([{"type": "web_search_20250305", "name": "web_search", "max_uses": 5}]);
    let err = parse_err(server_tool);
    assert_eq!(err.param(), Some("tools[0].type"));

    let mut role = base.clone();
    role["messages"][0]["role"] = json!("system");
    let err = parse_err(role);
    assert_eq!(err.param(), Some("messages[0].role"));

    let mut unknown_field = base.clone();
    unknown_field["messages"][0]["content"] =
        json!([{"type": "text", "text": "x", "frobnicate": true}]);
    let err = parse_err(unknown_field);
    assert_eq!(err.param(), Some("messages[0].content[0].frobnicate"));

    let mut thinking_in_user = base.clone();
    thinking_in_user["messages"][0]["content"] =
        json!([{"type": "thinking", "thinking": "x", "signature": "s"}]);
    let err = parse_err(thinking_in_user);
    assert_eq!(err.kind(), &ErrorKind::InvalidRequest);

    let mut file_image = base.clone();
    file_image["messages"][0]["content"] =
        json!([{"type": "image", "source": {"type": "file", "file_id": "file_1"}}]);
    let err = parse_err(file_image);
    assert_eq!(err.param(), Some("messages[0].content[0].source"));

    let mut metadata = base;
    metadata["metadata"] = json!({"user_id": "u", "session": "s"});
    let err = parse_err(metadata);
    assert_eq!(err.param(), Some("metadata.session"));

    let err = anthropic::parse_messages_request(b"{not json").expect_err("syntax");
    assert_eq!(err.kind(), &ErrorKind::InvalidRequest);
}

#[test]
fn inbound_annotations_are_accepted() {
    let body = json!({
        "model": "claude-sonnet-4-5",
        "max_tokens": 1024,
        "system": [{"type": "text", "text": "Cached prompt", "cache_control": {"type": "ephemeral"}}],
        "tools": [{"name": "f", "description": "d", "input_schema": {"type": "object"}, "cache_control": {"type": "ephemeral"}}],
        "tool_choice": {"type": "auto", "disable_parallel_tool_use": false},
        "thinking": {"type": "disabled"},
        "top_k": 40,
        "stop_sequences": ["X"],
        "metadata": {"user_id": "u-1"},
        "output_config": {"effort": "high"},
        "service_tier": "standard_only",
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "Hi", "cache_control": {"type": "ephemeral", "ttl": "1h"}}]},
            {"role": "assistant", "content": [
                {"type": "text", "text": "See", "citations": [{"type": "char_location"}]},
                {"type": "tool_use", "id": "toolu_9", "name": "f", "input": {}, "caller": {"type": "direct"}},
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_9", "is_error": true, "content": [{"type": "text", "text": "boom"}]},
                {"type": "text", "text": "and then?"},
            ]},
        ],
    });
    let inbound: InboundMessagesRequest =
        anthropic::parse_messages_request(&serde_json::to_vec(&body).expect("json"))
            .expect("accepted");
    let r = inbound.request;
    assert_eq!(r.messages[0].role, Role::System);
    assert_eq!(r.messages[0].text(), "Cached prompt");
    assert_eq!(r.tool_choice, Some(ToolChoice::Auto));
    assert_eq!(r.parallel_tool_calls, Some(true));
    assert_eq!(r.reasoning, None);
    assert_eq!(r.extra["top_k"], 40);
    assert_eq!(r.extra["output_config"], json!({"effort": "high"}));
    assert_eq!(r.extra["service_tier"], "standard_only");
    assert_eq!(r.user.as_deref(), Some("u-1"));
    assert_eq!(r.stop, ["X"]);
    let roles: Vec<Role> = r.messages.iter().map(|m| m.role).collect();
    assert_eq!(
        roles,
        [
            Role::System,
            Role::User,
            Role::Assistant,
            Role::Tool,
            Role::User
        ]
    );
    assert_eq!(r.messages[3].text(), "boom");
    // And back: the same conversation shape.
    let w = wire_of(&r);
    assert_eq!(
        w["messages"][2]["content"][1],
        json!({"type": "text", "text": "and then?"})
    );
    assert_eq!(w["output_config"], json!({"effort": "high"}));
    assert_eq!(w["top_k"], 40);
}

#[test]
fn another_familys_signed_reasoning_is_left_out() {
    let reasoning =
        |text: &str, signature: Option<&str>, redacted: Option<&str>, origin: Option<&str>| {
            ContentPart::Reasoning {
                text: text.into(),
                signature: signature.map(Into::into),
                redacted: redacted.map(Into::into),
                origin: origin.map(Into::into),
            }
        };
    let req = ChatRequest::new(
        "m",
        vec![
            Message::user("Hi"),
            Message {
                content: vec![
                    // Gemini's thought and a signature carrier.
                    reasoning("Gemini thinks", Some("G1"), None, Some("gemini")),
                    reasoning("", Some("G2"), None, Some("gemini")),
                    // Another family's encrypted reasoning.
                    reasoning("", None, Some("OPAQUE"), Some("openai")),
                    // Anthropic's own, and reasoning of unknown origin (saved
                    // before origins were recorded): sent as before.
                    reasoning("Claude thinks", Some("A1"), None, Some(anthropic::ORIGIN)),
                    reasoning("", None, Some("R1"), None),
                    ContentPart::text("Hello"),
                ],
                ..Message::assistant("")
            },
            Message::user("More"),
        ],
    );
    assert_eq!(
        wire_of(&req)["messages"][1],
        json!({"role": "assistant", "content": [
            {"type": "thinking", "thinking": "Claude thinks", "signature": "A1"},
            {"type": "redacted_thinking", "data": "R1"},
            {"type": "text", "text": "Hello"},
        ]})
    );
}

#[test]
fn tool_result_errors_map_both_ways() {
    let mut body = fixture_json(&path("messages_request_tool_result_recorded.json"));
    let turn = body["messages"]
        .as_array()
        .and_then(|m| {
            m.iter()
                .position(|m| m["content"][0]["type"] == "tool_result")
        })
        .expect("a tool_result turn");
    body["messages"][turn]["content"][0]["is_error"] = json!(true);
    let core = anthropic::parse_messages_request(body.to_string().as_bytes())
        .expect("parses")
        .request;
    let result = core
        .messages
        .iter()
        .find(|m| m.role == Role::Tool)
        .expect("a tool message");
    assert!(result.is_error);
    let again = wire_of(&core);
    assert_eq!(again["messages"][turn]["content"][0]["is_error"], true);
    // A successful result is written without the flag, as clients send it.
    let ok = ChatRequest::new(
        "m",
        vec![Message::user("x"), Message::tool_result("toolu_1", "fine")],
    );
    assert!(
        wire_of(&ok)["messages"][0]["content"][1]
            .get("is_error")
            .is_none()
    );
    let failed = ChatRequest::new(
        "m",
        vec![
            Message::user("x"),
            Message::tool_error("toolu_1", "no such city"),
        ],
    );
    assert_eq!(
        wire_of(&failed)["messages"][0]["content"][1],
        json!({"type": "tool_result", "tool_use_id": "toolu_1", "content": "no such city", "is_error": true})
    );
}
