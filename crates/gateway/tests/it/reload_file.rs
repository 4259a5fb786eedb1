//! Re-reading the config file: discover adds, removes and reloads instances
//! to match, keeps runtime overrides, ignores a broken file; the watcher
//! reloads on change.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use switchboard_core::{ChatRequest, Message};
use switchboard_gateway::Switchboard;
use switchboard_mock as _;

/// A config file path in a fresh directory, removed when the guard drops.
fn temp_file(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::Builder::new()
        .prefix(&format!("sb-reload-{name}-"))
        .tempdir()
        .expect("temp dir");
    let file = dir.path().join("switchboard.toml");
    (dir, file)
}

async fn say(sb: &Switchboard, model: &str) -> String {
    sb.chat(ChatRequest::new(model, vec![Message::user("x")]))
        .await
        .map(|r| r.value.text())
        .unwrap_or_else(|e| format!("error: {e}"))
}

#[tokio::test]
async fn discover_matches_the_file() {
    let (_dir, file) = temp_file("discover");
    std::fs::write(
        &file,
        "[providers.a]\nkind = \"mock\"\nscript = [\"one\"]\n\n[providers.c]\nkind = \"mock\"\nscript = [\"same\"]\n",
    )
    .expect("write");
    let sb = Switchboard::from_config_file(&file).await.expect("loads");
    assert_eq!(say(&sb, "a/mock-1").await, "one");
    let c_before = sb.registry().get("c").expect("c");
    let c_generation = c_before.generation();

    std::fs::write(
        &file,
        "[providers.a]\nkind = \"mock\"\nscript = [\"two\"]\n\n[providers.b]\nkind = \"mock\"\n\n[providers.c]\nkind = \"mock\"\nscript = [\"same\"]\n",
    )
    .expect("write");
    let report = sb.reload_from_file().await.expect("reloads");
    assert_eq!(report.reloaded, ["a"]);
    assert_eq!(report.added, ["b"]);
    assert_eq!(report.unchanged, ["c"]);
    assert!(report.removed.is_empty());
    assert_eq!(say(&sb, "a/mock-1").await, "two");
    assert_eq!(say(&sb, "b/mock-1").await, "You said: x");
    let c_after = sb.registry().get("c").expect("c");
    assert!(
        Arc::ptr_eq(&c_before, &c_after),
        "unchanged instances are untouched"
    );
    assert_eq!(c_after.generation(), c_generation);

    // A broken file changes nothing.
    std::fs::write(&file, "[providers.a]\nkind = \"mock\"\nscript = 5\n").expect("write");
    let err = sb.reload_from_file().await.expect_err("invalid file");
    assert!(err.to_string().contains("providers.a.script"), "{err}");
    assert_eq!(say(&sb, "a/mock-1").await, "two");
    assert!(sb.registry().get("b").is_some());

    std::fs::write(
        &file,
        "[providers.a]\nkind = \"mock\"\nscript = [\"two\"]\n",
    )
    .expect("write");
    let report = sb.reload_from_file().await.expect("reloads");
    assert_eq!(report.removed, ["b", "c"]);
    assert!(sb.registry().get("b").is_none());
}

#[tokio::test]
async fn runtime_overrides_survive_discover() {
    let (_dir, file) = temp_file("overrides");
    std::fs::write(
        &file,
        "[providers.a]\nkind = \"mock\"\nscript = [\"file\"]\n",
    )
    .expect("write");
    let sb = Switchboard::from_config_file(&file).await.expect("loads");
    sb.registry()
        .update_config("a", &serde_json::json!({"script": ["runtime"]}))
        .await
        .expect("update");
    assert_eq!(say(&sb, "a/mock-1").await, "runtime");
    let report = sb.reload_from_file().await.expect("reloads");
    assert_eq!(report.unchanged, ["a"]);
    assert_eq!(say(&sb, "a/mock-1").await, "runtime");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_watcher_reloads_on_change() {
    let (_dir, file) = temp_file("watch");
    std::fs::write(
        &file,
        "[providers.a]\nkind = \"mock\"\nscript = [\"before\"]\n",
    )
    .expect("write");
    let sb = Arc::new(Switchboard::from_config_file(&file).await.expect("loads"));
    let _watch = sb
        .watch_config_file(Duration::from_millis(100))
        .expect("watches");
    assert_eq!(say(&sb, "a/mock-1").await, "before");
    // Replace the file the way editors do: write elsewhere, rename over it.
    let tmp = file.with_extension("toml.tmp");
    std::fs::write(
        &tmp,
        "[providers.a]\nkind = \"mock\"\nscript = [\"after\"]\n",
    )
    .expect("write");
    std::fs::rename(&tmp, &file).expect("rename");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if say(&sb, "a/mock-1").await == "after" {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the watcher never reloaded"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn env_references_follow_the_file_and_runtime_changes() {
    let (_dir, file) = temp_file("env-refs");
    std::fs::write(
        &file,
        "[providers.a]\nkind = \"mock\"\nmode = \"${SB_TEST_ENV_REF_MODE:-echo}\"\nscript = [\"${SB_TEST_ENV_REF_LINE:-hi}\"]\n",
    )
    .expect("write");
    let sb = Switchboard::from_config_file(&file).await.expect("loads");
    let refs = sb.env_references();
    assert_eq!(
        refs.get("providers.a.mode"),
        Some(&vec!["SB_TEST_ENV_REF_MODE".to_owned()])
    );
    assert!(refs.contains_key("providers.a.script[0]"));

    // A runtime change of `script` drops its reference (and its items'), not `mode`'s.
    sb.forget_env_references("providers.a", &serde_json::json!({"script": ["x"]}));
    let refs = sb.env_references();
    assert!(refs.contains_key("providers.a.mode"));
    assert!(!refs.contains_key("providers.a.script[0]"));

    // Reading the file again brings them back; a file without them clears them.
    sb.reload_from_file().await.expect("reloads");
    assert!(sb.env_references().contains_key("providers.a.script[0]"));
    std::fs::write(&file, "[providers.a]\nkind = \"mock\"\n").expect("write");
    sb.reload_from_file().await.expect("reloads");
    assert!(sb.env_references().is_empty());
}
