//! [`SqliteStore`]: the [`Store`] trait on one SQLite file.

use async_trait::async_trait;
use serde_json::Value;
use switchboard_core::Error;
use switchboard_core::extension::{LedgerQuery, LedgerRow, LedgerTotal, Store};

use crate::connection::Shared;
use crate::values::{self, now_ms};
use crate::{kv, ledger};

/// The embedded SQLite store. Cheap to clone (clones share one connection).
///
/// Every call runs on Tokio's blocking pool; `list` answers at most
/// [`MAX_LIST_ROWS`](crate::MAX_LIST_ROWS) rows and `put` refuses values over
/// [`MAX_VALUE_BYTES`](crate::MAX_VALUE_BYTES).
#[derive(Clone)]
pub struct SqliteStore {
    shared: Shared,
    path: std::sync::Arc<str>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the store at `path`, creating its parent
    /// directories, and migrates it to [`SCHEMA_VERSION`](crate::SCHEMA_VERSION).
    /// `":memory:"` is a private in-memory database (tests).
    ///
    /// Errors: `config`, naming the path, when the file cannot be opened, is
    /// not a SQLite database, or was written by a newer switchboard.
    pub async fn open(path: &str) -> Result<SqliteStore, Error> {
        Ok(SqliteStore {
            shared: Shared::open(path).await?,
            path: path.into(),
        })
    }

    /// The path this store was opened with.
    pub fn path(&self) -> &str {
        &self.path
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn get(&self, namespace: &str, key: &str) -> Result<Option<Value>, Error> {
        let (namespace, key) = (namespace.to_owned(), key.to_owned());
        self.shared
            .call("get", move |conn| kv::get(conn, &namespace, &key))
            .await
    }

    async fn put(&self, namespace: &str, key: &str, value: &Value) -> Result<(), Error> {
        let json = values::encode(namespace, key, value)?;
        let (namespace, key) = (namespace.to_owned(), key.to_owned());
        let now_ms = now_ms();
        self.shared
            .call("put", move |conn| {
                kv::put(conn, &namespace, &key, &json, now_ms)
            })
            .await
    }

    async fn delete(&self, namespace: &str, key: &str) -> Result<bool, Error> {
        let (namespace, key) = (namespace.to_owned(), key.to_owned());
        self.shared
            .call("delete", move |conn| kv::delete(conn, &namespace, &key))
            .await
    }

    /// At most [`MAX_LIST_ROWS`](crate::MAX_LIST_ROWS) rows: the first keys
    /// in byte order.
    async fn list(&self, namespace: &str, prefix: &str) -> Result<Vec<(String, Value)>, Error> {
        let (namespace, prefix) = (namespace.to_owned(), prefix.to_owned());
        self.shared
            .call("list", move |conn| kv::list(conn, &namespace, &prefix))
            .await
    }

    async fn append_usage(&self, row: &LedgerRow) -> Result<(), Error> {
        let row = row.clone();
        self.shared
            .call("append_usage", move |conn| ledger::append(conn, &row))
            .await
    }

    async fn usage_totals(&self, query: &LedgerQuery) -> Result<Vec<LedgerTotal>, Error> {
        let query = query.clone();
        self.shared
            .call("usage_totals", move |conn| ledger::totals(conn, &query))
            .await
    }
}
