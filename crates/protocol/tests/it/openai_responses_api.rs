//! The OpenAI Responses API (inbound) on the official wire examples:
//! request parsing, response objects, and the streamed event sequence.

use serde_json::{Value, json};
use switchboard_core::{
    ChatEvent, ChatResponse, ContentPart, Error, FinishReason, ReasoningEffort, ResponseFormat,
    Role, ToolCall, ToolChoice, Usage,
};
use switchboard_protocol::openai_responses::{
    ResponseTemplate, ResponsesStreamEncoder, items_to_messages, parse_responses_request,
    to_wire_response,
};

use crate::common::{fixture, fixture_json};

fn parse(path: &str) -> switchboard_protocol::openai_responses::InboundResponsesRequest {
    parse_responses_request(&fixture(&format!("openai_responses/{path}"))).expect("parses")
}

fn template() -> ResponseTemplate {
    let req = parse("create_request_tools_recorded.json");
    ResponseTemplate {
        id: "resp_abc".into(),
        created_at: 1_758_064_451,
        model: "gpt-4o-mini".into(),
        echo: req.echo,
    }
}

/// The SSE frames of `body` as (event name, data JSON).
fn frames(body: &str) -> Vec<(String, Value)> {
    body.split("\n\n")
        .filter(|f| !f.trim().is_empty())
        .map(|f| {
            let mut event = String::new();
            let mut data = Value::Null;
            for line in f.lines() {
                if let Some(e) = line.strip_prefix("event: ") {
                    event = e.to_owned();
                } else if let Some(d) = line.strip_prefix("data: ") {
                    data = serde_json::from_str(d).expect("data is JSON");
                }
            }
            (event, data)
        })
        .collect()
}

fn encode(events: &[ChatEvent]) -> Vec<(String, Value)> {
    let mut enc = ResponsesStreamEncoder::new(template());
    let mut out = Vec::new();
    for e in events {
        out.extend_from_slice(&enc.encode(e).expect("encodes"));
    }
    out.extend_from_slice(&enc.finish().expect("finishes"));
    frames(std::str::from_utf8(&out).expect("utf-8"))
}

#[test]
fn string_input_is_one_user_message() {
    let req = parse("create_request_text_docs.json");
    assert_eq!(req.request.messages.len(), 1);
    assert_eq!(req.request.messages[0].role, Role::User);
    assert!(req.store, "store defaults to true");
    assert!(!req.stream);
    assert_eq!(req.input_items[0]["type"], "message");
}

#[test]
fn instructions_become_the_system_message() {
    let req = parse("create_request_instructions_recorded.json");
    let m = &req.request.messages;
    assert_eq!(m[0].role, Role::System);
    assert_eq!(m[0].text(), "Always begin your replies with 'Arr, matey'");
    assert_eq!(m[1].role, Role::User);
    assert_eq!(m[1].text(), "Hello, model!");
    assert_eq!(
        req.echo["instructions"],
        "Always begin your replies with 'Arr, matey'"
    );
}

#[test]
fn flat_function_tools_parse() {
    let req = parse("create_request_tools_recorded.json");
    let tool = &req.request.tools[0];
    assert_eq!(tool.name, "get_weather_at_location");
    assert_eq!(tool.strict, Some(false));
    assert_eq!(tool.parameters["required"], json!(["location"]));
    let body = br#"{"model":"m","input":"x","tool_choice":{"type":"function","name":"f"}}"#;
    let req = parse_responses_request(body).expect("parses");
    assert_eq!(req.request.tool_choice, Some(ToolChoice::Tool("f".into())));
    let body = br#"{"model":"m","input":"x","tools":[{"type":"web_search"}]}"#;
    let err = parse_responses_request(body).expect_err("only function tools");
    assert_eq!(err.param(), Some("tools[0].type"));
}

#[test]
fn function_call_output_follows_up_with_previous_response_id() {
    let req = parse("create_request_function_call_output_recorded.json");
    assert_eq!(
        req.previous_response_id.as_deref(),
        Some("resp_0df7c3d8927b3a940068c9ef43dce481949ab7ac4c9f676d61")
    );
    let m = &req.request.messages[0];
    assert_eq!(m.role, Role::Tool);
    assert_eq!(
        m.tool_call_id.as_deref(),
        Some("call_S2X9KuEJpYvFcF4hgv1XwM0j")
    );
    assert_eq!(m.text(), "22 celcius and windy");
}

