//! A conversation built by an OpenAI client (tool calls, parallel calls,
//! tool results) reaches Ollama with every call, argument and result, and
//! Ollama's own calls survive the trip back out as OpenAI and in again.

use serde_json::{Value, json};
use switchboard_core::{ChatRequest, Provider, ProviderContext};
use switchboard_ollama::{OllamaConfig, OllamaProvider};
use switchboard_protocol::openai;
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn provider(server: &MockServer) -> OllamaProvider {
    let config: OllamaConfig =
        serde_json::from_value(json!({ "base_url": server.uri() })).expect("valid config");
    OllamaProvider::new(config, ProviderContext::standalone("ollama")).expect("builds")
}

async fn server_answering(body: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(path("/api/chat"))
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

/// Every OpenAI tool call and result in `openai_body` is in the Ollama request `sent`.
fn assert_everything_kept(openai_body: &Value, sent: &Value) {
    let sent_messages = sent["messages"].as_array().expect("messages");
    let mut results = 0;
    for m in openai_body["messages"].as_array().expect("messages") {
        for call in m["tool_calls"].as_array().into_iter().flatten() {
            let id = &call["id"];
            let args: Value =
                serde_json::from_str(call["function"]["arguments"].as_str().expect("text"))
                    .expect("JSON arguments");
            let found = sent_messages
                .iter()
                .filter(|s| s["role"] == "assistant")
                .flat_map(|s| s["tool_calls"].as_array().into_iter().flatten())
                .find(|c| &c["id"] == id)
                .unwrap_or_else(|| panic!("call {id} is missing from {sent}"));
            assert_eq!(found["function"]["name"], call["function"]["name"]);
            assert_eq!(found["function"]["arguments"], args, "arguments of {id}");
        }
        if m["role"] == "tool" {
            results += 1;
            let id = &m["tool_call_id"];
            let text = match &m["content"] {
                Value::String(s) => s.clone(),
                parts => parts[0]["text"].as_str().expect("text part").to_owned(),
            };
            let name = openai_body["messages"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|m| m["tool_calls"].as_array().into_iter().flatten())
                .find(|c| &c["id"] == id)
                .map(|c| c["function"]["name"].clone())
                .expect("the result answers a call");
            let found = sent_messages
                .iter()
                .find(|s| s["role"] == "tool" && &s["tool_call_id"] == id)
                .unwrap_or_else(|| panic!("result {id} is missing from {sent}"));
            assert_eq!(found["content"], json!(text), "content of {id}");
            assert_eq!(found["tool_name"], name, "tool_name of {id}");
        }
    }
    assert_eq!(
        sent_messages.iter().filter(|m| m["role"] == "tool").count(),
        results,
        "one tool message per result"
    );
    assert_eq!(
        sent_messages.len(),
        openai_body["messages"].as_array().map_or(0, Vec::len)
    );
}

#[tokio::test]
async fn an_openai_conversation_keeps_every_call_argument_and_result() {
    let openai_text = include_str!("../data/openai_conversation_with_tools.json");
    let openai_body: Value = serde_json::from_str(openai_text).expect("JSON");
    let inbound =
        openai::parse_chat_request(openai_text.as_bytes()).expect("a valid OpenAI request");
    let server =
        server_answering(include_str!("../data/chat_response_after_tool_result.json")).await;
    let p = provider(&server);
    p.chat(&inbound.request).await.expect("answers");
    let sent = last_body(&server).await;
    assert_everything_kept(&openai_body, &sent);
    assert_eq!(
        sent["messages"][0],
        json!({"role": "system", "content": "You are a travel assistant."})
    );
    assert_eq!(sent["messages"][8]["content"], json!("Let me check."));
    assert_eq!(sent["tools"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        sent["tools"][1]["function"]["parameters"],
        openai_body["tools"][1]["function"]["parameters"]
    );
    assert_eq!(sent["options"], json!({"temperature": 0.3}));
}

#[tokio::test]
async fn ollama_calls_survive_a_trip_through_openai_and_back() {
    // Turn 1: Ollama calls a tool (no id on the wire); the answer goes out as OpenAI JSON.
    let server = server_answering(include_str!(
        "../data/chat_response_parallel_tool_calls_constructed.json"
    ))
    .await;
    let p = provider(&server);
    let first = r#"{"model":"llama3.2","messages":[{"role":"user","content":"Weather in Tokyo and Paris?"}],
        "tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]}"#;
    let inbound = openai::parse_chat_request(first.as_bytes()).expect("valid");
    let answer = p.chat(&inbound.request).await.expect("answers");
    let out = serde_json::to_value(openai::to_wire_response(&answer)).expect("serializes");
    let calls = out["choices"][0]["message"]["tool_calls"].clone();
    assert_eq!(calls.as_array().map(Vec::len), Some(2));
    assert_ne!(calls[0]["id"], calls[1]["id"], "ids are distinct");
    assert_eq!(out["choices"][0]["finish_reason"], "tool_calls");

    // Turn 2: the client replays the assistant message and answers each call by id.
    let mut body: Value = serde_json::from_str(first).expect("JSON");
    let messages = body["messages"].as_array_mut().expect("array");
    messages.push(out["choices"][0]["message"].clone());
    messages.push(json!({"role": "tool", "tool_call_id": calls[0]["id"], "content": "25°C"}));
    messages.push(json!({"role": "tool", "tool_call_id": calls[1]["id"], "content": "18°C"}));
    let inbound = openai::parse_chat_request(body.to_string().as_bytes()).expect("valid");
    let req: ChatRequest = inbound.request;
    let server =
        server_answering(include_str!("../data/chat_response_after_tool_result.json")).await;
    provider(&server).chat(&req).await.expect("answers");
    let sent = last_body(&server).await;
    assert_everything_kept(&body, &sent);
    assert_eq!(
        sent["messages"][1]["tool_calls"][0]["function"]["arguments"],
        json!({"city": "Tokyo"})
    );
    assert_eq!(
        sent["messages"][1]["tool_calls"][1]["function"]["arguments"],
        json!({"city": "Paris"})
    );
}
