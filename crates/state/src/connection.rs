//! Opening the SQLite connection, and running calls on it off the async
//! runtime.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use rusqlite::Connection;
use switchboard_core::Error;

use crate::sql_error::sql_error;
use crate::{BUSY_TIMEOUT, migrations};

/// The path that names an in-memory database.
pub(crate) const MEMORY: &str = ":memory:";

/// One connection shared by every call; the mutex serializes them.
#[derive(Debug, Clone)]
pub(crate) struct Shared {
    conn: Arc<Mutex<Connection>>,
}

impl Shared {
    /// Opens `path` on the blocking pool, sets it up and migrates it.
    pub(crate) async fn open(path: &str) -> Result<Shared, Error> {
        let owned = path.to_owned();
        let conn = tokio::task::spawn_blocking(move || open_blocking(&owned))
            .await
            .map_err(|e| Error::internal(format!("state store: opening {path} panicked: {e}")))??;
        Ok(Shared {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` with the connection on the blocking pool. `op` names the call
    /// in errors. A lock poisoned by an earlier panic is recovered: SQLite
    /// rolled back whatever that call had not committed.
    pub(crate) async fn call<T, F>(&self, op: &'static str, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, Error> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(PoisonError::into_inner);
            f(&mut guard)
        })
        .await
        .map_err(|e| Error::internal(format!("state store: {op} panicked: {e}")))?
    }
}

fn open_blocking(path: &str) -> Result<Connection, Error> {
    let mut conn = if path == MEMORY {
        Connection::open_in_memory().map_err(|e| sql_error("opening an in-memory database", e))?
    } else {
        if let Some(dir) = Path::new(path)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).map_err(|e| {
                Error::config(format!(
                    "state store: cannot create the directory {} for {path}: {e}",
                    dir.display()
                ))
                .with_source(e)
            })?;
        }
        Connection::open(path).map_err(|e| cannot_open(path, e))?
    };
    configure(&conn).map_err(|e| cannot_open(path, e))?;
    migrations::migrate(&mut conn, path)?;
    Ok(conn)
}

fn cannot_open(path: &str, e: rusqlite::Error) -> Error {
    Error::config(format!("state store: cannot open {path}: {e}")).with_source(e)
}

/// WAL (readers never wait for the writer), a busy timeout (two processes
/// share one file), and `NORMAL` sync (durable at checkpoints; safe in WAL).
fn configure(conn: &Connection) -> Result<(), rusqlite::Error> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // Answers the mode in force (`memory` for an in-memory database).
    let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    Ok(())
}
