//! Many tasks calling one store at once.

use serde_json::json;
use switchboard_core::extension::{LedgerQuery, LedgerRow, Store};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_calls_from_many_tasks() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("busy.db");
    let path = path.to_str().expect("a UTF-8 temp path");
    // Two stores on one file: two connections contending for the write lock.
    let first = switchboard_state::open(path).await.expect("open");
    let second = switchboard_state::open(path).await.expect("open again");
    let stores: Vec<std::sync::Arc<dyn Store>> =
        vec![std::sync::Arc::new(first), std::sync::Arc::new(second)];

    let mut tasks = tokio::task::JoinSet::new();
    for task in 0..32_u64 {
        let store = std::sync::Arc::clone(&stores[(task % 2) as usize]);
        tasks.spawn(async move {
            for i in 0..10_u64 {
                let key = format!("t{task:02}/{i}");
                store.put("ns", &key, &json!(i)).await.expect("put");
                assert_eq!(store.get("ns", &key).await.expect("get"), Some(json!(i)));
                store
                    .append_usage(&LedgerRow {
                        at_ms: i64::try_from(i).expect("small"),
                        input_tokens: 1,
                        ..Default::default()
                    })
                    .await
                    .expect("append");
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("a task finished without panicking");
    }

    let listed = stores[0].list("ns", "t").await.expect("list");
    assert_eq!(listed.len(), 320);
    let totals = stores[1]
        .usage_totals(&LedgerQuery::default())
        .await
        .expect("totals");
    assert_eq!((totals[0].requests, totals[0].input_tokens), (320, 320));
}
