//! Two `switchboard serve` processes sharing one Redis (rate limits, the
//! response cache) and one PostgreSQL (keys, the usage ledger), driven
//! together as a load balancer would: a key made on A works on B at once;
//! 30 concurrent requests of a key with `rpm = 10`, split across both,
//! admit exactly 10; a budget spent on A refuses on B; an answer cached by
//! A is a hit on B; a revoke on A is refused on B within a second; and when
//! Redis dies under load, node A (limits fail open) keeps answering and
//! node B (fail closed) refuses with 503, neither hanging a request.
//!
//! Redis is a `redis-server` of the test's own on a free port (it is killed
//! mid-test); PostgreSQL is `switchboard_testkit::test_postgres_url()`, in
//! a schema of the test's own.
#![cfg(all(
    unix,
    feature = "postgres",
    feature = "mock",
    feature = "keys",
    feature = "usage",
    feature = "cache"
))]

use std::process::Child;
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use switchboard_testkit::redis::{TestRedis, spawn_redis_server, unique_prefix};
use switchboard_testkit::{test_postgres_url, unique_schema};

use crate::serve::start;
use crate::shared_state::Schema;

const ADMIN: &str = "admin-token-for-the-multi-node-test";

/// A process killed when dropped (a pass or a panic).
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A `redis-server` of this test's own (it is killed mid-test), or `None`
/// (said on stderr; a failure when `SWITCHBOARD_REQUIRE_REDIS` is set)
/// without the binary.
fn own_redis() -> Option<TestRedis> {
    let redis = spawn_redis_server();
    if redis.is_none() {
        assert!(
            std::env::var_os("SWITCHBOARD_REQUIRE_REDIS").is_none(),
            "the multi-node test needs `redis-server` (Debian's redis-server) and SWITCHBOARD_REQUIRE_REDIS is set"
        );
        eprintln!(
            "SKIPPED multi-node test: no redis-server binary (install Debian's redis-server)"
        );
    }
    redis
}

/// One node's config: everything shared, only the limits' failure mode
/// differs.
fn node_config(
    dir: &std::path::Path,
    node: &str,
    redis: &str,
    prefix: &str,
    schema: &str,
    on_redis_error: &str,
) -> std::path::PathBuf {
    let path = dir.join(format!("{node}.toml"));
    std::fs::write(
        &path,
        format!(
            "[server]\nadmin_token = \"{ADMIN}\"\n\n\
             [providers.a]\nkind = \"mock\"\n\n\
             [state]\nurl = \"{pg}\"\nschema = \"{schema}\"\npool_size = 4\ntimeout_ms = 2000\n\n\
             [extensions.usage]\nenabled = true\n\n\
             [extensions.keys]\nenabled = true\ncache_ttl_ms = 300\n\
             limits_backend = \"redis\"\nredis_url = \"{redis}\"\n\
             redis_prefix = \"{prefix}keys:\"\nredis_timeout_ms = 200\non_redis_error = \"{on_redis_error}\"\n\n\
             [extensions.cache]\nenabled = true\norder = 100\nbackend = \"redis\"\n\
             redis_url = \"{redis}\"\nredis_prefix = \"{prefix}cache:\"\nredis_timeout_ms = 200\n",
            pg = test_postgres_url(),
        ),
    )
    .expect("config");
    path
}

struct Answer {
    status: u16,
    headers: HeaderMap,
    body: Value,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A chat completion on `addr` as `key`, saying `text`; bounded at 5 s so
/// a hung request fails the test.
async fn chat(client: &reqwest::Client, addr: &str, key: &str, text: &str) -> Answer {
    let resp = client
        .post(format!("http://{addr}/v1/chat/completions"))
        .bearer_auth(key)
        .json(&json!({"model": "a/mock-1", "messages": [{"role": "user", "content": text}]}))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{addr} answers within 5 s: {e}"));
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.json().await.unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        body,
    }
}

