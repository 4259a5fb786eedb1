//! What the `keys` extension's hooks cost one request on the embedded
//! backend: `authenticate` (hash the key, the cached lookup), `on_request`
//! (the request and token buckets, the `x-ratelimit-*` headers) and
//! `on_complete` (tokens reconciled), for a virtual key with `rpm` and
//! `tpm` — against a static key, which the extension only looks up.
//! `cargo xtask bench-load --virtual-key embedded` measures the same
//! through the whole gateway.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;
use switchboard::{ChatRequest, Message};
use switchboard_benches::runtime;
use switchboard_core::extension::{
    ClientKeyInfo, CompletionRecord, InboundApi, MethodCall, RequestContext,
};
use switchboard_core::{Extension, Usage};
use switchboard_ext_keys::Keys;
use switchboard_testkit::{MemoryStore, completion_record, test_extension_context};

async fn keys() -> Arc<dyn Extension> {
    let mut ctx = test_extension_context("keys");
    ctx.store = Arc::new(MemoryStore::new());
    Keys::DESCRIPTOR
        .build(json!({}), ctx)
        .await
        .expect("builds")
}

async fn virtual_key(ext: &Arc<dyn Extension>) -> String {
    let made = ext
        .call(MethodCall {
            method: "create".into(),
            arguments: json!({"name": "bench", "rpm": 4_000_000_000_u64, "tpm": 1_000_000_000_000_u64}),
            client_key: None,
            admin: true,
            request_id: "bench".into(),
        })
        .await
        .expect("created");
    made["key"].as_str().expect("key").to_owned()
}

fn record(ctx: RequestContext) -> CompletionRecord {
    CompletionRecord {
        usage: Some(Usage::new(40, 12)),
        ..completion_record(ctx)
    }
}

/// One request's hooks: `authenticate` (a virtual key only), `on_request`,
/// `on_complete`.
async fn one_request(ext: &Arc<dyn Extension>, key: Option<&str>, request: &ChatRequest) {
    let client_key = match key {
        Some(key) => {
            let grant = ext.authenticate(key).await.expect("valid").expect("known");
            grant.key
        }
        None => ClientKeyInfo {
            id: Arc::from("static"),
            ..Default::default()
        },
    };
    let mut ctx = RequestContext::new("req_bench", InboundApi::OpenAi);
    ctx.client_key = Some(client_key);
    let mut request = request.clone();
    ext.on_request(&mut ctx, &mut request)
        .await
        .expect("admitted");
    black_box(&ctx.response_headers);
    ext.on_complete(&record(ctx)).await;
}

fn hooks(c: &mut Criterion) {
    let rt = runtime();
    let ext = rt.block_on(keys());
    let key = rt.block_on(virtual_key(&ext));
    let request = ChatRequest::new(
        "up/gpt-4o",
        vec![
            Message::system("You are a helpful assistant."),
            Message::user("Hello! Say something short."),
        ],
    );
    let mut g = c.benchmark_group("keys");
    g.bench_function("static_key", |b| {
        b.to_async(&rt).iter(|| one_request(&ext, None, &request))
    });
    g.bench_function("virtual_key_rpm_tpm", |b| {
        b.to_async(&rt)
            .iter(|| one_request(&ext, Some(&key), &request))
    });
    g.finish();
}

criterion_group!(benches, hooks);
criterion_main!(benches);
