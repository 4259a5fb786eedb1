//! The memory backend: bounded by bytes (least recently used evicted
//! first), each entry expiring after its own TTL.

use std::time::Duration;

use switchboard_core::{ChatResponse, ContentPart};
use switchboard_ext_cache::{Backend, CacheKey, ENTRY_OVERHEAD_BYTES, Entry, MemoryBackend};

fn k(n: u8) -> CacheKey {
    CacheKey([n; 32])
}

fn entry(text: &str, bytes: u64, ttl: Duration) -> Entry {
    Entry {
        response: ChatResponse {
            id: text.into(),
            content: vec![ContentPart::text(text)],
            ..Default::default()
        },
        bytes,
        ttl,
    }
}

const HOUR: Duration = Duration::from_secs(3600);

#[tokio::test]
async fn the_byte_bound_evicts_the_least_recently_used() {
    // Room for three entries of 1000 bytes (each weighs 1000 + overhead).
    let per_entry = 1000 + ENTRY_OVERHEAD_BYTES;
    let backend = MemoryBackend::new(3 * per_entry);
    for n in 0..3 {
        backend
            .put(k(n), entry(&format!("e{n}"), 1000, HOUR))
            .await
            .expect("put");
    }
    backend.sync();
    assert_eq!(backend.stats().expect("memory stats").entries, 3);
    assert_eq!(backend.stats().expect("memory stats").bytes, 3 * per_entry);
    // Touch e0, so e1 is now the least recently used.
    assert!(backend.get(&k(0)).await.expect("get").is_some());
    backend.sync();
    for n in 3..5 {
        backend
            .put(k(n), entry(&format!("e{n}"), 1000, HOUR))
            .await
            .expect("put");
        backend.sync();
    }
    let stats = backend.stats().expect("memory stats");
    assert!(stats.bytes <= 3 * per_entry, "{stats:?}");
    assert_eq!(stats.entries, 3, "{stats:?}");
    assert_eq!(stats.evicted, 2, "{stats:?}");
    assert!(
        backend.get(&k(1)).await.expect("get").is_none(),
        "e1 evicted"
    );
    assert!(
        backend.get(&k(2)).await.expect("get").is_none(),
        "e2 evicted"
    );
    for n in [0, 3, 4] {
        let got = backend.get(&k(n)).await.expect("get").expect("kept");
        assert_eq!(got.id, format!("e{n}"));
    }
}

#[tokio::test]
async fn an_entry_larger_than_the_whole_cache_is_not_kept() {
    let backend = MemoryBackend::new(500);
    backend
        .put(k(1), entry("big", 1000, HOUR))
        .await
        .expect("put");
    backend.sync();
    assert!(backend.get(&k(1)).await.expect("get").is_none());
    assert_eq!(backend.stats().expect("memory stats").bytes, 0);
}

#[tokio::test]
async fn each_entry_expires_after_its_own_ttl() {
    let backend = MemoryBackend::new(1 << 20);
    backend
        .put(k(1), entry("short", 10, Duration::from_secs(1)))
        .await
        .expect("put");
    backend
        .put(k(2), entry("long", 10, HOUR))
        .await
        .expect("put");
    assert!(backend.get(&k(1)).await.expect("get").is_some());
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert!(backend.get(&k(1)).await.expect("get").is_none(), "expired");
    assert!(
        backend.get(&k(2)).await.expect("get").is_some(),
        "still fresh"
    );
    // `get` never returns an expired entry; the entry itself is dropped
    // (and counted) when the cache's timer wheel (about 1 s ticks) passes it.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let stats = loop {
        let stats = backend.stats().expect("memory stats");
        if stats.expired == 1 || std::time::Instant::now() > deadline {
            break stats;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(stats.entries, 1, "{stats:?}");
    assert_eq!(stats.expired, 1, "{stats:?}");
}

#[tokio::test]
async fn replacing_an_entry_restarts_its_ttl_and_clear_drops_all() {
    let backend = MemoryBackend::new(1 << 20);
    backend
        .put(k(1), entry("old", 10, Duration::from_millis(200)))
        .await
        .expect("put");
    backend
        .put(k(1), entry("new", 10, HOUR))
        .await
        .expect("put");
    tokio::time::sleep(Duration::from_millis(400)).await;
    let got = backend.get(&k(1)).await.expect("get").expect("fresh");
    assert_eq!(got.id, "new");
    backend.clear().await.expect("clear");
    assert!(backend.get(&k(1)).await.expect("get").is_none());
    assert_eq!(backend.stats().expect("memory stats").entries, 0);
}
