//! Router behaviour driven by the mock provider's fault injection:
//! strategies, retries and backoff (paused clock), `Retry-After`, budgets,
//! fallback rules, stream fallback before the first event, cooldown.

use std::time::Duration;

use futures::StreamExt;
use serde_json::{Value, json};
use switchboard_core::{ChatEvent, ChatRequest, ErrorKind, Message, collect_stream};
use switchboard_gateway::config::types::Config;
use switchboard_gateway::{InstanceState, Switchboard};
use tokio::time::Instant;
// Keep the mock provider linked: it registers itself with the catalog.
use switchboard_mock as _;

async fn switchboard(config: Value) -> Switchboard {
    let config: Config = serde_json::from_value(config).expect("valid config");
    Switchboard::from_config(config).await.expect("builds")
}

fn req(model: &str) -> ChatRequest {
    ChatRequest::new(model, vec![Message::user("hello there")])
}

fn router(max_attempts: u32, retries_per_target: u32) -> Value {
    json!({
        "max_attempts": max_attempts,
        "retries_per_target": retries_per_target,
        "backoff_base_ms": 1000,
        "backoff_max_ms": 8000,
        "timeout_ms": 60000,
        "first_event_timeout_ms": 1000
    })
}

#[tokio::test(start_paused = true)]
async fn direct_target_and_route_info() {
    let sb = switchboard(json!({"providers": {"m": {"kind": "mock"}}})).await;
    let out = sb.chat(req("m/mock-1")).await.expect("answers");
    assert_eq!(out.value.text(), "You said: hello there");
    assert_eq!(&*out.route.instance, "m");
    assert_eq!(out.route.model, "mock-1");
    assert_eq!(out.route.attempts, 1);
    assert_eq!(out.route.fallbacks, 0);
    assert_eq!(out.value.provider, "m");
}

