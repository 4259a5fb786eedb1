//! Heap allocations per request through the gateway, counted by a counting
//! global allocator: the same in-process setup as the `gateway` bench (a
//! reqwest client, the server, the `openai` provider, a loopback upstream).
//! `direct` is the client and the upstream alone, so `gateway − direct` is
//! what the gateway allocates per request. Counts, unlike times, do not
//! depend on what else the machine is doing, so a change to the hot path
//! shows its effect exactly.
//!
//! `cargo bench -p switchboard-benches --bench allocs`

// A global allocator is an `unsafe` trait; this one only forwards to
// `System` and counts (the workspace denies unsafe code everywhere else).
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

use switchboard_benches::e2e::{body, gateway, upstream};

/// Counts every allocation (and reallocation) and the bytes asked for.
struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is forwarded to `System` unchanged; only counters are
// added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        // SAFETY: the caller's contract is `System`'s.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is `System`'s.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(new_size as u64, Ordering::Relaxed);
        // SAFETY: the caller's contract is `System`'s.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const WARMUP: u64 = 200;
const MEASURED: u64 = 2000;

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let client = reqwest::Client::new();
    let (upstream, plain, with_usage) = rt.block_on(async {
        let upstream = upstream().await;
        (
            upstream,
            gateway(upstream, false).await,
            gateway(upstream, true).await,
        )
    });
    let cases = [
        (
            "chat/direct",
            format!("http://{upstream}/v1/chat/completions"),
            "gpt-4o",
            false,
        ),
        (
            "chat/through-gateway",
            format!("http://{plain}/v1/chat/completions"),
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
            format!("http://{plain}/v1/chat/completions"),
            "ups/gpt-4o",
            true,
        ),
        (
            "stream/through-gateway+usage",
            format!("http://{with_usage}/v1/chat/completions"),
            "ups/gpt-4o",
            true,
        ),
    ];
    println!("| request | allocations / request | bytes / request | gateway's allocations |");
    println!("|---|---|---|---|");
    let mut direct = (0.0, 0.0);
    for (name, url, model, stream) in cases {
        let payload = body(model, stream);
        let (allocs, bytes) = rt.block_on(async {
            let send = || async {
                let r = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(payload.clone())
                    .send()
                    .await
                    .expect("sends");
                assert!(r.status().is_success(), "{name}: status {}", r.status());
                r.bytes().await.expect("body");
            };
            for _ in 0..WARMUP {
                send().await;
            }
            let (a0, b0) = (
                ALLOCS.load(Ordering::Relaxed),
                BYTES.load(Ordering::Relaxed),
            );
            for _ in 0..MEASURED {
                send().await;
            }
            let (a1, b1) = (
                ALLOCS.load(Ordering::Relaxed),
                BYTES.load(Ordering::Relaxed),
            );
            (
                (a1 - a0) as f64 / MEASURED as f64,
                (b1 - b0) as f64 / MEASURED as f64,
            )
        });
        if name.ends_with("/direct") {
            direct = (allocs, bytes);
        }
        let added = if name.ends_with("/direct") {
            "—".to_owned()
        } else {
            format!("{:.1}", allocs - direct.0)
        };
        println!("| {name} | {allocs:.1} | {bytes:.0} | {added} |");
    }
}
