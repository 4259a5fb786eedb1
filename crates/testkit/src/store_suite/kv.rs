//! Namespaced values: get / put / delete / list, prefixes taken literally,
//! byte order, exact round trips, limits, many callers at once.

use std::sync::Arc;

use serde_json::{Value, json};
use switchboard_core::ErrorKind;
use switchboard_core::extension::Store;

use super::{StoreCase, StoreLimits, boxed};

pub(super) fn cases() -> Vec<StoreCase> {
    vec![
        StoreCase {
            name: "put_get_replace_delete",
            run: |s, _| boxed(put_get_replace_delete(s)),
        },
        StoreCase {
            name: "values_round_trip_exactly",
            run: |s, _| boxed(values_round_trip_exactly(s)),
        },
        StoreCase {
            name: "keys_are_exact",
            run: |s, _| boxed(keys_are_exact(s)),
        },
        StoreCase {
            name: "list_prefixes_take_wildcards_and_case_literally",
            run: |s, _| boxed(list_prefixes_take_wildcards_and_case_literally(s)),
        },
        StoreCase {
            name: "list_is_in_byte_order",
            run: |s, _| boxed(list_is_in_byte_order(s)),
        },
        StoreCase {
            name: "list_prefixes_at_the_top_of_unicode",
            run: |s, _| boxed(list_prefixes_at_the_top_of_unicode(s)),
        },
        StoreCase {
            name: "values_over_the_limit_are_refused",
            run: |s, l| boxed(values_over_the_limit_are_refused(s, l)),
        },
        StoreCase {
            name: "list_answers_at_most_the_row_limit",
            run: |s, l| boxed(list_answers_at_most_the_row_limit(s, l)),
        },
        StoreCase {
            name: "many_callers_at_once",
            run: |s, _| boxed(many_callers_at_once(s)),
        },
    ]
}

async fn keys(store: &Arc<dyn Store>, namespace: &str, prefix: &str) -> Vec<String> {
    store
        .list(namespace, prefix)
        .await
        .expect("list")
        .into_iter()
        .map(|(k, _)| k)
        .collect()
}

async fn put_get_replace_delete(store: Arc<dyn Store>) {
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
    // Namespaces are apart, for every call.
    assert_eq!(store.get("other", "a").await.expect("get"), None);
    assert!(keys(&store, "other", "").await.is_empty());
    assert!(!store.delete("other", "a").await.expect("delete elsewhere"));
    assert_eq!(keys(&store, "ns", "").await, ["a"]);

    assert!(store.delete("ns", "a").await.expect("delete"));
    assert!(!store.delete("ns", "a").await.expect("delete again"));
    assert_eq!(store.get("ns", "a").await.expect("get"), None);
}

async fn values_round_trip_exactly(store: Arc<dyn Store>) {
    let values = [
        json!(null),
        json!(true),
        json!(0),
        json!(u64::MAX),
        json!(i64::MIN),
        json!(0.1),
        json!(1e300),
        json!(-2.5e-300),
        json!(""),
        json!("NUL \u{0} inside, tab \t, quote \", backslash \\"),
        json!("accents é, CJK 中文, emoji 🦀, RTL שלום"),
        json!({}),
        json!([]),
        json!({"nested": {"deeper": [1, {"x": [true, null, "y"]}]}, "z": -1}),
        json!({"b": 1, "a": 2, "": 3}),
    ];
    for (i, value) in values.iter().enumerate() {
        let key = format!("v{i:02}");
        store.put("ns", &key, value).await.expect("put");
        assert_eq!(
            store.get("ns", &key).await.expect("get").as_ref(),
            Some(value),
            "value {i} changed in the store"
        );
    }
    let listed: Vec<Value> = store
        .list("ns", "v")
        .await
        .expect("list")
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    assert_eq!(listed, values, "list returns the values as stored");
}

async fn keys_are_exact(store: Arc<dyn Store>) {
    let all = ["k", "K", "k ", " k", "k\t", "k/", "é", "e\u{301}"];
    for (i, key) in all.iter().enumerate() {
        store.put("ns", key, &json!(i)).await.expect("put");
    }
    for (i, key) in all.iter().enumerate() {
        assert_eq!(
            store.get("ns", key).await.expect("get"),
            Some(json!(i)),
            "key {key:?} is its own key (no case folding, trimming or normalization)"
        );
    }
    assert_eq!(keys(&store, "ns", "").await.len(), all.len());
    assert_eq!(keys(&store, "NS", "").await, Vec::<String>::new());
}

