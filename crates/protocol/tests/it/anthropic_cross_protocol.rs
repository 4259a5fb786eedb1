//! OpenAI ⇄ Anthropic through the core: a conversation with tool calls,
//! tool results and reasoning keeps every tool call id, argument and result,
//! for requests, responses and streams.

use crate::common;

use bytes::BytesMut;
use common::{fixture, fixture_json, summarize};
use serde_json::{Value, json};
use switchboard_core::{
    ChatEvent, ChatResponse, ContentPart, FinishReason, ResponseAccumulator, Role, ToolCall,
};
use switchboard_protocol::anthropic::{self, AnthropicStreamEncoder};
use switchboard_protocol::openai::{self, OpenAiStreamEncoder};
use switchboard_protocol::sse::SseDecoder;

/// An OpenAI-format conversation: two parallel tool calls (one with
/// DeepSeek-style reasoning in front), both results, and a follow-up.
fn openai_conversation() -> Value {
    json!({
        "model": "claude-sonnet-4-5",
        "max_tokens": 1000,
        "messages": [
            {"role": "system", "content": "You are a weather bot."},
            {"role": "user", "content": "Weather in Paris and Tokyo?"},
            {"role": "assistant", "content": null, "reasoning_content": "Two cities: call twice.",
             "tool_calls": [
                {"id": "call_paris", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\", \"unit\": \"c\"}"}},
                {"id": "call_tokyo", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Tokyo\"}"}}
             ]},
            {"role": "tool", "tool_call_id": "call_paris", "content": "{\"temp\": 18, \"sky\": \"cloudy\"}"},
            {"role": "tool", "tool_call_id": "call_tokyo", "content": "22C and sunny"},
            {"role": "user", "content": "Which is warmer?"}
        ],
        "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Current weather",
                   "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "unit": {"type": "string"}}, "required": ["city"]}}}],
        "tool_choice": "auto",
        "parallel_tool_calls": true
    })
}

fn args(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("arguments {text:?}: {e}"))
}

fn to_value<T: serde::Serialize>(v: &T) -> Value {
    serde_json::from_slice(&serde_json::to_vec(v).expect("serializes")).expect("json")
}

#[test]
fn openai_request_to_anthropic_and_back() {
    let body = serde_json::to_vec(&openai_conversation()).expect("json");
    let core = openai::parse_chat_request(&body)
        .expect("openai parses")
        .request;
    let wire = anthropic::to_wire_request(&core, &anthropic::RequestOptions::default())
        .expect("anthropic converts");
    let a = to_value(&wire);
    assert_eq!(a["system"], "You are a weather bot.");
    assert_eq!(a["max_tokens"], 1000);
    assert_eq!(
        a["messages"],
        json!([
            {"role": "user", "content": "Weather in Paris and Tokyo?"},
            // The reasoning came unsigned from an OpenAI-format client: Anthropic cannot take it.
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "call_paris", "name": "get_weather", "input": {"city": "Paris", "unit": "c"}},
                {"type": "tool_use", "id": "call_tokyo", "name": "get_weather", "input": {"city": "Tokyo"}},
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "call_paris", "content": "{\"temp\": 18, \"sky\": \"cloudy\"}"},
                {"type": "tool_result", "tool_use_id": "call_tokyo", "content": "22C and sunny"},
                {"type": "text", "text": "Which is warmer?"},
            ]},
        ])
    );
    assert_eq!(a["tools"][0]["input_schema"]["required"], json!(["city"]));
    assert_eq!(a["tool_choice"], json!({"type": "auto"}));

    // Back to OpenAI through the core, as the gateway would for an Anthropic
    // client routed to an OpenAI model.
    let back = anthropic::from_wire_request(wire)
        .expect("back to core")
        .request;
    let o = to_value(
        &openai::to_wire_request(&back, &openai::RequestOptions::default()).expect("openai"),
    );
    let m = o["messages"].as_array().expect("messages");
    let roles: Vec<&str> = m.iter().map(|m| m["role"].as_str().unwrap_or("")).collect();
    assert_eq!(
        roles,
        ["system", "user", "assistant", "tool", "tool", "user"]
    );
    let calls = m[2]["tool_calls"].as_array().expect("tool calls");
    assert_eq!(calls[0]["id"], "call_paris");
    assert_eq!(calls[1]["id"], "call_tokyo");
    assert_eq!(
        args(calls[0]["function"]["arguments"].as_str().expect("text")),
        json!({"city": "Paris", "unit": "c"})
    );
    assert_eq!(
        args(calls[1]["function"]["arguments"].as_str().expect("text")),
        json!({"city": "Tokyo"})
    );
    assert_eq!(m[3]["tool_call_id"], "call_paris");
    assert_eq!(m[3]["content"], "{\"temp\": 18, \"sky\": \"cloudy\"}");
    assert_eq!(m[4]["tool_call_id"], "call_tokyo");
    assert_eq!(m[4]["content"], "22C and sunny");
    assert_eq!(m[5]["content"], "Which is warmer?");
}

