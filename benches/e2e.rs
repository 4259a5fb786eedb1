//! The in-process end-to-end setup the `gateway` and `allocs` benches share:
//! a loopback upstream answering the recorded OpenAI chat completion (and
//! stream), and a gateway (`switchboard serve`'s server) in front of it.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::routing::post;
use switchboard::Switchboard;
use switchboard::gateway::config::types::Config;

/// The recorded OpenAI chat completion the upstream answers.
const ANSWER: &str = include_str!("../providers/openai/tests/data/chat_response.json");
/// The recorded OpenAI stream the upstream answers under `/stream`.
const STREAM: &str = include_str!("../providers/openai/tests/data/chat_stream_text.sse");

/// A loopback OpenAI upstream: `/v1/chat/completions` answers [`ANSWER`],
/// `/stream/v1/chat/completions` the stream.
pub async fn upstream() -> SocketAddr {
    let app = axum::Router::new()
        .route(
            "/v1/chat/completions",
            post(|| async { ([("content-type", "application/json")], ANSWER) }),
        )
        .route(
            "/stream/v1/chat/completions",
            post(|| async { ([("content-type", "text/event-stream")], STREAM) }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// A gateway on loopback with instances `up` (complete answers) and `ups`
/// (streams) on `upstream`; with `usage`, the `usage` extension enabled;
/// with `SWITCHBOARD_BENCH_FULL_PATH` set, without the same-format fast
/// path (`server.forward_same_format = false`).
pub async fn gateway(upstream: SocketAddr, usage: bool) -> SocketAddr {
    let mut config = serde_json::json!({
        "providers": {
            "up": {"kind": "openai", "api_key": "sk-bench", "base_url": format!("http://{upstream}/v1")},
            "ups": {"kind": "openai", "api_key": "sk-bench", "base_url": format!("http://{upstream}/stream/v1")}
        }
    });
    if std::env::var_os("SWITCHBOARD_BENCH_FULL_PATH").is_some() {
        // The same-format fast path's A/B: the full path for every request.
        config["server"] = serde_json::json!({"forward_same_format": false});
    }
    if usage {
        config["state"] = serde_json::json!({"path": ":memory:"});
        config["extensions"] = serde_json::json!({"usage": {"enabled": true}});
    }
    let config: Config = serde_json::from_value(config).expect("valid config");
    let sb = Arc::new(Switchboard::from_config(config).await.expect("builds"));
    let server = switchboard::server::Server::bind(sb, ([127, 0, 0, 1], 0).into())
        .await
        .expect("binds");
    let addr = server.local_addr().expect("addr");
    tokio::spawn(server.run(std::future::pending()));
    addr
}

/// An OpenAI chat request body for `model`.
pub fn body(model: &str, stream: bool) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "model": model,
        "messages": [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "Hello!"}
        ],
        "stream": stream
    }))
    .expect("serializes")
}
