//! Anthropic responses, usage, errors and the model list.

use crate::common;

use std::time::Duration;

use common::{assert_json_eq, fixture, fixture_json};
use serde_json::{Value, json};
use switchboard_core::{
    ChatResponse, ContentPart, Error, ErrorKind, FinishReason, ModelInfo, ToolCall, Usage,
};
use switchboard_protocol::anthropic::{self, MessagesResponse, extra_keys};

fn path(name: &str) -> String {
    format!("anthropic/{name}")
}

fn response(name: &str) -> ChatResponse {
    anthropic::parse_messages_response(&fixture(&path(name)))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn to_json(resp: &ChatResponse) -> Value {
    let bytes = serde_json::to_vec(&anthropic::to_wire_response(resp)).expect("serializable");
    serde_json::from_slice(&bytes).expect("JSON")
}

#[test]
fn recorded_text_response() {
    let r = response("messages_response_text_recorded.json");
    assert_eq!(r.id, "msg_01Egs18hRzhru3uGon3qesbA");
    assert_eq!(r.model, "claude-sonnet-4-5-20250929");
    assert_eq!(
        r.text(),
        "{\"product_name\": \"Green Tea\", \"price\": 5.50, \"quantity\": 2}"
    );
    assert_eq!(r.finish_reason, FinishReason::Stop);
    assert_eq!(r.usage, Usage::new(249, 26));
    assert_eq!(
        r.extra[extra_keys::USAGE],
        json!({
            "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
            "service_tier": "standard",
            "inference_geo": "not_available",
        })
    );
    assert_eq!(r.extra.get(extra_keys::STOP_SEQUENCE), None);
}

#[test]
fn recorded_tool_use_response() {
    let r = response("messages_response_tool_use_recorded.json");
    assert_eq!(r.finish_reason, FinishReason::ToolCalls);
    assert_eq!(
        r.content,
        vec![ContentPart::text(
            "I'll get the weather for each of those cities. Let me start by checking San Francisco."
        )]
    );
    assert_eq!(r.tool_calls.len(), 1);
    assert_eq!(r.tool_calls[0].id, "toolu_01LRanfq6DmHn1yDTB4d1SAh");
    assert_eq!(r.tool_calls[0].name, "get_weather");
    let args: Value = serde_json::from_str(&r.tool_calls[0].arguments).expect("JSON");
    assert_eq!(args, json!({"location": "San Francisco, CA", "units": "f"}));
    assert_eq!(r.usage, Usage::new(701, 93));
    assert_eq!(
        r.extra[extra_keys::CONTENT_BLOCK_FIELDS],
        json!([{"index": 1, "fields": {"caller": {"type": "direct"}}}])
    );
}

#[test]
fn docs_tool_use_response_without_usage() {
    let r = response("messages_response_tool_use_docs.json");
    assert_eq!(r.finish_reason, FinishReason::ToolCalls);
    assert_eq!(r.tool_calls[0].id, "toolu_01A09q90qw90lq917835lq9");
    assert_eq!(r.usage, Usage::default());
}

#[test]
fn cached_tokens_are_added_to_the_input() {
    let r = response("messages_response_prompt_caching_constructed.json");
    assert_eq!(
        r.usage,
        Usage {
            input_tokens: 21 + 188_086,
            output_tokens: 393,
            cached_input_tokens: 0,
            cache_write_input_tokens: 188_086,
            reasoning_tokens: 0,
            total_tokens: 21 + 188_086 + 393,
        }
    );
    let read = anthropic::usage_from_wire(&anthropic::types::MessageUsage {
        input_tokens: 3,
        cache_creation_input_tokens: Some(5),
        cache_read_input_tokens: Some(100),
        output_tokens: 7,
        extra: Default::default(),
    });
    assert_eq!(read.input_tokens, 108);
    assert_eq!(read.cached_input_tokens, 100);
    assert_eq!(read.cache_write_input_tokens, 5);
    assert_eq!(read.total_tokens, 115);
    let back = anthropic::usage_to_wire(&read);
    assert_eq!(back.input_tokens, 3);
    assert_eq!(back.cache_read_input_tokens, Some(100));
    assert_eq!(back.cache_creation_input_tokens, Some(5));
    // Never negative, even for inconsistent core counts.
    let odd = anthropic::usage_to_wire(&Usage {
        input_tokens: 1,
        cached_input_tokens: 5,
        ..Usage::default()
    });
    assert_eq!(odd.input_tokens, 0);
}

#[test]
fn thinking_redacted_and_stop_sequence() {
    let r = response("messages_response_prompt_caching_constructed.json");
    assert_eq!(
        r.content,
        vec![
            ContentPart::Reasoning {
                text: "The user wants a one-word answer.".into(),
                signature: Some("EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds".into()),
                redacted: None,
                origin: Some(anthropic::ORIGIN.into()),
            },
            ContentPart::Reasoning {
                text: String::new(),
                signature: None,
                redacted: Some(
                    "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpPkNRj2YfWXGmKDxH4mPnZ5sQ7vB5URj"
                        .into()
                ),
                origin: Some(anthropic::ORIGIN.into()),
            },
            ContentPart::text("Paris"),
        ]
    );
    assert_eq!(r.finish_reason, FinishReason::Stop);
    assert_eq!(r.extra[extra_keys::STOP_SEQUENCE], "\n\nHuman:");
    let w = to_json(&r);
    assert_eq!(w["stop_reason"], "stop_sequence");
    assert_eq!(w["stop_sequence"], "\n\nHuman:");
}

#[test]
fn every_response_fixture_survives_wire_core_wire() {
    for name in [
        "messages_response_text_recorded.json",
        "messages_response_tool_use_recorded.json",
        "messages_response_parallel_tool_use_constructed.json",
        "messages_response_prompt_caching_constructed.json",
    ] {
        let r = response(name);
        assert_json_eq(&to_json(&r), &fixture_json(&path(name)));
        // The wire types alone are lossless too.
        let body = fixture(&path(name));
        let wire: MessagesResponse<'_> = serde_json::from_slice(&body).expect("parses");
        let again: Value = serde_json::to_value(&wire).expect("serializes");
        assert_json_eq(&again, &fixture_json(&path(name)));
    }
}

#[test]
fn core_wire_core_round_trip() {
    let resp = ChatResponse {
        id: "msg_1".into(),
        model: "claude-x".into(),
        provider: String::new(),
        created: 0,
        content: vec![
            ContentPart::Reasoning {
                text: "hmm".into(),
                signature: Some("sig".into()),
                redacted: None,
                origin: Some(anthropic::ORIGIN.into()),
            },
            ContentPart::text("Hello"),
        ],
        tool_calls: vec![ToolCall {
            id: "toolu_1".into(),
            name: "f".into(),
            arguments: r#"{"a":[1,2],"b":"x"}"#.into(),
        }],
        finish_reason: FinishReason::ToolCalls,
        usage: Usage {
            input_tokens: 120,
            output_tokens: 30,
            cached_input_tokens: 100,
            cache_write_input_tokens: 0,
            reasoning_tokens: 0,
            total_tokens: 150,
        },
        extra: serde_json::Map::new(),
    };
    let bytes = serde_json::to_vec(&anthropic::to_wire_response(&resp)).expect("serializes");
    let back = anthropic::parse_messages_response(&bytes).expect("parses");
    assert_eq!(back, resp);
}

#[test]
fn server_tool_blocks_and_unknown_fields_go_back_in_place() {
    let body = json!({
        "id": "msg_s", "type": "message", "role": "assistant", "model": "claude-x",
        "content": [
            {"type": "text", "text": "Let me search."},
            {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"query": "rust"}},
            {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": []},
            {"type": "text", "text": "Found it.", "citations": [{"type": "web_search_result_location", "url": "https://x"}]},
        ],
        "stop_reason": "pause_turn", "stop_sequence": null,
        "usage": {"input_tokens": 10, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 5, "server_tool_use": {"web_search_requests": 1}},
        "container": null,
        "context_management": {"applied_edits": []},
    });
    let r = anthropic::parse_messages_response(&serde_json::to_vec(&body).expect("json"))
        .expect("parses");
    assert_eq!(r.text(), "Let me search.Found it.");
    assert_eq!(r.finish_reason, FinishReason::Other("pause_turn".into()));
    assert!(
        r.tool_calls.is_empty(),
        "server tool calls are not client tool calls"
    );
    assert_json_eq(&to_json(&r), &body);
}

#[test]
fn stop_reasons() {
    for (wire, core) in [
        ("end_turn", FinishReason::Stop),
        ("stop_sequence", FinishReason::Stop),
        ("max_tokens", FinishReason::Length),
        ("model_context_window_exceeded", FinishReason::Length),
        ("tool_use", FinishReason::ToolCalls),
        ("refusal", FinishReason::ContentFilter),
        ("pause_turn", FinishReason::Other("pause_turn".into())),
        ("something_new", FinishReason::Other("something_new".into())),
    ] {
        assert_eq!(anthropic::finish_reason_from_wire(wire), core, "{wire}");
    }
    for (core, wire) in [
        (FinishReason::Stop, "end_turn"),
        (FinishReason::Length, "max_tokens"),
        (FinishReason::ToolCalls, "tool_use"),
        (FinishReason::ContentFilter, "refusal"),
        (FinishReason::Other("pause_turn".into()), "pause_turn"),
        (FinishReason::Other("SAFETY".into()), "end_turn"),
    ] {
        assert_eq!(anthropic::stop_reason_to_wire(&core, false), wire);
    }
}

#[test]
fn answers_from_other_providers_become_valid_anthropic_messages() {
    let resp = ChatResponse {
        id: "chatcmpl-1".into(),
        model: "gpt-4o".into(),
        content: vec![
            ContentPart::Reasoning {
                text: "unsigned".into(),
                signature: None,
                redacted: None,
                origin: None,
            },
            ContentPart::Refusal {
                text: "I can't.".into(),
            },
            ContentPart::image_url("https://x/y.png"),
        ],
        tool_calls: vec![
            ToolCall {
                id: "call_1".into(),
                name: "f".into(),
                arguments: String::new(),
            },
            ToolCall {
                id: "call_2".into(),
                name: "f".into(),
                arguments: "{\"cut".into(),
            },
        ],
        finish_reason: FinishReason::Length,
        ..Default::default()
    };
    let w = to_json(&resp);
    assert_eq!(
        w["content"],
        json!([
            {"type": "thinking", "thinking": "unsigned", "signature": ""},
            {"type": "text", "text": "I can't."},
            {"type": "tool_use", "id": "call_1", "name": "f", "input": {}},
            {"type": "tool_use", "id": "call_2", "name": "f", "input": {"_switchboard_raw_arguments": "{\"cut"}},
        ])
    );
    assert_eq!(w["stop_reason"], "max_tokens");
    assert_eq!(w["type"], "message");
    assert_eq!(w["role"], "assistant");
    assert_eq!(w["stop_sequence"], Value::Null);
    assert_eq!(
        w["usage"],
        json!({"input_tokens": 0, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 0})
    );
}

#[test]
fn a_200_error_body_is_an_error() {
    let err =
        anthropic::parse_messages_response(&fixture(&path("error_529_overloaded_error.json")))
            .expect_err("error body");
    assert_eq!(err.kind(), &ErrorKind::Unavailable);
    let err = anthropic::parse_messages_response(b"<html>").expect_err("garbage");
    assert_eq!(err.kind(), &ErrorKind::Protocol);
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

fn upstream(status: u16, name: &str, retry_after: Option<&str>, request_id: Option<&str>) -> Error {
    anthropic::error_from_response(status, retry_after, request_id, &fixture(&path(name)))
}

#[test]
fn every_error_fixture_is_classified() {
    let err = upstream(
        400,
        "error_400_invalid_request_error_beta_header.json",
        None,
        Some("req_hdr"),
    );
    assert_eq!(err.kind(), &ErrorKind::InvalidRequest);
    assert_eq!(
        err.message(),
        "Unsupported beta header: invalid-beta-name (request-id: req_hdr)"
    );

    let err = upstream(401, "error_401_authentication_error.json", None, None);
    assert_eq!(err.kind(), &ErrorKind::Auth);
    assert_eq!(
        err.message(),
        "invalid x-api-key (request-id: req_011CaJCR7Pm2Jh2LbWpBH5Y6)"
    );

    let err = upstream(404, "error_404_not_found_error.json", None, None);
    assert_eq!(err.kind(), &ErrorKind::NotFound);

    let err = upstream(429, "error_429_rate_limit_error.json", Some("26"), None);
    assert_eq!(
        err.kind(),
        &ErrorKind::RateLimited {
            retry_after: Some(Duration::from_secs(26))
        }
    );
    assert!(err.is_retryable());

    let err = upstream(429, "error_429_rate_limit_error_recorded.json", None, None);
    assert_eq!(err.kind(), &ErrorKind::RateLimited { retry_after: None });
    assert!(err.message().contains("20,000,000 prompt bytes per hour"));
    assert!(
        err.message()
            .ends_with("(request-id: req_011CYK5n67SytMUxm8WMZUWY)")
    );

    let err = upstream(529, "error_529_overloaded_error.json", None, None);
    assert_eq!(err.kind(), &ErrorKind::Unavailable);
    assert!(err.is_retryable());

    for name in [
        "error_400_prompt_too_long.json",
        "error_400_exceed_context_limit.json",
    ] {
        let err = upstream(400, name, None, None);
        assert_eq!(err.kind(), &ErrorKind::ContextLengthExceeded, "{name}");
        assert!(!err.is_retryable());
        assert!(err.message().contains("(request-id: req_011C"), "{err}");
    }
}

fn body(kind: &str, message: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({"type": "error", "error": {"type": kind, "message": message}}))
        .expect("json")
}

#[test]
fn every_documented_status_and_type() {
    for (status, kind, expected) in [
        (400, "invalid_request_error", ErrorKind::InvalidRequest),
        (401, "authentication_error", ErrorKind::Auth),
        (403, "permission_error", ErrorKind::Permission),
        (404, "not_found_error", ErrorKind::NotFound),
        (413, "request_too_large", ErrorKind::InvalidRequest),
        (
            429,
            "rate_limit_error",
            ErrorKind::RateLimited { retry_after: None },
        ),
        (500, "api_error", ErrorKind::Upstream { status: 500 }),
        (504, "timeout_error", ErrorKind::Timeout),
        (529, "overloaded_error", ErrorKind::Unavailable),
        // The type decides even with an unexpected status ...
        (200, "overloaded_error", ErrorKind::Unavailable),
        // ... and the status when the type is unknown.
        (503, "brand_new_error", ErrorKind::Unavailable),
        (502, "brand_new_error", ErrorKind::Upstream { status: 502 }),
        (418, "brand_new_error", ErrorKind::Upstream { status: 418 }),
    ] {
        let err = anthropic::error_from_response(status, None, None, &body(kind, "m"));
        assert_eq!(err.kind(), &expected, "{status} {kind}");
        assert_eq!(err.message(), "m");
    }
    assert!(
        anthropic::error_from_response(500, None, None, &body("api_error", "x")).is_retryable()
    );
}

#[test]
fn context_window_errors_are_recognized() {
    for message in [
        "prompt is too long: 215000 tokens > 200000 maximum",
        "input length and `max_tokens` exceed context limit: 187254 + 20000 > 200000, decrease input length or `max_tokens` and try again",
        "This model's maximum context length is 4097 tokens.",
    ] {
        let err = anthropic::error_from_response(
            400,
            None,
            None,
            &body("invalid_request_error", message),
        );
        assert_eq!(err.kind(), &ErrorKind::ContextLengthExceeded, "{message}");
    }
    let err = anthropic::error_from_response(
        400,
        None,
        None,
        &body("invalid_request_error", "max_tokens: Field required"),
    );
    assert_eq!(err.kind(), &ErrorKind::InvalidRequest);
}

#[test]
fn odd_bodies() {
    let err = anthropic::error_from_response(
        413,
        None,
        Some("req_1"),
        b"<html><head><title>413 Request Entity Too Large</title></head><body>cloudflare</body></html>",
    );
    assert_eq!(err.kind(), &ErrorKind::InvalidRequest);
    assert!(
        err.message().contains("413 Request Entity Too Large"),
        "{err}"
    );
    assert!(err.message().contains("req_1"));
    let err = anthropic::error_from_response(529, None, None, b"");
    assert_eq!(err.kind(), &ErrorKind::Unavailable);
    assert_eq!(err.message(), "upstream returned HTTP 529");
    let err = anthropic::error_from_response(500, None, None, br#"{"error": "proxy failed"}"#);
    assert_eq!(err.message(), "proxy failed");
    let err =
        anthropic::error_from_value(&json!({"type": "overloaded_error", "message": "Overloaded"}));
    assert_eq!(err.kind(), &ErrorKind::Unavailable);
    let err = anthropic::error_from_value(&json!({}));
    assert_eq!(err.kind(), &ErrorKind::Upstream { status: 500 });
    assert!(!err.message().is_empty());
}

#[test]
fn errors_to_anthropic_bodies() {
    for (err, status, kind) in [
        (Error::auth("bad key"), 401, "authentication_error"),
        (Error::permission("no"), 403, "permission_error"),
        (Error::not_found("no model"), 404, "not_found_error"),
        (Error::invalid_request("bad"), 400, "invalid_request_error"),
        (
            Error::context_length_exceeded("prompt is too long: 300000 tokens > 200000 maximum"),
            400,
            "invalid_request_error",
        ),
        (Error::unsupported("nope"), 400, "invalid_request_error"),
        (
            Error::rate_limited(Some(Duration::from_millis(1500)), "slow"),
            429,
            "rate_limit_error",
        ),
        (Error::timeout("slow"), 504, "timeout_error"),
        (Error::unavailable("busy"), 529, "overloaded_error"),
        (Error::upstream(500, "boom"), 502, "api_error"),
        (
            Error::upstream(409, "conflict"),
            409,
            "invalid_request_error",
        ),
        (Error::protocol("garbled"), 502, "api_error"),
    ] {
        let (s, b) = anthropic::error_body(&err);
        assert_eq!(s, status, "{err}");
        let v: Value = serde_json::from_slice(&b).expect("json");
        assert_eq!(v["type"], "error");
        assert_eq!(v["error"]["type"], kind, "{err}");
        assert_eq!(v["error"]["message"], err.message());
        // And back to the same kind (statuses as the gateway sends them).
        let again = anthropic::error_from_response(s, None, None, &b);
        if !matches!(
            err.kind(),
            ErrorKind::Unsupported | ErrorKind::Upstream { .. } | ErrorKind::Protocol
        ) {
            assert_eq!(again.kind().code(), err.kind().code(), "{err}");
        }
    }
    let with_param = Error::invalid_param("messages[0].content", "expected a string");
    let (_, b) = anthropic::error_body(&with_param);
    let v: Value = serde_json::from_slice(&b).expect("json");
    assert_eq!(
        v["error"]["message"],
        "messages[0].content: expected a string"
    );
    assert_eq!(
        anthropic::retry_after_header(&Error::rate_limited(Some(Duration::from_millis(1500)), "x"))
            .as_deref(),
        Some("2")
    );
}

// ---------------------------------------------------------------------------
// Models
// ---------------------------------------------------------------------------

#[test]
fn model_list_pages() {
    let body = json!({
        "data": [
            {"type": "model", "id": "claude-sonnet-4-5-20250929", "display_name": "Claude Sonnet 4.5", "created_at": "2025-09-29T00:00:00Z"},
            {"type": "model", "id": "claude-3-7-sonnet-20250219", "display_name": "Claude Sonnet 3.7", "created_at": "2025-02-24T00:00:00Z", "max_input_tokens": 200000, "max_tokens": 64000},
        ],
        "has_more": true,
        "first_id": "claude-sonnet-4-5-20250929",
        "last_id": "claude-3-7-sonnet-20250219",
    });
    let page = anthropic::parse_models(&serde_json::to_vec(&body).expect("json")).expect("parses");
    assert!(page.has_more);
    assert_eq!(page.last_id.as_deref(), Some("claude-3-7-sonnet-20250219"));
    assert_eq!(page.models[0].id, "claude-sonnet-4-5-20250929");
    assert_eq!(
        page.models[0].display_name.as_deref(),
        Some("Claude Sonnet 4.5")
    );
    assert_eq!(page.models[0].created, Some(1_759_104_000));
    assert_eq!(page.models[0].owned_by.as_deref(), Some("anthropic"));
    assert_eq!(page.models[1].context_length, Some(200_000));
    assert_eq!(page.models[1].max_output_tokens, Some(64_000));

    let models = vec![ModelInfo {
        id: "claude-x".into(),
        created: Some(1_759_104_000),
        ..ModelInfo::new("claude-x")
    }];
    let wire = serde_json::to_value(anthropic::to_wire_models(&models)).expect("json");
    assert_eq!(
        wire,
        json!({
            "data": [{"type": "model", "id": "claude-x", "display_name": "claude-x", "created_at": "2025-09-29T00:00:00Z"}],
            "has_more": false,
            "first_id": "claude-x",
            "last_id": "claude-x",
        })
    );
    assert!(anthropic::parse_models(b"[]").is_err());
}