#[test]
fn anthropic_request_with_thinking_to_openai_and_back() {
    let mut body = fixture_json("anthropic/messages_request_tool_result_recorded.json");
    // The assistant turn as the API returns it with extended thinking on.
    body["messages"][1]["content"]
        .as_array_mut()
        .expect("blocks")
        .insert(
            0,
            json!({"type": "thinking", "thinking": "I should check SF first.", "signature": "EqQBCgIYAhIM"}),
        );
    body["thinking"] = json!({"type": "enabled", "budget_tokens": 2048});
    let bytes = serde_json::to_vec(&body).expect("json");
    let core = anthropic::parse_messages_request(&bytes)
        .expect("anthropic parses")
        .request;
    assert_eq!(
        core.messages[1].content[0],
        ContentPart::Reasoning {
            text: "I should check SF first.".into(),
            signature: Some("EqQBCgIYAhIM".into()),
            redacted: None,
            origin: Some(anthropic::ORIGIN.into()),
        }
    );

    // Core → Anthropic keeps the thinking block first and unchanged.
    let again = to_value(
        &anthropic::to_wire_request(&core, &anthropic::RequestOptions::default())
            .expect("converts"),
    );
    assert_eq!(
        again["messages"][1]["content"][0],
        body["messages"][1]["content"][0]
    );

    // Core → OpenAI: the tool call and its result survive.
    let o = to_value(
        &openai::to_wire_request(
            &core,
            &openai::RequestOptions::default().with_reasoning_content(),
        )
        .expect("openai"),
    );
    let m = o["messages"].as_array().expect("messages");
    assert_eq!(m[1]["role"], "assistant");
    assert_eq!(m[1]["reasoning_content"], "I should check SF first.");
    let call = &m[1]["tool_calls"][0];
    assert_eq!(call["id"], "toolu_01LRanfq6DmHn1yDTB4d1SAh");
    assert_eq!(call["function"]["name"], "get_weather");
    assert_eq!(
        args(call["function"]["arguments"].as_str().expect("text")),
        json!({"location": "San Francisco, CA", "units": "f"})
    );
    assert_eq!(m[2]["role"], "tool");
    assert_eq!(m[2]["tool_call_id"], "toolu_01LRanfq6DmHn1yDTB4d1SAh");
    assert_eq!(
        m[2]["content"],
        body["messages"][2]["content"][0]["content"]
    );
    assert_eq!(o["reasoning_effort"], "medium");

    // OpenAI → core → Anthropic: everything but the signed thinking (the
    // OpenAI wire has no signature) comes back.
    let o_bytes = serde_json::to_vec(&o).expect("json");
    let core2 = openai::parse_chat_request(&o_bytes)
        .expect("openai parses")
        .request;
    let a2 = to_value(
        &anthropic::to_wire_request(&core2, &anthropic::RequestOptions::default())
            .expect("converts"),
    );
    let mut expected = body.clone();
    expected["messages"][1]["content"]
        .as_array_mut()
        .expect("blocks")
        .remove(0);
    expected["messages"][1]["content"][1]
        .as_object_mut()
        .expect("tool_use")
        .remove("caller");
    assert_eq!(a2["messages"], expected["messages"]);
    assert_eq!(a2["tools"], expected["tools"]);
}

