//! `[state]`: what deserializing cannot catch — keys of the other backend
//! (`url` with SQLite, `path` with PostgreSQL), a PostgreSQL URL that is
//! missing, empty or not `postgres://` (never quoted: it may hold a
//! password), a schema name PostgreSQL would not take, a pool size or
//! timeout out of range, and PostgreSQL in a build without it.

use switchboard_state::postgres_config::{
    check_pool_size, check_schema, check_timeout_ms, check_url,
};

use super::Validator;
use crate::config::key_path::KeyPath;
use crate::config::types::{StateBackend, StateConfig};

/// Whether this build can open a PostgreSQL store.
const POSTGRES_LINKED: bool = cfg!(feature = "postgres");

impl Validator<'_> {
    /// Reports every problem in the (already deserialized) `[state]` table.
    pub(super) fn state_settings(&mut self, state: &StateConfig) {
        let base = KeyPath::root().key("state");
        let postgres_keys = [
            ("url", state.url.is_some()),
            ("schema", state.schema.is_some()),
            ("pool_size", state.pool_size.is_some()),
            ("timeout_ms", state.timeout_ms.is_some()),
        ];
        match state.backend() {
            StateBackend::Sqlite => {
                for (key, set) in postgres_keys {
                    if set {
                        self.issue(
                            &base.key(key),
                            format!(
                                "`{key}` is for `backend = \"postgres\"`; the SQLite store \
                                 (the backend here) takes only `path`"
                            ),
                        );
                    }
                }
            }
            StateBackend::Postgres => self.postgres_settings(&base, state),
        }
    }

    fn postgres_settings(&mut self, base: &KeyPath, state: &StateConfig) {
        if !POSTGRES_LINKED {
            // At `backend` even when inferred from `url`, so the URL's own
            // problems are still reported.
            self.issue(
                &base.key("backend"),
                "this switchboard was built without PostgreSQL support: build it with \
                 `--features postgres` (the default `switchboard` binary has it), or use the \
                 SQLite store (`path`)"
                    .to_owned(),
            );
        }
        if state.path.is_some() {
            self.issue(
                &base.key("path"),
                "`path` is the SQLite store's file; with `backend = \"postgres\"` the store \
                 is the database at `url`"
                    .to_owned(),
            );
        }
        match &state.url {
            None => self.issue(
                &base.key("url"),
                "required with `backend = \"postgres\"`: the database, e.g. \
                 \"postgres://switchboard:${PGPASSWORD}@db.internal:5432/switchboard\""
                    .to_owned(),
            ),
            Some(url) => {
                if let Err(why) = check_url(url.expose()) {
                    self.issue(&base.key("url"), why);
                }
            }
        }
        if let Some(Err(why)) = state.schema.as_deref().map(check_schema) {
            self.issue(&base.key("schema"), why);
        }
        if let Some(Err(why)) = state.pool_size.map(check_pool_size) {
            self.issue(&base.key("pool_size"), why);
        }
        if let Some(Err(why)) = state.timeout_ms.map(check_timeout_ms) {
            self.issue(&base.key("timeout_ms"), why);
        }
    }
}
