//! Instance lifecycle: replaced, disabled and removed providers are drained,
//! shut down and cancelled (each on its own token); the periodic probe;
//! serialized admin updates; reloads that publish everything together.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::StreamExt;
use serde_json::json;
use switchboard_core::{ChatRequest, Message};
use switchboard_gateway::Switchboard;
use switchboard_gateway::config::ConfigLoader;

use crate::life::{catalog, counts, switchboard, until};

fn req(model: &str) -> ChatRequest {
    ChatRequest::new(model, vec![Message::user("hi")])
}

#[tokio::test]
async fn replaced_disabled_and_removed_instances_are_shut_down_and_cancelled() {
    let sb = switchboard(json!({"providers": {
        "lc-replaced": {"kind": "life"},
        "lc-disabled": {"kind": "life"},
        "lc-removed": {"kind": "life"},
        "lc-kept": {"kind": "life"}
    }}))
    .await;
    let reg = sb.registry();
    let mut providers = sb.config().providers.clone();

    reg.update_config("lc-replaced", &json!({"x": 1}))
        .await
        .expect("reload");
    let c = until("lc-replaced", |c| c.shutdowns == 1 && c.cancels == 1).await;
    assert_eq!(
        (c.builds, c.shutdowns, c.cancels),
        (2, 1, 1),
        "replaced: {c:?}"
    );

    reg.disable("lc-disabled").await.expect("disable");
    let c = until("lc-disabled", |c| c.shutdowns == 1 && c.cancels == 1).await;
    assert_eq!((c.shutdowns, c.cancels), (1, 1), "disabled: {c:?}");

    providers.remove("lc-removed");
    let report = reg.apply(&providers).await;
    assert_eq!(report.removed, ["lc-removed"]);
    let c = until("lc-removed", |c| c.shutdowns == 1 && c.cancels == 1).await;
    assert_eq!((c.shutdowns, c.cancels), (1, 1), "removed: {c:?}");

    // Each instance has its own token: none of this touched the others.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(counts("lc-kept").cancels, 0);
    assert_eq!(counts("lc-kept").shutdowns, 0);
    assert_eq!(counts("lc-replaced").cancels, 1, "the new provider is live");
    assert!(sb.chat(req("lc-kept/m")).await.is_ok());
    assert!(sb.chat(req("lc-replaced/m")).await.is_ok());

    sb.shutdown().await;
    assert_eq!(counts("lc-kept").shutdowns, 1);
    assert_eq!(until("lc-kept", |c| c.cancels == 1).await.cancels, 1);
}

#[tokio::test]
async fn a_replaced_provider_is_drained_first() {
    let sb = switchboard(json!({"providers": {
        "lc-drain": {"kind": "life", "chat_delay_ms": 300}
    }}))
    .await;
    let sb = Arc::new(sb);
    let call = tokio::spawn({
        let sb = sb.clone();
        async move { sb.chat(req("lc-drain/m")).await }
    });
    let mut stream = sb
        .chat_stream(req("lc-drain/m"))
        .await
        .expect("stream")
        .value;
    assert!(stream.next().await.is_some());
    tokio::time::sleep(Duration::from_millis(50)).await;
    sb.registry()
        .update_config("lc-drain", &json!({"chat_delay_ms": 0}))
        .await
        .expect("reload");
    assert!(
        call.await.expect("joins").is_ok(),
        "the call finished on the old provider"
    );
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(
        counts("lc-drain").shutdowns,
        0,
        "a stream is still open on it"
    );
    drop(stream);
    let c = until("lc-drain", |c| c.shutdowns == 1).await;
    assert_eq!((c.shutdowns, c.cancels), (1, 1));
}

#[tokio::test]
async fn draining_is_bounded_by_the_shutdown_grace() {
    let sb = switchboard(json!({
        "server": {"shutdown_grace_ms": 100},
        "providers": {"lc-grace": {"kind": "life"}}
    }))
    .await;
    let mut stream = sb
        .chat_stream(req("lc-grace/m"))
        .await
        .expect("stream")
        .value;
    assert!(stream.next().await.is_some());
    sb.registry().disable("lc-grace").await.expect("disable");
    let c = until("lc-grace", |c| c.cancels == 1).await;
    assert_eq!((c.shutdowns, c.cancels), (1, 1), "cut after the grace");
    drop(stream);
}

#[tokio::test(start_paused = true)]
async fn the_probe_runs_every_interval_until_shutdown() {
    let sb = switchboard(json!({
        "health": {"probe_interval_ms": 50},
        "providers": {"lc-probe": {"kind": "life"}, "lc-probe-off": {"kind": "life", "enabled": false}}
    }))
    .await;
    tokio::time::sleep(Duration::from_millis(525)).await;
    assert_eq!(counts("lc-probe").health, 10);
    assert_eq!(counts("lc-probe-off").health, 0);
    let inst = sb.registry().get("lc-probe").expect("instance");
    assert_eq!(inst.health().snapshot().total_requests, 10);
    sb.shutdown().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(counts("lc-probe").health, 10, "stopped on shutdown");
}

#[tokio::test(start_paused = true)]
async fn no_probe_without_an_interval() {
    let _sb = switchboard(json!({"providers": {"lc-noprobe": {"kind": "life"}}})).await;
    tokio::time::sleep(Duration::from_secs(3600)).await;
    assert_eq!(counts("lc-noprobe").health, 0);
}

