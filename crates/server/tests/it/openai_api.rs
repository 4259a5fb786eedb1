//! The inbound OpenAI API over real HTTP.

use crate::common;

use common::{spawn, sse_data};
use serde_json::{Value, json};
use switchboard_mock as _;

fn chat(model: &str) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": "Hello there"}]})
}

#[tokio::test]
async fn chat_completion_non_streaming() {
    let gw = spawn(json!({"providers": {"m": {"kind": "mock"}}})).await;
    let r = gw
        .http
        .post(gw.url("/v1/chat/completions"))
        .json(&chat("m/mock-1"))
        .send()
        .await
        .expect("sends");
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-switchboard-instance"], "m");
    assert_eq!(r.headers()["x-switchboard-attempts"], "1");
    assert!(r.headers().contains_key("x-request-id"));
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(
        v["choices"][0]["message"]["content"],
        "You said: Hello there"
    );
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    assert_eq!(v["usage"]["completion_tokens"], 4);
}

#[tokio::test]
async fn chat_completion_streaming_with_usage() {
    let gw = spawn(json!({"providers": {"m": {"kind": "mock"}}})).await;
    let mut body = chat("m/mock-1");
    body["stream"] = json!(true);
    body["stream_options"] = json!({"include_usage": true});
    let r = gw
        .http
        .post(gw.url("/v1/chat/completions"))
        .json(&body)
        .send()
        .await
        .expect("sends");
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    let text = r.text().await.expect("body");
    let data = sse_data(&text);
    assert_eq!(data.last().map(String::as_str), Some("[DONE]"));
    let chunks: Vec<Value> = data[..data.len() - 1]
        .iter()
        .map(|d| serde_json::from_str(d).expect("chunk json"))
        .collect();
    let content: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(content, "You said: Hello there");
    let usage = chunks.last().expect("usage chunk");
    assert_eq!(usage["choices"], json!([]));
    assert_eq!(usage["usage"]["completion_tokens"], 4);
    assert!(
        chunks
            .iter()
            .any(|c| c["choices"][0]["finish_reason"] == "stop")
    );
}

#[tokio::test]
async fn error_after_the_stream_started_is_an_in_stream_event() {
    let gw = spawn(json!({"providers": {"m": {"kind": "mock", "fault": {"kind": "unavailable", "after_events": 2}}}})).await;
    let mut body = chat("m/mock-1");
    body["stream"] = json!(true);
    let r = gw
        .http
        .post(gw.url("/v1/chat/completions"))
        .json(&body)
        .send()
        .await
        .expect("sends");
    assert_eq!(r.status(), 200);
    let data = sse_data(&r.text().await.expect("body ends cleanly"));
    let last: Value = serde_json::from_str(data.last().expect("frames")).expect("json");
    assert_eq!(last["error"]["type"], "server_error", "{last}");
    assert!(!data.iter().any(|d| d == "[DONE]"));
}