#[tokio::test(start_paused = true)]
async fn retries_with_exponential_backoff_then_succeeds() {
    let sb = switchboard(json!({
        "router": router(5, 3),
        "providers": {"m": {"kind": "mock", "fault": {"kind": "unavailable", "times": 2}}}
    }))
    .await;
    let started = Instant::now();
    let out = sb
        .chat(req("m/mock-1"))
        .await
        .expect("third attempt succeeds");
    let waited = started.elapsed();
    assert_eq!(out.route.attempts, 3);
    assert_eq!(out.route.fallbacks, 0);
    // Equal jitter: retry 1 waits 500..=1000 ms, retry 2 waits 1000..=2000 ms.
    assert!(
        waited >= Duration::from_millis(1500) && waited <= Duration::from_millis(3000),
        "{waited:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn honours_retry_after() {
    let sb = switchboard(json!({
        "router": router(3, 2),
        "providers": {"m": {"kind": "mock", "fault": {"kind": "rate_limited", "retry_after_ms": 7000, "times": 1}}}
    }))
    .await;
    let started = Instant::now();
    let out = sb
        .chat(req("m/mock-1"))
        .await
        .expect("succeeds after waiting");
    assert_eq!(out.route.attempts, 2);
    assert!(
        started.elapsed() >= Duration::from_secs(7),
        "{:?}",
        started.elapsed()
    );
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn retry_after_beyond_the_budget_falls_back_at_once() {
    let mut r = router(4, 2);
    r["timeout_ms"] = json!(5000);
    let sb = switchboard(json!({
        "router": r,
        "providers": {
            "limited": {"kind": "mock", "fault": {"kind": "rate_limited", "retry_after_ms": 60000}},
            "spare": {"kind": "mock"}
        },
        "models": {"chat": {"targets": ["limited/mock-1", "spare/mock-1"]}}
    }))
    .await;
    let started = Instant::now();
    let out = sb.chat(req("chat")).await.expect("the spare answers");
    assert_eq!(&*out.route.instance, "spare");
    assert_eq!(out.route.attempts, 2);
    assert_eq!(out.route.fallbacks, 1);
    assert!(
        started.elapsed() < Duration::from_millis(10),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn fallback_on_retryable_errors_only() {
    let sb = switchboard(json!({
        "router": router(6, 1),
        "providers": {
            "down": {"kind": "mock", "fault": {"kind": "unavailable"}},
            "denied": {"kind": "mock", "fault": {"kind": "auth"}},
            "up": {"kind": "mock"}
        },
        "models": {
            "retryable": {"targets": ["down/mock-1", "up/mock-1"]},
            "fatal": {"fallback_on": "retryable", "targets": ["denied/mock-1", "up/mock-1"]}
        }
    }))
    .await;
    let out = sb.chat(req("retryable")).await.expect("falls back");
    assert_eq!(&*out.route.instance, "up");
    assert_eq!(out.route.attempts, 3, "down twice (one retry), then up");
    assert_eq!(out.route.fallbacks, 1);

    let err = sb
        .chat(req("fatal"))
        .await
        .expect_err("auth is not retried");
    assert_eq!(err.kind(), &ErrorKind::Auth);
    assert_eq!(err.instance(), Some("denied"));
}

#[tokio::test(start_paused = true)]
async fn attempt_budget_is_a_hard_limit() {
    let sb = switchboard(json!({
        "router": router(2, 5),
        "providers": {"a": {"kind": "mock", "fault": {"kind": "timeout"}}, "b": {"kind": "mock"}},
        "models": {"x": {"targets": ["a/mock-1", "b/mock-1"]}}
    }))
    .await;
    let err = sb.chat(req("x")).await.expect_err("budget spent on a");
    assert_eq!(err.kind(), &ErrorKind::Timeout);
    assert_eq!(err.instance(), Some("a"));
}

#[tokio::test(start_paused = true)]
async fn context_length_falls_back_to_a_larger_window_only() {
    let sb = switchboard(json!({
        "router": router(4, 1),
        "providers": {
            "small": {"kind": "mock", "models": [{"id": "m", "context_length": 3}]},
            "same": {"kind": "mock", "models": [{"id": "m", "context_length": 3}]},
            "big": {"kind": "mock", "models": [{"id": "m", "context_length": 1000}]}
        },
        "models": {
            "grow": {"targets": ["small/m", "same/m", "big/m"]},
            "stuck": {"targets": ["small/m", "same/m"]}
        }
    }))
    .await;
    let long = ChatRequest::new("grow", vec![Message::user("one two three four five six")]);
    let out = sb.chat(long.clone()).await.expect("big fits");
    assert_eq!(&*out.route.instance, "big");
    assert_eq!(
        out.route.attempts, 2,
        "same has no larger window, so it is skipped"
    );

    let mut stuck = long;
    stuck.model = "stuck".into();
    let err = sb.chat(stuck).await.expect_err("no larger window");
    assert_eq!(err.kind(), &ErrorKind::ContextLengthExceeded);
}

#[tokio::test(start_paused = true)]
async fn round_robin_rotates() {
    let sb = switchboard(json!({
        "providers": {"a": {"kind": "mock"}, "b": {"kind": "mock"}},
        "models": {"rr": {"strategy": "round-robin", "targets": ["a/mock-1", "b/mock-1"]}}
    }))
    .await;
    let mut served = Vec::new();
    for _ in 0..4 {
        served.push(
            sb.chat(req("rr"))
                .await
                .expect("ok")
                .route
                .instance
                .to_string(),
        );
    }
    assert_eq!(served, ["a", "b", "a", "b"]);
}

#[tokio::test(start_paused = true)]
async fn weighted_follows_weights() {
    let sb = switchboard(json!({
        "providers": {"a": {"kind": "mock"}, "b": {"kind": "mock"}},
        "models": {"w": {"strategy": "weighted", "targets": [
            {"target": "a/mock-1", "weight": 3}, {"target": "b/mock-1", "weight": 1}
        ]}}
    }))
    .await;
    let mut a = 0;
    for _ in 0..400 {
        if &*sb.chat(req("w")).await.expect("ok").route.instance == "a" {
            a += 1;
        }
    }
    assert!(
        (250..=350).contains(&a),
        "a served {a} of 400 (expected ~300)"
    );
}

#[tokio::test(start_paused = true)]
async fn least_latency_prefers_the_fast_target() {
    let sb = switchboard(json!({
        "providers": {
            "slow": {"kind": "mock", "first_token_latency_ms": 50},
            "fast": {"kind": "mock"}
        },
        "models": {"ll": {"strategy": "least-latency", "targets": ["slow/mock-1", "fast/mock-1"]}}
    }))
    .await;
    let mut served = Vec::new();
    for _ in 0..12 {
        served.push(
            sb.chat(req("ll"))
                .await
                .expect("ok")
                .route
                .instance
                .to_string(),
        );
    }
    // Both are measured first, then the fast one wins.
    assert_eq!(&served[..2], ["slow", "fast"]);
    assert!(served[2..].iter().all(|s| s == "fast"), "{served:?}");
}

#[tokio::test(start_paused = true)]
async fn stream_falls_back_before_the_first_event() {
    let sb = switchboard(json!({
        "router": router(4, 0),
        "providers": {
            "down": {"kind": "mock", "fault": {"kind": "unavailable"}},
            "hung": {"kind": "mock", "first_token_latency_ms": 30000},
            "up": {"kind": "mock"}
        },
        "models": {"s": {"targets": ["down/mock-1", "hung/mock-1", "up/mock-1"]}}
    }))
    .await;
    let started = Instant::now();
    let out = sb.chat_stream(req("s")).await.expect("up streams");
    assert_eq!(&*out.route.instance, "up");
    assert_eq!(out.route.attempts, 3);
    assert_eq!(out.route.fallbacks, 2);
    // The hung target was abandoned at the first-event timeout (1 s).
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(1) && waited < Duration::from_secs(2),
        "{waited:?}"
    );
    let resp = collect_stream(out.value).await.expect("complete");
    assert_eq!(resp.text(), "You said: hello there");
}

#[tokio::test(start_paused = true)]
async fn stream_does_not_fall_back_after_the_first_event() {
    let sb = switchboard(json!({
        "router": router(4, 1),
        "providers": {
            "flaky": {"kind": "mock", "fault": {"kind": "unavailable", "after_events": 2}},
            "up": {"kind": "mock"}
        },
        "models": {"s": {"targets": ["flaky/mock-1", "up/mock-1"]}}
    }))
    .await;
    let out = sb.chat_stream(req("s")).await.expect("flaky starts");
    assert_eq!(&*out.route.instance, "flaky");
    let items: Vec<_> = out.value.collect().await;
    assert_eq!(items.len(), 3, "{items:?}");
    assert!(matches!(items[0], Ok(ChatEvent::Start { .. })));
    assert!(items[1].is_ok());
    assert_eq!(
        items[2].as_ref().expect_err("then the error").kind(),
        &ErrorKind::Unavailable
    );
}

#[tokio::test(start_paused = true)]
async fn cooldown_skips_then_recovers() {
    let sb = switchboard(json!({
        "router": router(4, 0),
        "health": {"consecutive_failures": 2, "cooldown_ms": 10000, "min_requests": 100},
        "providers": {
            "a": {"kind": "mock", "fault": {"kind": "unavailable", "times": 2}},
            "b": {"kind": "mock"}
        },
        "models": {"x": {"targets": ["a/mock-1", "b/mock-1"]}}
    }))
    .await;
    for _ in 0..2 {
        let out = sb.chat(req("x")).await.expect("b covers");
        assert_eq!((&*out.route.instance, out.route.attempts), ("b", 2));
    }
    let a = sb.registry().get("a").expect("a exists");
    // Cooldown is per deployment (instance + model).
    let cooling = || {
        a.health()
            .snapshot()
            .deployments
            .iter()
            .any(|d| d.model == "mock-1" && !d.available)
    };
    assert!(cooling());
    let out = sb.chat(req("x")).await.expect("a is skipped");
    assert_eq!((&*out.route.instance, out.route.attempts), ("b", 1));
    // Direct, a is the only target: tried anyway rather than refused.
    let out = sb.chat(req("a/mock-1")).await.expect("direct: tried");
    assert_eq!(&*out.route.instance, "a");
    assert!(cooling());

    tokio::time::advance(Duration::from_secs(10)).await;
    let out = sb.chat(req("x")).await.expect("a is back");
    assert_eq!((&*out.route.instance, out.route.attempts), ("a", 1));
    assert!(!cooling());
}

#[tokio::test(start_paused = true)]
async fn bare_models_resolve_or_explain() {
    let sb = switchboard(json!({
        "providers": {
            "a": {"kind": "mock", "models": ["shared", "only-a"]},
            "b": {"kind": "mock", "models": ["shared"]}
        }
    }))
    .await;
    let out = sb.chat(req("only-a")).await.expect("unique");
    assert_eq!(&*out.route.instance, "a");
    let err = sb.chat(req("shared")).await.expect_err("ambiguous");
    assert_eq!(err.kind(), &ErrorKind::InvalidRequest);
    assert_eq!(
        err.message(),
        "model `shared` is served by several instances; name one of: `a/shared`, `b/shared`"
    );
    let err = sb.chat(req("gpt-9")).await.expect_err("unknown");
    assert_eq!(err.kind(), &ErrorKind::NotFound);
    assert_eq!(
        err.message(),
        "model `gpt-9` does not exist; available models: a/shared, a/only-a, b/shared"
    );
}

#[tokio::test(start_paused = true)]
async fn embeddings_are_routed() {
    let sb = switchboard(json!({"providers": {"m": {"kind": "mock"}}})).await;
    let out = sb
        .embed(switchboard_core::EmbeddingsRequest::new(
            "m/mock-1",
            vec!["a".into(), "b".into()],
        ))
        .await
        .expect("embeds");
    assert_eq!(out.value.embeddings.len(), 2);
    assert_eq!(&*out.route.instance, "m");
}

#[tokio::test(start_paused = true)]
async fn invalid_requests_fail_before_routing() {
    let sb = switchboard(json!({"providers": {"m": {"kind": "mock"}}})).await;
    let err = sb
        .chat(req("m/mock-1").temperature(9.0))
        .await
        .expect_err("invalid");
    assert_eq!(err.param(), Some("temperature"));
    let m = sb.registry().get("m").expect("exists");
    assert_eq!(m.health().snapshot().total_requests, 0);
    assert_eq!(m.state(), InstanceState::Ready);
}