#[tokio::test]
async fn concurrent_updates_are_all_applied() {
    let sb = switchboard(json!({"providers": {
        "lc-concurrent": {"kind": "life", "build_delay_ms": 100}
    }}))
    .await;
    let reg = sb.registry();
    let (pa, pb) = (json!({"a": 1}), json!({"b": 2}));
    let (a, b) = tokio::join!(
        reg.update_config("lc-concurrent", &pa),
        reg.update_config("lc-concurrent", &pb),
    );
    a.expect("a");
    b.expect("b");
    let config = reg
        .get("lc-concurrent")
        .expect("instance")
        .redacted_config();
    assert_eq!(config["a"], 1, "{config}");
    assert_eq!(config["b"], 2, "{config}");
}

fn write(path: &std::path::Path, text: &str) {
    std::fs::write(path, text).expect("writes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_is_serialized_with_updates_and_published_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("switchboard.toml");
    write(
        &path,
        r#"
[server]
api_keys = [{ key = "revoked-key" }]
[providers.lc-file]
kind = "life"
x = 1
"#,
    );
    let sb = Switchboard::builder()
        .catalog(catalog())
        .loader(ConfigLoader::new().file(&path).env_vars(Vec::new()))
        .build()
        .await
        .expect("builds");
    let sb = Arc::new(sb);
    write(
        &path,
        r#"
[server]
api_keys = [{ key = "new-key" }]
[providers.lc-file]
kind = "life"
x = 2
build_delay_ms = 500
[providers.lc-new]
kind = "life"
build_delay_ms = 500
"#,
    );
    // An observer: the new instance is never visible while the revoked key
    // still works.
    let stop = Arc::new(AtomicBool::new(false));
    let observer = tokio::spawn({
        let (sb, stop) = (sb.clone(), stop.clone());
        async move {
            let mut torn = 0u32;
            while !stop.load(Ordering::Relaxed) {
                let new_visible = sb.registry().get("lc-new").is_some();
                let revoked_works = sb
                    .config()
                    .server
                    .api_keys
                    .iter()
                    .any(|k| k.key.expose() == "revoked-key");
                if new_visible && revoked_works {
                    torn += 1;
                }
                tokio::task::yield_now().await;
            }
            torn
        }
    });
    let reload = tokio::spawn({
        let sb = sb.clone();
        async move { sb.reload_from_file().await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    // While the reload builds, nothing of the new file is visible...
    assert!(sb.registry().get("lc-new").is_none());
    assert_eq!(sb.config().server.api_keys[0].key.expose(), "revoked-key");
    // ...and an update waits for it, then applies over the file's values.
    sb.registry()
        .update_config("lc-file", &json!({"y": 5}))
        .await
        .expect("update");
    let report = reload.await.expect("joins").expect("reloads");
    assert_eq!(report.added, ["lc-new"]);
    let config = sb
        .registry()
        .get("lc-file")
        .expect("instance")
        .redacted_config();
    assert_eq!(
        (config["x"].clone(), config["y"].clone()),
        (json!(2), json!(5)),
        "{config}"
    );
    assert_eq!(sb.config().server.api_keys[0].key.expose(), "new-key");
    stop.store(true, Ordering::Relaxed);
    assert_eq!(observer.await.expect("joins"), 0, "torn reads");
}

#[tokio::test]
async fn every_generation_holds_one_configuration_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("switchboard.toml");
    let file = |n: u32| {
        format!(
            "[providers.lc-gen-{n}]\nkind = \"life\"\n[models.alias-{n}]\ntargets = [\"lc-gen-{n}/m\"]\n"
        )
    };
    write(&path, &file(0));
    let sb = Switchboard::builder()
        .catalog(catalog())
        .loader(ConfigLoader::new().file(&path).env_vars(Vec::new()))
        .build()
        .await
        .expect("builds");
    let sb = Arc::new(sb);
    let stop = Arc::new(AtomicBool::new(false));
    let observer = tokio::spawn({
        let (sb, stop) = (sb.clone(), stop.clone());
        async move {
            let (mut seen, mut torn) = (0u32, 0u32);
            while !stop.load(Ordering::Relaxed) {
                let generation = sb.registry().generation();
                let providers: Vec<String> =
                    generation.config().providers.keys().cloned().collect();
                let instances: Vec<String> = generation
                    .instances()
                    .iter()
                    .map(|i| i.name().to_owned())
                    .collect();
                let alias_target_known = generation.config().models.keys().all(|alias| {
                    let n = alias.trim_start_matches("alias-");
                    generation.get(&format!("lc-gen-{n}")).is_some()
                });
                if providers != instances || !alias_target_known {
                    torn += 1;
                }
                seen += 1;
                tokio::task::yield_now().await;
            }
            (seen, torn)
        }
    });
    for n in 1..=20 {
        write(&path, &file(n));
        sb.reload_from_file().await.expect("reloads");
        assert!(sb.router().resolve(&format!("alias-{n}")).is_ok());
    }
    stop.store(true, Ordering::Relaxed);
    let (seen, torn) = observer.await.expect("joins");
    assert!(seen > 0);
    assert_eq!(torn, 0, "generations mixing two configurations");
}
