//! The inbound Anthropic API over real HTTP.

use crate::common;

use common::spawn;
use serde_json::{Value, json};
use switchboard_mock as _;

fn message(stream: bool) -> Value {
    json!({"model": "m/mock-1", "max_tokens": 64, "stream": stream,
           "messages": [{"role": "user", "content": "Hello there"}]})
}

/// `(event, data)` pairs of an Anthropic SSE body.
fn events(body: &str) -> Vec<(String, Value)> {
    body.split("\n\n")
        .filter(|f| !f.trim().is_empty())
        .filter_map(|frame| {
            let mut event = None;
            let mut data = None;
            for line in frame.lines() {
                if let Some(e) = line.strip_prefix("event: ") {
                    event = Some(e.to_owned());
                } else if let Some(d) = line.strip_prefix("data: ") {
                    data = serde_json::from_str(d).ok();
                }
            }
            Some((event?, data?))
        })
        .collect()
}

#[tokio::test]
async fn messages_non_streaming() {
    let gw = spawn(json!({"providers": {"m": {"kind": "mock"}}})).await;
    let r = gw
        .http
        .post(gw.url("/v1/messages"))
        .json(&message(false))
        .send()
        .await
        .expect("sends");
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["type"], "message");
    assert_eq!(
        v["content"][0],
        json!({"type": "text", "text": "You said: Hello there"})
    );
    assert_eq!(v["stop_reason"], "end_turn");
    assert_eq!(v["usage"]["output_tokens"], 4);
}

#[tokio::test]
async fn messages_streaming_event_sequence() {
    let gw = spawn(json!({"providers": {"m": {"kind": "mock"}}})).await;
    let r = gw
        .http
        .post(gw.url("/v1/messages"))
        .json(&message(true))
        .send()
        .await
        .expect("sends");
    assert_eq!(r.status(), 200);
    let evs = events(&r.text().await.expect("body"));
    let names: Vec<&str> = evs.iter().map(|(e, _)| e.as_str()).collect();
    assert_eq!(names.first(), Some(&"message_start"));
    assert_eq!(names.last(), Some(&"message_stop"));
    assert!(names.contains(&"content_block_start") && names.contains(&"content_block_stop"));
    let text: String = evs
        .iter()
        .filter(|(e, _)| e == "content_block_delta")
        .filter_map(|(_, d)| d["delta"]["text"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(text, "You said: Hello there");
    let delta = evs
        .iter()
        .find(|(e, _)| e == "message_delta")
        .expect("message_delta");
    assert_eq!(delta.1["delta"]["stop_reason"], "end_turn");
    assert_eq!(delta.1["usage"]["output_tokens"], 4);
}

#[tokio::test]
async fn tool_use_round_trip() {
    let gw = spawn(json!({"providers": {"m": {"kind": "mock"}}})).await;
    let tools = json!([{"name": "get_weather", "description": "Weather of a city",
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]);
    let first: Value = gw
        .http
        .post(gw.url("/v1/messages"))
        .json(
            &json!({"model": "m/mock-1", "max_tokens": 64, "tools": tools,
                      "messages": [{"role": "user", "content": "Weather in Paris?"}]}),
        )
        .send()
        .await
        .expect("sends")
        .json()
        .await
        .expect("json");
    assert_eq!(first["stop_reason"], "tool_use", "{first}");
    let call = first["content"]
        .as_array()
        .expect("blocks")
        .iter()
        .find(|b| b["type"] == "tool_use")
        .expect("a tool_use block")
        .clone();
    assert_eq!(call["name"], "get_weather");
    assert!(call["input"]["city"].is_string(), "{call}");
    let second: Value = gw.http.post(gw.url("/v1/messages"))
        .json(&json!({"model": "m/mock-1", "max_tokens": 64, "tools": tools, "messages": [
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": [call.clone()]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call["id"], "content": "sunny"}]}
        ]}))
        .send().await.expect("sends").json().await.expect("json");
    assert_eq!(second["stop_reason"], "end_turn", "{second}");
    assert!(
        second["content"][0]["text"]
            .as_str()
            .unwrap_or("")
            .contains("sunny"),
        "{second}"
    );
}

#[tokio::test]
async fn errors_are_anthropic_shaped() {
    let gw = spawn(json!({
        "server": {"api_keys": [{"key": "sk-ant-client"}]},
        "providers": {"m": {"kind": "mock"}, "n": {"kind": "mock"}}
    }))
    .await;
    let r = gw
        .http
        .post(gw.url("/v1/messages"))
        .json(&message(false))
        .send()
        .await
        .expect("sends");
    assert_eq!(r.status(), 401);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["type"], "error");
    assert_eq!(v["error"]["type"], "authentication_error");

    let send = |body: Value| {
        gw.http
            .post(gw.url("/v1/messages"))
            .header("x-api-key", "sk-ant-client")
            .json(&body)
            .send()
    };
    let r = send(json!({"model": "m/mock-1", "messages": []}))
        .await
        .expect("sends");
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["error"]["type"], "invalid_request_error", "{v}");
    let mut unknown = message(false);
    unknown["model"] = json!("claude-9");
    let r = send(unknown).await.expect("sends");
    assert_eq!(r.status(), 404);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["error"]["type"], "not_found_error");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("m/mock-1"),
        "{v}"
    );
}
