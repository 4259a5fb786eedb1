//! Bounds on what an upstream or a config can make the router wait:
//! `router.max_retry_after_ms`, `router.stream_timeout_ms`, and durations
//! too large for `Instant` arithmetic.

use std::time::Duration;

use futures::StreamExt;
use serde_json::{Value, json};
use switchboard_core::{ChatEvent, ChatRequest, ErrorKind, Message};
use switchboard_gateway::Switchboard;
use switchboard_gateway::config::types::Config;
use switchboard_mock as _;
use tokio::time::Instant;

async fn switchboard(config: Value) -> Switchboard {
    let config: Config = serde_json::from_value(config).expect("valid config");
    Switchboard::from_config(config).await.expect("builds")
}

fn req(model: &str) -> ChatRequest {
    ChatRequest::new(model, vec![Message::user("hello there")])
}

#[tokio::test(start_paused = true)]
async fn a_long_retry_after_is_not_slept_through() {
    // Default router settings: the budget (10 min) would allow the wait.
    let sb = switchboard(json!({
        "providers": {
            "limited": {"kind": "mock", "fault": {"kind": "rate_limited", "retry_after_ms": 120000}},
            "spare": {"kind": "mock"}
        },
        "models": {"x": {"targets": ["limited/mock-1", "spare/mock-1"]}}
    }))
    .await;
    let started = Instant::now();
    let err = sb
        .chat(req("limited/mock-1"))
        .await
        .expect_err("429 at once");
    assert!(
        started.elapsed() < Duration::from_millis(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        err.retry_after(),
        Some(Duration::from_secs(120)),
        "kept for the header"
    );
    assert_eq!(err.instance(), Some("limited"));

    let started = Instant::now();
    let out = sb.chat(req("x")).await.expect("the spare answers");
    assert_eq!(&*out.route.instance, "spare");
    assert!(
        started.elapsed() < Duration::from_millis(10),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn a_retry_after_under_the_cap_is_honoured() {
    let sb = switchboard(json!({
        "router": {"max_retry_after_ms": 3000},
        "providers": {"m": {"kind": "mock", "fault": {"kind": "rate_limited", "retry_after_ms": 2500, "times": 1}}}
    }))
    .await;
    let started = Instant::now();
    let out = sb
        .chat(req("m/mock-1"))
        .await
        .expect("answers after waiting");
    assert_eq!(out.route.attempts, 2);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(2500) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_stream_ends_with_a_timeout_at_its_total_deadline() {
    let sb = switchboard(json!({
        "router": {"stream_timeout_ms": 3000},
        "providers": {"slow": {"kind": "mock", "token_delay_ms": 1000}}
    }))
    .await;
    let started = Instant::now();
    let out = sb.chat_stream(req("slow/mock-1")).await.expect("starts");
    let items: Vec<_> = out.value.collect().await;
    let waited = started.elapsed();
    assert!(matches!(items[0], Ok(ChatEvent::Start { .. })), "{items:?}");
    let err = items
        .last()
        .expect("items")
        .as_ref()
        .expect_err("ends with an error");
    assert_eq!(err.kind(), &ErrorKind::Timeout);
    assert_eq!(err.instance(), Some("slow"));
    assert!(
        waited >= Duration::from_secs(3) && waited < Duration::from_millis(3100),
        "{waited:?}"
    );
    assert!(
        !items
            .iter()
            .any(|i| matches!(i, Ok(ChatEvent::Finish { .. }))),
        "{items:?}"
    );
    // Off by default: the same stream completes.
    let sb =
        switchboard(json!({"providers": {"slow": {"kind": "mock", "token_delay_ms": 1000}}})).await;
    let out = sb.chat_stream(req("slow/mock-1")).await.expect("starts");
    let items: Vec<_> = out.value.collect().await;
    assert!(items.iter().all(Result::is_ok), "{items:?}");
}

#[tokio::test(start_paused = true)]
async fn huge_durations_do_not_panic() {
    // The longest duration a config may set (365 days: longer ones are
    // refused at load, `secrets::huge_durations_are_rejected_with_the_key`);
    // deadlines this far out must not overflow `Instant` arithmetic.
    const LONGEST: u64 = 365 * 24 * 60 * 60 * 1000;
    let sb = switchboard(json!({
        "router": {
            "timeout_ms": LONGEST,
            "first_event_timeout_ms": LONGEST,
            "backoff_base_ms": LONGEST,
            "backoff_max_ms": LONGEST,
            "max_retry_after_ms": LONGEST,
            "stream_timeout_ms": LONGEST,
            "retries_per_target": 0
        },
        "health": {"consecutive_failures": 1, "cooldown_ms": LONGEST},
        "providers": {
            "huge": {"kind": "mock", "fault": {"kind": "rate_limited", "retry_after_ms": LONGEST, "times": 2}},
            "down": {"kind": "mock", "fault": {"kind": "unavailable", "times": 1}}
        }
    }))
    .await;
    let err = sb.chat(req("huge/mock-1")).await.expect_err("rate limited");
    assert!(matches!(err.kind(), ErrorKind::RateLimited { .. }), "{err}");
    sb.chat(req("down/mock-1"))
        .await
        .expect_err("trips a cooldown of a year");
    let snap = sb
        .registry()
        .get("down")
        .expect("exists")
        .health()
        .snapshot();
    assert!(snap.deployments.iter().any(|d| !d.available), "{snap:?}");
    // Cooling down forever, but the only target: tried anyway.
    let out = sb.chat_stream(req("down/mock-1")).await.expect("streams");
    let items: Vec<_> = out.value.collect().await;
    assert!(items.iter().all(Result::is_ok), "{items:?}");
    let _ = sb.chat(req("huge/mock-1")).await;
}
