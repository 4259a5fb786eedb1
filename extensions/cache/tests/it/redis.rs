//! The Redis backend against a real Redis: `SWITCHBOARD_TEST_REDIS_URL`
//! if set, else the one at 127.0.0.1:6379 if it answers, else a
//! `redis-server` of our own on a free port (killed when the test ends).
//! Without any of them these tests say so on stderr and return (set
//! `SWITCHBOARD_REQUIRE_REDIS=1` to make that a failure instead). Each test
//! writes under a prefix of its own, so they run in parallel.
//!
//! The unreachable-Redis test needs no Redis.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use switchboard_core::extension::{CompletionRecord, InboundApi, Outcome, RequestContext};
use switchboard_core::{
    ChatRequest, ChatResponse, ContentPart, Extension, Message, RequestAction, Usage,
};
use switchboard_ext_cache::{
    Backend, CACHE_HEADER, Cache, CacheConfig, CacheKey, Entry, RedisBackend,
};
use switchboard_testkit::redis::{
    closed_port, silent_server, test_redis as redis, unique_prefix as prefix,
};

fn answer(text: &str) -> ChatResponse {
    ChatResponse {
        id: format!("id-{text}"),
        model: "mock-1".into(),
        provider: "m".into(),
        created: 1_700_000_000,
        content: vec![ContentPart::text(text)],
        usage: Usage::new(1, 2),
        ..Default::default()
    }
}

fn entry(text: &str, ttl: Duration) -> Entry {
    Entry {
        response: answer(text),
        bytes: 100,
        ttl,
    }
}

#[tokio::test]
async fn entries_round_trip_expire_and_clear_by_prefix() {
    let Some(redis) = redis("entries_round_trip_expire_and_clear_by_prefix") else {
        return;
    };
    let timeout = Duration::from_secs(2);
    let mine = RedisBackend::new(&redis.url, &prefix("mine"), timeout).expect("backend");
    let other = RedisBackend::new(&redis.url, &prefix("other"), timeout).expect("backend");
    let (k1, k2) = (CacheKey([1; 32]), CacheKey([2; 32]));
    assert!(mine.get(&k1).await.expect("get").is_none());
    mine.put(k1, entry("kept", Duration::from_secs(60)))
        .await
        .expect("put");
    mine.put(k2, entry("short", Duration::from_secs(1)))
        .await
        .expect("put");
    other
        .put(k1, entry("other's", Duration::from_secs(60)))
        .await
        .expect("put");
    assert_eq!(mine.get(&k1).await.expect("get"), Some(answer("kept")));
    assert_eq!(mine.get(&k2).await.expect("get"), Some(answer("short")));
    assert_eq!(
        other.get(&k1).await.expect("get"),
        Some(answer("other's")),
        "prefixes keep them apart"
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        mine.get(&k2).await.expect("get").is_none(),
        "expired in Redis"
    );
    mine.clear().await.expect("clear");
    assert!(mine.get(&k1).await.expect("get").is_none(), "cleared");
    assert_eq!(
        other.get(&k1).await.expect("get"),
        Some(answer("other's")),
        "clear only touches its own prefix"
    );
    other.clear().await.expect("clear");
    assert!(mine.stats().is_none(), "a shared backend reports no size");
}

fn record(ctx: RequestContext) -> CompletionRecord {
    CompletionRecord {
        request_id: ctx.request_id.clone(),
        started_at: std::time::SystemTime::now(),
        api: ctx.api,
        client_key: None,
        requested_model: ctx.requested_model.clone(),
        instance: Some(Arc::from("m")),
        model: Some("mock-1".into()),
        attempts: 1,
        fallbacks: 0,
        streamed: false,
        answered_by_extension: false,
        usage: None,
        usage_partial: false,
        output_chars: 0,
        outcome: Outcome::Ok,
        latency: Duration::from_millis(1),
        time_to_first_token: None,
        scratch: ctx.scratch,
    }
}

fn header(ctx: &RequestContext) -> Option<&str> {
    ctx.response_headers
        .iter()
        .find(|(n, _)| n == CACHE_HEADER)
        .map(|(_, v)| v.as_str())
}

