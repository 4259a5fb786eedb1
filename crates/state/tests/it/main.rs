//! Integration tests of the stores, through the `Store` trait: the shared
//! store suite on SQLite (and on PostgreSQL with the `postgres` feature),
//! then what is particular to each backend.

mod concurrency;
mod migrations;
mod persistence;
#[cfg(feature = "postgres")]
mod postgres;
mod suite;

use switchboard_state::SqliteStore;

/// A fresh in-memory store.
async fn memory_store() -> SqliteStore {
    switchboard_state::open(":memory:")
        .await
        .expect("an in-memory store opens")
}