#[tokio::test]
async fn malformed_and_invalid_requests_are_400_naming_the_field() {
    let gw = spawn(json!({"providers": {"m": {"kind": "mock"}}})).await;
    for (body, param) in [
        ("{not json", None),
        (r#"{"model": 5, "messages": []}"#, Some("model")),
        (
            r#"{"model": "m/mock-1", "messages": [{"role": "user", "content": "x"}], "temperature": 3}"#,
            Some("temperature"),
        ),
    ] {
        let r = gw
            .http
            .post(gw.url("/v1/chat/completions"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("sends");
        assert_eq!(r.status(), 400, "{body}");
        let v: Value = r.json().await.expect("json");
        assert_eq!(v["error"]["type"], "invalid_request_error", "{v}");
        if let Some(param) = param {
            assert_eq!(v["error"]["param"], param, "{v}");
        }
    }
}

#[tokio::test]
async fn unknown_model_is_404_listing_the_available_ones() {
    let gw = spawn(
        json!({"providers": {"a": {"kind": "mock"}, "b": {"kind": "mock", "models": ["other"]}}}),
    )
    .await;
    let r = gw
        .http
        .post(gw.url("/v1/chat/completions"))
        .json(&chat("gpt-9"))
        .send()
        .await
        .expect("sends");
    assert_eq!(r.status(), 404);
    let v: Value = r.json().await.expect("json");
    let msg = v["error"]["message"].as_str().expect("message");
    assert!(msg.contains("a/mock-1") && msg.contains("b/other"), "{msg}");
}

#[tokio::test]
async fn rate_limits_pass_retry_after_through() {
    let gw = spawn(json!({
        "router": {"max_attempts": 1},
        "providers": {"m": {"kind": "mock", "fault": {"kind": "rate_limited", "retry_after_ms": 7000}}}
    }))
    .await;
    let r = gw
        .http
        .post(gw.url("/v1/chat/completions"))
        .json(&chat("m/mock-1"))
        .send()
        .await
        .expect("sends");
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "7");
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["error"]["type"], "rate_limit_error");
}

#[tokio::test]
async fn models_and_embeddings() {
    let gw = spawn(json!({"providers": {"m": {"kind": "mock"}}})).await;
    let v: Value = gw
        .http
        .get(gw.url("/v1/models"))
        .send()
        .await
        .expect("sends")
        .json()
        .await
        .expect("json");
    assert_eq!(v["object"], "list");
    assert_eq!(v["data"][0]["id"], "m/mock-1");
    let v: Value = gw
        .http
        .post(gw.url("/v1/embeddings"))
        .json(&json!({"model": "m/mock-1", "input": ["a", "b"], "dimensions": 4}))
        .send()
        .await
        .expect("sends")
        .json()
        .await
        .expect("json");
    assert_eq!(v["data"].as_array().map(Vec::len), Some(2));
    assert_eq!(v["data"][1]["index"], 1);
    assert_eq!(v["data"][0]["embedding"].as_array().map(Vec::len), Some(4));
}

#[tokio::test]
async fn client_api_keys_and_model_limits() {
    let gw = spawn(json!({
        "server": {"api_keys": [
            {"key": "sk-client-all"},
            {"key": "sk-client-limited", "models": ["m/mock-1"]}
        ]},
        "providers": {"m": {"kind": "mock"}, "n": {"kind": "mock"}}
    }))
    .await;
    let send = |key: Option<&'static str>, model: &'static str| {
        let mut req = gw
            .http
            .post(gw.url("/v1/chat/completions"))
            .json(&chat(model));
        if let Some(key) = key {
            req = req.bearer_auth(key);
        }
        req.send()
    };
    assert_eq!(send(None, "m/mock-1").await.expect("sends").status(), 401);
    assert_eq!(
        send(Some("sk-wrong"), "m/mock-1")
            .await
            .expect("sends")
            .status(),
        401
    );
    assert_eq!(
        send(Some("sk-client-all"), "n/mock-1")
            .await
            .expect("sends")
            .status(),
        200
    );
    assert_eq!(
        send(Some("sk-client-limited"), "m/mock-1")
            .await
            .expect("sends")
            .status(),
        200
    );
    let r = send(Some("sk-client-limited"), "n/mock-1")
        .await
        .expect("sends");
    assert_eq!(r.status(), 403);
    let body = r.text().await.expect("body");
    assert!(!body.contains("sk-client"), "keys never echoed: {body}");
}

#[tokio::test]
async fn body_limit_is_413() {
    let gw =
        spawn(json!({"server": {"body_limit_bytes": 1024}, "providers": {"m": {"kind": "mock"}}}))
            .await;
    let big = "x".repeat(4096);
    let r = gw
        .http
        .post(gw.url("/v1/chat/completions"))
        .json(&json!({"model": "m/mock-1", "messages": [{"role": "user", "content": big}]}))
        .send()
        .await
        .expect("sends");
    assert_eq!(r.status(), 413);
    let v: Value = r.json().await.expect("json");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("1024"),
        "{v}"
    );
}

