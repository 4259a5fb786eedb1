//! The Gemini inbound direction: client requests (as Google's SDKs send
//! them) → core, and core answers and streams → Gemini's wire, checked by
//! decoding them again with the provider-side decoder.

use serde_json::{Value, json};
use switchboard_core::{
    ChatEvent, ChatResponse, ContentPart, ErrorKind, FinishReason, Reasoning, ReasoningEffort,
    ResponseFormat, Role, ToolCall, ToolChoice, Usage,
};
use switchboard_protocol::gemini::inbound::{
    GeminiStreamEncoder, error_body, parse_generate_content_request, to_wire_response,
};
use switchboard_protocol::gemini::{GeminiStreamDecoder, error_from_value, parse_response};
use switchboard_protocol::sse::decode_body;

use crate::common::{fixture, fixture_json, summarize};

fn parse(path: &str) -> switchboard_core::ChatRequest {
    parse_generate_content_request(&fixture(path), "m/mock-1").expect("a valid request")
}

fn parse_json(body: Value) -> Result<switchboard_core::ChatRequest, switchboard_core::Error> {
    parse_generate_content_request(body.to_string().as_bytes(), "mock-1")
}

#[test]
fn sdk_request_with_system_instruction_and_tools() {
    let req = parse("gemini/inbound/generate_content_request_tools_system_sdk.json");
    assert_eq!(req.model, "m/mock-1");
    assert_eq!(req.messages.len(), 2);
    assert_eq!(req.messages[0].role, Role::System);
    assert_eq!(
        req.messages[0].content,
        vec![ContentPart::text("You are a helpful assistant.")]
    );
    assert_eq!(req.messages[1].role, Role::User);
    assert_eq!(
        req.messages[1].content,
        vec![ContentPart::text("What is the weather like in Boston?")]
    );
    assert_eq!(req.temperature, Some(0.2));
    assert_eq!(req.max_tokens, Some(256));
    assert_eq!(req.tools.len(), 1);
    assert_eq!(req.tools[0].name, "get_weather");
    assert_eq!(
        req.tools[0].parameters,
        json!({
            "type": "object",
            "properties": {"location": {
                "type": "string",
                "description": "The city and state, e.g. San Francisco, CA",
            }},
            "required": ["location"],
        })
    );
    assert_eq!(req.tool_choice, None);
}

