//! [`PostgresStore`]: the [`Store`] trait on a shared PostgreSQL database,
//! so several gateways see the same keys, usage ledger and function
//! definitions.

mod error;
mod ledger;
mod migrations;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Executor, PgPool};
use switchboard_core::Error;
use switchboard_core::extension::{LedgerQuery, LedgerRow, LedgerTotal, Store};

pub use migrations::POSTGRES_SCHEMA_VERSION;

use self::error::{Context, bounded};
use crate::postgres_config::url_passwords;
use crate::values::{self, now_ms};
use crate::{MAX_LIST_ROWS, PostgresConfig};

/// How long a pooled connection may sit idle before it is closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a connection lives before it is replaced (a fail-over or a
/// DNS change is picked up within it).
const MAX_LIFETIME: Duration = Duration::from_secs(30 * 60);

/// The statements of one store, with its schema in their table names.
struct Statements {
    get: String,
    put: String,
    delete: String,
    list_range: String,
    list_from: String,
    append: String,
    ledger: String,
}

impl Statements {
    fn new(schema: &str) -> Self {
        let s = migrations::quoted(schema);
        Statements {
            get: format!("SELECT value FROM {s}.kv WHERE namespace = $1 AND key = $2"),
            put: format!(
                "INSERT INTO {s}.kv (namespace, key, value, updated_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (namespace, key)
                 DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at"
            ),
            delete: format!("DELETE FROM {s}.kv WHERE namespace = $1 AND key = $2"),
            list_range: format!(
                "SELECT key, value FROM {s}.kv WHERE namespace = $1 AND key >= $2 AND key < $3
                 ORDER BY key LIMIT $4"
            ),
            list_from: format!(
                "SELECT key, value FROM {s}.kv WHERE namespace = $1 AND key >= $2
                 ORDER BY key LIMIT $3"
            ),
            append: ledger::insert_sql(&format!("{s}.usage_ledger")),
            ledger: format!("{s}.usage_ledger"),
        }
    }
}

/// The shared PostgreSQL store. Cheap to clone (clones share one pool).
///
/// Every call is bounded by the configured timeout, waiting for a pooled
/// connection included, and fails as `unavailable` (naming the operation and
/// the database, never the password) when PostgreSQL is down, slow or
/// unreachable. `list` answers at most [`MAX_LIST_ROWS`] rows and `put`
/// refuses values over [`MAX_VALUE_BYTES`](crate::MAX_VALUE_BYTES), as the
/// SQLite store does. Keys and namespaces cannot hold NUL characters
/// (PostgreSQL text cannot): such a call is an `invalid_request` error.
#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
    sql: Arc<Statements>,
    ctx: Arc<Context>,
    schema: Arc<str>,
    pool_size: u32,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("database", &self.ctx.target)
            .field("pool_size", &self.pool_size)
            .field("timeout", &self.ctx.timeout)
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects to the database `config` names and migrates `config.schema`
    /// (created when missing) to [`POSTGRES_SCHEMA_VERSION`].
    ///
    /// Errors: `config` for a bad setting or URL (never quoted), a schema
    /// written by a newer switchboard, or a migration PostgreSQL refuses
    /// (say, no right to create the schema); `unavailable` when the database
    /// cannot be reached within the timeout.
    pub async fn open(config: &PostgresConfig) -> Result<PostgresStore, Error> {
        config.validate()?;
        let url = config.url.expose().trim();
        let secrets = url_passwords(url);
        let scrub = Context::new(String::new(), secrets.clone(), config.timeout);
        let options = PgConnectOptions::from_str(url).map_err(|e| {
            Error::config(scrub.scrub(format!(
                "state store (postgres): `url` is not a PostgreSQL URL ({}): {e}",
                config.redacted_url()
            )))
            .with_param("url")
        })?;
        let target = format!(
            "{}@{}, schema {}",
            options.get_username(),
            match options.get_database() {
                Some(db) => format!("{}:{}/{db}", options.get_host(), options.get_port()),
                None => format!("{}:{}", options.get_host(), options.get_port()),
            },
            config.schema
        );
        let ctx = Arc::new(Context::new(target, secrets, config.timeout));
        let statement_timeout = config.timeout.as_millis().to_string();
        let options = options
            .application_name("switchboard")
            .options([("statement_timeout", statement_timeout.as_str())]);
        let pool = PgPoolOptions::new()
            .max_connections(config.pool_size)
            .min_connections(0)
            .acquire_timeout(config.timeout)
            .idle_timeout(IDLE_TIMEOUT)
            .max_lifetime(MAX_LIFETIME)
            .connect_lazy_with(options);
        migrations::migrate(&pool, &config.schema, &ctx).await?;
        Ok(PostgresStore {
            pool,
            sql: Arc::new(Statements::new(&config.schema)),
            ctx,
            schema: config.schema.as_str().into(),
            pool_size: config.pool_size,
        })
    }

    /// The schema this store's tables are in.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// Drops this store's schema and everything in it (`DROP SCHEMA …
    /// CASCADE`): for tests that isolate themselves in a schema of their
    /// own, and for taking a deployment down. Refuses `public` (it holds
    /// more than the store). The store is unusable after.
    pub async fn drop_schema(&self) -> Result<(), Error> {
        if self.schema.as_ref() == PostgresConfig::DEFAULT_SCHEMA {
            return Err(Error::invalid_request(
                "state store (postgres): refusing to drop the `public` schema",
            ));
        }
        let sql = format!(
            "DROP SCHEMA IF EXISTS {} CASCADE",
            migrations::quoted(&self.schema)
        );
        bounded(
            &self.ctx,
            "dropping the schema",
            PostgresConfig::MIGRATION_TIMEOUT,
            self.pool.execute(sqlx::raw_sql(&sql)),
        )
        .await?;
        self.pool.close().await;
        Ok(())
    }

    /// Closes the pool's connections (calls after fail as `unavailable`).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    async fn run<T>(
        &self,
        op: &str,
        fut: impl Future<Output = Result<T, sqlx::Error>>,
    ) -> Result<T, Error> {
        bounded(&self.ctx, op, self.ctx.timeout, fut).await
    }
}

