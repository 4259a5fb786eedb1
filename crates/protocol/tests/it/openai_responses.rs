//! Chat responses: wire ⇄ core, on the official fixtures.

use crate::common;

use common::{assert_json_eq, fixture, fixture_json};
use serde_json::{Value, json};
use switchboard_core::{ChatResponse, ContentPart, ErrorKind, FinishReason, ToolCall, Usage};
use switchboard_protocol::openai::{
    self, extra_keys, parse_chat_response, to_wire_response, usage_from_wire,
};

fn wire_json(resp: &ChatResponse) -> Value {
    let bytes = serde_json::to_vec(&to_wire_response(resp)).expect("serializes");
    serde_json::from_slice(&bytes).expect("json")
}

#[test]
fn default_response() {
    let resp = parse_chat_response(&fixture("openai/chat_response.json")).expect("parses");
    assert_eq!(resp.id, "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT");
    assert_eq!(resp.model, "gpt-5.4");
    assert_eq!(resp.created, 1_741_569_952);
    assert_eq!(resp.text(), "Hello! How can I assist you today?");
    assert_eq!(resp.content.len(), 1, "a null refusal adds no part");
    assert!(resp.tool_calls.is_empty());
    assert_eq!(resp.finish_reason, FinishReason::Stop);
    assert_eq!(
        resp.usage,
        Usage {
            input_tokens: 19,
            output_tokens: 10,
            cached_input_tokens: 0,
            cache_write_input_tokens: 0,
            reasoning_tokens: 0,
            total_tokens: 29
        }
    );
    assert_eq!(resp.extra[extra_keys::SERVICE_TIER], json!("default"));
    assert!(
        !resp.extra.contains_key(extra_keys::ANNOTATIONS),
        "empty annotations are not kept"
    );
}

#[test]
fn default_response_back_to_wire_keeps_what_clients_read() {
    let original = fixture_json("openai/chat_response.json");
    let resp = parse_chat_response(&fixture("openai/chat_response.json")).expect("parses");
    let back = wire_json(&resp);
    for key in ["id", "object", "created", "model", "service_tier"] {
        assert_eq!(back[key], original[key], "{key}");
    }
    assert_json_eq(
        &back["choices"][0]["message"],
        &original["choices"][0]["message"],
    );
    assert_eq!(back["choices"][0]["finish_reason"], json!("stop"));
    assert_eq!(back["choices"][0]["logprobs"], Value::Null);
    for key in ["prompt_tokens", "completion_tokens", "total_tokens"] {
        assert_eq!(back["usage"][key], original["usage"][key], "{key}");
    }
    assert_eq!(
        back["usage"]["prompt_tokens_details"]["cached_tokens"],
        json!(0)
    );
    assert_eq!(
        back["usage"]["completion_tokens_details"]["reasoning_tokens"],
        json!(0)
    );
    // OpenAI's shape: content and refusal present (null when absent).
    let message = back["choices"][0]["message"].as_object().expect("object");
    assert!(message.contains_key("refusal"));
}

#[test]
fn image_response() {
    let resp = parse_chat_response(&fixture("openai/chat_response_image_url.json")).expect("ok");
    assert!(
        resp.text()
            .starts_with("The image shows a wooden boardwalk path")
    );
    assert_eq!(
        (
            resp.usage.input_tokens,
            resp.usage.output_tokens,
            resp.usage.total_tokens
        ),
        (1117, 46, 1163)
    );
}

#[test]
fn tool_call_response() {
    let resp = parse_chat_response(&fixture("openai/chat_response_tool_calls.json")).expect("ok");
    assert!(resp.content.is_empty(), "content: null adds no part");
    assert_eq!(
        resp.tool_calls,
        vec![ToolCall {
            id: "call_abc123".into(),
            name: "get_current_weather".into(),
            arguments: "{\n\"location\": \"Boston, MA\"\n}".into(),
        }]
    );
    let args: Value =
        serde_json::from_str(&resp.tool_calls[0].arguments).expect("arguments are JSON text");
    assert_eq!(args["location"], json!("Boston, MA"));
    assert_eq!(resp.finish_reason, FinishReason::ToolCalls);
    assert_eq!(
        (
            resp.usage.input_tokens,
            resp.usage.output_tokens,
            resp.usage.total_tokens
        ),
        (82, 17, 99)
    );

    let back = wire_json(&resp);
    let original = fixture_json("openai/chat_response_tool_calls.json");
    assert_eq!(back["choices"][0]["message"]["content"], Value::Null);
    assert_eq!(
        back["choices"][0]["message"]["tool_calls"],
        original["choices"][0]["message"]["tool_calls"]
    );
    assert_eq!(back["choices"][0]["finish_reason"], json!("tool_calls"));
}

