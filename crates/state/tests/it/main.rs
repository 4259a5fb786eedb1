//! Integration tests of the SQLite store, through the `Store` trait.

mod concurrency;
mod kv;
mod ledger;
mod migrations;
mod persistence;

use switchboard_state::SqliteStore;

/// A fresh in-memory store.
async fn memory_store() -> SqliteStore {
    switchboard_state::open(":memory:")
        .await
        .expect("an in-memory store opens")
}
