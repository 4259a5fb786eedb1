//! The inbound Gemini API over real HTTP.

use crate::common;

use common::{spawn, sse_data};
use serde_json::{Value, json};

fn prompt(text: &str) -> Value {
    json!({"contents": [{"role": "user", "parts": [{"text": text}]}]})
}

fn mock() -> Value {
    json!({"providers": {"m": {"kind": "mock"}}})
}

async fn post(gw: &common::Gateway, path: &str, body: &Value) -> (u16, Value) {
    let r = gw
        .http
        .post(gw.url(path))
        .json(body)
        .send()
        .await
        .expect("sends");
    let status = r.status().as_u16();
    (status, r.json().await.expect("a JSON body"))
}

fn text_of(answer: &Value) -> String {
    answer["candidates"][0]["content"]["parts"]
        .as_array()
        .map(|parts| {
            parts
                .iter()
                .filter_map(|p| p["text"].as_str())
                .collect::<String>()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn generate_content_on_both_versions_and_slashed_models() {
    let gw = spawn(mock()).await;
    for path in [
        "/v1beta/models/m/mock-1:generateContent",
        "/v1/models/m%2Fmock-1:generateContent",
        "/v1beta/models/mock-1:generateContent",
    ] {
        let (status, v) = post(&gw, path, &prompt("Hello there")).await;
        assert_eq!(status, 200, "{path}: {v}");
        assert_eq!(text_of(&v), "You said: Hello there", "{path}");
        let c = &v["candidates"][0];
        assert_eq!(c["finishReason"], "STOP");
        assert_eq!(c["content"]["role"], "model");
        assert_eq!(v["usageMetadata"]["candidatesTokenCount"], 4);
        assert!(v["responseId"].is_string() && v["modelVersion"].is_string());
    }
}

#[tokio::test]
async fn stream_generate_content_sends_chunks_then_the_finish() {
    let gw = spawn(mock()).await;
    let r = gw
        .http
        .post(gw.url("/v1beta/models/m/mock-1:streamGenerateContent?alt=sse"))
        .json(&prompt("Hello there"))
        .send()
        .await
        .expect("sends");
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"].to_str().expect("ascii"),
        "text/event-stream"
    );
    let chunks: Vec<Value> = sse_data(&r.text().await.expect("body"))
        .iter()
        .map(|d| serde_json::from_str(d).expect("JSON chunk"))
        .collect();
    assert!(chunks.len() > 2);
    let text: String = chunks.iter().map(text_of).collect();
    assert_eq!(text, "You said: Hello there");
    let last = chunks.last().expect("a last chunk");
    assert_eq!(last["candidates"][0]["finishReason"], "STOP");
    assert!(last["usageMetadata"]["totalTokenCount"].as_u64() > Some(0));
    // Without `alt=sse` (a JSON-array stream) the request is refused.
    let (status, v) = post(
        &gw,
        "/v1beta/models/m/mock-1:streamGenerateContent",
        &prompt("x"),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(v["error"]["status"], "INVALID_ARGUMENT");
}

#[tokio::test]
async fn function_calling_round_trip() {
    let gw = spawn(mock()).await;
    let tools = json!([{"functionDeclarations": [{
        "name": "get_weather",
        "parameters": {"type": "OBJECT", "properties": {"location": {"type": "STRING"}}, "required": ["location"]},
    }]}]);
    let question = json!({"role": "user", "parts": [{"text": "Weather in Boston?"}]});
    let (status, first) = post(
        &gw,
        "/v1beta/models/m/mock-1:generateContent",
        &json!({"contents": [question], "tools": tools}),
    )
    .await;
    assert_eq!(status, 200, "{first}");
    let turn = first["candidates"][0]["content"].clone();
    let call = &turn["parts"][0]["functionCall"];
    assert_eq!(call["name"], "get_weather");
    assert!(call["args"]["location"].is_string(), "{call}");
    assert_eq!(first["candidates"][0]["finishReason"], "STOP");
    let result = json!({"role": "user", "parts": [{"functionResponse": {
        "name": "get_weather", "response": {"temperature": "22C"},
    }}]});
    let (status, second) = post(
        &gw,
        "/v1beta/models/m/mock-1:generateContent",
        &json!({"contents": [question, turn, result], "tools": tools}),
    )
    .await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(
        text_of(&second),
        r#"Tool result received: {"temperature":"22C"}"#
    );
}

#[tokio::test]
async fn system_instruction_and_json_schema() {
    let gw = spawn(mock()).await;
    let (status, v) = post(
        &gw,
        "/v1beta/models/m/mock-1:generateContent",
        &json!({
            "contents": [{"role": "user", "parts": [{"text": "a forecast"}]}],
            "systemInstruction": {"parts": [{"text": "Answer in JSON."}]},
            "generationConfig": {
                "responseMimeType": "application/json",
                "responseSchema": {"type": "OBJECT", "properties": {"days": {"type": "INTEGER"}}, "required": ["days"]},
            },
        }),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let answer: Value = serde_json::from_str(&text_of(&v)).expect("a JSON answer");
    assert!(answer["days"].is_i64(), "{answer}");
}

#[tokio::test]
async fn auth_by_x_goog_api_key_or_query_key() {
    let gw = spawn(json!({
        "server": {"api_keys": [{"key": "sk-goog-client"}]},
        "providers": {"m": {"kind": "mock"}}
    }))
    .await;
    let path = "/v1beta/models/m/mock-1:generateContent";
    let send = |key: Option<&'static str>, query: &'static str| {
        let mut req = gw
            .http
            .post(gw.url(&format!("{path}{query}")))
            .json(&prompt("hi"));
        if let Some(k) = key {
            req = req.header("x-goog-api-key", k);
        }
        req.send()
    };
    let r = send(Some("sk-goog-client"), "").await.expect("sends");
    assert_eq!(r.status(), 200);
    let r = send(None, "?key=sk-goog-client").await.expect("sends");
    assert_eq!(r.status(), 200);
    let r = send(Some("wrong"), "").await.expect("sends");
    assert_eq!(r.status(), 401);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["error"]["code"], 401);
    assert_eq!(v["error"]["status"], "UNAUTHENTICATED");
    let r = send(None, "").await.expect("sends");
    assert_eq!(r.status(), 401);
    let v: Value = r.json().await.expect("json");
    assert!(
        v["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("x-goog-api-key"))
    );
}

#[tokio::test]
async fn errors_are_google_shaped() {
    let gw = spawn(json!({"providers": {"m": {"kind": "mock"}, "n": {"kind": "mock"}}})).await;
    let cases = [
        (
            "/v1beta/models/nope:generateContent",
            prompt("x"),
            404,
            "NOT_FOUND",
        ),
        (
            "/v1beta/models/m/mock-1:countTokens",
            prompt("x"),
            404,
            "NOT_FOUND",
        ),
        (
            "/v1beta/models/m/mock-1:generateContent",
            json!({"contents": [], "generationConfig": {"candidateCount": 3}}),
            400,
            "INVALID_ARGUMENT",
        ),
        (
            "/v1beta/models/m/mock-1:generateContent",
            json!({"contents": "not a turn"}),
            400,
            "INVALID_ARGUMENT",
        ),
    ];
    for (path, body, status, name) in cases {
        let (got, v) = post(&gw, path, &body).await;
        assert_eq!(got, status, "{path}: {v}");
        assert_eq!(v["error"]["code"], status, "{v}");
        assert_eq!(v["error"]["status"], name, "{v}");
        assert!(v["error"]["message"].is_string());
    }
    // A mid-stream failure ends the stream with an error chunk.
    let r = gw
        .http
        .post(gw.url("/v1beta/models/m/mock-1:streamGenerateContent?alt=sse"))
        .json(&json!({
            "contents": [{"role": "user", "parts": [{"text": "one two three"}]}],
            "mock": {"fault": {"kind": "unavailable", "after_events": 2}},
        }))
        .send()
        .await
        .expect("sends");
    let body = r.text().await.expect("body");
    let last: Value = serde_json::from_str(sse_data(&body).last().expect("chunks")).expect("JSON");
    assert_eq!(last["error"]["status"], "UNAVAILABLE", "{body}");
}

/// With extensions running (the `guard` test extension of `extensions.rs`),
/// the request is on API `gemini` and their errors are Google-shaped.
#[tokio::test]
async fn extensions_see_the_gemini_api_and_errors_stay_google_shaped() {
    let spawn_guard = |mode: &'static str| {
        spawn(json!({
            "server": {"api_keys": [{"key": "sk-goog-client", "name": "g"}]},
            "providers": {"m": {"kind": "mock"}},
            "extensions": {"guard": {"enabled": true, "mode": mode}}
        }))
    };
    let send = |gw: &common::Gateway, stream: bool| {
        let path = if stream {
            "/v1beta/models/m/mock-1:streamGenerateContent?alt=sse"
        } else {
            "/v1beta/models/m/mock-1:generateContent"
        };
        gw.http
            .post(gw.url(path))
            .header("x-goog-api-key", "sk-goog-client")
            .json(&prompt("hello there"))
            .send()
    };
    let gw = spawn_guard("pass").await;
    let r = send(&gw, true).await.expect("sends");
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-guard-api"], "gemini");
    assert_eq!(r.headers()["x-guard-key"], "g");
    let text: String = sse_data(&r.text().await.expect("body"))
        .iter()
        .map(|d| text_of(&serde_json::from_str(d).expect("JSON")))
        .collect();
    assert_eq!(text, "You said: hello there");
    for (mode, status, name) in [
        ("refuse", 400, "INVALID_ARGUMENT"),
        ("quota", 429, "RESOURCE_EXHAUSTED"),
    ] {
        let gw = spawn_guard(mode).await;
        let r = send(&gw, false).await.expect("sends");
        assert_eq!(r.status(), status);
        let v: Value = r.json().await.expect("json");
        assert_eq!(v["error"]["code"], status, "{v}");
        assert_eq!(v["error"]["status"], name, "{v}");
    }
}
