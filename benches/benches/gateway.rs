//! An end-to-end request through the gateway, in process: a reqwest client
//! → the axum app on loopback (`switchboard serve`'s server) → the `openai`
//! provider → a loopback upstream answering the recorded OpenAI chat
//! completion. `direct` sends the same request straight to the upstream, so
//! `through-gateway − direct` is what the gateway adds (client, server and
//! upstream share one runtime here; `cargo xtask bench-load` measures
//! separate processes). `through-gateway+usage` is the same with the
//! `usage` extension enabled (an in-memory store): what its hooks cost.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use switchboard_benches::e2e::{body, gateway, upstream};
use switchboard_benches::runtime;

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
