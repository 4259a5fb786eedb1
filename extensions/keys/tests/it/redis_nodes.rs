//! `limits_backend = "redis"`: two `keys` extensions — two gateway nodes —
//! sharing one Redis (and one store, for the keys themselves) hold each
//! key's limits together; the window slides on Redis's clock.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use switchboard_core::extension::{CompletionRecord, RequestContext};
use switchboard_core::{Error, ErrorKind, Extension, Usage};
use switchboard_ext_keys::{Ask, RedisLimits, Refused, WINDOW};
use switchboard_testkit::MemoryStore;

use super::test_redis::{TestRedis, conn, prefix, redis};
use super::{call, context_for, header, keys_with, request};

type Nodes = [Arc<dyn Extension>; 2];

/// Two nodes on one Redis and one store, and the prefix they write under.
async fn two_nodes(redis: &TestRedis, test: &str, extra: Value) -> (Nodes, String) {
    let store = Arc::new(MemoryStore::new());
    let prefix = prefix(test);
    let mut config = json!({
        "limits_backend": "redis",
        "redis_url": redis.url,
        "redis_prefix": prefix,
        "redis_timeout_ms": 2000,
    });
    if let (Some(c), Value::Object(extra)) = (config.as_object_mut(), extra) {
        c.extend(extra);
    }
    let nodes = [
        keys_with(store.clone(), config.clone()).await,
        keys_with(store, config).await,
    ];
    (nodes, prefix)
}

/// A key made on node A and presented on both nodes; its id.
async fn shared_key(nodes: &Nodes, settings: Value) -> String {
    let made = call(&nodes[0], "create", settings).await.expect("created");
    let secret = made["key"].as_str().expect("key");
    for node in nodes {
        node.authenticate(secret)
            .await
            .expect("valid")
            .expect("known on every node");
    }
    made["id"].as_str().expect("id").to_owned()
}

async fn ask(node: &Arc<dyn Extension>, id: &str) -> (RequestContext, Result<(), Error>) {
    let mut ctx = context_for(id);
    let result = node.on_request(&mut ctx, &mut request()).await.map(|_| ());
    (ctx, result)
}

