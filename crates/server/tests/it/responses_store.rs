//! Where Responses API answers are kept and for how long: the extension
//! store when one is open, else memory bounded by
//! `server.responses.max_in_memory`; `server.responses.retention_secs`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use switchboard_core::Error;
use switchboard_core::extension::{LedgerQuery, LedgerRow, LedgerTotal, Store};
use switchboard_gateway::Switchboard;
use switchboard_gateway::config::types::Config;
use switchboard_mock as _;

use crate::common::{self, Gateway};

/// A store in memory, to see where responses go when the gateway has one.
#[derive(Default)]
struct MapStore(Mutex<BTreeMap<(String, String), Value>>);

impl MapStore {
    fn get_now(&self, ns: &str, key: &str) -> Option<Value> {
        self.0
            .lock()
            .expect("lock")
            .get(&(ns.into(), key.into()))
            .cloned()
    }
}

#[async_trait::async_trait]
impl Store for MapStore {
    fn backend(&self) -> &'static str {
        "memory"
    }
    async fn get(&self, ns: &str, key: &str) -> Result<Option<Value>, Error> {
        Ok(self.get_now(ns, key))
    }
    async fn put(&self, ns: &str, key: &str, value: &Value) -> Result<(), Error> {
        self.0
            .lock()
            .expect("lock")
            .insert((ns.into(), key.into()), value.clone());
        Ok(())
    }
    async fn delete(&self, ns: &str, key: &str) -> Result<bool, Error> {
        Ok(self
            .0
            .lock()
            .expect("lock")
            .remove(&(ns.into(), key.into()))
            .is_some())
    }
    async fn list(&self, ns: &str, prefix: &str) -> Result<Vec<(String, Value)>, Error> {
        Ok(self
            .0
            .lock()
            .expect("lock")
            .iter()
            .filter(|((n, k), _)| n == ns && k.starts_with(prefix))
            .map(|((_, k), v)| (k.clone(), v.clone()))
            .collect())
    }
    async fn append_usage(&self, _: &LedgerRow) -> Result<(), Error> {
        Ok(())
    }
    async fn usage_totals(&self, _: &LedgerQuery) -> Result<Vec<LedgerTotal>, Error> {
        Ok(Vec::new())
    }
}

async fn create(gw: &Gateway, body: Value) -> (u16, Value) {
    let r = gw
        .http
        .post(gw.url("/v1/responses"))
        .json(&body)
        .send()
        .await
        .expect("sends");
    let status = r.status().as_u16();
    (status, r.json().await.expect("json"))
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

async fn with_store(config: Value, store: Arc<MapStore>) -> Gateway {
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
    let store = Arc::new(MapStore::default());
    let gw = with_store(json!({"providers": {"m": {"kind": "mock"}}}), store.clone()).await;
    let (_, first) = create(&gw, json!({"model": "m/mock-1", "input": "one"})).await;
    let id = first["id"].as_str().expect("id");
    let kept = store
        .get_now("responses", id)
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
    assert!(store.get_now("responses", id).is_none());
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
    let store = Arc::new(MapStore::default());
    let gw = with_store(
        json!({
            "server": {"responses": {"retention_secs": 3600}},
            "providers": {"m": {"kind": "mock"}},
        }),
        store.clone(),
    )
    .await;
    let put = |id: &str, age| {
        store
            .0
            .lock()
            .expect("lock")
            .insert(("responses".into(), id.into()), record(age))
    };
    put("resp_old_read", 7200);
    put("resp_old_unread", 7200);
    put("resp_recent", 60);
    store.0.lock().expect("lock").insert(
        ("responses".into(), "resp_not_a_record".into()),
        json!("something else"),
    );
    assert_eq!(retrieve_status(&gw, "resp_recent").await, 200);
    // Older than the retention: gone, and deleted when read.
    assert_eq!(retrieve_status(&gw, "resp_old_read").await, 404);
    assert!(store.get_now("responses", "resp_old_read").is_none());
    // The first put sweeps the rest, off the request path.
    let (status, v) = create(&gw, json!({"model": "m/mock-1", "input": "new"})).await;
    assert_eq!(status, 200, "{v}");
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while store.get_now("responses", "resp_old_unread").is_some() {
        assert!(tokio::time::Instant::now() < deadline, "never swept");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(store.get_now("responses", "resp_recent").is_some());
    assert!(store.get_now("responses", "resp_not_a_record").is_some());
    assert!(
        store
            .get_now("responses", v["id"].as_str().expect("id"))
            .is_some()
    );
}
