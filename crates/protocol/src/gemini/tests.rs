//! Request and answer conversion, checked field by field.

use serde_json::{Value, json};
use switchboard_core::{
    ChatRequest, ContentPart, FinishReason, Message, Reasoning, ReasoningEffort, ResponseFormat,
    Tool, ToolCall, ToolChoice, Usage,
};

use super::response::carrier;
use super::*;
use crate::gemini::types as wire;

fn cfg() -> RequestOptions {
    RequestOptions::default()
}

fn body(req: &ChatRequest, cfg: &RequestOptions) -> Value {
    serde_json::to_value(to_wire_request(req, cfg).expect("maps")).expect("serializes")
}

#[test]
fn request_fields_map() {
    let mut req = ChatRequest::new(
        "gemini-2.5-flash",
        vec![
            Message::system("I say high you say low"),
            Message::user("high"),
        ],
    )
    .temperature(0.7)
    .max_tokens(200);
    req.top_p = Some(0.95);
    req.seed = Some(42);
    req.stop = vec!["END".into()];
    req.presence_penalty = Some(0.5);
    req.frequency_penalty = Some(-0.5);
    req.reasoning = Some(Reasoning {
        effort: Some(ReasoningEffort::Low),
        budget_tokens: None,
    });
    req.response_format = Some(ResponseFormat::JsonSchema {
        name: "r".into(),
        description: None,
        schema: json!({"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": false}),
        strict: Some(true),
    });
    req.extra.insert("top_k".into(), json!(40));
    req.extra
        .insert("cachedContent".into(), json!("cachedContents/abc"));
    let mut config = cfg();
    config
        .generation_config
        .insert("candidateCount".into(), json!(1));
    config
        .generation_config
        .insert("temperature".into(), json!(1.5));
    config.safety_settings.push(SafetySetting {
        category: "HARM_CATEGORY_HARASSMENT".into(),
        threshold: "BLOCK_ONLY_HIGH".into(),
    });
    assert_eq!(
        body(&req, &config),
        json!({
            "contents": [{"role": "user", "parts": [{"text": "high"}]}],
            "systemInstruction": {"parts": [{"text": "I say high you say low"}], "role": "user"},
            "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_ONLY_HIGH"}],
            "generationConfig": {
                "candidateCount": 1, "temperature": 0.7, "topP": 0.95, "maxOutputTokens": 200,
                "seed": 42, "stopSequences": ["END"], "presencePenalty": 0.5, "frequencyPenalty": -0.5,
                "topK": 40, "responseMimeType": "application/json",
                "responseJsonSchema": {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": false},
                "thinkingConfig": {"thinkingBudget": 1024, "includeThoughts": true}
            },
            "cachedContent": "cachedContents/abc"
        })
    );
}

