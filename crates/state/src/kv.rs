//! The key-value table: blocking SQL on one connection.

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;
use switchboard_core::Error;

use crate::MAX_LIST_ROWS;
use crate::sql_error::sql_error;
use crate::values::{decode, successor};

/// The value under (`namespace`, `key`).
pub(crate) fn get(conn: &Connection, namespace: &str, key: &str) -> Result<Option<Value>, Error> {
    let text: Option<String> = conn
        .prepare_cached("SELECT value FROM kv WHERE namespace = ?1 AND key = ?2")
        .and_then(|mut stmt| {
            stmt.query_row(params![namespace, key], |row| row.get(0))
                .optional()
        })
        .map_err(|e| sql_error("get", e))?;
    text.map(|text| decode(namespace, key, &text)).transpose()
}

/// Stores `json` (already serialized and size-checked) under (`namespace`, `key`).
pub(crate) fn put(
    conn: &Connection,
    namespace: &str,
    key: &str,
    json: &str,
    now_ms: i64,
) -> Result<(), Error> {
    conn.prepare_cached(
        "INSERT INTO kv (namespace, key, value, updated_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    )
    .and_then(|mut stmt| stmt.execute(params![namespace, key, json, now_ms]))
    .map_err(|e| sql_error("put", e))?;
    Ok(())
}

/// Removes (`namespace`, `key`); whether it was there.
pub(crate) fn delete(conn: &Connection, namespace: &str, key: &str) -> Result<bool, Error> {
    let removed = conn
        .prepare_cached("DELETE FROM kv WHERE namespace = ?1 AND key = ?2")
        .and_then(|mut stmt| stmt.execute(params![namespace, key]))
        .map_err(|e| sql_error("delete", e))?;
    Ok(removed > 0)
}

/// The first [`MAX_LIST_ROWS`] keys of `namespace` starting with `prefix`,
/// in byte order, with their values. The prefix is a key range
/// (`prefix <= key < successor(prefix)`), so `%`, `_` and case mean
/// themselves and the primary key index serves it.
pub(crate) fn list(
    conn: &Connection,
    namespace: &str,
    prefix: &str,
) -> Result<Vec<(String, Value)>, Error> {
    let limit = MAX_LIST_ROWS as i64;
    let map = |row: &rusqlite::Row<'_>| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?));
    let rows: Vec<(String, String)> = match successor(prefix) {
        Some(end) => conn
            .prepare_cached(
                "SELECT key, value FROM kv WHERE namespace = ?1 AND key >= ?2 AND key < ?3
                 ORDER BY key LIMIT ?4",
            )
            .and_then(|mut stmt| {
                stmt.query_map(params![namespace, prefix, end, limit], map)?
                    .collect()
            }),
        None => conn
            .prepare_cached(
                "SELECT key, value FROM kv WHERE namespace = ?1 AND key >= ?2
                 ORDER BY key LIMIT ?3",
            )
            .and_then(|mut stmt| {
                stmt.query_map(params![namespace, prefix, limit], map)?
                    .collect()
            }),
    }
    .map_err(|e| sql_error("list", e))?;
    rows.into_iter()
        .map(|(key, text)| {
            let value = decode(namespace, &key, &text)?;
            Ok((key, value))
        })
        .collect()
}
