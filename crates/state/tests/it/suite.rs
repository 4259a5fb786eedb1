//! The SQLite store against the shared store suite (the same cases the
//! PostgreSQL store and the testkit's memory store run), with its limits.

use std::sync::Arc;

use switchboard_core::extension::Store;
use switchboard_testkit::{StoreLimits, assert_store_conforms};

use crate::memory_store;

/// What both SQL stores promise beyond the trait.
pub(crate) const LIMITS: StoreLimits = StoreLimits {
    max_value_bytes: Some(switchboard_state::MAX_VALUE_BYTES),
    max_list_rows: Some(switchboard_state::MAX_LIST_ROWS),
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_conforms_to_the_store_suite() {
    assert_store_conforms(
        || async {
            let store = memory_store().await;
            assert_eq!(store.backend(), "sqlite");
            Arc::new(store) as Arc<dyn Store>
        },
        LIMITS,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_file_conforms_too() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let mut n = 0;
    assert_store_conforms(
        || {
            n += 1;
            let path = dir.path().join(format!("suite-{n}.db"));
            async move {
                let path = path.to_str().expect("a UTF-8 temp path").to_owned();
                Arc::new(switchboard_state::open(&path).await.expect("open")) as Arc<dyn Store>
            }
        },
        LIMITS,
    )
    .await;
}
