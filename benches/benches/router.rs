//! Routing overhead: resolving a target, and a whole routed chat against the
//! same chat sent to the provider directly (the difference is what the
//! router adds per request).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use switchboard::Switchboard;
use switchboard::gateway::config::types::Config;
use switchboard_benches::{runtime, sample_request};

fn config() -> Config {
    serde_json::from_value(serde_json::json!({
        "providers": {
            "m": {"kind": "mock"},
            "n": {"kind": "mock", "models": ["other"]}
        },
        "models": {
            "fallback": {"targets": ["m/mock-1", "n/other"]},
            "rr": {"strategy": "round-robin", "targets": ["m/mock-1", "n/other"]}
        }
    }))
    .expect("valid config")
}

fn routing(c: &mut Criterion) {
    let rt = runtime();
    let sb = rt
        .block_on(Switchboard::from_config(config()))
        .expect("builds");
    let mut g = c.benchmark_group("router");
    for model in ["m/mock-1", "mock-1", "fallback", "rr"] {
        g.bench_function(format!("resolve/{model}"), |b| {
            b.iter(|| black_box(sb.router().resolve(black_box(model)).expect("resolves")))
        });
    }
    let provider = sb
        .registry()
        .get("m")
        .and_then(|i| i.provider())
        .expect("m is ready");
    let mut request = sample_request();
    request.model = "mock-1".into();
    g.bench_function("chat/direct", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(provider.chat(&request).await.expect("answers")) })
    });
    g.bench_function("chat/routed", |b| {
        b.to_async(&rt).iter(|| async {
            let mut r = sample_request();
            r.model = "m/mock-1".into();
            black_box(sb.router().chat(r).await.expect("answers"))
        })
    });
    g.bench_function("chat/routed-clone-only", |b| {
        // The request clone the routed bench pays for, to subtract it.
        b.iter(|| {
            let mut r = sample_request();
            r.model = "m/mock-1".into();
            black_box(r)
        })
    });
    g.finish();
}

criterion_group!(benches, routing);
criterion_main!(benches);
