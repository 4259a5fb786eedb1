//! The gateway's overhead metric counts the gateway's own time, not the
//! upstream's: through a real socket to an upstream that takes 150 ms, the
//! request takes at least that long, and the overhead stays small.

use crate::common;

use std::time::Duration;

use common::spawn;
use serde_json::{Value, json};
use switchboard_openai_compatible as _;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

/// An upstream that answers every chat completion after `delay`, on
/// keep-alive connections. The body follows the documented shape of a chat
/// completion (providers/openai/tests/data/chat_response.json).
async fn slow_upstream(delay: Duration) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                loop {
                    if common::read_request(&mut sock).await.is_none() {
                        return;
                    }
                    tokio::time::sleep(delay).await;
                    let body = json!({
                        "id": "chatcmpl-1", "object": "chat.completion", "created": 1741569952,
                        "model": "gpt-4.1-2025-04-14",
                        "choices": [{"index": 0, "message": {"role": "assistant",
                            "content": "Hello! How can I assist you today?", "refusal": null,
                            "annotations": []}, "logprobs": null, "finish_reason": "stop"}],
                        "usage": {"prompt_tokens": 19, "completion_tokens": 10, "total_tokens": 29}
                    })
                    .to_string();
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if sock.write_all(answer.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    format!("http://{addr}/v1")
}

fn sample(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in\n{metrics}"))
}

#[tokio::test]
async fn overhead_excludes_the_upstreams_time() {
    let upstream = slow_upstream(Duration::from_millis(150)).await;
    let gw = spawn(json!({"providers": {"up": {
        "kind": "openai-compatible", "base_url": upstream, "models": ["m"]
    }}}))
    .await;
    for _ in 0..2 {
        let r = gw
            .http
            .post(gw.url("/v1/chat/completions"))
            .json(&json!({"model": "up/m", "messages": [{"role": "user", "content": "hi"}]}))
            .send()
            .await
            .expect("sends");
        assert_eq!(r.status(), 200);
        let body: Value = r.json().await.expect("json");
        assert_eq!(
            body["choices"][0]["message"]["content"],
            "Hello! How can I assist you today?"
        );
    }
    let metrics = gw.metrics().await;
    let count = sample(
        &metrics,
        "switchboard_gateway_overhead_seconds_count{api=\"openai\"}",
    );
    let overhead = sample(
        &metrics,
        "switchboard_gateway_overhead_seconds_sum{api=\"openai\"}",
    );
    let total = sample(
        &metrics,
        "switchboard_request_duration_seconds_sum{instance=\"up\",model=\"m\"}",
    );
    assert_eq!(count, 2.0);
    assert!(total >= 0.3, "two requests of 150 ms: {total}");
    // Debug builds on a busy machine: generous, and still far from the
    // 0.3 s counting the upstream's time would give.
    assert!(overhead < 0.2, "overhead {overhead} s of {total} s");
    assert!(overhead > 0.0);
}