#[test]
fn recorded_input_items_become_a_conversation() {
    // The list is newest first; a conversation is oldest first.
    let list =
        fixture_json("openai_responses/input_items_after_function_call_output_recorded.json");
    let mut items = list["data"].as_array().expect("data").clone();
    items.reverse();
    let m = items_to_messages(&items).expect("converts");
    assert_eq!(m.len(), 3);
    assert_eq!(m[0].role, Role::User);
    assert_eq!(m[1].role, Role::Assistant);
    assert_eq!(m[1].tool_calls[0].id, "call_S2X9KuEJpYvFcF4hgv1XwM0j");
    assert_eq!(m[2].role, Role::Tool);
    assert_eq!(m[2].tool_call_id, Some(m[1].tool_calls[0].id.clone()));
}

#[test]
fn stored_output_items_join_reasoning_and_answer() {
    let response = fixture_json("openai_responses/create_response_reasoning_summary_recorded.json");
    let m = items_to_messages(response["output"].as_array().expect("output")).expect("converts");
    assert_eq!(m.len(), 1, "reasoning joins the message after it");
    assert!(
        matches!(&m[0].content[0], ContentPart::Reasoning { text, .. } if text.starts_with("**Creating"))
    );
    assert!(m[0].text().starts_with("For a tight"));
}

#[test]
fn text_format_and_reasoning_map_to_core() {
    let req = parse("create_request_json_schema_recorded.json");
    match &req.request.response_format {
        Some(ResponseFormat::JsonSchema { name, schema, .. }) => {
            assert_eq!(name, "data_list");
            assert_eq!(schema["required"], json!(["animal_data_list"]));
        }
        other => panic!("expected a json_schema format, got {other:?}"),
    }
    let req = parse("create_request_reasoning_summary_recorded.json");
    assert_eq!(
        req.request.reasoning.as_ref().and_then(|r| r.effort),
        Some(ReasoningEffort::High)
    );
}

#[test]
fn options_and_unknown_fields() {
    let body = br#"{"model":"m","input":"x","max_output_tokens":50,"temperature":0.5,"top_p":0.9,
        "metadata":{"k":"v"},"include":["reasoning.encrypted_content"],"mock":{"reply":"hi"}}"#;
    let req = parse_responses_request(body).expect("parses");
    assert_eq!(req.request.max_tokens, Some(50));
    assert_eq!(req.request.temperature, Some(0.5));
    // The response's metadata, not the provider's: echoed, never sent
    // (OpenAI Chat Completions refuses `metadata` without `store: true`).
    assert!(req.request.metadata.is_empty());
    assert_eq!(req.echo["metadata"], json!({"k": "v"}));
    assert!(
        !req.request.extra.contains_key("include"),
        "Responses-only fields are dropped"
    );
    assert_eq!(req.request.extra["mock"]["reply"], "hi");
    let err = parse_responses_request(br#"{"model":"m","input":5}"#).expect_err("bad input");
    assert_eq!(err.param(), Some("input"));
}

#[test]
fn function_call_response_has_the_recorded_shape() {
    let recorded = fixture_json("openai_responses/create_response_function_call_recorded.json");
    let response = ChatResponse {
        model: "gpt-4o-mini-2024-07-18".into(),
        tool_calls: vec![ToolCall {
            id: "call_S2X9KuEJpYvFcF4hgv1XwM0j".into(),
            name: "get_weather_at_location".into(),
            arguments: "{\"location\":\"San Francisco, CA\"}".into(),
        }],
        finish_reason: FinishReason::ToolCalls,
        usage: Usage {
            input_tokens: 74,
            output_tokens: 20,
            total_tokens: 94,
            ..Default::default()
        },
        ..Default::default()
    };
    let ours = to_wire_response(&template(), &response);
    for key in [
        "object",
        "status",
        "model",
        "usage",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "store",
        "text",
        "metadata",
    ] {
        assert_eq!(ours[key], recorded[key], "{key}");
    }
    let (a, b) = (&ours["output"][0], &recorded["output"][0]);
    for key in ["type", "status", "arguments", "call_id", "name"] {
        assert_eq!(a[key], b[key], "output[0].{key}");
    }
    assert!(a["id"].as_str().expect("id").starts_with("fc_"));
}

