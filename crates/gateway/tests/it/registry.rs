//! The live registry: startup with failing instances, reload under load,
//! failed reloads that keep the old provider, updates, enable/disable,
//! health checks, redaction.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use switchboard_core::{ChatRequest, ErrorKind, Message, collect_stream};
use switchboard_gateway::config::types::Config;
use switchboard_gateway::{InstanceState, Switchboard};
use switchboard_mock as _;

async fn switchboard(config: Value) -> Switchboard {
    let config: Config = serde_json::from_value(config).expect("valid config");
    Switchboard::from_config(config).await.expect("builds")
}

fn req(model: &str) -> ChatRequest {
    ChatRequest::new(model, vec![Message::user("ping")])
}

#[tokio::test]
async fn a_failing_instance_does_not_stop_the_others() {
    let sb = switchboard(json!({"providers": {
        "good": {"kind": "mock"},
        "bad": {"kind": "mock", "fault": {"kind": "no-such-kind"}},
        "off": {"kind": "mock", "enabled": false}
    }}))
    .await;
    let reg = sb.registry();
    assert_eq!(reg.get("good").expect("good").state(), InstanceState::Ready);
    match reg.get("bad").expect("bad").state() {
        InstanceState::Failed { error } => assert!(error.contains("fault.kind"), "{error}"),
        other => panic!("expected failed, got {other:?}"),
    }
    assert_eq!(
        reg.get("off").expect("off").state(),
        InstanceState::Disabled
    );
    assert!(sb.chat(req("good/mock-1")).await.is_ok());
    let err = sb
        .chat(req("bad/mock-1"))
        .await
        .expect_err("failed instance");
    assert_eq!(err.kind(), &ErrorKind::Unavailable);
    assert!(err.message().contains("failed"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_under_load_loses_no_request() {
    let sb = Arc::new(
        switchboard(json!({"providers": {"m": {"kind": "mock", "mode": "script", "script": ["v0 reply"], "token_delay_ms": 1}}}))
            .await,
    );
    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    for i in 0..16 {
        let (sb, stop, ok) = (sb.clone(), stop.clone(), ok.clone());
        workers.push(tokio::spawn(async move {
            let mut failures = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let result = if i % 2 == 0 {
                    match sb.chat_stream(req("m/mock-1")).await {
                        Ok(s) => collect_stream(s.value).await,
                        Err(e) => Err(e),
                    }
                } else {
                    sb.chat(req("m/mock-1")).await.map(|r| r.value)
                };
                match result {
                    // Every answer is whole: a request that started on the old
                    // provider finishes on it.
                    Ok(resp) if resp.text().starts_with('v') && resp.text().ends_with(" reply") => {
                        ok.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(resp) => failures.push(format!("torn answer: {:?}", resp.text())),
                    Err(e) => failures.push(e.to_string()),
                }
            }
            failures
        }));
    }
    let m = sb.registry().get("m").expect("m");
    let gen0 = m.generation();
    for n in 1..=100 {
        let cfg = json!({"kind": "mock", "mode": "script", "script": [format!("v{n} reply")], "token_delay_ms": 1});
        let cfg = serde_json::from_value(cfg).expect("instance config");
        sb.registry()
            .reload("m", Some(cfg))
            .await
            .expect("reload succeeds");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let mut failures = Vec::new();
    for w in workers {
        failures.extend(w.await.expect("worker"));
    }
    assert!(
        failures.is_empty(),
        "{} failures: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    assert!(
        ok.load(Ordering::Relaxed) > 100,
        "only {} requests",
        ok.load(Ordering::Relaxed)
    );
    assert_eq!(m.generation(), gen0 + 100);
    let last = sb.chat(req("m/mock-1")).await.expect("ok");
    assert_eq!(last.value.text(), "v100 reply");
}

#[tokio::test]
async fn failed_reload_keeps_the_old_provider() {
    let sb = switchboard(json!({"providers": {"m": {"kind": "mock", "script": ["old"]}}})).await;
    let m = sb.registry().get("m").expect("m");
    let gen0 = m.generation();
    let bad = serde_json::from_value(json!({"kind": "mock", "fault": {"kind": "bogus"}}))
        .expect("shape is fine");
    let err = sb
        .registry()
        .reload("m", Some(bad))
        .await
        .expect_err("invalid");
    assert_eq!(err.kind(), &ErrorKind::Config);
    assert_eq!(err.param(), Some("fault.kind"));
    assert_eq!(m.state(), InstanceState::Ready);
    assert_eq!(m.generation(), gen0);
    assert_eq!(
        sb.chat(req("m/mock-1")).await.expect("serves").value.text(),
        "old"
    );
    let err = sb
        .registry()
        .reload("nope", None)
        .await
        .expect_err("unknown instance");
    assert_eq!(err.kind(), &ErrorKind::NotFound);
}

#[tokio::test]
async fn update_config_merges_and_reloads() {
    let sb = switchboard(json!({"providers": {"m": {"kind": "mock", "script": ["one"], "api_key": "sk-super-secret"}}})).await;
    // The mock does not take an api_key: the update is rejected, nothing changes.
    // (The instance above failed to build for the same reason.)
    let m = sb.registry().get("m").expect("m");
    assert!(matches!(m.state(), InstanceState::Failed { .. }));
    let status = serde_json::to_string(&m.status()).expect("serializes");
    assert!(!status.contains("sk-super-secret"), "{status}");
    assert!(status.contains("\"api_key\":\"***\""), "{status}");

    sb.registry()
        .update_config("m", &json!({"api_key": null}))
        .await
        .expect("removing the bad key fixes it");
    assert_eq!(m.state(), InstanceState::Ready);
    assert_eq!(
        sb.chat(req("m/mock-1")).await.expect("ok").value.text(),
        "one"
    );
    sb.registry()
        .update_config("m", &json!({"script": ["two"]}))
        .await
        .expect("update");
    assert_eq!(
        sb.chat(req("m/mock-1")).await.expect("ok").value.text(),
        "two"
    );
    assert_eq!(m.redacted_config()["script"], json!(["two"]));
}

#[tokio::test]
async fn disable_and_enable() {
    let sb = switchboard(json!({"providers": {"m": {"kind": "mock"}}})).await;
    sb.registry().disable("m").await.expect("disable");
    let m = sb.registry().get("m").expect("m");
    assert_eq!(m.state(), InstanceState::Disabled);
    let err = sb.chat(req("m/mock-1")).await.expect_err("disabled");
    assert_eq!(err.kind(), &ErrorKind::Unavailable);
    assert!(err.message().contains("disabled"), "{err}");
    sb.registry().enable("m").await.expect("enable");
    assert_eq!(m.state(), InstanceState::Ready);
    assert!(sb.chat(req("m/mock-1")).await.is_ok());
}

#[tokio::test]
async fn health_checks_run_on_demand() {
    let sb = switchboard(json!({"providers": {
        "up": {"kind": "mock"},
        "down": {"kind": "mock", "fault": {"kind": "unavailable"}},
        "off": {"kind": "mock", "enabled": false}
    }}))
    .await;
    let report = sb.registry().health_check("up").await.expect("healthy");
    assert!(report.latency < Duration::from_secs(1));
    let err = sb.registry().health_check("down").await.expect_err("down");
    assert_eq!(err.kind(), &ErrorKind::Unavailable);
    assert_eq!(err.instance(), Some("down"));
    let all = sb.registry().health_check_all().await;
    let summary: Vec<(String, bool)> = all.into_iter().map(|(n, r)| (n, r.is_ok())).collect();
    assert_eq!(
        summary,
        [
            ("down".into(), false),
            ("off".into(), false),
            ("up".into(), true)
        ]
    );
    let snap = sb.registry().get("up").expect("up").health().snapshot();
    assert_eq!(snap.total_requests, 2);
    assert!(snap.last_check_ago_ms.is_some());
}

#[tokio::test]
async fn models_lists_every_instance_and_alias() {
    let sb = switchboard(json!({
        "providers": {"a": {"kind": "mock", "models": ["x", "y"]}, "b": {"kind": "mock"}},
        "models": {"fast": {"targets": ["a/x"]}}
    }))
    .await;
    let ids: Vec<String> = sb.models().into_iter().map(|m| m.id).collect();
    assert_eq!(ids, ["a/x", "a/y", "b/mock-1", "fast"]);
}
