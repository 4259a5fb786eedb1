//! Passive health per deployment (instance + model): a rate-limited model
//! cools alone, for its `Retry-After` bounded by `cooldown_ms`; when every
//! target cools down, the least recently failed one is still tried.

use std::time::Duration;

use serde_json::json;
use switchboard_core::ErrorKind;

use crate::scripted::{calls, req, switchboard};

#[tokio::test(start_paused = true)]
async fn rate_limits_on_one_model_do_not_take_the_instance_away() {
    // The default health policy, as in the report: four rate-limited
    // requests (each retried once) on model `a`.
    let sb = switchboard(json!({
        "router": {"backoff_base_ms": 10, "backoff_max_ms": 10},
        "providers": {"dh-chaos": {"kind": "scripted", "faults": {
            "a": {"kind": "rate_limited", "retry_after_ms": 2000}
        }}}
    }))
    .await;
    for _ in 0..4 {
        let err = sb.chat(req("dh-chaos/a")).await.expect_err("rate limited");
        assert!(matches!(err.kind(), ErrorKind::RateLimited { .. }), "{err}");
    }
    let out = sb.chat(req("dh-chaos/b")).await.expect("b is healthy");
    assert_eq!(out.route.attempts, 1);
    assert_eq!(out.value.text(), "ok from dh-chaos/b");

    let inst = sb.registry().get("dh-chaos").expect("exists");
    let snap = inst.health().snapshot();
    assert!(snap.available, "the instance as a whole is fine: {snap:?}");
    let a = snap
        .deployments
        .iter()
        .find(|d| d.model == "a")
        .expect("a is tracked");
    assert!(!a.available, "{a:?}");
    assert!(
        a.cooldown_remaining_ms > 0 && a.cooldown_remaining_ms <= 2000,
        "cooled for its Retry-After: {a:?}"
    );
    assert!(
        snap.deployments
            .iter()
            .all(|d| d.model != "b" || d.available),
        "{snap:?}"
    );
    // Shown in the instance's status too.
    let status = serde_json::to_value(inst.status()).expect("serializes");
    assert_eq!(status["health"]["deployments"][0]["model"], "a");
    assert_eq!(status["health"]["deployments"][0]["available"], false);
}

#[tokio::test(start_paused = true)]
async fn retry_after_cools_a_deployment_at_most_for_the_cooldown() {
    let sb = switchboard(json!({
        "router": {"retries_per_target": 0},
        "health": {"cooldown_ms": 3000},
        "providers": {
            "dh-busy": {"kind": "scripted", "faults": {"m": {"kind": "rate_limited", "retry_after_ms": 60000, "times": 1}}},
            "dh-spare": {"kind": "scripted"}
        },
        "models": {"x": {"targets": ["dh-busy/m", "dh-spare/m"]}}
    }))
    .await;
    let out = sb.chat(req("x")).await.expect("the spare answers");
    assert_eq!(&*out.route.instance, "dh-spare");
    let out = sb.chat(req("x")).await.expect("busy is skipped");
    assert_eq!((&*out.route.instance, out.route.attempts), ("dh-spare", 1));
    tokio::time::advance(Duration::from_millis(3001)).await;
    let out = sb.chat(req("x")).await.expect("busy is back");
    assert_eq!(&*out.route.instance, "dh-busy");
}

#[tokio::test(start_paused = true)]
async fn when_every_target_cools_the_least_recently_failed_is_tried() {
    let sb = switchboard(json!({
        "router": {"retries_per_target": 0},
        "health": {"consecutive_failures": 1, "cooldown_ms": 60000},
        "providers": {
            "dh-p": {"kind": "scripted", "faults": {"m": {"kind": "unavailable", "times": 1}}},
            "dh-q": {"kind": "scripted", "faults": {"m": {"kind": "unavailable", "times": 1}}}
        },
        "models": {"x": {"targets": ["dh-q/m", "dh-p/m"]}}
    }))
    .await;
    sb.chat(req("dh-p/m")).await.expect_err("p fails first");
    tokio::time::advance(Duration::from_secs(1)).await;
    sb.chat(req("dh-q/m")).await.expect_err("q fails next");
    tokio::time::advance(Duration::from_secs(1)).await;
    for name in ["dh-p", "dh-q"] {
        let snap = sb.registry().get(name).expect("exists").health().snapshot();
        assert!(snap.deployments.iter().any(|d| !d.available), "{snap:?}");
    }
    let out = sb
        .chat(req("x"))
        .await
        .expect("all cool down: the least recently failed is tried");
    assert_eq!((&*out.route.instance, out.route.attempts), ("dh-p", 1));
    assert_eq!(calls("dh-q/m"), 1, "q was not tried again");

    // A direct target in cooldown is tried too, rather than refused.
    let out = sb.chat(req("dh-q/m")).await.expect("tried anyway");
    assert_eq!(&*out.route.instance, "dh-q");
}