/// PostgreSQL text cannot hold NUL: refuse a key or namespace with one.
fn check_text(what: &str, value: &str) -> Result<(), Error> {
    if value.contains('\0') {
        return Err(Error::invalid_request(format!(
            "state store (postgres): the {what} contains a NUL character, which PostgreSQL text cannot hold"
        )));
    }
    Ok(())
}

#[async_trait]
impl Store for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn get(&self, namespace: &str, key: &str) -> Result<Option<Value>, Error> {
        check_text("namespace", namespace)?;
        check_text("key", key)?;
        let text: Option<String> = self
            .run(
                "get",
                sqlx::query_scalar(&self.sql.get)
                    .bind(namespace)
                    .bind(key)
                    .fetch_optional(&self.pool),
            )
            .await?;
        text.map(|text| values::decode(namespace, key, &text))
            .transpose()
    }

    async fn put(&self, namespace: &str, key: &str, value: &Value) -> Result<(), Error> {
        check_text("namespace", namespace)?;
        check_text("key", key)?;
        let json = values::encode(namespace, key, value)?;
        self.run(
            "put",
            sqlx::query(&self.sql.put)
                .bind(namespace)
                .bind(key)
                .bind(json)
                .bind(now_ms())
                .execute(&self.pool),
        )
        .await?;
        Ok(())
    }

    async fn delete(&self, namespace: &str, key: &str) -> Result<bool, Error> {
        check_text("namespace", namespace)?;
        check_text("key", key)?;
        let done = self
            .run(
                "delete",
                sqlx::query(&self.sql.delete)
                    .bind(namespace)
                    .bind(key)
                    .execute(&self.pool),
            )
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// At most [`MAX_LIST_ROWS`] rows: the first keys in byte order.
    async fn list(&self, namespace: &str, prefix: &str) -> Result<Vec<(String, Value)>, Error> {
        check_text("namespace", namespace)?;
        check_text("prefix", prefix)?;
        let limit = MAX_LIST_ROWS as i64;
        let rows: Vec<(String, String)> = match values::successor(prefix) {
            Some(end) => {
                self.run(
                    "list",
                    sqlx::query_as(&self.sql.list_range)
                        .bind(namespace)
                        .bind(prefix)
                        .bind(end)
                        .bind(limit)
                        .fetch_all(&self.pool),
                )
                .await?
            }
            None => {
                self.run(
                    "list",
                    sqlx::query_as(&self.sql.list_from)
                        .bind(namespace)
                        .bind(prefix)
                        .bind(limit)
                        .fetch_all(&self.pool),
                )
                .await?
            }
        };
        rows.into_iter()
            .map(|(key, text)| {
                let value = values::decode(namespace, &key, &text)?;
                Ok((key, value))
            })
            .collect()
    }

    async fn append_usage(&self, row: &LedgerRow) -> Result<(), Error> {
        self.run(
            "appending usage",
            ledger::bind_row(sqlx::query(&self.sql.append), row).execute(&self.pool),
        )
        .await?;
        Ok(())
    }

    async fn usage_totals(&self, query: &LedgerQuery) -> Result<Vec<LedgerTotal>, Error> {
        let sql = ledger::totals_sql(&self.sql.ledger, query);
        let rows = self
            .run(
                "summing usage",
                ledger::bind_filters(sqlx::query(&sql), query).fetch_all(&self.pool),
            )
            .await?;
        let totals = rows
            .iter()
            .map(|row| ledger::decode(query.group_by, row))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.ctx.failed("summing usage", &e))?;
        Ok(ledger::sorted(totals))
    }
}