#[test]
fn text_and_reasoning_response() {
    let recorded = fixture_json("openai_responses/create_response_text_recorded.json");
    let text = recorded["output"][0]["content"][0]["text"]
        .as_str()
        .expect("text");
    let response = ChatResponse {
        content: vec![
            ContentPart::Reasoning {
                text: "thinking".into(),
                signature: None,
                redacted: None,
                origin: None,
            },
            ContentPart::text(text),
        ],
        usage: Usage {
            input_tokens: 5,
            output_tokens: 9,
            cached_input_tokens: 2,
            reasoning_tokens: 3,
            ..Default::default()
        },
        ..Default::default()
    };
    let ours = to_wire_response(&template(), &response);
    assert_eq!(ours["output"][0]["type"], "reasoning");
    assert_eq!(
        ours["output"][0]["summary"][0],
        json!({"type": "summary_text", "text": "thinking"})
    );
    assert_eq!(
        ours["output"][1]["content"][0],
        recorded["output"][0]["content"][0]
    );
    assert_eq!(ours["output"][1]["role"], "assistant");
    assert_eq!(ours["usage"]["input_tokens_details"]["cached_tokens"], 2);
    assert_eq!(
        ours["usage"]["output_tokens_details"]["reasoning_tokens"],
        3
    );
    assert_eq!(ours["usage"]["total_tokens"], 14);
    let cut = ChatResponse {
        finish_reason: FinishReason::Length,
        ..response
    };
    let ours = to_wire_response(&template(), &cut);
    assert_eq!(ours["status"], "incomplete");
    assert_eq!(ours["incomplete_details"]["reason"], "max_output_tokens");
}

#[test]
fn text_stream_matches_the_recorded_event_sequence() {
    let recorded = frames(
        &String::from_utf8(fixture("openai_responses/stream_text_recorded.sse")).expect("utf-8"),
    );
    let mut events = vec![ChatEvent::Start {
        id: "x".into(),
        model: "gpt-4o-mini-2024-07-18".into(),
        created: None,
    }];
    for (_, d) in &recorded {
        if d["type"] == "response.output_text.delta" {
            events.push(ChatEvent::TextDelta {
                text: d["delta"].as_str().expect("delta").into(),
            });
        }
    }
    events.push(ChatEvent::Finish {
        reason: FinishReason::Stop,
    });
    events.push(ChatEvent::Usage(Usage {
        input_tokens: 11,
        output_tokens: 10,
        total_tokens: 21,
        ..Default::default()
    }));
    let ours = encode(&events);
    let names = |f: &[(String, Value)]| f.iter().map(|(e, _)| e.clone()).collect::<Vec<_>>();
    assert_eq!(names(&ours), names(&recorded));
    for (i, (event, data)) in ours.iter().enumerate() {
        assert_eq!(&data["type"], event, "the data repeats the event name");
        assert_eq!(data["sequence_number"], i, "numbered from 0");
        let theirs = &recorded[i].1;
        for key in ["output_index", "content_index", "delta", "text", "part"] {
            assert_eq!(data.get(key), theirs.get(key), "{event}.{key}");
        }
    }
    let item = &ours[ours.len() - 2].1["item"];
    assert_eq!(
        item["content"],
        recorded[recorded.len() - 2].1["item"]["content"]
    );
    let done = &ours.last().expect("last").1["response"];
    assert_eq!(done["status"], "completed");
    assert_eq!(
        done["usage"],
        recorded.last().expect("last").1["response"]["usage"]
    );
    assert_eq!(done["model"], "gpt-4o-mini-2024-07-18");
}

