//! Data survives reopening a file; bad paths are clear config errors.

use serde_json::json;
use switchboard_core::ErrorKind;
use switchboard_core::extension::{LedgerQuery, LedgerRow, Store};

#[tokio::test]
async fn data_survives_reopening_the_file() {
    let dir = tempfile::tempdir().expect("a temp dir");
    // Parent directories are created.
    let path = dir.path().join("nested/deeper/state.db");
    let path = path.to_str().expect("a UTF-8 temp path");

    let store = switchboard_state::open(path).await.expect("open");
    assert_eq!(store.path(), path);
    store
        .put("ns", "k", &json!({"kept": true}))
        .await
        .expect("put");
    store
        .append_usage(&LedgerRow {
            at_ms: 1_000,
            input_tokens: 9,
            ..Default::default()
        })
        .await
        .expect("append");
    drop(store);

    let reopened = switchboard_state::open(path).await.expect("reopen");
    assert_eq!(
        reopened.get("ns", "k").await.expect("get"),
        Some(json!({"kept": true}))
    );
    let totals = reopened
        .usage_totals(&LedgerQuery::default())
        .await
        .expect("totals");
    assert_eq!((totals[0].requests, totals[0].input_tokens), (1, 9));
}

#[tokio::test]
async fn two_stores_share_one_file() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("state.db");
    let path = path.to_str().expect("a UTF-8 temp path");
    let gateway = switchboard_state::open(path).await.expect("open one");
    let cli = switchboard_state::open(path).await.expect("open two");

    gateway.put("ns", "k", &json!(1)).await.expect("put");
    assert_eq!(cli.get("ns", "k").await.expect("get"), Some(json!(1)));
    cli.put("ns", "k", &json!(2)).await.expect("put");
    assert_eq!(gateway.get("ns", "k").await.expect("get"), Some(json!(2)));

    let mode: String = rusqlite::Connection::open(path)
        .expect("raw open")
        .query_row("PRAGMA journal_mode", [], |row| row.get(0))
        .expect("journal mode");
    assert_eq!(mode, "wal");
}

#[tokio::test]
async fn an_unopenable_path_is_a_config_error_naming_it() {
    let dir = tempfile::tempdir().expect("a temp dir");
    // A directory where the file should be.
    let path = dir.path().to_str().expect("a UTF-8 temp path");
    let err = switchboard_state::open(path)
        .await
        .expect_err("a directory is not a database");
    assert_eq!(err.kind(), &ErrorKind::Config);
    assert!(err.message().contains(path), "{}", err.message());

    // A file that is not a SQLite database.
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, vec![b'x'; 4096]).expect("write junk");
    let junk = junk.to_str().expect("a UTF-8 temp path");
    let err = switchboard_state::open(junk)
        .await
        .expect_err("junk is not a database");
    assert_eq!(err.kind(), &ErrorKind::Config);
    assert!(err.message().contains(junk), "{}", err.message());

    // A parent that is a file.
    let under_file = format!("{junk}/state.db");
    let err = switchboard_state::open(&under_file)
        .await
        .expect_err("a file is not a directory");
    assert_eq!(err.kind(), &ErrorKind::Config);
    assert!(err.message().contains(junk), "{}", err.message());
}