#[test]
fn tools_and_tool_choice() {
    let mut req = ChatRequest::new("m", vec![Message::user("100/2?")])
        .tool(Tool::new(
            "customDivide",
            "Custom divide function",
            json!({"$schema": "x", "type": "object", "properties": {"numerator": {"type": "number"}, "denominator": {"type": "number"}}, "additionalProperties": false}),
        ))
        .tool(Tool::new("now", "The time", json!({"type": "object", "properties": {}})));
    req.tool_choice = Some(ToolChoice::Tool("customDivide".into()));
    let v = body(&req, &cfg());
    assert_eq!(
        v["tools"],
        json!([{"functionDeclarations": [
            {"name": "customDivide", "description": "Custom divide function",
             "parameters": {"type": "object", "properties": {"numerator": {"type": "number"}, "denominator": {"type": "number"}}}},
            {"name": "now", "description": "The time"}
        ]}])
    );
    assert_eq!(
        v["toolConfig"],
        json!({"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["customDivide"]}})
    );
    for (choice, mode) in [
        (ToolChoice::Auto, "AUTO"),
        (ToolChoice::None, "NONE"),
        (ToolChoice::Required, "ANY"),
    ] {
        req.tool_choice = Some(choice);
        assert_eq!(
            body(&req, &cfg())["toolConfig"],
            json!({"functionCallingConfig": {"mode": mode}})
        );
    }
}

#[test]
fn tool_turns_match_results_by_name_and_group_parallel_results() {
    let req = ChatRequest::new(
        "m",
        vec![
            Message::user("weather?"),
            Message {
                content: vec![ContentPart::text("Checking.")],
                ..Message::assistant_tool_calls(vec![
                    ToolCall {
                        id: "a".into(),
                        name: "get_weather".into(),
                        arguments: r#"{"city":"Paris"}"#.into(),
                    },
                    ToolCall {
                        id: "b".into(),
                        name: "get_time".into(),
                        arguments: String::new(),
                    },
                ])
            },
            Message::tool_result("a", r#"{"temp": 18}"#),
            Message::tool_result("b", "12:00"),
            Message::user("thanks"),
        ],
    );
    let v = body(&req, &cfg());
    assert_eq!(
        v["contents"],
        json!([
            {"role": "user", "parts": [{"text": "weather?"}]},
            {"role": "model", "parts": [
                {"text": "Checking."},
                {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": SKIP_THOUGHT_SIGNATURE},
                {"functionCall": {"name": "get_time", "args": {}}}
            ]},
            {"role": "user", "parts": [
                {"functionResponse": {"name": "get_weather", "response": {"temp": 18}}},
                {"functionResponse": {"name": "get_time", "response": {"output": "12:00"}}}
            ]},
            {"role": "user", "parts": [{"text": "thanks"}]}
        ])
    );
    let mut no_fallback = cfg();
    no_fallback.thought_signature_fallback = false;
    assert!(
        body(&req, &no_fallback)["contents"][1]["parts"][1]
            .get("thoughtSignature")
            .is_none()
    );

    let orphan = ChatRequest::new(
        "m",
        vec![Message::user("x"), Message::tool_result("zzz", "1")],
    );
    let err = to_wire_request(&orphan, &cfg()).expect_err("unknown call");
    assert_eq!(err.param(), Some("messages[1].tool_call_id"));
    let mut named = orphan.clone();
    named.messages[1].name = Some("lookup".into());
    assert_eq!(
        body(&named, &cfg())["contents"][1]["parts"][0]["functionResponse"]["name"],
        "lookup"
    );
}

#[test]
fn images() {
    let req = |part: ContentPart| {
        ChatRequest::new(
            "m",
            vec![Message {
                content: vec![ContentPart::text("what?"), part],
                ..Message::user("")
            }],
        )
    };
    let v = body(&req(ContentPart::image_base64("image/png", "AAAA")), &cfg());
    assert_eq!(
        v["contents"][0]["parts"][1],
        json!({"inlineData": {"mimeType": "image/png", "data": "AAAA"}})
    );
    let v = body(
        &req(ContentPart::image_url("data:image/jpeg;base64,BBBB")),
        &cfg(),
    );
    assert_eq!(
        v["contents"][0]["parts"][1],
        json!({"inlineData": {"mimeType": "image/jpeg", "data": "BBBB"}})
    );
    let v = body(&req(ContentPart::image_url("gs://bucket/cat.png")), &cfg());
    assert_eq!(
        v["contents"][0]["parts"][1],
        json!({"fileData": {"mimeType": "image/png", "fileUri": "gs://bucket/cat.png"}})
    );
    let files = "https://generativelanguage.googleapis.com/v1beta/files/abc123";
    let v = body(&req(ContentPart::image_url(files)), &cfg());
    assert_eq!(
        v["contents"][0]["parts"][1],
        json!({"fileData": {"fileUri": files}})
    );
    let err = to_wire_request(
        &req(ContentPart::image_url("https://example.com/cat.png")),
        &cfg(),
    )
    .expect_err("http");
    assert_eq!(err.kind(), &switchboard_core::ErrorKind::Unsupported);
    assert_eq!(err.param(), Some("messages[0].content[1]"));
}

#[test]
fn signatures_are_carried_back() {
    let answer: wire::GenerateContentResponse = serde_json::from_value(json!({
        "candidates": [{"content": {"role": "model", "parts": [
            {"text": "Need weather.", "thought": true, "thoughtSignature": "SIG_THOUGHT"},
            {"text": "Let me check.", "thoughtSignature": "SIG_TEXT"},
            {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "SIG_CALL"},
            {"functionCall": {"name": "get_weather", "args": {"city": "Rome"}}}
        ]}, "finishReason": "STOP"}],
        "responseId": "resp1"
    }))
    .expect("parses");
    let resp = from_wire_response(answer, "m", "g").expect("converts");
    assert_eq!(resp.finish_reason, FinishReason::ToolCalls);
    assert_eq!(resp.tool_calls[0].id, "call_resp1_0");
    assert_eq!(resp.tool_calls[1].id, "call_resp1_1");
    assert_eq!(resp.text(), "Let me check.");
    let req = ChatRequest::new("m", vec![Message::user("weather?"), resp.to_message()]);
    assert_eq!(
        body(&req, &cfg())["contents"][1]["parts"],
        json!([
            {"text": "Need weather.", "thought": true, "thoughtSignature": "SIG_THOUGHT"},
            {"text": "Let me check.", "thoughtSignature": "SIG_TEXT"},
            {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "SIG_CALL"},
            {"functionCall": {"name": "get_weather", "args": {"city": "Rome"}}}
        ])
    );
    let mut off = cfg();
    off.replay_thought_signatures = false;
    let parts = body(&req, &off)["contents"][1]["parts"].clone();
    assert_eq!(parts[0], json!({"text": "Need weather.", "thought": true}));
    assert_eq!(
        parts[2]["thoughtSignature"],
        json!(SKIP_THOUGHT_SIGNATURE),
        "the fallback still applies"
    );
}

#[test]
fn only_gemini_and_unknown_reasoning_is_replayed() {
    let reasoning = |text: &str, signature: &str, origin: Option<&str>| ContentPart::Reasoning {
        text: text.into(),
        signature: Some(signature.into()),
        redacted: None,
        origin: origin.map(Into::into),
    };
    let msg = Message {
        content: vec![
            reasoning("Claude thinks", "ANTHROPIC_SIG", Some("anthropic")),
            ContentPart::Reasoning {
                text: String::new(),
                signature: None,
                redacted: Some("ENCRYPTED".into()),
                origin: Some("anthropic".into()),
            },
            reasoning("", "FOREIGN_CARRIER", Some("mock")),
            reasoning("Gemini thinks", "SIG_THOUGHT", Some(ORIGIN)),
            // Saved before origins were recorded: replayed as before.
            reasoning("", "OLD_SIG", None),
            ContentPart::text("Hi"),
        ],
        ..Message::assistant_tool_calls(vec![ToolCall {
            id: "a".into(),
            name: "f".into(),
            arguments: "{}".into(),
        }])
    };
    let req = ChatRequest::new("m", vec![Message::user("x"), msg]);
    assert_eq!(
        body(&req, &cfg())["contents"][1]["parts"],
        json!([
            {"text": "Gemini thinks", "thought": true, "thoughtSignature": "SIG_THOUGHT"},
            {"text": "Hi", "thoughtSignature": "OLD_SIG"},
            {"functionCall": {"name": "f", "args": {}}, "thoughtSignature": SKIP_THOUGHT_SIGNATURE}
        ])
    );
}

#[test]
fn tool_errors_go_under_the_error_key() {
    let call = |id: &str| ToolCall {
        id: id.into(),
        name: "lookup".into(),
        arguments: "{}".into(),
    };
    let req = ChatRequest::new(
        "m",
        vec![
            Message::user("x"),
            Message::assistant_tool_calls(vec![call("a"), call("b"), call("c")]),
            Message::tool_error("a", "no such city"),
            Message::tool_error("b", r#"{"code": 404}"#),
            Message::tool_result("c", "fine"),
        ],
    );
    assert_eq!(
        body(&req, &cfg())["contents"][2]["parts"],
        json!([
            {"functionResponse": {"name": "lookup", "response": {"error": "no such city"}}},
            {"functionResponse": {"name": "lookup", "response": {"error": {"code": 404}}}},
            {"functionResponse": {"name": "lookup", "response": {"output": "fine"}}}
        ])
    );
}

#[test]
fn a_trailing_signature_goes_on_an_empty_text_part() {
    let msg = Message {
        content: vec![ContentPart::text("Hi"), carrier("SIG".into())],
        ..Message::assistant("")
    };
    let req = ChatRequest::new("m", vec![Message::user("x"), msg]);
    assert_eq!(
        body(&req, &cfg())["contents"][1]["parts"],
        json!([{"text": "Hi"}, {"text": "", "thoughtSignature": "SIG"}])
    );
}

#[test]
fn finish_reasons_and_usage() {
    assert_eq!(finish_reason("STOP", false), FinishReason::Stop);
    assert_eq!(finish_reason("STOP", true), FinishReason::ToolCalls);
    assert_eq!(finish_reason("MAX_TOKENS", true), FinishReason::Length);
    for r in [
        "SAFETY",
        "RECITATION",
        "BLOCKLIST",
        "PROHIBITED_CONTENT",
        "SPII",
        "IMAGE_SAFETY",
    ] {
        assert_eq!(finish_reason(r, false), FinishReason::ContentFilter, "{r}");
    }
    assert_eq!(
        finish_reason("MALFORMED_FUNCTION_CALL", false),
        FinishReason::Other("MALFORMED_FUNCTION_CALL".into())
    );
    let u: wire::UsageMetadata = serde_json::from_value(json!({
        "promptTokenCount": 100, "candidatesTokenCount": 20, "thoughtsTokenCount": 30,
        "cachedContentTokenCount": 64, "toolUsePromptTokenCount": 5, "totalTokenCount": 155
    }))
    .expect("parses");
    assert_eq!(
        usage_from_wire(&u),
        Usage {
            input_tokens: 105,
            output_tokens: 50,
            cached_input_tokens: 64,
            cache_write_input_tokens: 0,
            reasoning_tokens: 30,
            total_tokens: 155
        }
    );
}

#[test]
fn extra_entries() {
    let mut req = ChatRequest::new("m", vec![Message::user("x")]);
    req.extra
        .insert("generationConfig".into(), json!({"topK": 3}));
    req.extra.insert("logprobs".into(), json!(true));
    req.extra.insert("top_logprobs".into(), json!(2));
    req.extra.insert("futureField".into(), json!({"a": 1}));
    let v = body(&req, &cfg());
    assert_eq!(
        v["generationConfig"],
        json!({"topK": 3, "responseLogprobs": true, "logprobs": 2})
    );
    assert_eq!(v["futureField"], json!({"a": 1}));
    let mut dup = ChatRequest::new("m", vec![Message::user("x")]);
    dup.extra.insert("contents".into(), json!([]));
    assert_eq!(
        to_wire_request(&dup, &cfg()).expect_err("dup").param(),
        Some("extra.contents")
    );
    let mut n = ChatRequest::new("m", vec![Message::user("x")]);
    n.extra.insert("n".into(), json!(2));
    assert_eq!(
        to_wire_request(&n, &cfg()).expect_err("n").param(),
        Some("extra.n")
    );
}
