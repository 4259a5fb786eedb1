//! get / put / delete / list, prefixes with LIKE's wildcards, limits.

use serde_json::json;
use switchboard_core::ErrorKind;
use switchboard_core::extension::Store;

use crate::memory_store;

#[tokio::test]
async fn put_get_replace_delete() {
    let store = memory_store().await;
    assert_eq!(store.backend(), "sqlite");
    assert_eq!(store.get("ns", "a").await.expect("get"), None);

    store.put("ns", "a", &json!({"n": 1})).await.expect("put");
    assert_eq!(
        store.get("ns", "a").await.expect("get"),
        Some(json!({"n": 1}))
    );

    store
        .put("ns", "a", &json!([1, "two", null]))
        .await
        .expect("replace");
    assert_eq!(
        store.get("ns", "a").await.expect("get"),
        Some(json!([1, "two", null]))
    );
    // Namespaces are apart.
    assert_eq!(store.get("other", "a").await.expect("get"), None);

    assert!(store.delete("ns", "a").await.expect("delete"));
    assert!(!store.delete("ns", "a").await.expect("delete again"));
    assert_eq!(store.get("ns", "a").await.expect("get"), None);
}

#[tokio::test]
async fn list_prefixes_take_wildcards_and_case_literally() {
    let store = memory_store().await;
    let keys = [
        "100%", "100%/a", "100x", "1000", "a_b", "a_b/c", "axb", "aXb", "A_b", "a", "é_1", "é_2",
        "f",
    ];
    for (i, key) in keys.iter().enumerate() {
        store.put("ns", key, &json!(i)).await.expect("put");
    }
    store
        .put("elsewhere", "a_b", &json!("x"))
        .await
        .expect("put");

    let listed = |prefix: &'static str| {
        let store = store.clone();
        async move {
            store
                .list("ns", prefix)
                .await
                .expect("list")
                .into_iter()
                .map(|(k, _)| k)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(listed("100%").await, ["100%", "100%/a"]);
    assert_eq!(listed("a_").await, ["a_b", "a_b/c"]);
    assert_eq!(listed("a_b/").await, ["a_b/c"]);
    assert_eq!(listed("a").await, ["a", "aXb", "a_b", "a_b/c", "axb"]);
    assert_eq!(listed("é_").await, ["é_1", "é_2"]);
    assert_eq!(listed("zzz").await, Vec::<String>::new());

    let all = store.list("ns", "").await.expect("list all");
    let mut sorted: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
    sorted.sort();
    assert_eq!(
        all.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>(),
        sorted
    );
    assert_eq!(
        all.iter().find(|(k, _)| k == "f").map(|(_, v)| v.clone()),
        Some(json!(12))
    );
}

#[tokio::test]
async fn values_over_one_mib_are_refused() {
    let store = memory_store().await;
    // A JSON string of n characters serializes to n + 2 bytes.
    let at_limit = json!("x".repeat(switchboard_state::MAX_VALUE_BYTES - 2));
    store.put("ns", "big", &at_limit).await.expect("1 MiB fits");

    let over = json!("x".repeat(switchboard_state::MAX_VALUE_BYTES - 1));
    let err = store
        .put("ns", "big", &over)
        .await
        .expect_err("over 1 MiB is refused");
    assert_eq!(err.kind(), &ErrorKind::InvalidRequest);
    assert!(err.message().contains("1048576"), "{}", err.message());
    assert_eq!(
        store.get("ns", "big").await.expect("get"),
        Some(at_limit),
        "the refused put left the old value"
    );
}

#[tokio::test]
async fn list_answers_at_most_ten_thousand_rows() {
    let store = memory_store().await;
    let max = switchboard_state::MAX_LIST_ROWS;
    for i in 0..=max {
        store
            .put("ns", &format!("k{i:05}"), &json!(i))
            .await
            .expect("put");
    }
    let listed = store.list("ns", "k").await.expect("list");
    assert_eq!(listed.len(), max);
    assert_eq!(listed[0].0, "k00000");
    assert_eq!(listed[max - 1].0, format!("k{:05}", max - 1));
}
