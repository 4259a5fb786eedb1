//! Two gateways sharing one PostgreSQL store (`[state] url` and `schema`
//! the same): a virtual key made on one authenticates on the other at once
//! and a revoke there is refused here within the keys' cache TTL; the usage
//! ledger both write sums the same from either; a function defined on one
//! is listed and called on the other. And a database that is down fails the
//! start quickly with an error that never shows the password.
//!
//! The server is `switchboard_testkit::test_postgres_url()`: the
//! `SWITCHBOARD_TEST_POSTGRES_URL` variable, the local server, or a
//! throwaway one; without any, the tests fail saying what to install.
#![cfg(all(
    feature = "postgres",
    feature = "mock",
    feature = "keys",
    feature = "usage",
    feature = "functions"
))]

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use switchboard::extension::{
    ClientKeyInfo, InboundApi, LedgerGroup, LedgerQuery, MethodCall, RequestContext,
};
use switchboard::state::{PostgresConfig, PostgresStore};
use switchboard::{ChatRequest, ErrorKind, Message, Switchboard};
use switchboard_testkit::{test_postgres_url, try_test_postgres_url, unique_schema};

/// The test's schema, dropped when the guard is (a pass or a panic).
pub(crate) struct Schema(pub(crate) String);

impl Drop for Schema {
    fn drop(&mut self) {
        // No server (the test failed saying why): nothing to drop.
        let Ok(url) = try_test_postgres_url() else {
            return;
        };
        let config = PostgresConfig::new(url).with_schema(self.0.clone());
        // Its own thread and runtime: this may run on a runtime's thread.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                if let Ok(store) = PostgresStore::open(&config).await {
                    let _ = store.drop_schema().await;
                }
            });
            Ok::<(), std::io::Error>(())
        })
        .join();
    }
}

/// One gateway: the mock provider, the `keys`, `usage` and `functions`
/// extensions, and `[state]` on PostgreSQL in `schema`.
async fn gateway(dir: &tempfile::TempDir, node: &str, schema: &str) -> Switchboard {
    let path = dir.path().join(format!("{node}.toml"));
    std::fs::write(
        &path,
        format!(
            "[providers.m]\nkind = \"mock\"\n\n\
             [state]\nurl = \"${{SB_TEST_PG_URL}}\"\nschema = \"{schema}\"\npool_size = 4\n\n\
             [extensions.keys]\nenabled = true\ncache_ttl_ms = 200\n\n\
             [extensions.usage]\nenabled = true\n\n\
             [extensions.functions]\nenabled = true\n"
        ),
    )
    .expect("config");
    let loader = switchboard::gateway::config::ConfigLoader::new()
        .file(&path)
        .env_vars([("SB_TEST_PG_URL".to_owned(), test_postgres_url().to_owned())]);
    Switchboard::builder()
        .loader(loader)
        .build()
        .await
        .unwrap_or_else(|e| panic!("gateway {node} starts: {e}"))
}

fn admin_call(method: &str, arguments: Value) -> MethodCall {
    MethodCall {
        method: method.into(),
        arguments,
        client_key: None,
        admin: true,
        request_id: "shared-state-test".into(),
    }
}

/// A chat through `sb`'s hooks as the client key `id`.
async fn chat_as(sb: &Switchboard, id: &str, text: &str) {
    let mut ctx = RequestContext::new(format!("req-{text}"), InboundApi::OpenAi);
    ctx.client_key = Some(ClientKeyInfo {
        id: Arc::from(id),
        ..ClientKeyInfo::default()
    });
    sb.chat_with(
        &mut ctx,
        ChatRequest::new("m/mock-1", vec![Message::user(text)]),
    )
    .await
    .expect("the mock answers");
}