/// The record of a finished request of `ctx` that used `usage` (also for
/// the memory backend's tests).
pub(crate) fn record(ctx: RequestContext, usage: Usage) -> CompletionRecord {
    CompletionRecord {
        usage: Some(usage),
        ..switchboard_testkit::completion_record(ctx)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_concurrent_requests_across_two_nodes_admit_exactly_the_rpm() {
    let test = "rpm_across_two_nodes";
    let Some(redis) = redis(test) else { return };
    let (nodes, _) = two_nodes(&redis, test, json!({})).await;
    let id = shared_key(&nodes, json!({"name": "shared", "rpm": 10})).await;
    let mut tasks = Vec::new();
    for i in 0..30 {
        let node = nodes[i % 2].clone();
        let id = id.clone();
        tasks.push(tokio::spawn(async move { ask(&node, &id).await.1 }));
    }
    let (mut admitted, mut refused) = (0, 0);
    for task in tasks {
        match task.await.expect("joins") {
            Ok(()) => admitted += 1,
            Err(e) if matches!(e.kind(), ErrorKind::RateLimited { .. }) => refused += 1,
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    assert_eq!(
        (admitted, refused),
        (10, 20),
        "exactly the limit, across nodes"
    );
    for node in &nodes {
        let (ctx, result) = ask(node, &id).await;
        assert!(result.is_err(), "the window is full on every node");
        assert_eq!(header(&ctx, "x-ratelimit-remaining-requests"), Some("0"));
        let reset = header(&ctx, "x-ratelimit-reset-requests").expect("reset");
        let secs: u64 = reset.trim_end_matches('s').parse().expect("seconds");
        assert!(
            (5..=6).contains(&secs),
            "one request drains from a bucket of 10 per minute in 6 s: {reset}"
        );
    }
}

#[tokio::test]
async fn tokens_per_minute_are_shared_and_reconciled_across_nodes() {
    let test = "tpm_across_two_nodes";
    let Some(redis) = redis(test) else { return };
    let (nodes, prefix) = two_nodes(&redis, test, json!({})).await;
    let id = shared_key(&nodes, json!({"name": "t", "tpm": 1000})).await;
    let t0 = Instant::now();
    let (ctx_a, result) = ask(&nodes[0], &id).await;
    result.expect("A admitted");
    let left = |ctx: &RequestContext| -> u64 {
        header(ctx, "x-ratelimit-remaining-tokens")
            .expect("header")
            .parse()
            .expect("number")
    };
    let estimate = 1000 - left(&ctx_a);
    assert!(estimate > 0 && estimate < 100, "{estimate}");
    // The bucket drains 1000 tokens a minute: a token every 60 ms since A's
    // check (a loaded machine's slow round trips included), and one for
    // rounding.
    let drained = || t0.elapsed().as_millis() as u64 / 60 + 1;
    let about = |got: u64, want: u64| got >= want && got <= want + drained() + 1;
    let (ctx_b, result) = ask(&nodes[1], &id).await;
    result.expect("B admitted");
    assert!(
        about(left(&ctx_b), 1000 - 2 * estimate),
        "B sees A's tokens: {}",
        left(&ctx_b)
    );
    // A's answer used more than estimated: A reconciles (`on_complete`),
    // which leaves B's next request no room.
    let used = 1000 - estimate - estimate / 2;
    nodes[0]
        .on_complete(&record(ctx_a, Usage::new(used, 0)))
        .await;
    let in_bucket = used + estimate;
    let (ctx, result) = ask(&nodes[1], &id).await;
    let err = result.expect_err("over the token limit");
    assert!(err.to_string().contains("tokens per minute"), "{err}");
    assert!(about(left(&ctx), 1000 - in_bucket), "{}", left(&ctx));

    // The bucket is one hash (its level and time), expiring once drained.
    let mut conn = conn(&redis).await;
    let bucket = format!("{prefix}{{{id}}}:tpm");
    let (level, at): (f64, u64) = redis::cmd("HMGET")
        .arg(&bucket)
        .arg("l")
        .arg("t")
        .query_async(&mut conn)
        .await
        .expect("bucket");
    assert!(
        level <= in_bucket as f64 && level > (in_bucket - drained() - 2) as f64,
        "{level} vs {in_bucket}"
    );
    assert!(at > 1_700_000_000_000, "measured on Redis's clock: {at}");
    let ttl: i64 = redis::cmd("PTTL")
        .arg(&bucket)
        .query_async(&mut conn)
        .await
        .expect("ttl");
    assert!(
        ttl > 50_000 && ttl <= 60_000,
        "drains empty in about a minute: {ttl}"
    );
}

#[tokio::test]
async fn parallel_slots_are_shared_and_released_when_requests_end() {
    let test = "parallel_across_two_nodes";
    let Some(redis) = redis(test) else { return };
    let (nodes, prefix) = two_nodes(&redis, test, json!({})).await;
    let id = shared_key(&nodes, json!({"name": "p", "max_parallel": 2})).await;
    let (running_a, result) = ask(&nodes[0], &id).await;
    result.expect("A runs one");
    let (running_b, result) = ask(&nodes[1], &id).await;
    result.expect("B runs one");
    for node in &nodes {
        let err = ask(node, &id).await.1.expect_err("two already run");
        assert!(err.to_string().contains("max_parallel"), "{err}");
    }
    // A's request ends: its slot is released (by a task) for both nodes.
    drop(running_a);
    let deadline = Instant::now() + Duration::from_secs(5);
    let running_c = loop {
        let (ctx, result) = ask(&nodes[1], &id).await;
        if result.is_ok() {
            break ctx;
        }
        assert!(Instant::now() < deadline, "the slot was never released");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    drop((running_b, running_c));
    let mut conn = conn(&redis).await;
    let slots = format!("{prefix}{{{id}}}:slots");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let held: u64 = redis::cmd("ZCARD")
            .arg(&slots)
            .query_async(&mut conn)
            .await
            .expect("zcard");
        if held == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{held} slots still held");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_crashed_nodes_slot_frees_itself_when_its_lease_ends() {
    let test = "slot_lease";
    let Some(redis) = redis(test) else { return };
    let (nodes, _) = two_nodes(&redis, test, json!({"redis_slot_lease_secs": 2})).await;
    let id = shared_key(&nodes, json!({"name": "p", "max_parallel": 1})).await;
    let started = Instant::now();
    let (running, result) = ask(&nodes[0], &id).await;
    result.expect("A runs one");
    // The lease began while that ask ran, so it ends before this + 2 s.
    let leased = Instant::now();
    // Node A dies mid-request: its slot is never released.
    std::mem::forget(running);
    ask(&nodes[1], &id)
        .await
        .1
        .expect_err("A's slot is still held");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "checked within the lease"
    );
    tokio::time::sleep(Duration::from_millis(2100).saturating_sub(leased.elapsed())).await;
    ask(&nodes[1], &id)
        .await
        .1
        .expect("the lease ended: the slot is free");
}

fn limits(redis: &TestRedis, test: &str) -> RedisLimits {
    RedisLimits::new(
        &redis.url,
        &prefix(test),
        Duration::from_secs(2),
        Duration::from_secs(60),
    )
    .expect("limits")
}

/// Whether `d` is `secs` seconds, give or take a millisecond's rounding.
fn about(d: Duration, secs: f64) -> bool {
    (d.as_secs_f64() - secs).abs() <= 0.002
}

#[tokio::test]
async fn a_burst_just_before_a_minute_boundary_is_not_followed_by_another() {
    let test = "window_boundary";
    let Some(redis) = redis(test) else { return };
    let limits = limits(&redis, test);
    let rpm = Ask {
        rpm: Some(10),
        ..Ask::default()
    };
    // Explicit times (a test knob): t0 is a minute's start.
    let t0: u64 = 1_800_000_000_000;
    let at = |secs: u64| Some(t0 + secs * 1000);
    // 10 at 0:59, just before a fixed minute bucket would roll over.
    for _ in 0..10 {
        let a = limits.admit_at("k", &rpm, at(59)).await.expect("admit");
        assert_eq!(a.refused, None);
    }
    // 1:01: a fixed bucket would admit 10 more; the token bucket has
    // drained a third of a request.
    let a = limits.admit_at("k", &rpm, at(61)).await.expect("admit");
    assert_eq!(a.refused, Some(Refused::Requests));
    let v = a.requests.expect("verdict");
    assert_eq!(v.remaining, 0);
    assert!(about(v.reset, 4.0), "room for one at 1:05: {:?}", v.reset);
    // 1:05: room for one, and only one.
    let a = limits.admit_at("k", &rpm, at(65)).await.expect("admit");
    assert_eq!(a.refused, None);
    let a = limits.admit_at("k", &rpm, at(65)).await.expect("admit");
    assert_eq!(a.refused, Some(Refused::Requests));
    // A minute after the last one the bucket is empty.
    let a = limits.admit_at("k", &rpm, at(125)).await.expect("admit");
    assert_eq!(a.refused, None);
    assert_eq!(a.requests.expect("verdict").remaining, 9);

    // Tokens: weights, reconciliation past the limit, and when enough of
    // them drain.
    let tpm = |tokens| Ask {
        tpm: Some(100),
        tokens,
        ..Ask::default()
    };
    let a = limits.admit_at("t", &tpm(60), at(0)).await.expect("admit");
    let v = a.tokens.expect("verdict");
    assert_eq!(v.remaining, 40);
    assert!(
        about(v.reset, 36.0),
        "60 tokens drain in 36 s: {:?}",
        v.reset
    );
    // 0:06: 10 drained; the answer used 60 more than estimated: 110.
    limits
        .add_tokens_at("t", 100, 60, at(6))
        .await
        .expect("add");
    let a = limits.admit_at("t", &tpm(20), at(12)).await.expect("admit");
    assert_eq!(a.refused, Some(Refused::Tokens), "100 + 20 > 100");
    let v = a.tokens.expect("verdict");
    assert_eq!(v.remaining, 0);
    assert!(about(v.reset, 12.0), "20 more drain by 0:24: {:?}", v.reset);
    let a = limits.admit_at("t", &tpm(20), at(24)).await.expect("admit");
    assert_eq!(a.refused, None);
    assert_eq!(a.tokens.expect("verdict").remaining, 0);
    assert_eq!(WINDOW, Duration::from_secs(60));
}

#[tokio::test]
async fn the_buckets_run_on_redis_time() {
    let test = "redis_time";
    let Some(redis) = redis(test) else { return };
    let limits = limits(&redis, test);
    let mut conn = conn(&redis).await;
    let (secs, micros): (u64, u64) = redis::cmd("TIME")
        .query_async(&mut conn)
        .await
        .expect("time");
    let redis_now = secs * 1000 + micros / 1000;
    let rpm = Ask {
        rpm: Some(3),
        ..Ask::default()
    };
    // Three requests 18 s ago on Redis's clock filled the bucket, which has
    // drained 0.9 of one since (one every 20 s)...
    for _ in 0..3 {
        let a = limits
            .admit_at("k", &rpm, Some(redis_now - 18_000))
            .await
            .expect("admit");
        assert_eq!(a.refused, None);
    }
    // ...so a request now (on Redis's clock) waits the last 2 s.
    let a = limits.admit_at("k", &rpm, None).await.expect("admit");
    assert_eq!(a.refused, Some(Refused::Requests));
    let reset = a.requests.expect("verdict").reset;
    assert!(reset <= Duration::from_secs(2), "{reset:?}");
    // At exactly 0:18 the wait is exactly 2 s, not the 2.001 s that float
    // noise rounded up to (a wait is rounded up, but not for the noise).
    let a = limits
        .admit_at("exact", &rpm, Some(redis_now - 18_000))
        .await
        .expect("admit");
    assert_eq!(a.refused, None);
    for _ in 0..2 {
        limits
            .admit_at("exact", &rpm, Some(redis_now - 18_000))
            .await
            .expect("admit");
    }
    let a = limits
        .admit_at("exact", &rpm, Some(redis_now))
        .await
        .expect("admit");
    assert_eq!(a.refused, Some(Refused::Requests));
    assert_eq!(a.requests.expect("verdict").reset, Duration::from_secs(2));
    tokio::time::sleep(reset + Duration::from_millis(100)).await;
    let a = limits.admit_at("k", &rpm, None).await.expect("admit");
    assert_eq!(a.refused, None, "one drained on Redis's clock");
}

#[tokio::test]
async fn a_flushed_script_is_loaded_again() {
    let test = "noscript";
    let Some(redis) = redis(test) else { return };
    let limits = limits(&redis, test);
    let rpm = Ask {
        rpm: Some(5),
        ..Ask::default()
    };
    let a = limits.admit_at("k", &rpm, None).await.expect("admit");
    assert_eq!(a.requests.expect("verdict").remaining, 4);
    // As after a Redis restart: the script cache is empty (EVALSHA answers
    // NOSCRIPT); the next check loads the script again.
    let mut conn = conn(&redis).await;
    redis::cmd("SCRIPT")
        .arg("FLUSH")
        .query_async::<()>(&mut conn)
        .await
        .expect("flush");
    let a = limits
        .admit_at("k", &rpm, None)
        .await
        .expect("admit after a flush");
    assert_eq!(a.requests.expect("verdict").remaining, 3);
}

#[test]
fn the_extension_conforms_with_the_redis_backend() {
    let Some(redis) = redis("conformance_redis") else {
        return;
    };
    switchboard_testkit::assert_extension_conforms(
        switchboard_ext_keys::Keys::DESCRIPTOR,
        json!({
            "limits_backend": "redis",
            "redis_url": redis.url,
            "redis_prefix": prefix("conformance_redis"),
            "on_redis_error": "closed",
        }),
    );
}