#[test]
fn json_schema_content_is_kept_verbatim() {
    // Only the content string of this answer is published; wrap it in a body.
    let content =
        String::from_utf8(fixture("openai/chat_response_json_schema_content.txt")).expect("utf-8");
    let body = json!({
        "id": "chatcmpl-x", "object": "chat.completion", "created": 1, "model": "gpt-4o-2024-08-06",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}]
    });
    let resp = parse_chat_response(&serde_json::to_vec(&body).expect("json")).expect("ok");
    assert_eq!(resp.text(), content);
    let answer: Value = serde_json::from_str(&resp.text()).expect("the content is JSON");
    assert_eq!(answer["final_answer"], json!("-15/4"));
    assert_eq!(answer["steps"].as_array().map(Vec::len), Some(4));
    assert_eq!(
        resp.usage,
        Usage::default(),
        "no usage in the body means zeros"
    );
}

#[test]
fn groq_response_keeps_its_extensions() {
    let resp =
        parse_chat_response(&fixture("openai-compatible/groq_chat_response.json")).expect("ok");
    assert!(resp.text().starts_with("\"Hola, ¿cómo estás hoy\""));
    assert_eq!(
        (
            resp.usage.input_tokens,
            resp.usage.output_tokens,
            resp.usage.total_tokens
        ),
        (55, 55, 110)
    );
    assert_eq!(
        resp.extra["x_groq"]["id"],
        json!("req_01jpra5n2qef6s66k65v8sy51h")
    );
    assert_eq!(
        resp.extra[extra_keys::SYSTEM_FINGERPRINT],
        json!("fp_076aab041c")
    );
    assert_eq!(
        resp.extra[extra_keys::USAGE]["queue_time"],
        json!(1.0087154420000002)
    );
    // ...and writes them back where they were.
    let back = wire_json(&resp);
    let original = fixture_json("openai-compatible/groq_chat_response.json");
    assert_eq!(back["x_groq"], original["x_groq"]);
    assert_eq!(back["system_fingerprint"], original["system_fingerprint"]);
    assert_eq!(back["usage"]["total_time"], original["usage"]["total_time"]);
    assert_eq!(
        back["choices"][0]["message"]["content"],
        original["choices"][0]["message"]["content"]
    );
}

#[test]
fn openrouter_usage_maps_cache_writes() {
    let chunk = fixture_json("openai-compatible/openrouter_usage_chunk.json");
    let wire: openai::types::CompletionUsage =
        serde_json::from_value(chunk["usage"].clone()).expect("usage parses");
    let usage = usage_from_wire(&wire);
    assert_eq!(
        usage,
        Usage {
            input_tokens: 194,
            output_tokens: 2,
            cached_input_tokens: 0,
            cache_write_input_tokens: 100,
            reasoning_tokens: 0,
            total_tokens: 196
        }
    );
    assert_eq!(wire.extra["cost"], json!(0.95));
}

