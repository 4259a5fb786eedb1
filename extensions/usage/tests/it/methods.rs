//! `usage.get`: totals, grouping, date filters, and who sees what.

use std::sync::Arc;

use serde_json::{Value, json};
use switchboard_core::extension::{ClientKeyInfo, LedgerRow, MethodCall, Store};
use switchboard_core::{ErrorKind, Extension};
use switchboard_ext_usage::{UsageConfig, UsageExtension};

use crate::memory_store::MemoryStore;

const DAY: i64 = 86_400_000;
/// 2026-12-02T00:00:00Z.
const DEC_2: i64 = 1_796_169_600_000;

async fn seeded() -> (Arc<MemoryStore>, UsageExtension) {
    let store = Arc::new(MemoryStore::default());
    let row = |at_ms, key: Option<&str>, model: &str, cost| LedgerRow {
        at_ms,
        request_id: "r".into(),
        key_id: key.map(str::to_owned),
        instance: "openai".into(),
        model: model.into(),
        input_tokens: 10,
        output_tokens: 5,
        cost_usd: cost,
        ..LedgerRow::default()
    };
    for r in [
        row(DEC_2, Some("alice"), "gpt-4o", 1.0),
        row(DEC_2 + 1_000, Some("bob"), "gpt-4o-mini", 2.0),
        row(DEC_2 + DAY, Some("alice"), "gpt-4o-mini", 4.0),
        row(DEC_2 + DAY, None, "gpt-4o", 8.0),
    ] {
        store.append_usage(&r).await.expect("append");
    }
    let ext = UsageExtension::new(UsageConfig::default(), store.clone()).expect("builds");
    (store, ext)
}

fn call(arguments: Value, admin: bool, key: Option<&str>) -> MethodCall {
    MethodCall {
        method: "get".into(),
        arguments,
        client_key: key.map(|k| ClientKeyInfo {
            id: Arc::from(k),
            ..Default::default()
        }),
        admin,
        request_id: Arc::from("m1"),
    }
}

fn groups(v: &Value) -> Vec<(String, f64)> {
    v["totals"]
        .as_array()
        .expect("totals")
        .iter()
        .map(|t| {
            (
                t["group"].as_str().expect("group").to_owned(),
                t["cost_usd"].as_f64().expect("cost"),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_admin_sees_everything_grouped() {
    let (_, ext) = seeded().await;
    let v = ext
        .call(call(json!({"group_by": "key"}), true, None))
        .await
        .expect("get");
    assert_eq!(
        groups(&v),
        vec![
            ("-".into(), 8.0),
            ("alice".into(), 5.0),
            ("bob".into(), 2.0)
        ]
    );
    assert_eq!(v["group_by"], json!("key"));
    assert_eq!(v["key"], Value::Null);
    let v = ext.call(call(json!({}), true, None)).await.expect("get");
    assert_eq!(groups(&v), vec![("all".into(), 15.0)]);
    assert_eq!(v["totals"][0]["requests"], json!(4));
}

#[tokio::test]
async fn a_client_key_sees_only_its_own_usage() {
    let (_, ext) = seeded().await;
    let v = ext
        .call(call(json!({"group_by": "key"}), false, Some("alice")))
        .await
        .expect("get");
    assert_eq!(groups(&v), vec![("alice".into(), 5.0)]);
    assert_eq!(v["key"], json!("alice"));
    let v = ext
        .call(call(json!({"group_by": "model"}), false, Some("bob")))
        .await
        .expect("get");
    assert_eq!(groups(&v), vec![("gpt-4o-mini".into(), 2.0)]);
}

#[tokio::test]
async fn without_a_key_or_the_admin_token_it_is_refused() {
    let (_, ext) = seeded().await;
    let err = ext
        .call(call(json!({}), false, None))
        .await
        .expect_err("refused");
    assert_eq!(err.kind(), &ErrorKind::Permission);
}

#[tokio::test]
async fn dates_filter_and_days_group() {
    let (_, ext) = seeded().await;
    let v = ext
        .call(call(json!({"group_by": "day"}), true, None))
        .await
        .expect("get");
    assert_eq!(
        groups(&v),
        vec![("2026-12-02".into(), 3.0), ("2026-12-03".into(), 12.0)]
    );
    // A bare `to` date includes that day; `from` starts at its midnight.
    let v = ext
        .call(call(
            json!({"from": "2026-12-02", "to": "2026-12-02"}),
            true,
            None,
        ))
        .await
        .expect("get");
    assert_eq!(groups(&v), vec![("all".into(), 3.0)]);
    assert_eq!(v["from"], json!("2026-12-02"));
    let v = ext
        .call(call(
            json!({"from": "2026-12-02T00:00:01Z", "group_by": "instance"}),
            true,
            None,
        ))
        .await
        .expect("get");
    assert_eq!(groups(&v), vec![("openai".into(), 14.0)]);
}

#[tokio::test]
async fn bad_arguments_name_the_argument() {
    let (_, ext) = seeded().await;
    let err = ext
        .call(call(json!({"group_by": "team"}), true, None))
        .await
        .expect_err("bad group");
    assert_eq!(err.param(), Some("group_by"));
    let err = ext
        .call(call(json!({"from": "last week"}), true, None))
        .await
        .expect_err("bad date");
    assert_eq!(err.param(), Some("from"));
    let err = ext
        .call(MethodCall {
            method: "put".into(),
            ..call(json!({}), true, None)
        })
        .await
        .expect_err("no such method");
    assert_eq!(err.kind(), &ErrorKind::NotFound);
    // The arguments schema is a closed object with the documented keys.
    let m = &ext.methods()[0];
    assert_eq!(m.arguments["additionalProperties"], json!(false));
    assert!(m.arguments["properties"]["group_by"]["enum"].is_array());
}
