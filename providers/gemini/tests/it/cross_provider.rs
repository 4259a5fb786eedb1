//! A conversation built by an OpenAI client (tool calls, parallel calls,
//! tool results) reaches Gemini with every call, argument and result — the
//! results matched to their calls by name — and Gemini's own calls survive
//! the trip out as OpenAI JSON and back in. Signed reasoning goes back only
//! to the family that signed it: Anthropic's thinking is not replayed to
//! Gemini, Gemini's signatures are not sent to Anthropic, and they survive
//! a trip through the Anthropic API (tagged `sb1:gemini:`).

use serde_json::{Value, json};
use switchboard_core::{ChatRequest, ContentPart, Message, Provider, ProviderContext};
use switchboard_gemini::{GeminiConfig, GeminiProvider, ORIGIN, SKIP_THOUGHT_SIGNATURE};
use switchboard_protocol::{anthropic, openai};
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn provider(server: &MockServer) -> GeminiProvider {
    let config: GeminiConfig =
        serde_json::from_value(json!({ "api_key": "k", "base_url": server.uri() }))
            .expect("valid config");
    GeminiProvider::new(config, ProviderContext::standalone("gemini")).expect("builds")
}

async fn server_answering(body: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(path("/v1beta/models/gemini-2.5-flash:generateContent"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(body.as_bytes().to_vec(), "application/json"),
        )
        .mount(&server)
        .await;
    server
}

async fn last_body(server: &MockServer) -> Value {
    let requests = server.received_requests().await.expect("recording");
    serde_json::from_slice(&requests.last().expect("sent").body).expect("JSON body")
}

fn result_text(m: &Value) -> String {
    match &m["content"] {
        Value::String(s) => s.clone(),
        parts => parts[0]["text"].as_str().expect("text part").to_owned(),
    }
}

/// What Gemini must receive for a result text: a JSON object as is, else `{"output": text}`.
fn expected_response(text: &str) -> Value {
    match serde_json::from_str::<Value>(text) {
        Ok(v @ Value::Object(_)) => v,
        _ => json!({ "output": text }),
    }
}

/// Every OpenAI tool call and result in `openai_body` is in the Gemini request `sent`, in order.
fn assert_everything_kept(openai_body: &Value, sent: &Value) {
    let contents = sent["contents"].as_array().expect("contents");
    let sent_calls: Vec<&Value> = contents
        .iter()
        .filter(|c| c["role"] == "model")
        .flat_map(|c| c["parts"].as_array().into_iter().flatten())
        .filter_map(|p| p.get("functionCall"))
        .collect();
    let sent_results: Vec<&Value> = contents
        .iter()
        .filter(|c| c["role"] == "user")
        .flat_map(|c| c["parts"].as_array().into_iter().flatten())
        .filter_map(|p| p.get("functionResponse"))
        .collect();
    let messages = openai_body["messages"].as_array().expect("messages");
    let calls: Vec<&Value> = messages
        .iter()
        .flat_map(|m| m["tool_calls"].as_array().into_iter().flatten())
        .collect();
    assert_eq!(
        sent_calls.len(),
        calls.len(),
        "every call is replayed: {sent}"
    );
    for (call, sent_call) in calls.iter().zip(&sent_calls) {
        let args: Value =
            serde_json::from_str(call["function"]["arguments"].as_str().expect("text"))
                .expect("JSON");
        assert_eq!(sent_call["name"], call["function"]["name"]);
        assert_eq!(sent_call["args"], args, "arguments of {}", call["id"]);
    }
    let results: Vec<&Value> = messages.iter().filter(|m| m["role"] == "tool").collect();
    assert_eq!(
        sent_results.len(),
        results.len(),
        "every result is sent: {sent}"
    );
    for (result, sent_result) in results.iter().zip(&sent_results) {
        let call = calls
            .iter()
            .find(|c| c["id"] == result["tool_call_id"])
            .expect("the result answers a call");
        assert_eq!(
            sent_result["name"], call["function"]["name"],
            "matched by name"
        );
        assert_eq!(
            sent_result["response"],
            expected_response(&result_text(result))
        );
    }
}

#[tokio::test]
async fn an_openai_conversation_keeps_every_call_argument_and_result() {
    let text = include_str!("../data/openai_conversation_with_tools.json");
    let openai_body: Value = serde_json::from_str(text).expect("JSON");
    let inbound = openai::parse_chat_request(text.as_bytes()).expect("a valid OpenAI request");
    let server =
        server_answering(include_str!("../data/generate_content_response_text.json")).await;
    provider(&server)
        .chat(&inbound.request)
        .await
        .expect("answers");
    let sent = last_body(&server).await;
    assert_everything_kept(&openai_body, &sent);
    assert_eq!(
        sent["systemInstruction"],
        json!({"role": "user", "parts": [{"text": "You are a travel assistant."}]})
    );
    let roles: Vec<&str> = sent["contents"]
        .as_array()
        .expect("contents")
        .iter()
        .map(|c| c["role"].as_str().unwrap_or_default())
        .collect();
    // user, model (3 calls), user (3 results together), model, user, model (text + call), user (result)
    assert_eq!(
        roles,
        ["user", "model", "user", "model", "user", "model", "user"]
    );
    assert_eq!(
        sent["contents"][2]["parts"].as_array().map(Vec::len),
        Some(3),
        "parallel results in one turn"
    );
    assert_eq!(
        sent["contents"][5]["parts"],
        json!([{"text": "Let me check."},
               {"functionCall": {"name": "get_weather", "args": {"city": "Berlin"}}, "thoughtSignature": SKIP_THOUGHT_SIGNATURE}])
    );
    assert_eq!(
        sent["contents"][1]["parts"][0]["thoughtSignature"],
        json!(SKIP_THOUGHT_SIGNATURE),
        "OpenAI clients keep no signatures: the first call of each turn gets the placeholder"
    );
    assert!(
        sent["contents"][1]["parts"][1]
            .get("thoughtSignature")
            .is_none()
    );
    assert_eq!(
        sent["tools"][0]["functionDeclarations"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    assert_eq!(
        sent["toolConfig"],
        json!({"functionCallingConfig": {"mode": "AUTO"}})
    );
    assert_eq!(sent["generationConfig"], json!({"temperature": 0.3}));
}

#[tokio::test]
async fn gemini_calls_survive_a_trip_through_openai_and_back() {
    let server = server_answering(include_str!(
        "../data/generate_content_response_parallel_calls_constructed.json"
    ))
    .await;
    let p = provider(&server);
    let first = r#"{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"100/2 and 50/4?"}],
        "tools":[{"type":"function","function":{"name":"customDivide","parameters":{"type":"object","properties":{"numerator":{"type":"number"},"denominator":{"type":"number"}}}}}]}"#;
    let inbound = openai::parse_chat_request(first.as_bytes()).expect("valid");
    let answer = p.chat(&inbound.request).await.expect("answers");
    let out = serde_json::to_value(openai::to_wire_response(&answer)).expect("serializes");
    let message = out["choices"][0]["message"].clone();
    let calls = message["tool_calls"].clone();
    assert_eq!(calls.as_array().map(Vec::len), Some(2));
    assert_eq!(calls[0]["id"], "call_parallelCalls0001_0");
    assert_eq!(calls[1]["id"], "call_parallelCalls0001_1");
    assert_eq!(out["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(
        out["usage"]["completion_tokens"], 42,
        "candidates + thoughts"
    );

    let mut body: Value = serde_json::from_str(first).expect("JSON");
    let messages = body["messages"].as_array_mut().expect("array");
    messages.push(message);
    messages.push(json!({"role": "tool", "tool_call_id": calls[1]["id"], "content": "12.5"}));
    messages.push(
        json!({"role": "tool", "tool_call_id": calls[0]["id"], "content": "{\"result\": 50}"}),
    );
    let inbound = openai::parse_chat_request(body.to_string().as_bytes()).expect("valid");
    p.chat(&inbound.request).await.expect("answers");
    let sent = last_body(&server).await;
    assert_everything_kept(&body, &sent);
    assert_eq!(
        sent["contents"][2]["parts"],
        json!([
            {"functionResponse": {"name": "customDivide", "response": {"output": "12.5"}}},
            {"functionResponse": {"name": "customDivide", "response": {"result": 50}}}
        ]),
        "results keep the client's order"
    );

    // A library caller that keeps the core message keeps the real signature.
    let mut direct = inbound.request.clone();
    direct.messages[1] = answer.to_message();
    p.chat(&direct).await.expect("answers");
    let sent = last_body(&server).await;
    assert_eq!(
        sent["contents"][1]["parts"][0]["thoughtSignature"],
        "Q2lRQVZzZ2FjNkZzZmFrZVNpZ25hdHVyZQ=="
    );
}

/// An Anthropic answer, as the protocol crate's tests read it: a signed
/// `thinking` block, a `redacted_thinking` block and text.
const ANTHROPIC_THINKING_ANSWER: &str = include_str!(
    "../../../../crates/protocol/tests/data/anthropic/messages_response_prompt_caching_constructed.json"
);

/// The parallel-calls answer with a signed thought part in front, as
/// Gemini 3 models answer with `includeThoughts`.
fn gemini_answer_with_thoughts() -> String {
    let mut answer: Value = serde_json::from_str(include_str!(
        "../data/generate_content_response_parallel_calls_constructed.json"
    ))
    .expect("JSON");
    answer["candidates"][0]["content"]["parts"]
        .as_array_mut()
        .expect("parts")
        .insert(
            0,
            json!({"text": "Two divisions.", "thought": true, "thoughtSignature": "U0lHX1RIT1VHSFQ="}),
        );
    answer.to_string()
}

fn has_reasoning_from(content: &[ContentPart], family: &str) -> bool {
    content
        .iter()
        .any(|p| matches!(p, ContentPart::Reasoning { origin: Some(o), .. } if o == family))
}

#[tokio::test]
async fn anthropic_thinking_is_not_replayed_to_gemini() {
    let claude = anthropic::parse_messages_response(ANTHROPIC_THINKING_ANSWER.as_bytes())
        .expect("an Anthropic answer");
    assert!(has_reasoning_from(&claude.content, anthropic::ORIGIN));
    let request = ChatRequest::new(
        "gemini-2.5-flash",
        vec![
            Message::user("Capital of France? One word."),
            claude.to_message(),
            Message::user("And of Italy?"),
        ],
    );
    let server =
        server_answering(include_str!("../data/generate_content_response_text.json")).await;
    provider(&server).chat(&request).await.expect("answers");
    let sent = last_body(&server).await;
    assert_eq!(
        sent["contents"][1],
        json!({"role": "model", "parts": [{"text": "Paris"}]}),
        "no thought part and no Anthropic signature"
    );
}

#[tokio::test]
async fn gemini_signatures_go_back_to_gemini_only() {
    let server = server_answering(&gemini_answer_with_thoughts()).await;
    let p = provider(&server);
    let question = Message::user("100/2 and 50/4?");
    let answer = p
        .chat(&ChatRequest::new(
            "gemini-2.5-flash",
            vec![question.clone()],
        ))
        .await
        .expect("answers");
    assert!(answer.content.iter().all(|part| matches!(
        part,
        ContentPart::Reasoning { origin: Some(o), .. } if o == ORIGIN
    )));
    let next = ChatRequest::new(
        "gemini-2.5-flash",
        vec![
            question,
            answer.to_message(),
            Message::tool_result("call_parallelCalls0001_0", "50"),
            Message::tool_result("call_parallelCalls0001_1", "12.5"),
        ],
    );

    // Back to Gemini: the thought and both signatures, as before.
    p.chat(&next).await.expect("answers");
    let sent = last_body(&server).await;
    assert_eq!(
        sent["contents"][1]["parts"],
        json!([
            {"text": "Two divisions.", "thought": true, "thoughtSignature": "U0lHX1RIT1VHSFQ="},
            {"functionCall": {"name": "customDivide", "args": {"denominator": 2, "numerator": 100}},
             "thoughtSignature": "Q2lRQVZzZ2FjNkZzZmFrZVNpZ25hdHVyZQ=="},
            {"functionCall": {"name": "customDivide", "args": {"denominator": 4, "numerator": 50}}}
        ])
    );

    // To Anthropic: no thinking block, only the calls.
    let wire =
        anthropic::to_wire_request(&next, &anthropic::RequestOptions::default()).expect("converts");
    let wire = serde_json::to_value(&wire).expect("serializes");
    let blocks = wire["messages"][1]["content"].as_array().expect("blocks");
    assert_eq!(blocks.len(), 2, "{blocks:?}");
    assert!(blocks.iter().all(|b| b["type"] == "tool_use"), "{blocks:?}");
}

#[tokio::test]
async fn gemini_signatures_survive_a_trip_through_the_anthropic_api() {
    let server = server_answering(&gemini_answer_with_thoughts()).await;
    let p = provider(&server);
    let first = json!({
        "model": "gemini-2.5-flash", "max_tokens": 1000,
        "messages": [{"role": "user", "content": "100/2 and 50/4?"}],
        "tools": [{"name": "customDivide", "input_schema": {"type": "object", "properties": {
            "numerator": {"type": "number"}, "denominator": {"type": "number"}}}}],
    });
    let inbound = anthropic::parse_messages_request(first.to_string().as_bytes()).expect("valid");
    let answer = p.chat(&inbound.request).await.expect("answers");

    // The gateway answers in Anthropic's format: Gemini's signatures are tagged.
    let out = serde_json::to_value(anthropic::to_wire_response(&answer)).expect("serializes");
    assert_eq!(
        out["content"][0],
        json!({"type": "thinking", "thinking": "Two divisions.", "signature": "sb1:gemini:U0lHX1RIT1VHSFQ="})
    );
    assert_eq!(
        out["content"][1],
        json!({"type": "thinking", "thinking": "", "signature": "sb1:gemini:Q2lRQVZzZ2FjNkZzZmFrZVNpZ25hdHVyZQ=="})
    );

    // The client sends the turn back unchanged, with the results.
    let ids: Vec<Value> = out["content"]
        .as_array()
        .expect("blocks")
        .iter()
        .filter(|b| b["type"] == "tool_use")
        .map(|b| b["id"].clone())
        .collect();
    let mut body = first.clone();
    let messages = body["messages"].as_array_mut().expect("array");
    messages.push(json!({"role": "assistant", "content": out["content"]}));
    messages.push(json!({"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": ids[0], "content": "50"},
        {"type": "tool_result", "tool_use_id": ids[1], "content": "12.5"},
    ]}));
    let inbound = anthropic::parse_messages_request(body.to_string().as_bytes()).expect("valid");
    assert!(has_reasoning_from(
        &inbound.request.messages[1].content,
        ORIGIN
    ));
    p.chat(&inbound.request).await.expect("answers");
    let sent = last_body(&server).await;
    let parts = &sent["contents"][1]["parts"];
    assert_eq!(parts[0]["thoughtSignature"], "U0lHX1RIT1VHSFQ=");
    assert_eq!(
        parts[1]["thoughtSignature"], "Q2lRQVZzZ2FjNkZzZmFrZVNpZ25hdHVyZQ==",
        "Gemini gets its raw signature back, not the placeholder"
    );

    // Served by Anthropic instead, the same conversation carries no thinking.
    let wire = anthropic::to_wire_request(&inbound.request, &anthropic::RequestOptions::default())
        .expect("converts");
    let wire = serde_json::to_value(&wire).expect("serializes");
    assert!(
        wire["messages"][1]["content"]
            .as_array()
            .expect("blocks")
            .iter()
            .all(|b| b["type"] == "tool_use"),
        "{wire}"
    );
}
