//! Versioned schema migrations of the PostgreSQL store, run at open. The
//! applied versions live in `<schema>.switchboard_migrations`; every missing
//! step runs in one transaction that first takes an advisory lock on the
//! schema, so nodes starting together migrate it once (the others wait,
//! then find nothing to do).

use sqlx::{Executor, PgPool};
use switchboard_core::Error;

use super::error::Context;
use crate::PostgresConfig;
use crate::values::now_ms;

/// The schema steps, in order; `{s}` is the quoted schema. Never edit a
/// released step: append a new one. Text columns compared or sorted use the
/// `C` collation, so keys and groups are in byte order, as in SQLite.
const STEPS: &[&str] = &[
    // 1: namespaced JSON values (the JSON text as written: values round-trip
    // exactly, and the 1 MiB limit is the same as SQLite's).
    r#"CREATE TABLE {s}.kv (
        namespace  TEXT COLLATE "C" NOT NULL,
        key        TEXT COLLATE "C" NOT NULL,
        value      TEXT   NOT NULL,
        updated_at BIGINT NOT NULL,
        PRIMARY KEY (namespace, key)
    );"#,
    // 2: the usage ledger, one row per finished request, with indexes for
    // totals over a time window, for all keys or one.
    r#"CREATE TABLE {s}.usage_ledger (
        id                       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at_ms                    BIGINT  NOT NULL,
        request_id               TEXT    NOT NULL,
        key_id                   TEXT COLLATE "C",
        instance                 TEXT COLLATE "C" NOT NULL,
        model                    TEXT COLLATE "C" NOT NULL,
        input_tokens             BIGINT  NOT NULL,
        output_tokens            BIGINT  NOT NULL,
        cached_input_tokens      BIGINT  NOT NULL,
        cache_write_input_tokens BIGINT  NOT NULL,
        reasoning_tokens         BIGINT  NOT NULL,
        cost_usd                 DOUBLE PRECISION NOT NULL,
        cost_unknown             BOOLEAN NOT NULL DEFAULT FALSE,
        estimated                BOOLEAN NOT NULL,
        partial                  BOOLEAN NOT NULL
    );
    CREATE INDEX usage_ledger_at_ms ON {s}.usage_ledger (at_ms);
    CREATE INDEX usage_ledger_key_id_at_ms ON {s}.usage_ledger (key_id, at_ms);"#,
];

/// The schema version this build writes to PostgreSQL (and the newest it
/// can read). Independent of SQLite's [`SCHEMA_VERSION`](crate::SCHEMA_VERSION).
pub const POSTGRES_SCHEMA_VERSION: i32 = STEPS.len() as i32;

/// `"name"`: a schema name already checked by [`crate::postgres_config::check_schema`].
pub(super) fn quoted(schema: &str) -> String {
    format!("\"{schema}\"")
}

/// The advisory lock key of a schema's migrations (FNV-1a, 64 bits), the
/// same on every node.
fn lock_key(schema: &str) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in "switchboard-state migrations:"
        .bytes()
        .chain(schema.bytes())
    {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    i64::from_ne_bytes(hash.to_ne_bytes())
}

/// What one migration run found.
enum Outcome {
    /// The schema is at [`POSTGRES_SCHEMA_VERSION`].
    Current,
    /// The schema was written by a newer switchboard, at this version.
    Newer(i32),
}

/// Brings `schema` up to [`POSTGRES_SCHEMA_VERSION`], creating it when
/// missing. Errors: `config` when the schema is newer than this build or a
/// step is refused (permissions), `unavailable` when the database cannot be
/// reached in time.
pub(super) async fn migrate(pool: &PgPool, schema: &str, ctx: &Context) -> Result<(), Error> {
    let limit = PostgresConfig::MIGRATION_TIMEOUT;
    let outcome = match tokio::time::timeout(limit, run(pool, schema)).await {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(e @ sqlx::Error::Database(_))) => {
            return Err(ctx.config(format!(
                "migrating schema `{schema}` to version {POSTGRES_SCHEMA_VERSION} failed: {}",
                ctx.why(&e)
            )));
        }
        Ok(Err(e)) => return Err(ctx.failed("migrating", &e)),
        Err(_) => return Err(ctx.timed_out("migrating", limit)),
    };
    match outcome {
        Outcome::Current => Ok(()),
        Outcome::Newer(version) => Err(ctx.config(format!(
            "schema `{schema}` has version {version}, written by a newer switchboard \
             (this build reads up to version {POSTGRES_SCHEMA_VERSION}); upgrade switchboard \
             or use another [state] schema"
        ))),
    }
}

async fn run(pool: &PgPool, schema: &str) -> Result<Outcome, sqlx::Error> {
    let s = quoted(schema);
    let mut tx = pool.begin().await?;
    let statement_timeout = format!(
        "SET LOCAL statement_timeout = {}",
        PostgresConfig::MIGRATION_TIMEOUT.as_millis()
    );
    sqlx::query(&statement_timeout).execute(&mut *tx).await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(lock_key(schema))
        .execute(&mut *tx)
        .await?;
    // `CREATE SCHEMA IF NOT EXISTS` needs the CREATE right even when the
    // schema exists: only create what is missing.
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)")
            .bind(schema)
            .fetch_one(&mut *tx)
            .await?;
    if !exists {
        tx.execute(sqlx::raw_sql(&format!("CREATE SCHEMA {s}")))
            .await?;
    }
    tx.execute(sqlx::raw_sql(&format!(
        "CREATE TABLE IF NOT EXISTS {s}.switchboard_migrations (
            version       INTEGER PRIMARY KEY,
            applied_at_ms BIGINT NOT NULL
        )"
    )))
    .await?;
    let found: i32 = sqlx::query_scalar(&format!(
        "SELECT COALESCE(MAX(version), 0) FROM {s}.switchboard_migrations"
    ))
    .fetch_one(&mut *tx)
    .await?;
    if found > POSTGRES_SCHEMA_VERSION {
        // Leave it as it was (the table creation above is a no-op then).
        tx.rollback().await?;
        return Ok(Outcome::Newer(found));
    }
    let record =
        format!("INSERT INTO {s}.switchboard_migrations (version, applied_at_ms) VALUES ($1, $2)");
    for (index, step) in STEPS.iter().enumerate() {
        let version = index as i32 + 1;
        if version <= found {
            continue;
        }
        // `raw_sql` runs several statements; `Executor::execute` (not
        // `RawSql::execute`) keeps this future `Send` (launchbadge/sqlx#3150).
        tx.execute(sqlx::raw_sql(&step.replace("{s}", &s))).await?;
        sqlx::query(&record)
            .bind(version)
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(Outcome::Current)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_keys_are_stable_and_per_schema() {
        assert_eq!(lock_key("public"), lock_key("public"));
        assert_ne!(lock_key("public"), lock_key("other"));
    }

    #[test]
    fn every_step_names_its_tables_in_the_schema() {
        for step in STEPS {
            for line in step.lines() {
                let line = line.trim_start();
                if line.starts_with("CREATE TABLE") || line.starts_with("CREATE INDEX") {
                    assert!(line.contains("{s}."), "unqualified: {line}");
                }
            }
        }
    }
}