/// One complete request through `cache`: the header, and the hit if any.
async fn ask(cache: &Cache, upstream: &str) -> (Option<String>, Option<ChatResponse>) {
    let mut ctx = RequestContext::new("r", InboundApi::OpenAi);
    let mut request = ChatRequest::new("fast", vec![Message::user("hello")]);
    let action = cache.on_request(&mut ctx, &mut request).await.expect("ok");
    let h = header(&ctx).map(str::to_owned);
    if let RequestAction::Answer(hit) = action {
        return (h, Some(hit));
    }
    cache
        .on_response(&mut ctx, &mut answer(upstream))
        .await
        .expect("ok");
    cache.on_complete(&record(ctx)).await;
    (h, None)
}

#[tokio::test]
async fn two_gateways_share_answers_through_redis() {
    let Some(redis) = redis("two_gateways_share_answers_through_redis") else {
        return;
    };
    let config: CacheConfig = serde_json::from_value(json!({
        "backend": "redis",
        "redis_url": redis.url,
        "redis_prefix": prefix("shared"),
        "redis_timeout_ms": 2000
    }))
    .expect("config");
    let node_a = Cache::new(&config).expect("node A");
    let node_b = Cache::new(&config).expect("node B");
    let (h, hit) = ask(&node_a, "from A").await;
    assert_eq!((h.as_deref(), hit), (Some("miss"), None));
    let (h, hit) = ask(&node_b, "from B").await;
    assert_eq!(h.as_deref(), Some("hit"), "stored by A, found by B");
    assert_eq!(hit, Some(answer("from A")));
    assert_eq!(node_b.status()["backend"], "redis");
    assert!(node_b.status()["entries"].is_null());
    node_a.call_clear().await;
}

#[tokio::test]
async fn an_unreachable_redis_is_a_quick_miss_never_an_error() {
    // A port nothing listens on.
    let port = closed_port();
    let config: CacheConfig = serde_json::from_value(json!({
        "backend": "redis",
        "redis_url": format!("redis://127.0.0.1:{port}"),
        "redis_prefix": prefix("down"),
        "redis_timeout_ms": 200
    }))
    .expect("config");
    let cache = Cache::new(&config).expect("builds without connecting");
    for _ in 0..3 {
        let started = Instant::now();
        let (h, hit) = ask(&cache, "upstream").await;
        assert_eq!((h.as_deref(), hit), (Some("miss"), None));
        assert!(
            started.elapsed() < Duration::from_millis(1500),
            "bounded: {:?}",
            started.elapsed()
        );
    }
    let c = cache.counters();
    assert_eq!((c.misses, c.stores), (3, 0), "{c:?}");
    assert!(c.backend_errors >= 3, "lookups and stores failed: {c:?}");
    let mut text = String::new();
    cache.metrics(&mut text);
    assert!(
        text.contains("switchboard_cache_backend_errors_total"),
        "{text}"
    );
    assert!(
        !text.contains("switchboard_cache_entries"),
        "no size from Redis"
    );
}

#[tokio::test]
async fn a_redis_that_never_answers_is_bounded_too() {
    // Accepts connections and never says a word.
    let (port, silent) = silent_server().await;
    let config: CacheConfig = serde_json::from_value(json!({
        "backend": "redis",
        "redis_url": format!("redis://127.0.0.1:{port}"),
        "redis_prefix": prefix("silent"),
        "redis_timeout_ms": 200
    }))
    .expect("config");
    let cache = Cache::new(&config).expect("builds");
    let started = Instant::now();
    for _ in 0..5 {
        let (h, hit) = ask(&cache, "upstream").await;
        assert_eq!((h.as_deref(), hit), (Some("miss"), None));
    }
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "five requests, one bounded wait: {:?}",
        started.elapsed()
    );
    assert_eq!(cache.counters().misses, 5);
    silent.abort();
}

/// `clear` through the method, as an operator calls it.
trait CallClear {
    async fn call_clear(&self);
}

impl CallClear for Cache {
    async fn call_clear(&self) {
        let call = switchboard_core::extension::MethodCall {
            method: "clear".into(),
            arguments: json!({}),
            client_key: None,
            admin: true,
            request_id: "t".into(),
        };
        let result = self.call(call).await.expect("clear");
        assert_eq!(result, json!({"cleared": null}));
    }
}
