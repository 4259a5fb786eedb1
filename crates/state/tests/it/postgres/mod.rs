//! The PostgreSQL store against a real server (see
//! `switchboard_testkit::postgres`: `SWITCHBOARD_TEST_POSTGRES_URL`, the local
//! server, or a throwaway one). Each test works in a schema of its own,
//! dropped when it ends (pass or fail), so tests run in parallel.

mod failures;
mod migrations;
mod sharing;

use std::sync::Arc;
use std::time::Duration;

use sqlx::Connection;
use switchboard_core::extension::Store;
use switchboard_state::{PostgresConfig, PostgresStore};
use switchboard_testkit::{
    assert_store_conforms, test_postgres_url, try_test_postgres_url, unique_schema,
};

use crate::suite::LIMITS;

/// A schema of one test, dropped when this guard is (also on a panic).
pub(crate) struct Schema {
    pub(crate) name: String,
}

impl Schema {
    pub(crate) fn new(label: &str) -> Self {
        Schema {
            name: unique_schema(label),
        }
    }

    /// The store's settings for this schema (a small pool, short timeout).
    pub(crate) fn config(&self) -> PostgresConfig {
        PostgresConfig::new(test_postgres_url())
            .with_schema(&self.name)
            .with_pool_size(4)
            .with_timeout(Duration::from_secs(10))
    }

    /// A store on this schema (migrating it on first open).
    pub(crate) async fn open(&self) -> PostgresStore {
        PostgresStore::open(&self.config())
            .await
            .unwrap_or_else(|e| panic!("opening the store in {}: {e}", self.name))
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        // No server (the test failed saying why): nothing to drop.
        let Ok(url) = try_test_postgres_url() else {
            return;
        };
        // Its own thread and runtime: this may run on a runtime's thread
        // (at the end of a test) or while a panic unwinds.
        let sql = format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.name);
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async {
                let mut conn = sqlx::PgConnection::connect(url)
                    .await
                    .map_err(|e| e.to_string())?;
                sqlx::raw_sql(&sql)
                    .execute(&mut conn)
                    .await
                    .map_err(|e| e.to_string())?;
                conn.close().await.map_err(|e| e.to_string())
            })
        })
        .join();
        if let Ok(Err(why)) = dropped {
            eprintln!("could not drop the test schema {}: {why}", self.name);
        }
    }
}

/// A raw connection, for what the store does not do (locks, catalog reads).
pub(crate) async fn raw_connection() -> sqlx::PgConnection {
    sqlx::PgConnection::connect(test_postgres_url())
        .await
        .expect("a raw connection to the test server")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_conforms_to_the_store_suite() {
    let schemas = std::sync::Mutex::new(Vec::new());
    assert_store_conforms(
        || {
            let schema = Schema::new("suite");
            let config = schema.config().with_pool_size(8);
            schemas
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(schema);
            async move {
                let store = PostgresStore::open(&config).await.expect("open");
                assert_eq!(store.backend(), "postgres");
                Arc::new(store) as Arc<dyn Store>
            }
        },
        LIMITS,
    )
    .await;
}
