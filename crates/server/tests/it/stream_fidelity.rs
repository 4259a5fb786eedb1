//! A stream from an OpenAI-compatible upstream, through the gateway's OpenAI
//! Chat Completions edge: every chunk keeps the upstream's `created`, and no
//! chunk carries a field the upstream's chunks did not (no invented
//! `logprobs: null`, `refusal`, `annotations`).

use crate::common;

use std::collections::BTreeSet;

use common::{spawn, sse_data};
use serde_json::{Value, json};
use switchboard_openai_compatible as _;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

/// An upstream that answers every request with `body` as
/// `text/event-stream`, one request per connection.
async fn sse_upstream(body: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                if common::read_request(&mut sock).await.is_none() {
                    return;
                }
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\
                     content-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(answer.as_bytes()).await;
            });
        }
    });
    format!("http://{addr}/v1")
}

/// The key paths of a chunk: `id`, `choices[].delta.content`, ...
fn key_paths(value: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let path = format!("{prefix}{k}");
                key_paths(v, &format!("{path}."), out);
                out.insert(path);
            }
        }
        Value::Array(items) => {
            let prefix = format!("{}[].", prefix.trim_end_matches('.'));
            for v in items {
                key_paths(v, &prefix, out);
            }
        }
        _ => {}
    }
}

/// The chunks of an SSE body (without `[DONE]`).
fn chunks(body: &str) -> Vec<Value> {
    sse_data(body)
        .iter()
        .filter(|d| d.as_str() != "[DONE]")
        .map(|d| serde_json::from_str(d).expect("chunk JSON"))
        .collect()
}

/// Streams `upstream_body` through the gateway; returns the client's chunks.
async fn through_the_gateway(upstream_body: &str) -> Vec<Value> {
    let upstream = sse_upstream(upstream_body.to_owned()).await;
    let gw = spawn(json!({"providers": {"up": {
        "kind": "openai-compatible", "base_url": upstream, "models": ["m"]
    }}}))
    .await;
    let r = gw
        .http
        .post(gw.url("/v1/chat/completions"))
        .json(&json!({"model": "up/m", "stream": true,
                      "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .expect("sends");
    assert_eq!(r.status(), 200);
    let body = r.text().await.expect("body");
    assert!(body.ends_with("data: [DONE]\n\n"), "{body}");
    chunks(&body)
}

/// Asserts the gateway's chunks keep `created` and add no key path the
/// upstream's chunks lack.
fn assert_faithful(upstream_body: &str, got: &[Value], created: u64) {
    let mut sent = BTreeSet::new();
    for c in chunks(upstream_body) {
        key_paths(&c, "", &mut sent);
    }
    assert!(got.len() >= 3, "{got:?}");
    for c in got {
        assert_eq!(c["created"], json!(created), "{c}");
        let mut keys = BTreeSet::new();
        key_paths(c, "", &mut keys);
        let invented: Vec<_> = keys.difference(&sent).collect();
        assert!(
            invented.is_empty(),
            "{invented:?} are not in the upstream's chunks: {c}"
        );
    }
}

/// The chunks of a minimal OpenAI-compatible server (as a benchmark's mock
/// or a small local server sends them): no `logprobs`, no fingerprint.
fn minimal_chunk(delta: Value, finish: Value) -> String {
    format!(
        "data: {}\n\n",
        json!({"id": "chatcmpl-min", "object": "chat.completion.chunk", "created": 1_650_000_000,
               "model": "m", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
    )
}

#[tokio::test]
async fn a_minimal_upstreams_stream_keeps_created_and_gains_no_fields() {
    let body = [
        minimal_chunk(json!({"role": "assistant", "content": ""}), Value::Null),
        minimal_chunk(json!({"content": "Hello"}), Value::Null),
        minimal_chunk(json!({"content": " there"}), Value::Null),
        minimal_chunk(json!({}), json!("stop")),
        "data: [DONE]\n\n".to_owned(),
    ]
    .concat();
    let got = through_the_gateway(&body).await;
    assert_faithful(&body, &got, 1_650_000_000);
    let text: String = got
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "Hello there");
}

#[tokio::test]
async fn openais_recorded_stream_keeps_created_and_gains_no_fields() {
    let body = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../protocol/tests/data/openai/chat_stream_text.sse"
    ))
    .expect("the recorded stream");
    let got = through_the_gateway(&body).await;
    assert_faithful(&body, &got, 1_727_346_168);
}
