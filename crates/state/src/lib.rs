//! The embedded store Switchboard extensions keep durable data in: an
//! implementation of [`switchboard_core::extension::Store`] on one SQLite
//! file (compiled in; no system library needed).
//!
//! ```no_run
//! # async fn demo() -> Result<(), switchboard_core::Error> {
//! use switchboard_core::extension::Store;
//!
//! let store = switchboard_state::open("/var/lib/switchboard/state.db").await?;
//! store.put("usage", "budget/team-a", &serde_json::json!({ "usd": 50 })).await?;
//! # Ok(()) }
//! ```
//!
//! Every call runs on Tokio's blocking pool (never on the async runtime), on
//! one connection behind a mutex. The file is opened in WAL mode with a busy
//! timeout, so the running gateway and a CLI can share it. The schema is
//! migrated at open (see [`SCHEMA_VERSION`]); a file written by a newer build
//! is refused.

mod connection;
mod kv;
mod ledger;
mod migrations;
mod sqlite_store;

pub use migrations::SCHEMA_VERSION;
pub use sqlite_store::SqliteStore;

use switchboard_core::Error;

/// The largest JSON value [`Store::put`](switchboard_core::extension::Store::put)
/// accepts, serialized: 1 MiB.
pub const MAX_VALUE_BYTES: usize = 1024 * 1024;

/// The most rows one [`Store::list`](switchboard_core::extension::Store::list)
/// returns: the first 10,000 keys in order; narrow the prefix to see more.
pub const MAX_LIST_ROWS: usize = 10_000;

/// How long a call waits for another process's write lock before it fails
/// as `unavailable`.
pub const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Opens (creating if needed) the store at `path`; `":memory:"` is a private
/// in-memory database. Same as [`SqliteStore::open`].
pub async fn open(path: &str) -> Result<SqliteStore, Error> {
    SqliteStore::open(path).await
}
