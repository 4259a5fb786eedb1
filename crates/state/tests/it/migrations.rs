//! Migrations on existing store files.

use serde_json::json;
use switchboard_core::ErrorKind;
use switchboard_core::extension::{LedgerQuery, LedgerRow, Store};

/// The version 1 schema, as released.
const V1_SCHEMA: &str = "CREATE TABLE kv (
    namespace  TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    value      TEXT    NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (namespace, key)
) WITHOUT ROWID;";

fn user_version(path: &str) -> i32 {
    rusqlite::Connection::open(path)
        .expect("raw open")
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .expect("user_version")
}

#[tokio::test]
async fn a_version_1_file_is_migrated_and_keeps_its_rows() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("v1.db");
    let path = path.to_str().expect("a UTF-8 temp path");
    {
        let conn = rusqlite::Connection::open(path).expect("raw open");
        conn.execute_batch(V1_SCHEMA).expect("v1 schema");
        conn.execute(
            "INSERT INTO kv (namespace, key, value, updated_at) VALUES ('budgets', 'team-a', '{\"usd\":50}', 1)",
            [],
        )
        .expect("a v1 row");
        conn.pragma_update(None, "user_version", 1)
            .expect("version 1");
    }

    let store = switchboard_state::open(path).await.expect("open a v1 file");
    assert_eq!(
        store.get("budgets", "team-a").await.expect("get"),
        Some(json!({"usd": 50}))
    );
    store
        .append_usage(&LedgerRow {
            at_ms: 5,
            key_id: Some("team-a".to_owned()),
            output_tokens: 11,
            ..Default::default()
        })
        .await
        .expect("the ledger works after migrating");
    let totals = store
        .usage_totals(&LedgerQuery::default())
        .await
        .expect("totals");
    assert_eq!((totals[0].requests, totals[0].output_tokens), (1, 11));
    assert_eq!(user_version(path), 3);
    assert_eq!(switchboard_state::SCHEMA_VERSION, 3);

    // Opening again migrates nothing and loses nothing.
    drop(store);
    let again = switchboard_state::open(path).await.expect("reopen");
    let totals = again
        .usage_totals(&LedgerQuery::default())
        .await
        .expect("totals");
    assert_eq!(totals[0].requests, 1);
    assert_eq!(user_version(path), 3);
}

#[tokio::test]
async fn a_new_file_is_created_at_the_latest_version() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("new.db");
    let path = path.to_str().expect("a UTF-8 temp path");
    let _store = switchboard_state::open(path).await.expect("open");
    assert_eq!(user_version(path), switchboard_state::SCHEMA_VERSION);
}

#[tokio::test]
async fn a_file_from_a_newer_switchboard_is_refused() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("future.db");
    let path = path.to_str().expect("a UTF-8 temp path");
    {
        let conn = rusqlite::Connection::open(path).expect("raw open");
        conn.execute_batch("CREATE TABLE future (x)")
            .expect("a table");
        conn.pragma_update(None, "user_version", 99)
            .expect("version 99");
    }
    let err = switchboard_state::open(path)
        .await
        .expect_err("version 99 is refused");
    assert_eq!(err.kind(), &ErrorKind::Config);
    assert!(
        err.message().contains("written by a newer switchboard"),
        "{}",
        err.message()
    );
    assert!(err.message().contains(path), "{}", err.message());
    assert_eq!(user_version(path), 99, "the file was left alone");
}
