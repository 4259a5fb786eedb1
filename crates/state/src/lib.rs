//! The store Switchboard extensions keep durable data in: implementations
//! of [`switchboard_core::extension::Store`] on one embedded SQLite file
//! ([`SqliteStore`], compiled in; no system library needed) and, with the
//! `postgres` feature, on a shared PostgreSQL database (`PostgresStore`),
//! so several gateways see the same keys, ledger and definitions.
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
//!
//! ```no_run
//! # #[cfg(feature = "postgres")]
//! # async fn demo() -> Result<(), switchboard_core::Error> {
//! use switchboard_state::{PostgresConfig, PostgresStore};
//!
//! let config = PostgresConfig::new("postgres://switchboard:secret@db.internal/switchboard")
//!     .with_schema("gateway");
//! let store = PostgresStore::open(&config).await?;
//! # Ok(()) }
//! ```
//!
//! The PostgreSQL store pools its connections, bounds every call (a down
//! database fails the call as `unavailable` within the timeout, never hangs
//! it), and migrates its schema at open (see `POSTGRES_SCHEMA_VERSION`).

mod connection;
mod kv;
mod ledger;
mod migrations;
#[cfg(feature = "postgres")]
mod postgres;
pub mod postgres_config;
mod sql_error;
mod sqlite_store;
mod values;

pub use migrations::SCHEMA_VERSION;
#[cfg(feature = "postgres")]
pub use postgres::{POSTGRES_SCHEMA_VERSION, PostgresStore};
pub use postgres_config::PostgresConfig;
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