#[tokio::test]
async fn request_ids_are_propagated() {
    let gw = spawn(json!({"providers": {"m": {"kind": "mock"}}})).await;
    let r = gw
        .http
        .get(gw.url("/healthz"))
        .header("x-request-id", "trace-abc-123")
        .send()
        .await
        .expect("sends");
    assert_eq!(r.headers()["x-request-id"], "trace-abc-123");
    let r = gw.http.get(gw.url("/healthz")).send().await.expect("sends");
    let generated = r.headers()["x-request-id"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(generated.starts_with("req_"), "{generated}");
}

#[tokio::test]
async fn operations_endpoints() {
    let gw = spawn(json!({"providers": {"m": {"kind": "mock"}}})).await;
    assert_eq!(
        gw.http
            .get(gw.url("/healthz"))
            .send()
            .await
            .expect("s")
            .status(),
        200
    );
    let r = gw.http.get(gw.url("/readyz")).send().await.expect("s");
    assert_eq!(r.status(), 200);
    gw.http
        .post(gw.url("/v1/chat/completions"))
        .json(&chat("m/mock-1"))
        .send()
        .await
        .expect("sends");
    let metrics = gw.metrics().await;
    for needle in [
        "switchboard_requests_total{api=\"openai\",status=\"ok\"} 1",
        "switchboard_gateway_overhead_seconds_count{api=\"openai\"} 1",
        "switchboard_tokens_total{instance=\"m\",model=\"mock-1\",direction=\"output\"} 4",
        "switchboard_request_duration_seconds_count{instance=\"m\",model=\"mock-1\"} 1",
    ] {
        assert!(metrics.contains(needle), "missing {needle} in\n{metrics}");
    }
    let doc: Value = gw
        .http
        .get(gw.url("/openapi.json"))
        .send()
        .await
        .expect("s")
        .json()
        .await
        .expect("json");
    assert!(doc["paths"]["/v1/chat/completions"]["post"].is_object());
    assert!(doc["paths"]["/plugins/{name}/reload"]["post"].is_object());
    let r = gw.http.get(gw.url("/nope")).send().await.expect("s");
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn readiness_needs_a_ready_instance() {
    let gw = spawn(json!({"providers": {"m": {"kind": "mock", "enabled": false}}})).await;
    let r = gw.http.get(gw.url("/readyz")).send().await.expect("s");
    assert_eq!(r.status(), 503);
}

/// Reads one whole chunked HTTP/1.1 response from a raw socket and returns
/// the sizes of its data chunks (the body frames the server wrote).
async fn chunk_sizes(addr: std::net::SocketAddr, body: &Value) -> Vec<usize> {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
    let mut conn = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connects");
    let body = body.to_string();
    let request = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    conn.write_all(request.as_bytes()).await.expect("writes");
    let mut reader = BufReader::new(conn);
    let mut line = String::new();
    loop {
        line.clear();
        reader.read_line(&mut line).await.expect("reads a header");
        if line == "\r\n" {
            break;
        }
        assert!(!line.is_empty(), "connection closed in the headers");
    }
    let mut sizes = Vec::new();
    loop {
        line.clear();
        reader
            .read_line(&mut line)
            .await
            .expect("reads a chunk size");
        let size = usize::from_str_radix(line.trim(), 16).expect("hex chunk size");
        if size == 0 {
            return sizes;
        }
        let mut data = vec![0; size + 2];
        reader.read_exact(&mut data).await.expect("reads a chunk");
        sizes.push(size);
    }
}

#[tokio::test]
async fn stream_events_already_available_share_one_frame() {
    let gw = spawn(json!({"providers": {
        "fast": {"kind": "mock"},
        "slow": {"kind": "mock", "token_delay_ms": 40}
    }}))
    .await;
    let mut body = chat("fast/mock-1");
    body["stream"] = json!(true);
    // The mock has every event ready at once: the first content goes out at
    // once (with what preceded it), one more frame carries all the rest.
    let fast = chunk_sizes(gw.addr, &body).await;
    assert_eq!(fast.len(), 2, "frames: {fast:?}");
    // Events that are not ready yet are not waited for: one frame each.
    body["model"] = json!("slow/mock-1");
    let slow = chunk_sizes(gw.addr, &body).await;
    assert!(slow.len() >= 4, "frames: {slow:?}");
}
