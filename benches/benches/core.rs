//! Catalog discovery and a mock chat round-trip: the baseline every later
//! hot-path bench is compared with.

use criterion::{Criterion, criterion_group, criterion_main};
use futures::StreamExt;
use std::hint::black_box;
use switchboard::{Catalog, registered};
use switchboard_benches::{mock_provider, runtime, sample_request};

fn catalog_discovery(c: &mut Criterion) {
    let mut g = c.benchmark_group("catalog");
    g.bench_function("discover", |b| {
        b.iter(|| {
            let catalog = Catalog::from_descriptors(registered()).expect("unique names");
            black_box(catalog.len())
        })
    });
    let catalog = Catalog::from_descriptors(registered()).expect("unique names");
    g.bench_function("lookup", |b| {
        b.iter(|| black_box(catalog.get(black_box("mock"))))
    });
    g.finish();
}

fn mock_round_trip(c: &mut Criterion) {
    let rt = runtime();
    let provider = rt.block_on(mock_provider());
    let request = sample_request();
    let mut g = c.benchmark_group("mock");
    g.bench_function("chat", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(provider.chat(&request).await.expect("mock answers")) })
    });
    g.bench_function("chat_stream", |b| {
        b.to_async(&rt).iter(|| async {
            let mut stream = provider.chat_stream(&request).await.expect("mock streams");
            let mut n = 0usize;
            while let Some(event) = stream.next().await {
                black_box(event.expect("no fault configured"));
                n += 1;
            }
            n
        })
    });
    g.finish();
}

criterion_group!(benches, catalog_discovery, mock_round_trip);
criterion_main!(benches);