async fn list_prefixes_take_wildcards_and_case_literally(store: Arc<dyn Store>) {
    let all = [
        "100%", "100%/a", "100x", "1000", "a_b", "a_b/c", "axb", "aXb", "A_b", "a", "é_1", "é_2",
        "f",
    ];
    for (i, key) in all.iter().enumerate() {
        store.put("ns", key, &json!(i)).await.expect("put");
    }
    store
        .put("elsewhere", "a_b", &json!("x"))
        .await
        .expect("put");
    assert_eq!(keys(&store, "ns", "100%").await, ["100%", "100%/a"]);
    assert_eq!(keys(&store, "ns", "a_").await, ["a_b", "a_b/c"]);
    assert_eq!(keys(&store, "ns", "a_b/").await, ["a_b/c"]);
    assert_eq!(
        keys(&store, "ns", "a").await,
        ["a", "aXb", "a_b", "a_b/c", "axb"]
    );
    assert_eq!(keys(&store, "ns", "é_").await, ["é_1", "é_2"]);
    assert_eq!(keys(&store, "ns", "zzz").await, Vec::<String>::new());

    let listed = store.list("ns", "").await.expect("list all");
    let mut sorted: Vec<String> = all.iter().map(|k| (*k).to_owned()).collect();
    sorted.sort();
    assert_eq!(
        listed.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>(),
        sorted
    );
    assert_eq!(
        listed
            .iter()
            .find(|(k, _)| k == "f")
            .map(|(_, v)| v.clone()),
        Some(json!(12))
    );
}

async fn list_is_in_byte_order(store: Arc<dyn Store>) {
    // A locale's collation would put `a` before `B`, ignore `-` and `.`, or
    // fold accents; byte order (= code point order in UTF-8) does none of it.
    let all = [
        "b", "B", "a", "A", "a-b", "a.b", "ab", "a b", "Z", "z", "é", "e", "f", "_", "-", "10",
        "9", "中", "🦀", "\u{E000}", "\u{D7FF}",
    ];
    for key in all {
        store.put("ns", key, &json!(key)).await.expect("put");
    }
    let mut want: Vec<&str> = all.to_vec();
    want.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    assert_eq!(keys(&store, "ns", "").await, want);
}

async fn list_prefixes_at_the_top_of_unicode(store: Arc<dyn Store>) {
    let top = "\u{10FFFF}";
    let all = [
        format!("x{top}"),
        format!("x{top}{top}"),
        format!("x{top}a"),
        "y".to_owned(),
        top.to_owned(),
        format!("{top}z"),
    ];
    for key in &all {
        store.put("ns", key, &json!(1)).await.expect("put");
    }
    assert_eq!(
        keys(&store, "ns", &format!("x{top}")).await,
        [
            format!("x{top}"),
            format!("x{top}a"),
            format!("x{top}{top}")
        ]
    );
    assert_eq!(
        keys(&store, "ns", top).await,
        [top.to_owned(), format!("{top}z")]
    );
}

async fn values_over_the_limit_are_refused(store: Arc<dyn Store>, limits: StoreLimits) {
    let Some(max) = limits.max_value_bytes else {
        return;
    };
    // A JSON string of n characters serializes to n + 2 bytes.
    let at_limit = json!("x".repeat(max - 2));
    store
        .put("ns", "big", &at_limit)
        .await
        .expect("the limit fits");
    let over = json!("x".repeat(max - 1));
    let err = store
        .put("ns", "big", &over)
        .await
        .expect_err("over the limit is refused");
    assert_eq!(err.kind(), &ErrorKind::InvalidRequest, "{err}");
    assert!(err.message().contains(&max.to_string()), "{err}");
    assert_eq!(
        store.get("ns", "big").await.expect("get"),
        Some(at_limit),
        "the refused put left the old value"
    );
}

async fn list_answers_at_most_the_row_limit(store: Arc<dyn Store>, limits: StoreLimits) {
    let Some(max) = limits.max_list_rows else {
        return;
    };
    // Eight writers at once: a networked store is not slowed to one round
    // trip at a time.
    let mut writers = tokio::task::JoinSet::new();
    for w in 0..8 {
        let store = Arc::clone(&store);
        writers.spawn(async move {
            for i in (w..=max).step_by(8) {
                store
                    .put("ns", &format!("k{i:06}"), &json!(i))
                    .await
                    .expect("put");
            }
        });
    }
    while let Some(done) = writers.join_next().await {
        done.expect("a writer finished");
    }
    let listed = store.list("ns", "k").await.expect("list");
    assert_eq!(listed.len(), max);
    assert_eq!(listed[0].0, "k000000");
    assert_eq!(listed[max - 1].0, format!("k{:06}", max - 1));
}

async fn many_callers_at_once(store: Arc<dyn Store>) {
    let mut tasks = tokio::task::JoinSet::new();
    for task in 0..16_u64 {
        let store = Arc::clone(&store);
        tasks.spawn(async move {
            for i in 0..10_u64 {
                let key = format!("t{task:02}/{i}");
                store.put("ns", &key, &json!(i)).await.expect("put");
                assert_eq!(store.get("ns", &key).await.expect("get"), Some(json!(i)));
                // Everyone writes the same key too: the last write wins whole.
                store
                    .put("ns", "shared", &json!({"task": task, "i": i}))
                    .await
                    .expect("put shared");
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("a task finished without panicking");
    }
    assert_eq!(store.list("ns", "t").await.expect("list").len(), 160);
    let shared = store.get("ns", "shared").await.expect("get");
    let shared = shared.expect("the shared key is there");
    assert!(
        shared["task"].as_u64().is_some_and(|t| t < 16) && shared["i"].as_u64().is_some(),
        "{shared}"
    );
}
