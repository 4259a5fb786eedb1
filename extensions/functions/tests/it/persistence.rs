//! Definitions live in the store: they survive a restart, and a definition
//! made by another process sharing the store is found.

use serde_json::json;
use switchboard_core::ErrorKind;
use switchboard_core::Extension as _;
use switchboard_core::extension::Store;
use switchboard_ext_functions::{FunctionsConfig, NAMESPACE};

use crate::fakes::{Harness, MemoryStore, greet, summarize};

#[tokio::test]
async fn definitions_survive_a_new_instance_on_the_same_store() {
    let store = MemoryStore::default();
    let first = Harness::on_store(store.clone(), &[], FunctionsConfig::default()).await;
    first.call("define", summarize()).await.expect("defined");
    first.call("define", greet()).await.expect("defined");
    first
        .call("remove", json!({"name": "greet"}))
        .await
        .expect("removed");
    drop(first);

    let second = Harness::on_store(
        store,
        &[r#"{"summary": "kept"}"#],
        FunctionsConfig::default(),
    )
    .await;
    let names = second.method_names();
    assert!(names.contains(&"summarize".to_owned()), "{names:?}");
    assert!(!names.contains(&"greet".to_owned()), "{names:?}");
    let result = second
        .call("summarize", json!({"text": "x", "words": 1}))
        .await
        .expect("callable after the restart");
    assert_eq!(result, json!({"summary": "kept"}));
}

#[tokio::test]
async fn a_definition_written_by_another_process_is_callable() {
    let h = Harness::new(&["Hello!"]).await;
    assert!(!h.method_names().contains(&"greet".to_owned()));

    // Another process (the CLI, say) writes to the shared store.
    h.store
        .put(NAMESPACE, "greet", &greet())
        .await
        .expect("stored");

    // The gateway asks `method` before calling: it finds it in the store
    // at once, with the function's own argument schema.
    let info = h.functions.method("greet").await.expect("known at once");
    assert_eq!(info.arguments, greet()["parameters"]);
    assert!(h.functions.method("nobody").await.is_none());

    let result = h.call("greet", json!({"who": "Ada"})).await.expect("found");
    assert_eq!(result, json!({"text": "Hello!"}));
    assert!(
        h.method_names().contains(&"greet".to_owned()),
        "methods() lists it once it was found"
    );
    let got = h
        .call("get", json!({"name": "greet"}))
        .await
        .expect("found");
    assert_eq!(got["name"], "greet");
}

#[tokio::test]
async fn list_reads_the_store() {
    let h = Harness::new(&[]).await;
    h.store
        .put(NAMESPACE, "greet", &greet())
        .await
        .expect("stored");
    let list = h.call("list", json!({})).await.expect("listed");
    assert_eq!(list["functions"][0]["name"], "greet");
    assert!(h.method_names().contains(&"greet".to_owned()));
}

#[tokio::test]
async fn a_removal_by_another_process_is_seen() {
    let h = Harness::new(&["unused"]).await;
    h.call("define", greet()).await.expect("defined");
    assert!(h.store.delete(NAMESPACE, "greet").await.expect("deleted"));
    let err = h
        .call("greet", json!({"who": "Ada"}))
        .await
        .expect_err("gone");
    assert_eq!(err.kind(), &ErrorKind::NotFound);
    assert!(!h.method_names().contains(&"greet".to_owned()));
}

#[tokio::test]
async fn a_redefinition_by_another_process_is_used() {
    let h = Harness::new(&["ok"]).await;
    h.call("define", greet()).await.expect("defined");
    let mut changed = greet();
    changed["template"] = json!("Wave at {{who}}.");
    h.store
        .put(NAMESPACE, "greet", &changed)
        .await
        .expect("stored");
    h.call("greet", json!({"who": "Ada"}))
        .await
        .expect("answered");
    assert_eq!(h.gateway.requests()[0].messages[0].text(), "Wave at Ada.");
}

#[tokio::test]
async fn an_invalid_stored_definition_is_skipped_at_startup() {
    let store = MemoryStore::default();
    store
        .put(NAMESPACE, "broken", &json!({"name": "broken"}))
        .await
        .expect("stored");
    store
        .put(NAMESPACE, "greet", &greet())
        .await
        .expect("stored");
    let h = Harness::on_store(store, &[], FunctionsConfig::default()).await;
    let names = h.method_names();
    assert!(names.contains(&"greet".to_owned()), "{names:?}");
    assert!(!names.contains(&"broken".to_owned()), "{names:?}");
}
