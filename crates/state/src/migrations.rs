//! Versioned schema migrations, run at open. The version lives in
//! `PRAGMA user_version`; step `n` (1-based) takes a file from version
//! `n - 1` to `n`, in its own transaction.

use rusqlite::{Connection, TransactionBehavior};
use switchboard_core::Error;

use crate::sql_error::sql_error;

/// The schema steps, in order. Never edit a released step: append a new one.
const STEPS: &[&str] = &[
    // 1: namespaced JSON values.
    "CREATE TABLE kv (
        namespace  TEXT    NOT NULL,
        key        TEXT    NOT NULL,
        value      TEXT    NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (namespace, key)
    ) WITHOUT ROWID;",
    // 2: the usage ledger, one row per finished request.
    "CREATE TABLE usage_ledger (
        id                       INTEGER PRIMARY KEY,
        at_ms                    INTEGER NOT NULL,
        request_id               TEXT    NOT NULL,
        key_id                   TEXT,
        instance                 TEXT    NOT NULL,
        model                    TEXT    NOT NULL,
        input_tokens             INTEGER NOT NULL,
        output_tokens            INTEGER NOT NULL,
        cached_input_tokens      INTEGER NOT NULL,
        cache_write_input_tokens INTEGER NOT NULL,
        reasoning_tokens         INTEGER NOT NULL,
        cost_usd                 REAL    NOT NULL,
        estimated                INTEGER NOT NULL,
        partial                  INTEGER NOT NULL
    );
    CREATE INDEX usage_ledger_at_ms ON usage_ledger (at_ms);
    CREATE INDEX usage_ledger_key_id ON usage_ledger (key_id);",
    // 3: requests with no known price, counted apart (unknown is not zero).
    "ALTER TABLE usage_ledger ADD COLUMN cost_unknown INTEGER NOT NULL DEFAULT 0;",
];

/// The schema version this build writes (and the newest it can read).
pub const SCHEMA_VERSION: i32 = STEPS.len() as i32;

/// Brings `conn` (the file at `path`) up to [`SCHEMA_VERSION`]. Each step
/// takes the write lock first and re-reads the version, so two processes
/// opening one file at once migrate it once.
pub(crate) fn migrate(conn: &mut Connection, path: &str) -> Result<(), Error> {
    let found = user_version(conn).map_err(|e| sql_error(&format!("reading {path}"), e))?;
    refuse_newer(found, path)?;
    for (index, sql) in STEPS.iter().enumerate() {
        let target = index as i32 + 1;
        if found >= target {
            continue;
        }
        apply(conn, target, sql).map_err(|e| {
            Error::config(format!(
                "state store: migrating {path} to schema version {target} failed: {e}"
            ))
            .with_source(e)
        })?;
    }
    // Another process may have migrated past us meanwhile.
    let now = user_version(conn).map_err(|e| sql_error(&format!("reading {path}"), e))?;
    refuse_newer(now, path)
}

/// Runs step `target` unless another process already did.
fn apply(conn: &mut Connection, target: i32, sql: &str) -> Result<(), rusqlite::Error> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if user_version(&tx)? < target {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", target)?;
    }
    tx.commit()
}

fn refuse_newer(version: i32, path: &str) -> Result<(), Error> {
    if version > SCHEMA_VERSION {
        return Err(Error::config(format!(
            "state store: {path} has schema version {version}, written by a newer switchboard \
             (this build reads up to version {SCHEMA_VERSION}); upgrade switchboard or use another [state] path"
        )));
    }
    Ok(())
}

fn user_version(conn: &Connection) -> Result<i32, rusqlite::Error> {
    conn.query_row("PRAGMA user_version", [], |row| row.get(0))
}
