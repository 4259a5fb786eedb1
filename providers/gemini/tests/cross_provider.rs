//! A conversation built by an OpenAI client (tool calls, parallel calls,
//! tool results) reaches Gemini with every call, argument and result — the
//! results matched to their calls by name — and Gemini's own calls survive
//! the trip out as OpenAI JSON and back in.

use serde_json::{Value, json};
use switchboard_core::{Provider, ProviderContext};
use switchboard_gemini::{GeminiConfig, GeminiProvider, SKIP_THOUGHT_SIGNATURE};
use switchboard_protocol::openai;
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
    let text = include_str!("data/openai_conversation_with_tools.json");
    let openai_body: Value = serde_json::from_str(text).expect("JSON");
    let inbound = openai::parse_chat_request(text.as_bytes()).expect("a valid OpenAI request");
    let server = server_answering(include_str!("data/generate_content_response_text.json")).await;
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
        "data/generate_content_response_parallel_calls_constructed.json"
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
