//! Migrations on PostgreSQL: a new schema is created at the latest version,
//! nodes opening it together migrate it once, a newer schema is refused.

use sqlx::Row;
use switchboard_core::ErrorKind;
use switchboard_state::{POSTGRES_SCHEMA_VERSION, PostgresStore};

use super::{Schema, raw_connection};

async fn versions(schema: &str) -> Vec<i32> {
    let mut conn = raw_connection().await;
    sqlx::query(&format!(
        "SELECT version FROM \"{schema}\".switchboard_migrations ORDER BY version"
    ))
    .fetch_all(&mut conn)
    .await
    .expect("the migrations table")
    .iter()
    .map(|row| row.get::<i32, _>(0))
    .collect()
}

#[tokio::test]
async fn a_new_schema_is_created_at_the_latest_version_once() {
    let schema = Schema::new("migrate");
    let _store = schema.open().await;
    let want: Vec<i32> = (1..=POSTGRES_SCHEMA_VERSION).collect();
    assert_eq!(versions(&schema.name).await, want);
    // Opening again migrates nothing.
    let _again = schema.open().await;
    assert_eq!(versions(&schema.name).await, want);
    assert_eq!(POSTGRES_SCHEMA_VERSION, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_opening_one_schema_together_migrate_it_once() {
    let schema = Schema::new("together");
    let config = schema.config();
    let mut opens = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let config = config.clone();
        opens.spawn(async move { PostgresStore::open(&config).await });
    }
    while let Some(opened) = opens.join_next().await {
        opened.expect("no panic").expect("every node opens");
    }
    let want: Vec<i32> = (1..=POSTGRES_SCHEMA_VERSION).collect();
    assert_eq!(versions(&schema.name).await, want);
}

#[tokio::test]
async fn a_schema_from_a_newer_switchboard_is_refused() {
    let schema = Schema::new("future");
    let store = schema.open().await;
    drop(store);
    let mut conn = raw_connection().await;
    sqlx::query(&format!(
        "INSERT INTO \"{}\".switchboard_migrations (version, applied_at_ms) VALUES (99, 0)",
        schema.name
    ))
    .execute(&mut conn)
    .await
    .expect("a version from the future");
    let err = PostgresStore::open(&schema.config())
        .await
        .expect_err("version 99 is refused");
    assert_eq!(err.kind(), &ErrorKind::Config);
    assert!(
        err.message().contains("written by a newer switchboard"),
        "{err}"
    );
    assert!(err.message().contains(&schema.name), "{err}");
    assert!(versions(&schema.name).await.contains(&99), "left alone");
}