#[test]
fn responses_cross_both_ways() {
    // Anthropic answer → core → OpenAI answer.
    let core = anthropic::parse_messages_response(&fixture(
        "anthropic/messages_response_parallel_tool_use_constructed.json",
    ))
    .expect("parses");
    let o = to_value(&openai::to_wire_response(&core));
    let calls = o["choices"][0]["message"]["tool_calls"]
        .as_array()
        .expect("calls");
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0]["id"], "toolu_01SF");
    assert_eq!(calls[1]["id"], "toolu_01NYC");
    assert_eq!(
        args(calls[1]["function"]["arguments"].as_str().expect("text")),
        json!({"location": "New York, NY", "units": "f"})
    );
    assert_eq!(o["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(
        o["choices"][0]["message"]["content"],
        "Checking both cities."
    );
    assert_eq!(o["usage"]["prompt_tokens"], 656);

    // OpenAI answer → core → Anthropic answer.
    let core = openai::parse_chat_response(&fixture("openai/chat_response_tool_calls.json"))
        .expect("parses");
    let a = to_value(&anthropic::to_wire_response(&core));
    assert_eq!(
        a["content"],
        json!([{"type": "tool_use", "id": "call_abc123", "name": "get_current_weather", "input": {"location": "Boston, MA"}}])
    );
    assert_eq!(a["stop_reason"], "tool_use");
    assert_eq!(a["usage"]["input_tokens"], 82);
    assert_eq!(a["usage"]["output_tokens"], 17);
}

fn decode_openai(body: &[u8]) -> Vec<ChatEvent> {
    openai::decode_chat_events(body).expect("openai stream decodes")
}

#[test]
fn streams_cross_both_ways() {
    // Anthropic stream → events → OpenAI chunks → events: same calls, same fragments.
    let events = anthropic::decode_chat_events(&fixture(
        "anthropic/stream_parallel_tool_use_constructed.sse",
    ))
    .expect("decodes");
    let mut enc = OpenAiStreamEncoder::new(1_700_000_000, true);
    let mut buf = BytesMut::new();
    for e in &events {
        enc.encode_into(e, &mut buf).expect("encodes");
    }
    buf.extend_from_slice(&enc.finish().expect("finishes"));
    let via_openai = decode_openai(&buf);
    let (a, b) = (summarize(&events), summarize(&via_openai));
    assert_eq!(a.tools, b.tools);
    assert_eq!(a.text, b.text);
    assert_eq!(a.usage, b.usage);
    assert_eq!(b.finish, Some(FinishReason::ToolCalls));

    // OpenAI stream → events → Anthropic SSE → events.
    let events = decode_openai(&fixture("openai/chat_stream_tool_call.sse"));
    let mut enc = AnthropicStreamEncoder::new();
    let mut buf = BytesMut::new();
    for e in &events {
        enc.encode_into(e, &mut buf).expect("encodes");
    }
    buf.extend_from_slice(&enc.finish().expect("finishes"));
    let via_anthropic = anthropic::decode_chat_events(&buf).expect("decodes");
    let (a, b) = (summarize(&events), summarize(&via_anthropic));
    assert_eq!(a.tools, b.tools);
    assert_eq!(b.tools[0].1, "call_4XzlGBLtUe9dy3GVNV4jhq7h");
    assert_eq!(args(&b.tools[0].3), json!({"city": "New York City"}));
    assert_eq!(a.usage, b.usage);
    assert_eq!(b.finish, Some(FinishReason::ToolCalls));
    // The Anthropic frames are well-formed SSE with named events.
    let mut sse = SseDecoder::new();
    for e in sse.feed(&buf) {
        let e = e.expect("sse");
        let data: Value = serde_json::from_str(&e.data).expect("json");
        assert_eq!(data["type"], e.event_type());
    }

    // Reasoning with its signature survives Anthropic → core → Anthropic streams.
    let events =
        anthropic::decode_chat_events(&fixture("anthropic/stream_thinking.sse")).expect("decodes");
    let mut acc = ResponseAccumulator::new();
    for e in &events {
        acc.push(e);
    }
    let resp = acc.finish();
    let msg = resp.to_message();
    assert_eq!(msg.role, Role::Assistant);
    assert!(matches!(
        &msg.content[0],
        ContentPart::Reasoning { signature: Some(s), .. } if s.ends_with("...")
    ));
}

