//! `limits_backend = "redis"` when Redis is down (nothing listens) or hung
//! (accepts and never answers): `on_redis_error = "open"` admits unchecked
//! and counts it, `"closed"` refuses with 503; either way quickly, never a
//! hung request, and the password in `redis_url` never shows. These tests
//! need no Redis.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use switchboard_core::{ErrorKind, Extension};
use switchboard_testkit::MemoryStore;

use super::test_redis::{closed_port, prefix, silent_server};
use super::{authenticated, context_for, header, keys_with, request};

/// A node whose limits' Redis is at `port`, and a key with limits on it.
async fn node(port: u16, on_error: &str, test: &str) -> (Arc<dyn Extension>, String) {
    let config = json!({
        "limits_backend": "redis",
        "redis_url": format!("redis://:hunter2@127.0.0.1:{port}"),
        "redis_prefix": prefix(test),
        "redis_timeout_ms": 200,
        "on_redis_error": on_error,
    });
    let ext = keys_with(Arc::new(MemoryStore::new()), config).await;
    let id = authenticated(
        &ext,
        json!({"name": "l", "rpm": 1, "tpm": 10_000, "max_parallel": 1}),
    )
    .await;
    (ext, id)
}

fn metric(ext: &Arc<dyn Extension>, name: &str) -> u64 {
    let mut text = String::new();
    ext.metrics(&mut text);
    let line = text
        .lines()
        .find(|l| l.starts_with(name))
        .unwrap_or_else(|| panic!("no {name} in:\n{text}"));
    line.rsplit(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not a number: {line}"))
}

/// Open: every request admitted (though `rpm = 1` and `max_parallel = 1`:
/// unchecked), quickly, without rate headers; counted.
async fn fails_open(ext: &Arc<dyn Extension>, id: &str) {
    let started = Instant::now();
    let mut running = Vec::new();
    for _ in 0..5 {
        let mut ctx = context_for(id);
        ext.on_request(&mut ctx, &mut request())
            .await
            .expect("admitted unchecked");
        assert_eq!(header(&ctx, "x-ratelimit-limit-requests"), None);
        running.push(ctx);
    }
    assert!(
        started.elapsed() < Duration::from_millis(1000),
        "five requests, at most one bounded wait: {:?}",
        started.elapsed()
    );
    assert_eq!(
        metric(ext, "switchboard_keys_limits_unchecked_total"),
        5,
        "the warning metric"
    );
    assert!(metric(ext, "switchboard_keys_limits_backend_errors_total") >= 5);
    let status = ext.status();
    assert_eq!(status["limits"]["backend"], "redis");
    assert_eq!(status["limits"]["unchecked"], 5);
}

/// Closed: every request refused with 503 `unavailable`, each in well under
/// a second; the password never shows.
async fn fails_closed(ext: &Arc<dyn Extension>, id: &str) {
    for _ in 0..3 {
        let started = Instant::now();
        let err = ext
            .on_request(&mut context_for(id), &mut request())
            .await
            .expect_err("refused");
        assert!(
            started.elapsed() < Duration::from_millis(1000),
            "refused fast: {:?}",
            started.elapsed()
        );
        assert_eq!(err.kind(), &ErrorKind::Unavailable);
        assert_eq!(err.kind().http_status(), 503);
        assert!(err.to_string().contains(id), "{err}");
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }
    assert_eq!(
        metric(
            ext,
            "switchboard_keys_refused_total{reason=\"limits_unavailable\"}"
        ),
        3
    );
    assert_eq!(metric(ext, "switchboard_keys_limits_unchecked_total"), 0);
    let mut shown = format!("{:?}", ext.status());
    ext.metrics(&mut shown);
    assert!(!shown.contains("hunter2"), "{shown}");
}

#[tokio::test]
async fn a_down_redis_fails_open_quickly_and_is_counted() {
    let (ext, id) = node(closed_port(), "open", "down_open").await;
    fails_open(&ext, &id).await;
}

#[tokio::test]
async fn a_down_redis_fails_closed_with_503_quickly() {
    let (ext, id) = node(closed_port(), "closed", "down_closed").await;
    fails_closed(&ext, &id).await;
}

#[tokio::test]
async fn a_redis_that_never_answers_fails_open_within_the_bound() {
    let (port, silent) = silent_server().await;
    let (ext, id) = node(port, "open", "silent_open").await;
    fails_open(&ext, &id).await;
    silent.abort();
}

#[tokio::test]
async fn a_redis_that_never_answers_fails_closed_within_the_bound() {
    let (port, silent) = silent_server().await;
    let (ext, id) = node(port, "closed", "silent_closed").await;
    fails_closed(&ext, &id).await;
    silent.abort();
}

#[tokio::test]
async fn a_malformed_redis_url_is_a_config_error_naming_the_key() {
    let mut ctx = switchboard_testkit::test_extension_context("keys");
    ctx.store = Arc::new(MemoryStore::new());
    let built = switchboard_ext_keys::Keys::DESCRIPTOR
        .build(
            json!({"limits_backend": "redis", "redis_url": "redis://:hunter2@[::1"}),
            ctx,
        )
        .await;
    let Err(err) = built else {
        panic!("a malformed URL builds")
    };
    assert_eq!(err.param(), Some("redis_url"), "{err}");
    assert!(!err.to_string().contains("hunter2"), "{err}");
}

/// A key with no limits of its own never asks Redis: with Redis down and
/// `on_redis_error = "closed"` it is still admitted, and no call failed.
#[tokio::test]
async fn a_key_without_limits_never_asks_redis() {
    let port = closed_port();
    let (ext, _) = node(port, "closed", "no_limits_no_redis").await;
    let bare = authenticated(&ext, json!({"name": "bare"})).await;
    for _ in 0..3 {
        let mut ctx = context_for(&bare);
        ext.on_request(&mut ctx, &mut request())
            .await
            .expect("admitted: nothing to check");
        assert_eq!(header(&ctx, "x-ratelimit-limit-requests"), None);
    }
    assert_eq!(
        metric(&ext, "switchboard_keys_limits_backend_errors_total"),
        0
    );
}
