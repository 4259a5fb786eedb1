//! An end-to-end request through the gateway, in process: a reqwest client
//! → the axum app on loopback (`switchboard serve`'s server) → the `openai`
//! provider → a loopback upstream answering the recorded OpenAI chat
//! completion. `direct` sends the same request straight to the upstream, so
//! `through-gateway − direct` is what the gateway adds (client, server and
//! upstream share one runtime here; `cargo xtask bench-load` measures
//! separate processes). `through-gateway+usage` is the same with the
//! `usage` extension enabled (an in-memory store): what its hooks cost.

use std::hint::black_box;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::routing::post;
use criterion::{Criterion, criterion_group, criterion_main};
use switchboard::Switchboard;
use switchboard::gateway::config::types::Config;
use switchboard_benches::runtime;

const ANSWER: &str = include_str!("../../providers/openai/tests/data/chat_response.json");
const STREAM: &str = include_str!("../../providers/openai/tests/data/chat_stream_text.sse");

async fn upstream() -> SocketAddr {
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

async fn gateway(upstream: SocketAddr, usage: bool) -> SocketAddr {
    let mut config = serde_json::json!({
        "providers": {
            "up": {"kind": "openai", "api_key": "sk-bench", "base_url": format!("http://{upstream}/v1")},
            "ups": {"kind": "openai", "api_key": "sk-bench", "base_url": format!("http://{upstream}/stream/v1")}
        }
    });
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

fn body(model: &str, stream: bool) -> Vec<u8> {
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

fn end_to_end(c: &mut Criterion) {
    let rt = runtime();
    let (upstream, gateway, with_usage) = rt.block_on(async {
        let upstream = upstream().await;
        (
            upstream,
            gateway(upstream, false).await,
            gateway(upstream, true).await,
        )
    });
    let client = reqwest::Client::new();
    let send = |url: String, body: Vec<u8>| {
        let client = client.clone();
        async move {
            let r = client
                .post(url)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .expect("sends");
            assert!(r.status().is_success(), "status {}", r.status());
            black_box(r.bytes().await.expect("body"))
        }
    };
    let mut g = c.benchmark_group("end-to-end");
    for (name, url, model, stream) in [
        (
            "chat/direct",
            format!("http://{upstream}/v1/chat/completions"),
            "gpt-4o",
            false,
        ),
        (
            "chat/through-gateway",
            format!("http://{gateway}/v1/chat/completions"),
            "up/gpt-4o",
            false,
        ),
        (
            "chat/through-gateway+usage",
            format!("http://{with_usage}/v1/chat/completions"),
            "up/gpt-4o",
            false,
        ),
        (
            "stream/direct",
            format!("http://{upstream}/stream/v1/chat/completions"),
            "gpt-4o",
            true,
        ),
        (
            "stream/through-gateway",
            format!("http://{gateway}/v1/chat/completions"),
            "ups/gpt-4o",
            true,
        ),
        (
            "stream/through-gateway+usage",
            format!("http://{with_usage}/v1/chat/completions"),
            "ups/gpt-4o",
            true,
        ),
    ] {
        let payload = body(model, stream);
        g.bench_function(name, |b| {
            b.to_async(&rt).iter(|| send(url.clone(), payload.clone()))
        });
    }
    g.finish();
}

criterion_group!(benches, end_to_end);
criterion_main!(benches);