/// Waits (at most 10 s) until `check` holds.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check().await {
        assert!(Instant::now() < deadline, "never happened: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_gateways_share_keys_the_ledger_and_functions_through_postgres() {
    let schema = Schema(unique_schema("two_gateways"));
    let dir = tempfile::tempdir().expect("temp dir");
    let a = gateway(&dir, "a", &schema.0).await;
    let b = gateway(&dir, "b", &schema.0).await;
    for sb in [&a, &b] {
        assert_eq!(sb.store().map(|s| s.backend()), Some("postgres"));
    }

    // A key made on A authenticates on B at once.
    let made = a
        .call_extension("keys", admin_call("create", json!({"name": "shared"})))
        .await
        .expect("created on a");
    let key = made["key"].as_str().expect("the key, once").to_owned();
    let id = made["id"].as_str().expect("id").to_owned();
    let grant = b
        .authenticate(&key)
        .await
        .expect("b reads the store")
        .expect("b knows the key");
    assert_eq!(&*grant.key.id, id.as_str());
    assert_eq!(
        b.authenticate("sk-sb-not-a-key-at-all")
            .await
            .expect("b reads the store"),
        None
    );

    // Both write the ledger; both sum the same totals.
    chat_as(&a, &id, "one").await;
    chat_as(&b, &id, "two").await;
    chat_as(&b, &id, "three").await;
    let by_key = LedgerQuery {
        group_by: LedgerGroup::Key,
        ..LedgerQuery::default()
    };
    let store_a = a.store().expect("a's store");
    let store_b = b.store().expect("b's store");
    eventually("three ledger rows", || {
        let store = Arc::clone(&store_a);
        let query = by_key.clone();
        async move {
            store
                .usage_totals(&query)
                .await
                .is_ok_and(|t| t.iter().map(|t| t.requests).sum::<u64>() == 3)
        }
    })
    .await;
    let from_a = store_a.usage_totals(&by_key).await.expect("totals on a");
    let from_b = store_b.usage_totals(&by_key).await.expect("totals on b");
    assert_eq!(from_a, from_b);
    assert_eq!(
        (from_a[0].group.as_str(), from_a[0].requests),
        (id.as_str(), 3)
    );
    assert!(from_a[0].input_tokens > 0, "{from_a:?}");
    // The usage extension's own answer on each node agrees.
    let get = || admin_call("get", json!({"group_by": "key"}));
    let usage_a = a.call_extension("usage", get()).await.expect("usage on a");
    let usage_b = b.call_extension("usage", get()).await.expect("usage on b");
    assert_eq!(usage_a["totals"], usage_b["totals"]);
    assert_eq!(usage_a["totals"][0]["requests"], 3, "{usage_a}");

    // A function defined on A is listed and called on B.
    a.call_extension(
        "functions",
        admin_call(
            "define",
            json!({
                "name": "shout",
                "description": "Says it loud",
                "template": "Say {{word}}",
                "model": "m/mock-1",
                "parameters": {
                    "type": "object",
                    "properties": {"word": {"type": "string"}},
                    "required": ["word"]
                }
            }),
        ),
    )
    .await
    .expect("defined on a");
    let listed = b
        .call_extension("functions", admin_call("list", json!({})))
        .await
        .expect("listed on b");
    assert_eq!(listed["functions"][0]["name"], "shout", "{listed}");
    let said = b
        .call_extension("functions", admin_call("shout", json!({"word": "hey"})))
        .await
        .expect("called on b");
    assert_eq!(said["text"], "You said: Say hey", "{said}");

    // Revoked on A: refused on B within the keys' cache TTL (200 ms here).
    a.call_extension("keys", admin_call("revoke", json!({"id": id})))
        .await
        .expect("revoked on a");
    eventually("b refuses the revoked key", || {
        let b = &b;
        let key = key.clone();
        async move { matches!(b.authenticate(&key).await, Err(e) if e.kind() == &ErrorKind::Auth) }
    })
    .await;

    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test]
async fn a_down_database_fails_the_start_quickly_without_the_password() {
    let port = std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .expect("a port")
        .port();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("down.toml");
    std::fs::write(
        &path,
        "[providers.m]\nkind = \"mock\"\n\n\
         [state]\nurl = \"${SB_DOWN_URL}\"\ntimeout_ms = 500\n\n\
         [extensions.keys]\nenabled = true\n",
    )
    .expect("config");
    let url = format!("postgres://app:hunter2-down@127.0.0.1:{port}/sb");
    let loader = switchboard::gateway::config::ConfigLoader::new()
        .file(&path)
        .env_vars([("SB_DOWN_URL".to_owned(), url)]);
    let started = Instant::now();
    let err = Switchboard::builder()
        .loader(loader)
        .build()
        .await
        .expect_err("no database, no start");
    assert!(started.elapsed() < Duration::from_secs(5), "{err}");
    assert_eq!(err.kind(), &ErrorKind::Unavailable, "{err}");
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("hunter2-down"), "{shown}");
    assert!(shown.contains(&format!("127.0.0.1:{port}")), "{shown}");
}