#[test]
fn function_call_stream_matches_the_recorded_event_sequence() {
    let recorded = frames(
        &String::from_utf8(fixture(
            "openai_responses/stream_function_call_recorded.sse",
        ))
        .expect("utf-8"),
    );
    let added = &recorded[2].1["item"];
    let mut events = vec![ChatEvent::ToolCallStart {
        index: 0,
        id: added["call_id"].as_str().expect("call_id").into(),
        name: added["name"].as_str().expect("name").into(),
    }];
    for (_, d) in &recorded {
        if d["type"] == "response.function_call_arguments.delta" {
            events.push(ChatEvent::ToolCallDelta {
                index: 0,
                arguments: d["delta"].as_str().expect("delta").into(),
            });
        }
    }
    events.push(ChatEvent::Finish {
        reason: FinishReason::ToolCalls,
    });
    let ours = encode(&events);
    let names = |f: &[(String, Value)]| f.iter().map(|(e, _)| e.clone()).collect::<Vec<_>>();
    assert_eq!(names(&ours), names(&recorded));
    let arg_done = ours
        .iter()
        .find(|(e, _)| e == "response.function_call_arguments.done")
        .expect("done");
    let theirs = recorded
        .iter()
        .find(|(e, _)| e == "response.function_call_arguments.done")
        .expect("done");
    assert_eq!(arg_done.1["arguments"], theirs.1["arguments"]);
    let item = &ours[ours.len() - 2].1["item"];
    for key in ["type", "status", "arguments", "call_id", "name"] {
        assert_eq!(
            item[key],
            recorded[recorded.len() - 2].1["item"][key],
            "{key}"
        );
    }
    assert_eq!(
        ours.last().expect("last").1["response"]["output"][0]["call_id"],
        added["call_id"]
    );
}

#[test]
fn reasoning_then_text_stream() {
    let ours = encode(&[
        ChatEvent::ReasoningDelta { text: "Hmm".into() },
        ChatEvent::ReasoningDelta { text: " ok".into() },
        ChatEvent::TextDelta { text: "Hi".into() },
        ChatEvent::Finish {
            reason: FinishReason::Stop,
        },
    ]);
    let names: Vec<&str> = ours.iter().map(|(e, _)| e.as_str()).collect();
    assert_eq!(
        names,
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.reasoning_summary_part.added",
            "response.reasoning_summary_text.delta",
            "response.reasoning_summary_text.delta",
            "response.reasoning_summary_text.done",
            "response.reasoning_summary_part.done",
            "response.output_item.done",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.delta",
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.completed",
        ]
    );
    let done = &ours.last().expect("last").1["response"];
    assert_eq!(done["output"][0]["summary"][0]["text"], "Hmm ok");
    assert_eq!(done["output"][1]["content"][0]["text"], "Hi");
}

#[test]
fn an_error_mid_stream_ends_with_error_and_response_failed() {
    let spec_error = fixture_json("openai_responses/event_error_docs.json");
    let spec_failed = fixture_json("openai_responses/event_response_failed_docs.json");
    let mut enc = ResponsesStreamEncoder::new(template());
    let mut out = enc
        .encode(&ChatEvent::TextDelta { text: "Hi".into() })
        .expect("encodes")
        .to_vec();
    out.extend_from_slice(&enc.error_frame(&Error::unavailable("the upstream went away")));
    let f = frames(std::str::from_utf8(&out).expect("utf-8"));
    let (error, failed) = (&f[f.len() - 2], &f[f.len() - 1]);
    assert_eq!(error.0, "error");
    for key in ["type", "code", "message", "param", "sequence_number"] {
        assert!(
            error.1.get(key).is_some(),
            "error event has {key} like {spec_error}"
        );
    }
    assert!(error.1.get("error").is_none(), "no nested error object");
    assert_eq!(failed.0, "response.failed");
    assert_eq!(
        failed.1["response"]["status"],
        spec_failed["response"]["status"]
    );
    assert_eq!(
        failed.1["response"]["error"]["code"],
        spec_failed["response"]["error"]["code"]
    );
    assert_eq!(
        failed.1["sequence_number"],
        error.1["sequence_number"].as_u64().expect("n") + 1
    );
    assert!(enc.finish().expect("nothing more").is_empty());
}