#[test]
fn sdk_request_with_function_call_and_response() {
    let req = parse("gemini/inbound/generate_content_request_function_response_sdk.json");
    assert_eq!(req.messages.len(), 3);
    let call = &req.messages[1];
    assert_eq!(call.role, Role::Assistant);
    assert_eq!(
        call.tool_calls,
        vec![ToolCall {
            id: "call_1_0".into(),
            name: "get_weather".into(),
            arguments: r#"{"location":"Boston, MA"}"#.into(),
        }]
    );
    let result = &req.messages[2];
    assert_eq!(result.role, Role::Tool);
    assert_eq!(result.tool_call_id.as_deref(), Some("call_1_0"));
    assert_eq!(result.name.as_deref(), Some("get_weather"));
    assert_eq!(
        result.content,
        vec![ContentPart::text(r#"{"temperature":"22C"}"#)]
    );
    assert!(!result.is_error);
    // `"generationConfig": {}` sets nothing.
    assert_eq!(req.temperature, None);
    assert_eq!(req.max_tokens, None);
}

#[test]
fn sdk_stream_request_is_a_plain_prompt() {
    let req = parse("gemini/inbound/stream_generate_content_request_sdk.json");
    assert_eq!(req.messages.len(), 1);
    assert_eq!(
        req.messages[0].content,
        vec![ContentPart::text("Tell me a story in 100 words.")]
    );
}

#[test]
fn recorded_requests_parse() {
    let req = parse("gemini/generate_content_request_generation_config.json");
    assert_eq!(req.max_tokens, Some(200));
    assert_eq!(
        req.reasoning,
        Some(Reasoning {
            effort: None,
            budget_tokens: Some(50),
        })
    );
    let req = parse("gemini/generate_content_request_system_instruction.json");
    assert_eq!(req.messages[0].role, Role::System);
    let req = parse("gemini/generate_content_request_tools_followup.json");
    assert_eq!(req.messages.len(), 3);
    assert_eq!(req.messages[1].tool_calls[0].name, "customDivide");
    assert_eq!(
        req.tools[0].parameters["properties"]["numerator"],
        json!({"type": "number"})
    );
    // snake_case keys and bare objects for repeated fields (REST examples).
    let req = parse("gemini/cookbook_request_function_calling_snake_case.json");
    assert_eq!(req.messages.len(), 1);
    assert_eq!(req.messages[0].role, Role::User);
    let names: Vec<_> = req.tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["find_movies", "find_theaters", "get_showtimes"]);
}

#[test]
fn tool_config_and_generation_config_map() {
    let tools = json!([{"functionDeclarations": [
        {"name": "a", "parametersJsonSchema": {"type": "object"}},
        {"name": "b"},
        {"name": "c"},
    ]}]);
    let base = |config: Value| json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}], "tools": tools, "toolConfig": {"functionCallingConfig": config}});
    let req = parse_json(base(json!({"mode": "ANY", "allowedFunctionNames": ["b"]}))).expect("ok");
    assert_eq!(req.tool_choice, Some(ToolChoice::Tool("b".into())));
    let req = parse_json(base(
        json!({"mode": "ANY", "allowedFunctionNames": ["a", "c"]}),
    ))
    .expect("ok");
    assert_eq!(req.tool_choice, Some(ToolChoice::Required));
    assert_eq!(req.tools.len(), 2);
    assert_eq!(req.tools[0].parameters, json!({"type": "object"}));
    let req = parse_json(base(json!({"mode": "NONE"}))).expect("ok");
    assert_eq!(req.tool_choice, Some(ToolChoice::None));
    let req = parse_json(base(json!({"mode": "AUTO"}))).expect("ok");
    assert_eq!(req.tool_choice, Some(ToolChoice::Auto));
    assert!(parse_json(base(json!({"mode": "SOMETIMES"}))).is_err());

    let req = parse_json(json!({
        "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
        "generationConfig": {
            "topP": 0.5, "topK": 40, "stopSequences": ["END"], "seed": 7,
            "responseMimeType": "application/json",
            "responseSchema": {"type": "OBJECT", "properties": {"x": {"type": "INTEGER"}}},
            "thinkingConfig": {"thinkingLevel": "high"},
        },
    }))
    .expect("ok");
    assert_eq!(req.top_p, Some(0.5));
    assert_eq!(req.extra["top_k"], json!(40));
    assert_eq!(req.stop, ["END"]);
    assert_eq!(req.seed, Some(7));
    assert_eq!(
        req.response_format,
        Some(ResponseFormat::JsonSchema {
            name: "response".into(),
            description: None,
            schema: json!({"type": "object", "properties": {"x": {"type": "integer"}}}),
            strict: None,
        })
    );
    assert_eq!(
        req.reasoning.and_then(|r| r.effort),
        Some(ReasoningEffort::High)
    );
    let req = parse_json(json!({
        "contents": [{"parts": [{"text": "hi"}]}],
        "generationConfig": {"responseMimeType": "application/json", "thinkingConfig": {"thinkingBudget": 0}},
    }))
    .expect("ok");
    assert_eq!(req.response_format, Some(ResponseFormat::JsonObject));
    assert_eq!(
        req.reasoning.and_then(|r| r.effort),
        Some(ReasoningEffort::Minimal)
    );
}

#[test]
fn unsupported_requests_are_refused_with_a_param() {
    let cases = [
        (
            json!({"contents": [], "generationConfig": {"candidateCount": 2}}),
            "generationConfig.candidateCount",
        ),
        (
            json!({"contents": [], "cachedContent": "cachedContents/x"}),
            "cachedContent",
        ),
        (
            json!({"contents": [], "tools": [{"googleSearch": {}}]}),
            "tools[0]",
        ),
        (
            json!({"contents": [{"role": "user", "parts": [{"executableCode": {"code": "1"}}]}]}),
            "contents[0].parts[0]",
        ),
        (
            json!({"contents": [{"role": "robot", "parts": [{"text": "x"}]}]}),
            "contents[0].role",
        ),
    ];
    for (body, param) in cases {
        let err = parse_json(body.clone()).expect_err("refused");
        assert_eq!(err.param(), Some(param), "{body}");
    }
    let err = parse_generate_content_request(b"{not json", "m").expect_err("not JSON");
    assert_eq!(err.kind(), &ErrorKind::InvalidRequest);
}