/// An admin REST call on `addr`.
async fn admin(
    client: &reqwest::Client,
    addr: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = client
        .request(method, format!("http://{addr}{path}"))
        .bearer_auth(ADMIN)
        .timeout(Duration::from_secs(5));
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.expect("the admin API answers");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// Makes a key on `addr`; its id and key.
async fn make_key(client: &reqwest::Client, addr: &str, settings: Value) -> (String, String) {
    let (status, made) = admin(client, addr, reqwest::Method::POST, "/keys", Some(settings)).await;
    assert_eq!(status, 201, "{made}");
    (
        made["id"].as_str().expect("id").to_owned(),
        made["key"].as_str().expect("key").to_owned(),
    )
}

/// Checks until `check` holds, failing when no check that began within
/// `within` held; how long after the start the check that held began (a
/// loaded machine's slow round trip is not counted against the state).
async fn eventually<F, Fut>(what: &str, within: Duration, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        let began = start.elapsed();
        assert!(began < within, "not within {within:?}: {what}");
        if check().await {
            return began;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_serve_processes_share_keys_limits_budgets_and_the_cache() {
    let Some(redis) = own_redis() else {
        return;
    };
    let schema = Schema(unique_schema("multi_node"));
    let prefix = unique_prefix("multi_node");
    let dir = tempfile::tempdir().expect("temp dir");
    let (a, addr_a) = start(&node_config(
        dir.path(),
        "a",
        &redis.url,
        &prefix,
        &schema.0,
        "open",
    ));
    let _a = Killed(a);
    let (b, addr_b) = start(&node_config(
        dir.path(),
        "b",
        &redis.url,
        &prefix,
        &schema.0,
        "closed",
    ));
    let _b = Killed(b);
    let http = reqwest::Client::new();

    // A key made on A works on B at once (B never saw it: the store).
    let (_, free) = make_key(&http, &addr_a, json!({"name": "free"})).await;
    let first = chat(&http, &addr_b, &free, "hello from b").await;
    assert_eq!(first.status, 200, "{}", first.body);

    // RPM 10, 30 concurrent requests split across both: exactly 10 pass.
    let (_, limited) = make_key(&http, &addr_a, json!({"name": "rpm", "rpm": 10})).await;
    let mut tasks = Vec::new();
    for i in 0..30 {
        let (http, key) = (http.clone(), limited.clone());
        let addr = if i % 2 == 0 {
            addr_a.clone()
        } else {
            addr_b.clone()
        };
        tasks.push(tokio::spawn(async move {
            chat(&http, &addr, &key, &format!("rpm {i}")).await
        }));
    }
    let (mut ok, mut limited_429) = (0, 0);
    for task in tasks {
        let answer = task.await.expect("joins");
        match answer.status {
            200 => ok += 1,
            429 => {
                limited_429 += 1;
                let wait: u64 = answer
                    .header("retry-after")
                    .expect("a 429 says when to retry")
                    .parse()
                    .expect("seconds");
                assert!((1..=60).contains(&wait), "{wait}");
                assert_eq!(answer.header("x-ratelimit-limit-requests"), Some("10"));
                assert_eq!(answer.header("x-ratelimit-remaining-requests"), Some("0"));
                assert_eq!(
                    answer.body["error"]["code"], "rate_limit_exceeded",
                    "{}",
                    answer.body
                );
            }
            other => panic!("unexpected {other}: {}", answer.body),
        }
    }
    assert_eq!(
        (ok, limited_429),
        (10, 20),
        "the limit holds across both nodes"
    );

    // A budget spent on A is enforced on B (the ledger is shared).
    let (_, budget) = make_key(
        &http,
        &addr_a,
        json!({"name": "budget", "budget": {"amount_usd": 0.000_000_001, "period": "total"}}),
    )
    .await;
    let spend = chat(&http, &addr_a, &budget, "spend it").await;
    assert_eq!(spend.status, 200, "{}", spend.body);
    let mut n = 0;
    eventually("B refuses the spent budget", Duration::from_secs(5), || {
        n += 1;
        let (http, addr, key) = (http.clone(), addr_b.clone(), budget.clone());
        async move {
            let answer = chat(&http, &addr, &key, &format!("over budget {n}")).await;
            answer.status == 429 && answer.body["error"]["code"] == "insufficient_quota"
        }
    })
    .await;

    // An answer cached by A is a hit on B.
    let miss = chat(&http, &addr_a, &free, "cache me across nodes").await;
    assert_eq!(miss.header("x-switchboard-cache"), Some("miss"));
    eventually(
        "B answers from A's cache entry",
        Duration::from_secs(5),
        || {
            let (http, addr, key) = (http.clone(), addr_b.clone(), free.clone());
            async move {
                let answer = chat(&http, &addr, &key, "cache me across nodes").await;
                answer.header("x-switchboard-cache") == Some("hit")
            }
        },
    )
    .await;
    let hit = chat(&http, &addr_b, &free, "cache me across nodes").await;
    assert_eq!(hit.body["choices"], miss.body["choices"], "the same answer");

    // A revoke on A is refused on B within a second.
    let (id, doomed) = make_key(&http, &addr_a, json!({"name": "doomed"})).await;
    assert_eq!(chat(&http, &addr_b, &doomed, "before").await.status, 200);
    let (status, _) = admin(
        &http,
        &addr_a,
        reqwest::Method::DELETE,
        &format!("/keys/{id}"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let took = eventually("B refuses the revoked key", Duration::from_secs(1), || {
        let (http, addr, key) = (http.clone(), addr_b.clone(), doomed.clone());
        async move {
            let answer = chat(&http, &addr, &key, "after").await;
            answer.status == 401 && !answer.body.to_string().contains(&key)
        }
    })
    .await;
    eprintln!("revoke on A refused on B after {took:?}");

    // Redis dies under load: A (limits fail open) answers, B (closed)
    // refuses with 503; no request hangs.
    let (_, loaded) = make_key(&http, &addr_a, json!({"name": "loaded", "rpm": 100_000})).await;
    let mut tasks = Vec::new();
    for i in 0..40 {
        let (http, key) = (http.clone(), loaded.clone());
        let addr = if i % 2 == 0 {
            addr_a.clone()
        } else {
            addr_b.clone()
        };
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(10 * i)).await;
            let started = Instant::now();
            let answer = chat(&http, &addr, &key, &format!("load {i}")).await;
            (i % 2 == 0, answer.status, started.elapsed())
        }));
    }
    tokio::time::sleep(Duration::from_millis(150)).await;
    drop(redis);
    for task in tasks {
        let (on_a, status, took) = task.await.expect("joins");
        // Bounded by the 200 ms Redis timeout; the rest is a loaded
        // machine's margin below the client's own 5 s timeout.
        assert!(took < Duration::from_secs(4), "a request took {took:?}");
        if on_a {
            assert_eq!(status, 200, "A fails open");
        } else {
            assert!(status == 200 || status == 503, "B: {status}");
        }
    }
    let after_a = chat(&http, &addr_a, &loaded, "redis is gone a").await;
    assert_eq!(after_a.status, 200, "A admits unchecked: {}", after_a.body);
    let after_b = chat(&http, &addr_b, &loaded, "redis is gone b").await;
    assert_eq!(after_b.status, 503, "B refuses: {}", after_b.body);
    assert!(
        after_b.body.to_string().contains("on_redis_error"),
        "{}",
        after_b.body
    );
}