#[test]
fn reasoning_and_refusal_parts() {
    let body = br#"{"id":"r","object":"chat.completion","created":2,"model":"deepseek-reasoner",
        "choices":[{"index":0,"message":{"role":"assistant","content":"42","reasoning_content":"Let me think.","refusal":"partly"},
        "finish_reason":"length","logprobs":{"content":[]},"native_finish_reason":"max_tokens"}],
        "usage":{"prompt_tokens":3,"completion_tokens":20,"total_tokens":23,"completion_tokens_details":{"reasoning_tokens":15},"prompt_tokens_details":{"cached_tokens":2}}}"#;
    let resp = parse_chat_response(body).expect("ok");
    assert_eq!(
        resp.content,
        vec![
            ContentPart::Reasoning {
                text: "Let me think.".into(),
                signature: None,
                redacted: None,
                origin: None,
            },
            ContentPart::text("42"),
            ContentPart::Refusal {
                text: "partly".into()
            },
        ]
    );
    assert_eq!(resp.finish_reason, FinishReason::Length);
    assert_eq!(
        (resp.usage.reasoning_tokens, resp.usage.cached_input_tokens),
        (15, 2)
    );
    assert_eq!(resp.extra[extra_keys::LOGPROBS], json!({"content": []}));
    assert_eq!(
        resp.extra[extra_keys::CHOICE],
        json!({"native_finish_reason": "max_tokens"})
    );

    let back = wire_json(&resp);
    let message = &back["choices"][0]["message"];
    assert_eq!(message["reasoning_content"], json!("Let me think."));
    assert_eq!(message["content"], json!("42"));
    assert_eq!(message["refusal"], json!("partly"));
    assert_eq!(
        back["choices"][0]["native_finish_reason"],
        json!("max_tokens")
    );
    assert_eq!(back["choices"][0]["logprobs"], json!({"content": []}));
    assert_eq!(
        back["usage"]["completion_tokens_details"]["reasoning_tokens"],
        json!(15)
    );
    assert_eq!(
        back["usage"]["prompt_tokens_details"]["cached_tokens"],
        json!(2)
    );
}

#[test]
fn openrouter_reasoning_field_and_extra_choices() {
    let body = br#"{"id":"o","model":"m","created":1,"choices":[
        {"index":0,"message":{"role":"assistant","content":"a","reasoning":"r"},"finish_reason":"stop"},
        {"index":1,"message":{"role":"assistant","content":"b"},"finish_reason":"stop"}]}"#;
    let resp = parse_chat_response(body).expect("ok");
    assert_eq!(
        resp.content[0],
        ContentPart::Reasoning {
            text: "r".into(),
            signature: None,
            redacted: None,
            origin: None,
        }
    );
    assert_eq!(resp.text(), "a");
    assert_eq!(
        resp.extra[extra_keys::CHOICES][0]["message"]["content"],
        json!("b")
    );
    let back = wire_json(&resp);
    assert_eq!(back["choices"].as_array().map(Vec::len), Some(2));
    assert_eq!(back["choices"][1]["message"]["content"], json!("b"));
}

#[test]
fn odd_bodies_become_errors() {
    // An error object with HTTP 200 (OpenRouter can do this).
    let err = parse_chat_response(br#"{"error":{"code":429,"message":"Rate limit exceeded"}}"#)
        .expect_err("error body");
    assert!(matches!(err.kind(), ErrorKind::RateLimited { .. }));
    assert_eq!(err.message(), "Rate limit exceeded");
    let err = parse_chat_response(br#"{"id":"x","choices":[]}"#).expect_err("no choices");
    assert_eq!(err.kind(), &ErrorKind::Protocol);
    let err = parse_chat_response(b"<html>oops</html>").expect_err("not JSON");
    assert_eq!(err.kind(), &ErrorKind::Protocol);
    let err = parse_chat_response(br#"{"choices":"many"}"#).expect_err("wrong type");
    assert_eq!(err.kind(), &ErrorKind::Protocol);
    // Missing optional pieces are tolerated.
    let resp =
        parse_chat_response(br#"{"choices":[{"message":{"content":"hi"}}]}"#).expect("minimal");
    assert_eq!(
        (resp.text().as_str(), resp.finish_reason.clone()),
        ("hi", FinishReason::Stop)
    );
    let resp = parse_chat_response(
        br#"{"choices":[{"message":{"tool_calls":[{"id":"1","function":{"name":"f","arguments":{"a":1}}}]},"finish_reason":null}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":null}}"#,
    )
    .expect("arguments as an object, null finish reason, null total");
    assert_eq!(resp.tool_calls[0].arguments, r#"{"a":1}"#);
    assert_eq!(resp.finish_reason, FinishReason::ToolCalls);
    assert_eq!(resp.usage.total_tokens, 3);
    let resp = parse_chat_response(
        br#"{"choices":[{"message":{"content":"x"},"finish_reason":"SAFETY"}]}"#,
    )
    .expect("ok");
    assert_eq!(resp.finish_reason, FinishReason::Other("SAFETY".into()));
}
