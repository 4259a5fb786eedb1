//! Two stores on one schema (two gateways) see each other's writes;
//! different schemas see nothing of each other.

use serde_json::json;
use switchboard_core::extension::{LedgerGroup, LedgerQuery, LedgerRow, Store};

use super::Schema;

#[tokio::test]
async fn two_stores_on_one_schema_share_values_and_the_ledger() {
    let schema = Schema::new("share");
    let a = schema.open().await;
    let b = schema.open().await;

    a.put("keys", "by-id/k1", &json!({"name": "ci"}))
        .await
        .expect("put on a");
    assert_eq!(
        b.get("keys", "by-id/k1").await.expect("get on b"),
        Some(json!({"name": "ci"}))
    );
    b.put("keys", "by-id/k1", &json!({"name": "ci", "revoked": true}))
        .await
        .expect("replace on b");
    assert_eq!(
        a.list("keys", "by-id/").await.expect("list on a"),
        vec![(
            "by-id/k1".to_owned(),
            json!({"name": "ci", "revoked": true})
        )]
    );
    assert!(a.delete("keys", "by-id/k1").await.expect("delete on a"));
    assert_eq!(b.get("keys", "by-id/k1").await.expect("get on b"), None);

    for (store, key) in [(&a, "k1"), (&b, "k1"), (&b, "k2")] {
        store
            .append_usage(&LedgerRow {
                at_ms: 1_000,
                key_id: Some(key.to_owned()),
                input_tokens: 10,
                cost_usd: 0.5,
                ..LedgerRow::default()
            })
            .await
            .expect("append");
    }
    let query = LedgerQuery {
        group_by: LedgerGroup::Key,
        ..LedgerQuery::default()
    };
    let from_a = a.usage_totals(&query).await.expect("totals on a");
    let from_b = b.usage_totals(&query).await.expect("totals on b");
    assert_eq!(from_a, from_b);
    let per_key: Vec<(&str, u64)> = from_a
        .iter()
        .map(|t| (t.group.as_str(), t.requests))
        .collect();
    assert_eq!(per_key, [("k1", 2), ("k2", 1)]);
}

#[tokio::test]
async fn schemas_keep_stores_apart() {
    let (one, two) = (Schema::new("apart"), Schema::new("apart"));
    let (a, b) = (one.open().await, two.open().await);
    assert_eq!(
        (a.schema(), b.schema()),
        (one.name.as_str(), two.name.as_str())
    );
    a.put("ns", "k", &json!(1)).await.expect("put");
    a.append_usage(&LedgerRow::default()).await.expect("append");
    assert_eq!(b.get("ns", "k").await.expect("get"), None);
    assert!(
        b.usage_totals(&LedgerQuery::default())
            .await
            .expect("totals")
            .is_empty()
    );
}

#[tokio::test]
async fn nul_in_a_key_is_an_invalid_request_and_in_ledger_text_is_kept() {
    let schema = Schema::new("nul");
    let store = schema.open().await;
    let err = store
        .put("ns", "a\0b", &json!(1))
        .await
        .expect_err("PostgreSQL text cannot hold NUL");
    assert_eq!(err.kind(), &switchboard_core::ErrorKind::InvalidRequest);
    assert!(err.message().contains("NUL"), "{err}");
    // A NUL inside a JSON value is escaped, so it round-trips.
    store.put("ns", "k", &json!("a\0b")).await.expect("put");
    assert_eq!(
        store.get("ns", "k").await.expect("get"),
        Some(json!("a\0b"))
    );
    // A ledger row with NUL in its model is kept, not lost.
    store
        .append_usage(&LedgerRow {
            model: "m\0x".to_owned(),
            ..LedgerRow::default()
        })
        .await
        .expect("append");
    let models = store
        .usage_totals(&LedgerQuery {
            group_by: LedgerGroup::Model,
            ..LedgerQuery::default()
        })
        .await
        .expect("totals");
    assert_eq!(models[0].group, "m\u{FFFD}x");
}
