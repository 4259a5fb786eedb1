//! Where Responses API answers are kept and for how long: the extension
//! store when one is open, else memory bounded by
//! `server.responses.max_in_memory`; `server.responses.retention_secs`.

use std::sync::Arc;

use serde_json::{Value, json};
use switchboard_core::extension::Store;
use switchboard_gateway::Switchboard;
use switchboard_gateway::config::types::Config;
use switchboard_mock as _;
use switchboard_testkit::MemoryStore;

use crate::common::{self, Gateway};
use crate::responses_api::create;

/// The stored record under `id`, read through the `Store` trait.
async fn stored(store: &MemoryStore, id: &str) -> Option<Value> {
    store.get("responses", id).await.expect("reads")
}

async fn retrieve_status(gw: &Gateway, id: &str) -> u16 {
    gw.http
        .get(gw.url(&format!("/v1/responses/{id}")))
        .send()
        .await
        .expect("sends")
        .status()
        .as_u16()
}

async fn with_store(config: Value, store: Arc<MemoryStore>) -> Gateway {
    let config: Config = serde_json::from_value(config).expect("config");
    let sb = Switchboard::builder()
        .config(config)
        .store(store)
        .build()
        .await
        .expect("builds");
    common::spawn_with(Arc::new(sb)).await
}

#[tokio::test]
async fn responses_go_to_the_extension_store_when_one_is_open() {
    let store = Arc::new(MemoryStore::new());
    let gw = with_store(json!({"providers": {"m": {"kind": "mock"}}}), store.clone()).await;
    let (_, first) = create(&gw, json!({"model": "m/mock-1", "input": "one"})).await;
    let id = first["id"].as_str().expect("id");
    let kept = stored(&store, id)
        .await
        .expect("kept in the `responses` namespace");
    assert_eq!(kept["response"], first);
    let (status, second) = create(
        &gw,
        json!({"model": "m/mock-1", "input": "two", "previous_response_id": id}),
    )
    .await;
    assert_eq!(status, 200, "{second}");
    assert!(second["usage"]["input_tokens"].as_u64() > first["usage"]["input_tokens"].as_u64());
    let r = gw
        .http
        .delete(gw.url(&format!("/v1/responses/{id}")))
        .send()
        .await
        .expect("sends");
    assert_eq!(r.status(), 200);
    assert!(stored(&store, id).await.is_none());
}

#[tokio::test]
async fn memory_keeps_only_the_configured_number_of_newest_responses() {
    let gw = common::spawn(json!({
        "server": {"responses": {"max_in_memory": 2}},
        "providers": {"m": {"kind": "mock"}},
    }))
    .await;
    let mut ids = Vec::new();
    for input in ["one", "two", "three"] {
        let (status, v) = create(&gw, json!({"model": "m/mock-1", "input": input})).await;
        assert_eq!(status, 200, "{v}");
        ids.push(v["id"].as_str().expect("id").to_owned());
    }
    assert_eq!(retrieve_status(&gw, &ids[0]).await, 404, "the oldest went");
    assert_eq!(retrieve_status(&gw, &ids[1]).await, 200);
    assert_eq!(retrieve_status(&gw, &ids[2]).await, 200);
    // Continuing from the evicted one is the documented 400.
    let (status, err) = create(
        &gw,
        json!({"model": "m/mock-1", "input": "four", "previous_response_id": ids[0]}),
    )
    .await;
    assert_eq!(status, 400, "{err}");
    assert_eq!(err["error"]["param"], "previous_response_id");
    // `store: false` takes no place: the two newest stay.
    let (_, unstored) = create(
        &gw,
        json!({"model": "m/mock-1", "input": "five", "store": false}),
    )
    .await;
    assert_eq!(
        retrieve_status(&gw, unstored["id"].as_str().expect("id")).await,
        404
    );
    assert_eq!(retrieve_status(&gw, &ids[1]).await, 200);
}

/// A stored record as the server writes it, `age_secs` old.
fn record(age_secs: u64) -> Value {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    json!({
        "owner": "",
        "created_at": now - age_secs,
        "items": [{"role": "user", "content": "old"}],
        "response": {"id": "resp_x", "object": "response", "output": []},
    })
}

#[tokio::test]
async fn the_retention_hides_older_responses_and_sweeps_them_from_the_store() {
    let store = Arc::new(MemoryStore::new());
    let gw = with_store(
        json!({
            "server": {"responses": {"retention_secs": 3600}},
            "providers": {"m": {"kind": "mock"}},
        }),
        store.clone(),
    )
    .await;
    for (id, value) in [
        ("resp_old_read", record(7200)),
        ("resp_old_unread", record(7200)),
        ("resp_recent", record(60)),
        ("resp_not_a_record", json!("something else")),
    ] {
        store.put("responses", id, &value).await.expect("puts");
    }
    assert_eq!(retrieve_status(&gw, "resp_recent").await, 200);
    // Older than the retention: gone, and deleted when read.
    assert_eq!(retrieve_status(&gw, "resp_old_read").await, 404);
    assert!(stored(&store, "resp_old_read").await.is_none());
    // The first put sweeps the rest, off the request path.
    let (status, v) = create(&gw, json!({"model": "m/mock-1", "input": "new"})).await;
    assert_eq!(status, 200, "{v}");
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while stored(&store, "resp_old_unread").await.is_some() {
        assert!(tokio::time::Instant::now() < deadline, "never swept");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(stored(&store, "resp_recent").await.is_some());
    assert!(stored(&store, "resp_not_a_record").await.is_some());
    let new_id = v["id"].as_str().expect("id");
    assert!(stored(&store, new_id).await.is_some());
}
