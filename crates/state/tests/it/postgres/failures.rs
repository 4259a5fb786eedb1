//! A down, unreachable or stuck database fails calls as `unavailable`
//! within the timeout (never a hung call), and no message, error or `Debug`
//! shows the password.

use std::time::{Duration, Instant};

use serde_json::json;
use switchboard_core::ErrorKind;
use switchboard_core::extension::Store;
use switchboard_state::{PostgresConfig, PostgresStore};

use super::{Schema, raw_connection};

const PASSWORD: &str = "hunter2-very-secret";

/// A port nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("a port");
    listener.local_addr().expect("its address").port()
}

#[tokio::test]
async fn an_unreachable_database_fails_within_the_timeout_without_the_password() {
    let timeout = Duration::from_millis(700);
    let urls = [
        // Refused at once.
        format!("postgres://app:{PASSWORD}@127.0.0.1:{}/db", closed_port()),
        // A non-routable address: connecting hangs until the timeout (or
        // fails at once where the network says so).
        format!("postgres://app:{PASSWORD}@10.255.255.1:5432/db"),
    ];
    for url in urls {
        let config = PostgresConfig::new(url.clone())
            .with_schema("never_made")
            .with_timeout(timeout);
        let started = Instant::now();
        let err = PostgresStore::open(&config)
            .await
            .expect_err("nothing to connect to");
        let took = started.elapsed();
        assert!(took < Duration::from_secs(5), "{took:?} for {err}");
        assert_eq!(err.kind(), &ErrorKind::Unavailable, "{err}");
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains(PASSWORD), "{shown}");
        assert!(shown.contains("app@"), "names the user and host: {shown}");
        assert!(!format!("{config:?}").contains(PASSWORD));
    }
}

#[tokio::test]
async fn a_call_stuck_behind_a_lock_fails_within_the_timeout_then_recovers() {
    let schema = Schema::new("stuck");
    // Made and seeded with the default timeout (a busy server may take a
    // while to run the migrations); only the blocked calls use the short one.
    schema
        .open()
        .await
        .put("ns", "k", &json!(1))
        .await
        .expect("put");
    let store = PostgresStore::open(&schema.config().with_timeout(Duration::from_millis(600)))
        .await
        .expect("open");

    // Another session holds the table: every statement on it waits.
    let mut locker = raw_connection().await;
    sqlx::raw_sql(&format!(
        "BEGIN; LOCK TABLE \"{}\".kv IN ACCESS EXCLUSIVE MODE",
        schema.name
    ))
    .execute(&mut locker)
    .await
    .expect("lock");
    for _ in 0..3 {
        let started = Instant::now();
        let err = store.get("ns", "k").await.expect_err("blocked");
        assert!(started.elapsed() < Duration::from_secs(3), "{err}");
        assert_eq!(err.kind(), &ErrorKind::Unavailable, "{err}");
        assert!(err.message().contains("get"), "{err}");
    }
    sqlx::raw_sql("ROLLBACK")
        .execute(&mut locker)
        .await
        .expect("unlock");
    assert_eq!(
        store.get("ns", "k").await.expect("works again"),
        Some(json!(1))
    );
}

#[tokio::test]
async fn connections_killed_by_the_server_are_replaced() {
    let schema = Schema::new("killed");
    let store = schema.open().await;
    store.put("ns", "k", &json!(1)).await.expect("put");
    let mut admin = raw_connection().await;
    let killed: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE application_name = 'switchboard' AND query LIKE '%' || $1 || '%'",
    )
    .bind(format!("\"{}\"", schema.name))
    .fetch_all(&mut admin)
    .await
    .expect("terminate");
    assert!(!killed.is_empty(), "the store had a connection");
    assert_eq!(
        store.get("ns", "k").await.expect("a new connection"),
        Some(json!(1))
    );
}

#[tokio::test]
async fn bad_settings_are_config_errors_that_never_quote_the_url() {
    let cases = [
        (
            PostgresConfig::new(format!("mysql://app:{PASSWORD}@db/x")),
            "url",
        ),
        (
            PostgresConfig::new(format!("postgres://app:{PASSWORD}@db:notaport/x")),
            "url",
        ),
        (
            PostgresConfig::new(format!("postgres://app:{PASSWORD}@db/x")).with_schema("Bad-Name"),
            "schema",
        ),
        (
            PostgresConfig::new(format!("postgres://app:{PASSWORD}@db/x")).with_pool_size(0),
            "pool_size",
        ),
        (
            PostgresConfig::new(format!("postgres://app:{PASSWORD}@db/x"))
                .with_timeout(Duration::ZERO),
            "timeout_ms",
        ),
    ];
    for (config, param) in cases {
        let err = PostgresStore::open(&config).await.expect_err("refused");
        assert_eq!(err.kind(), &ErrorKind::Config, "{err}");
        assert_eq!(err.param(), Some(param), "{err}");
        assert!(!format!("{err} {err:?}").contains(PASSWORD), "{err:?}");
    }
}

#[tokio::test]
async fn debug_shows_where_not_the_password() {
    let schema = Schema::new("debug");
    let store = schema.open().await;
    let debug = format!("{store:?}");
    assert!(debug.contains(&schema.name), "{debug}");
    assert!(debug.contains("PostgresStore"), "{debug}");
    let config = PostgresConfig::new(format!(
        "postgres://app:{PASSWORD}@db:5432/x?sslmode=require"
    ));
    let debug = format!("{config:?}");
    assert!(!debug.contains(PASSWORD), "{debug}");
    assert!(
        debug.contains("postgres://app:***@db:5432/x?sslmode=***"),
        "{debug}"
    );
}