#[test]
fn images_thoughts_and_errors_in_the_history() {
    let req = parse_json(json!({"contents": [
        {"role": "user", "parts": [
            {"text": "what is this?"},
            {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
        ]},
        {"role": "model", "parts": [
            {"text": "thinking", "thought": true, "thoughtSignature": "sig-1"},
            {"functionCall": {"id": "c-9", "name": "look", "args": {}}, "thoughtSignature": "sig-2"},
        ]},
        {"role": "user", "parts": [
            {"functionResponse": {"id": "c-9", "name": "look", "response": {"error": "blurry"}}},
        ]},
    ]}))
    .expect("ok");
    assert_eq!(
        req.messages[0].content[1],
        ContentPart::image_base64("image/png", "iVBORw0KGgo=")
    );
    let model = &req.messages[1];
    assert_eq!(
        model.content[0],
        ContentPart::Reasoning {
            text: "thinking".into(),
            signature: Some("sig-1".into()),
            redacted: None,
            origin: Some("gemini".into()),
        }
    );
    // The function call's signature is carried as a signature carrier.
    assert!(
        matches!(&model.content[1], ContentPart::Reasoning { text, signature: Some(s), .. } if text.is_empty() && s == "sig-2")
    );
    assert_eq!(model.tool_calls[0].id, "c-9");
    let tool = &req.messages[2];
    assert_eq!(tool.tool_call_id.as_deref(), Some("c-9"));
    assert!(tool.is_error);
    assert_eq!(tool.content, vec![ContentPart::text("blurry")]);
}

/// Core → wire → core through the provider-side parser.
fn response_round_trip(core: &ChatResponse) -> ChatResponse {
    let wire = serde_json::to_vec(&to_wire_response(core)).expect("serializable");
    parse_response(&wire, "unused", "gw").expect("the decoder reads what we wrote")
}

#[test]
fn recorded_responses_survive_a_round_trip() {
    for path in [
        "gemini/generate_content_response_text.json",
        "gemini/generate_content_response_max_tokens.json",
        "gemini/generate_content_response_function_call.json",
    ] {
        let core = parse_response(&fixture(path), "unused", "gw").expect("recorded answer");
        let again = response_round_trip(&core);
        assert_eq!(again.id, core.id, "{path}");
        assert_eq!(again.model, core.model, "{path}");
        assert_eq!(again.content, core.content, "{path}");
        assert_eq!(again.tool_calls, core.tool_calls, "{path}");
        assert_eq!(again.finish_reason, core.finish_reason, "{path}");
        assert_eq!(again.usage, core.usage, "{path}");
    }
}

fn rich_response() -> ChatResponse {
    ChatResponse {
        id: "resp-1".into(),
        model: "mock-1".into(),
        content: vec![
            ContentPart::Reasoning {
                text: "let me think".into(),
                signature: Some("gem-sig".into()),
                redacted: None,
                origin: Some("gemini".into()),
            },
            ContentPart::Reasoning {
                text: "claude thoughts".into(),
                signature: Some("anthropic-sig".into()),
                redacted: None,
                origin: Some("anthropic".into()),
            },
            ContentPart::text("Hello"),
        ],
        tool_calls: vec![ToolCall {
            id: "call_7".into(),
            name: "get_weather".into(),
            arguments: r#"{"city":"Paris"}"#.into(),
        }],
        finish_reason: FinishReason::ToolCalls,
        usage: Usage {
            input_tokens: 10,
            output_tokens: 25,
            cached_input_tokens: 4,
            cache_write_input_tokens: 0,
            reasoning_tokens: 5,
            total_tokens: 35,
        },
        ..ChatResponse::default()
    }
}

#[test]
fn a_response_is_written_as_gemini_writes_it() {
    let wire = serde_json::to_value(to_wire_response(&rich_response())).expect("serializable");
    assert_eq!(
        wire,
        json!({
            "candidates": [{
                "content": {"role": "model", "parts": [
                    {"text": "let me think", "thought": true, "thoughtSignature": "gem-sig"},
                    // Another family's signature is not written.
                    {"text": "claude thoughts", "thought": true},
                    {"text": "Hello"},
                    {"functionCall": {"id": "call_7", "name": "get_weather", "args": {"city": "Paris"}}},
                ]},
                "finishReason": "STOP",
                "index": 0,
            }],
            "usageMetadata": {
                "promptTokenCount": 10,
                "candidatesTokenCount": 20,
                "thoughtsTokenCount": 5,
                "cachedContentTokenCount": 4,
                "totalTokenCount": 35,
            },
            "modelVersion": "mock-1",
            "responseId": "resp-1",
        })
    );
    let again = response_round_trip(&rich_response());
    assert_eq!(again.tool_calls, rich_response().tool_calls);
    assert_eq!(again.finish_reason, FinishReason::ToolCalls);
    assert_eq!(again.usage, rich_response().usage);
    assert_eq!(again.text(), "Hello");
}

fn encode(events: &[ChatEvent]) -> Vec<u8> {
    let mut encoder = GeminiStreamEncoder::new();
    let mut out = Vec::new();
    for e in events {
        out.extend_from_slice(&encoder.encode(e).expect("encodes"));
    }
    assert!(encoder.is_finished());
    out.extend_from_slice(&encoder.finish().expect("finishes"));
    out
}

fn frame(segments: &Value) -> Vec<u8> {
    let mut body = Vec::new();
    for s in segments.as_array().expect("an array of events") {
        body.extend_from_slice(format!("data: {s}\r\n\r\n").as_bytes());
    }
    body
}

#[test]
fn recorded_streams_survive_a_round_trip() {
    for path in [
        "gemini/stream_generate_content_segments.json",
        "gemini/stream_generate_content_function_call_segments.json",
    ] {
        let body = frame(&fixture_json(path));
        let events = decode_body(&body, GeminiStreamDecoder::new("m")).expect("recorded stream");
        let again = decode_body(&encode(&events), GeminiStreamDecoder::new("m"))
            .expect("the decoder reads what we wrote");
        let (a, b) = (summarize(&events), summarize(&again));
        assert!(!a.text.is_empty() || !a.tools.is_empty(), "{path}");
        assert_eq!(b.text, a.text, "{path}");
        assert_eq!(b.tools, a.tools, "{path}");
        assert_eq!(b.usage, a.usage, "{path}");
        assert_eq!(b.finish, a.finish, "{path}");
    }
}

#[test]
fn a_stream_is_written_chunk_by_chunk() {
    let events = switchboard_core::response_to_events(&rich_response());
    let mut usage_last = events.clone();
    usage_last.push(ChatEvent::Usage(rich_response().usage));
    let body = encode(&usage_last);
    let text = String::from_utf8(body.clone()).expect("UTF-8");
    let chunks: Vec<Value> = text
        .split("\n\n")
        .filter_map(|f| f.strip_prefix("data: "))
        .map(|j| serde_json::from_str(j).expect("JSON chunk"))
        .collect();
    let last = chunks.last().expect("chunks");
    assert_eq!(last["candidates"][0]["finishReason"], "STOP");
    assert_eq!(
        last["candidates"][0]["content"]["parts"][0]["functionCall"],
        json!({"id": "call_7", "name": "get_weather", "args": {"city": "Paris"}})
    );
    assert_eq!(last["usageMetadata"]["candidatesTokenCount"], 20);
    assert!(chunks.iter().all(|c| c["responseId"] == "resp-1"));
    // No other chunk carries a finish reason.
    assert_eq!(
        chunks
            .iter()
            .filter(|c| !c["candidates"][0]["finishReason"].is_null())
            .count(),
        1
    );
    let decoded = decode_body(&body, GeminiStreamDecoder::new("m")).expect("decodes");
    let s = summarize(&decoded);
    assert_eq!(s.text, "Hello");
    assert_eq!(s.reasoning, "let me thinkclaude thoughts");
    assert_eq!(s.finish, Some(FinishReason::ToolCalls));
    assert_eq!(
        s.tools.iter().map(|t| t.3.as_str()).collect::<Vec<_>>(),
        [r#"{"city":"Paris"}"#]
    );
}

#[test]
fn errors_are_in_googles_format_and_read_back() {
    let cases = [
        (
            switchboard_core::Error::invalid_request("bad"),
            400,
            "INVALID_ARGUMENT",
        ),
        (
            switchboard_core::Error::auth("no key"),
            401,
            "UNAUTHENTICATED",
        ),
        (
            switchboard_core::Error::permission("no"),
            403,
            "PERMISSION_DENIED",
        ),
        (
            switchboard_core::Error::not_found("no model"),
            404,
            "NOT_FOUND",
        ),
        (
            switchboard_core::Error::rate_limited(Some(std::time::Duration::from_secs(3)), "slow"),
            429,
            "RESOURCE_EXHAUSTED",
        ),
        (
            switchboard_core::Error::unavailable("down"),
            503,
            "UNAVAILABLE",
        ),
        (
            switchboard_core::Error::timeout("late"),
            504,
            "DEADLINE_EXCEEDED",
        ),
        (switchboard_core::Error::internal("bug"), 500, "INTERNAL"),
    ];
    for (err, status, name) in cases {
        let (code, body) = error_body(&err);
        assert_eq!(code, status);
        let body: Value = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(body["error"]["code"], status);
        assert_eq!(body["error"]["status"], name);
        assert_eq!(body["error"]["message"], err.message());
        let back = error_from_value(&body);
        // A client reading a Google 500 sees an upstream failure.
        let expected = match err.kind() {
            ErrorKind::Internal => "upstream",
            kind => kind.code(),
        };
        assert_eq!(back.kind().code(), expected, "{name}");
        assert_eq!(back.retry_after(), err.retry_after(), "{name}");
    }
}

#[test]
fn a_failed_stream_ends_with_an_error_chunk() {
    let mut encoder = GeminiStreamEncoder::new();
    let frame = encoder.error_frame(&switchboard_core::Error::unavailable("overloaded"));
    let err = decode_body(&frame, GeminiStreamDecoder::new("m")).expect_err("an error");
    assert_eq!(err.kind(), &ErrorKind::Unavailable);
    assert!(
        encoder
            .encode(&ChatEvent::TextDelta { text: "x".into() })
            .expect("ok")
            .is_empty()
    );
}