/// A conversation served by another provider family through the Anthropic
/// API: its signatures reach the client tagged `sb1:<origin>:`, come back
/// with their origin, and are never sent to Anthropic.
#[test]
fn another_familys_signatures_round_trip_through_the_anthropic_edge() {
    let gemini = Some("gemini".to_owned());
    let served = ChatResponse {
        id: "resp1".into(),
        model: "gemini-3-pro".into(),
        content: vec![
            ContentPart::Reasoning {
                text: "Need weather.".into(),
                signature: Some("CiQB0e2Kb+sig/==".into()),
                redacted: None,
                origin: gemini.clone(),
            },
            ContentPart::Reasoning {
                text: String::new(),
                signature: Some("SIG_CALL".into()),
                redacted: None,
                origin: gemini.clone(),
            },
        ],
        tool_calls: vec![ToolCall {
            id: "call_resp1_0".into(),
            name: "get_weather".into(),
            arguments: r#"{"city":"Paris"}"#.into(),
        }],
        finish_reason: FinishReason::ToolCalls,
        ..Default::default()
    };
    let out = to_value(&anthropic::to_wire_response(&served));
    assert_eq!(
        out["content"],
        json!([
            {"type": "thinking", "thinking": "Need weather.", "signature": "sb1:gemini:CiQB0e2Kb+sig/=="},
            {"type": "thinking", "thinking": "", "signature": "sb1:gemini:SIG_CALL"},
            {"type": "tool_use", "id": "call_resp1_0", "name": "get_weather", "input": {"city": "Paris"}},
        ])
    );

    // The client sends the turn back unchanged, with the tool's result.
    let next = json!({
        "model": "claude-sonnet-4-5", "max_tokens": 1000,
        "messages": [
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": out["content"]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "call_resp1_0", "content": "18C"}]},
        ],
    });
    let core = anthropic::parse_messages_request(next.to_string().as_bytes())
        .expect("parses")
        .request;
    assert_eq!(
        core.messages[1].content, served.content,
        "the raw signatures, with their origin"
    );

    // Served by Anthropic this time: Gemini's thinking is left out.
    let to_anthropic = to_value(
        &anthropic::to_wire_request(&core, &anthropic::RequestOptions::default())
            .expect("converts"),
    );
    assert_eq!(
        to_anthropic["messages"][1]["content"],
        json!([{"type": "tool_use", "id": "call_resp1_0", "name": "get_weather", "input": {"city": "Paris"}}])
    );

    // Anthropic's own signatures are never tagged, and read back as Anthropic's.
    let own = anthropic::parse_messages_response(&fixture(
        "anthropic/messages_response_prompt_caching_constructed.json",
    ))
    .expect("parses");
    let out = to_value(&anthropic::to_wire_response(&own));
    assert_eq!(
        out["content"][0]["signature"],
        "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"
    );
    let next = json!({
        "model": "claude-sonnet-4-5", "max_tokens": 1000,
        "messages": [
            {"role": "user", "content": "Capital of France?"},
            {"role": "assistant", "content": out["content"]},
            {"role": "user", "content": "Thanks"},
        ],
    });
    let core = anthropic::parse_messages_request(next.to_string().as_bytes())
        .expect("parses")
        .request;
    assert_eq!(core.messages[1].content, own.content);
}
