//! SQLite failures as store errors.

use switchboard_core::Error;

/// Maps a SQLite failure during `op` to an `unavailable` error with context.
pub(crate) fn sql_error(op: &str, e: rusqlite::Error) -> Error {
    Error::unavailable(format!("state store: {op} failed: {e}")).with_source(e)
}
