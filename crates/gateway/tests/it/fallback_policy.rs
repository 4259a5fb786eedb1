//! The fallback policy: instance-level errors (auth, permission, protocol,
//! upstream statuses, ...) move to the next target before the first event;
//! request-level errors stop the chain and never count against health; the
//! same target is retried only for retryable errors; `fallback_on` per alias.

use futures::StreamExt;
use serde_json::{Value, json};
use switchboard_core::{ChatEvent, ErrorKind, collect_stream};

use crate::scripted::{calls, req, switchboard};

fn router() -> Value {
    json!({"max_attempts": 6, "retries_per_target": 2, "backoff_base_ms": 10, "backoff_max_ms": 10})
}

/// The errors a broken (rather than busy) first target gives: a rejected
/// key, a 200 whose JSON is malformed, a 200 with an HTML page.
fn broken() -> [(&'static str, Value); 3] {
    [
        (
            "auth",
            json!({"kind": "auth", "message": "401: invalid api key"}),
        ),
        (
            "json",
            json!({"kind": "protocol", "message": "the upstream's answer could not be read: expected value at line 1 column 1"}),
        ),
        (
            "html",
            json!({"kind": "protocol", "message": "expected JSON, got `<!DOCTYPE html><html>...`"}),
        ),
    ]
}

#[tokio::test(start_paused = true)]
async fn instance_errors_fall_back_to_the_next_target() {
    for (name, fault) in broken() {
        let first = format!("fp-first-{name}");
        let second = format!("fp-second-{name}");
        let sb = switchboard(json!({
            "router": router(),
            "providers": {
                first.clone(): {"kind": "scripted", "faults": {"m": fault}},
                second.clone(): {"kind": "scripted"}
            },
            "models": {"x": {"strategy": "fallback", "targets": [format!("{first}/m"), format!("{second}/m")]}}
        }))
        .await;
        let out = sb.chat(req("x")).await.expect("the second target answers");
        assert_eq!(&*out.route.instance, second, "{name}");
        assert_eq!((out.route.attempts, out.route.fallbacks), (2, 1), "{name}");
        // Not retryable: the broken target is not tried twice.
        assert_eq!(calls(&format!("{first}/m")), 1, "{name}");

        let out = sb.chat_stream(req("x")).await.expect("the second streams");
        assert_eq!(&*out.route.instance, second, "{name}");
        let resp = collect_stream(out.value).await.expect("complete");
        assert_eq!(resp.text(), format!("ok from {second}/m"));

        // A broken deployment counts against its health.
        let snap = sb
            .registry()
            .get(&first)
            .expect("exists")
            .health()
            .snapshot();
        assert_eq!(snap.total_failures, 2, "{name}: {snap:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn permission_and_upstream_statuses_fall_back() {
    let sb = switchboard(json!({
        "router": router(),
        "providers": {
            "fp-perm": {"kind": "scripted", "faults": {"m": {"kind": "permission"}}},
            "fp-402": {"kind": "scripted", "faults": {"m": {"kind": "upstream", "status": 402}}},
            "fp-missing": {"kind": "scripted", "faults": {"m": {"kind": "not_found"}}},
            "fp-spare": {"kind": "scripted"}
        },
        "models": {"x": {"targets": ["fp-perm/m", "fp-402/m", "fp-missing/m", "fp-spare/m"]}}
    }))
    .await;
    let out = sb.chat(req("x")).await.expect("the spare answers");
    assert_eq!(&*out.route.instance, "fp-spare");
    assert_eq!((out.route.attempts, out.route.fallbacks), (4, 3));
    // A model the instance lacks is the target's problem, not its health's.
    let missing = sb.registry().get("fp-missing").expect("exists");
    assert_eq!(missing.health().snapshot().total_failures, 0);
}

#[tokio::test(start_paused = true)]
async fn request_errors_stop_the_chain_and_spare_health() {
    let sb = switchboard(json!({
        "router": router(),
        "providers": {
            "fp-strict": {"kind": "scripted", "faults": {"m": {"kind": "invalid_request", "message": "content filter"}}},
            "fp-never": {"kind": "scripted"}
        },
        "models": {"x": {"targets": ["fp-strict/m", "fp-never/m"]}}
    }))
    .await;
    for _ in 0..8 {
        let err = sb
            .chat(req("x"))
            .await
            .expect_err("the request is at fault");
        assert_eq!(err.kind(), &ErrorKind::InvalidRequest);
        assert_eq!(err.instance(), Some("fp-strict"));
    }
    let Err(err) = sb.chat_stream(req("x")).await else {
        panic!("streams stop too");
    };
    assert_eq!(err.kind(), &ErrorKind::InvalidRequest);
    assert_eq!(calls("fp-strict/m"), 9, "one attempt each, no retry");
    assert_eq!(calls("fp-never/m"), 0);
    let snap = sb
        .registry()
        .get("fp-strict")
        .expect("exists")
        .health()
        .snapshot();
    assert_eq!(snap.total_failures, 0, "{snap:?}");
    assert!(snap.available);
    assert!(snap.deployments.iter().all(|d| d.available), "{snap:?}");
}

#[tokio::test(start_paused = true)]
async fn fallback_on_is_set_per_alias() {
    let sb = switchboard(json!({
        "router": router(),
        "providers": {
            "fo-denied": {"kind": "scripted", "faults": {"m": {"kind": "auth"}}},
            "fo-down": {"kind": "scripted", "faults": {"m": {"kind": "unavailable"}}},
            "fo-up": {"kind": "scripted"}
        },
        "models": {
            "retryable": {"fallback_on": "retryable", "targets": ["fo-denied/m", "fo-up/m"]},
            "never": {"fallback_on": "never", "targets": ["fo-down/m", "fo-up/m"]},
            "default": {"targets": ["fo-denied/m", "fo-up/m"]}
        }
    }))
    .await;
    let err = sb
        .chat(req("retryable"))
        .await
        .expect_err("auth is not retryable");
    assert_eq!(err.kind(), &ErrorKind::Auth);
    let err = sb.chat(req("never")).await.expect_err("never falls back");
    assert_eq!(err.kind(), &ErrorKind::Unavailable);
    assert_eq!(calls("fo-down/m"), 3, "retried on the same target");
    assert_eq!(calls("fo-up/m"), 0);
    let out = sb
        .chat(req("default"))
        .await
        .expect("instance errors fall back");
    assert_eq!(&*out.route.instance, "fo-up");
}

#[tokio::test(start_paused = true)]
async fn no_fallback_once_a_stream_started() {
    let sb = switchboard(json!({
        "providers": {"fs-a": {"kind": "scripted"}, "fs-b": {"kind": "scripted"}},
        "models": {"x": {"targets": ["fs-a/m", "fs-b/m"]}}
    }))
    .await;
    let out = sb.chat_stream(req("x")).await.expect("streams");
    let items: Vec<_> = out.value.collect().await;
    assert!(matches!(items[0], Ok(ChatEvent::Start { .. })));
    assert_eq!(calls("fs-b/m"), 0);
}
