//! `server.access_log`: which requests write an access-log line, seen by a
//! tracing subscriber that records the lines of the `switchboard::access`
//! target. Each test runs on one thread (the default test runtime), so the
//! subscriber set for it sees the gateway's lines and no other test's.

use crate::common;

use std::sync::{Arc, Mutex};

use common::{Gateway, spawn};
use serde_json::{Value, json};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

/// One access-log line: its level, status and path.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Line {
    level: Level,
    status: u64,
    path: String,
}

/// Records the access-log lines.
#[derive(Debug, Clone, Default)]
struct Lines(Arc<Mutex<Vec<Line>>>);

impl Lines {
    fn take(&self) -> Vec<Line> {
        std::mem::take(&mut *self.0.lock().expect("not poisoned"))
    }
}

#[derive(Default)]
struct Fields {
    status: u64,
    path: String,
}

impl Visit for Fields {
    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "status" {
            self.status = value;
        }
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "path" {
            value.clone_into(&mut self.path);
        }
    }
    fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
}

impl<S: Subscriber> Layer<S> for Lines {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() != "switchboard::access" {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        self.0.lock().expect("not poisoned").push(Line {
            level: *event.metadata().level(),
            status: fields.status,
            path: fields.path,
        });
    }
}

/// A gateway with `server` settings, a working instance `good`, one that
/// fails with `unavailable` (`bad`), and no retries.
async fn gateway(server: Value) -> Gateway {
    spawn(json!({
        "server": server,
        "router": {"max_attempts": 1},
        "providers": {
            "good": {"kind": "mock"},
            "bad": {"kind": "mock", "fault": {"kind": "unavailable"}}
        }
    }))
    .await
}

/// Sends a chat request for `model` and returns its status.
async fn ask(gw: &Gateway, model: &str) -> u16 {
    let r = gw
        .http
        .post(gw.url("/v1/chat/completions"))
        .json(&json!({"model": model, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .expect("sends");
    let status = r.status().as_u16();
    let _ = r.bytes().await;
    status
}

/// Records the access log of this thread until the guard drops.
fn capture() -> (Lines, tracing::subscriber::DefaultGuard) {
    let lines = Lines::default();
    let subscriber = tracing_subscriber::registry().with(lines.clone());
    (lines, tracing::subscriber::set_default(subscriber))
}

/// One success, one 404 (unknown model), one 503 (the upstream is down).
async fn three_requests(gw: &Gateway) {
    assert_eq!(ask(gw, "good/mock-1").await, 200);
    assert_eq!(ask(gw, "nowhere/mock-1").await, 404);
    assert_eq!(ask(gw, "bad/mock-1").await, 503);
}

#[tokio::test]
async fn off_writes_nothing() {
    let (lines, _guard) = capture();
    let gw = gateway(json!({"access_log": "off", "access_log_sample": 1.0})).await;
    three_requests(&gw).await;
    assert_eq!(lines.take(), []);
}

#[tokio::test]
async fn errors_logs_only_failed_requests() {
    let (lines, _guard) = capture();
    let gw = gateway(json!({"access_log": "errors", "access_log_sample": 1.0})).await;
    three_requests(&gw).await;
    let path = "/v1/chat/completions".to_owned();
    assert_eq!(
        lines.take(),
        [
            Line {
                level: Level::INFO,
                status: 404,
                path: path.clone()
            },
            Line {
                level: Level::WARN,
                status: 503,
                path
            },
        ]
    );
}

#[tokio::test]
async fn all_logs_every_request() {
    let (lines, _guard) = capture();
    let gw = gateway(json!({"access_log": "all", "access_log_sample": 0.0})).await;
    three_requests(&gw).await;
    for _ in 0..5 {
        assert_eq!(ask(&gw, "good/mock-1").await, 200);
    }
    let health = gw.http.get(gw.url("/healthz")).send().await.expect("sends");
    assert_eq!(health.status(), 200);
    let statuses: Vec<u64> = lines.take().iter().map(|l| l.status).collect();
    assert_eq!(statuses, [200, 404, 503, 200, 200, 200, 200, 200, 200]);
}

#[tokio::test]
async fn sampled_logs_every_error_and_the_fraction_of_the_rest() {
    let (lines, _guard) = capture();
    let gw = gateway(json!({"access_log": "sampled", "access_log_sample": 0.25})).await;
    for _ in 0..40 {
        assert_eq!(ask(&gw, "good/mock-1").await, 200);
    }
    for _ in 0..3 {
        assert_eq!(ask(&gw, "nowhere/mock-1").await, 404);
    }
    let got = lines.take();
    let ok = got.iter().filter(|l| l.status == 200).count();
    let failed = got.iter().filter(|l| l.status == 404).count();
    assert_eq!(ok, 10, "a quarter of 40 successes: {got:?}");
    assert_eq!(failed, 3, "every error: {got:?}");
}

#[tokio::test]
async fn the_default_is_sampled_at_one_in_a_hundred() {
    let (lines, _guard) = capture();
    let gw = spawn(json!({"providers": {"good": {"kind": "mock"}}})).await;
    for _ in 0..150 {
        assert_eq!(ask(&gw, "good/mock-1").await, 200);
    }
    assert_eq!(ask(&gw, "nowhere/mock-1").await, 404);
    let statuses: Vec<u64> = lines.take().iter().map(|l| l.status).collect();
    // Requests 0 and 100 of the successes, and the error.
    assert_eq!(statuses, [200, 200, 404]);
}

#[tokio::test]
async fn a_reload_changes_the_policy() {
    let (lines, _guard) = capture();
    let file = std::env::temp_dir().join(format!("sb-access-log-{}.toml", std::process::id()));
    let write = |mode: &str| {
        let text =
            format!("[server]\naccess_log = \"{mode}\"\n[providers.good]\nkind = \"mock\"\n");
        std::fs::write(&file, text).expect("writes the config");
    };
    write("off");
    let sb = switchboard_gateway::Switchboard::from_config_file(&file)
        .await
        .expect("loads");
    let gw = common::spawn_with(Arc::new(sb)).await;
    assert_eq!(ask(&gw, "good/mock-1").await, 200);
    assert_eq!(lines.take(), []);
    write("all");
    gw.sb.reload_from_file().await.expect("reloads");
    let _ = std::fs::remove_file(&file);
    assert_eq!(ask(&gw, "good/mock-1").await, 200);
    assert_eq!(lines.take().len(), 1, "the reloaded policy applies at once");
}
