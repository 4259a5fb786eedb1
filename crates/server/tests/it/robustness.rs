//! Panics, client disconnects, graceful shutdown.

use crate::common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use common::{spawn, spawn_workers, sse_data};
use futures::StreamExt;
use serde_json::{Value, json};
use switchboard_core::{
    ChatEvent, ChatRequest, ChatResponse, ChatStream, Error, Provider, ProviderContext,
    ProviderInit, async_trait, provider,
};
use switchboard_mock as _;

/// Set when a `forever` stream is dropped: the gateway let go of the upstream.
static STREAM_DROPPED: AtomicBool = AtomicBool::new(false);
/// Events a `forever` stream produced.
static STREAM_EVENTS: AtomicUsize = AtomicUsize::new(0);

#[derive(Debug, Clone, serde::Deserialize, schemars::JsonSchema)]
pub(crate) struct TrapConfig {}

/// A provider that misbehaves on purpose: `panic` panics, `forever` streams
/// until its consumer goes away (counted in the statics, which only the
/// disconnect test reads), `stuck` streams the same, uncounted, for the
/// tests that run beside it.
#[provider(name = "trap", config = TrapConfig, capabilities(streaming))]
#[derive(Debug)]
pub(crate) struct Trap;

#[async_trait]
impl ProviderInit for Trap {
    type Config = TrapConfig;
    async fn init(_: TrapConfig, _: ProviderContext) -> Result<Self, Error> {
        Ok(Trap)
    }
}

/// Sets [`STREAM_DROPPED`] when dropped, if the stream is counted.
struct DropFlag(bool);
impl Drop for DropFlag {
    fn drop(&mut self) {
        if self.0 {
            STREAM_DROPPED.store(true, Ordering::SeqCst);
        }
    }
}

#[async_trait]
impl Provider for Trap {
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, Error> {
        if request.model == "panic" {
            panic!("trap provider panicked on purpose");
        }
        Err(Error::unsupported("trap"))
    }

    async fn chat_stream(&self, request: &ChatRequest) -> Result<ChatStream, Error> {
        let guard = DropFlag(request.model == "forever");
        let first = futures::stream::iter([Ok(ChatEvent::Start {
            id: "t".into(),
            model: "forever".into(),
            created: None,
        })]);
        let rest = futures::stream::unfold(guard, |guard| async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            if guard.0 {
                STREAM_EVENTS.fetch_add(1, Ordering::SeqCst);
            }
            Some((
                Ok(ChatEvent::TextDelta {
                    text: "tick ".into(),
                }),
                guard,
            ))
        });
        Ok(Box::pin(first.chain(rest)))
    }
}

#[tokio::test]
async fn a_panic_becomes_a_500_with_the_request_id() {
    let gw = spawn(json!({"providers": {"t": {"kind": "trap"}}})).await;
    let r = gw
        .http
        .post(gw.url("/v1/chat/completions"))
        .header("x-request-id", "panic-req-1")
        .json(&json!({"model": "t/panic", "messages": [{"role": "user", "content": "x"}]}))
        .send()
        .await
        .expect("the connection survives");
    assert_eq!(r.status(), 500);
    assert_eq!(r.headers()["x-request-id"], "panic-req-1");
    let v: Value = r.json().await.expect("json");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("panic-req-1"),
        "{v}"
    );
    // The server keeps serving.
    let r = gw.http.get(gw.url("/healthz")).send().await.expect("s");
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn client_disconnect_drops_the_upstream_stream() {
    let gw = spawn(json!({"providers": {"t": {"kind": "trap"}}})).await;
    let r = gw
        .http
        .post(gw.url("/v1/chat/completions"))
        .json(&json!({"model": "t/forever", "stream": true, "messages": [{"role": "user", "content": "x"}]}))
        .send()
        .await
        .expect("sends");
    assert_eq!(r.status(), 200);
    let mut body = r.bytes_stream();
    let mut seen = 0;
    while seen < 3 {
        let chunk = body.next().await.expect("more").expect("bytes");
        seen += sse_data(&String::from_utf8_lossy(&chunk)).len();
    }
    assert!(!STREAM_DROPPED.load(Ordering::SeqCst));
    drop(body);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !STREAM_DROPPED.load(Ordering::SeqCst) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the upstream stream was never dropped"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let after = STREAM_EVENTS.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        STREAM_EVENTS.load(Ordering::SeqCst),
        after,
        "nothing is produced after the drop"
    );
}

#[tokio::test]
async fn graceful_shutdown_drains_in_flight_requests() {
    drains_in_flight_requests(0).await;
}

#[tokio::test]
async fn graceful_shutdown_drains_in_flight_requests_on_worker_threads() {
    drains_in_flight_requests(2).await;
}

async fn drains_in_flight_requests(workers: usize) {
    let gw = spawn_workers(
        json!({
            // On workers, spinning a moment before each sleep (the stream's
            // 40 ms gaps are far longer: the spin must not hold it up).
            "server": {"shutdown_grace_ms": 10000, "idle_spin_us": 50},
            "providers": {"m": {"kind": "mock", "token_delay_ms": 40}}
        }),
        workers,
    )
    .await;
    let client = gw.http.clone();
    let url = gw.url("/v1/chat/completions");
    let (started_tx, started_rx) = tokio::sync::oneshot::channel();
    let in_flight = tokio::spawn(async move {
        let r = client
            .post(url)
            .json(&json!({"model": "m/mock-1", "stream": true,
                "messages": [{"role": "user", "content": "one two three four five six seven eight"}]}))
            .send()
            .await
            .expect("sends");
        let mut body = r.bytes_stream();
        let mut text = Vec::new();
        let mut started = Some(started_tx);
        while let Some(chunk) = body.next().await {
            text.extend_from_slice(&chunk.expect("the whole body arrives"));
            if let Some(tx) = started.take() {
                let _ = tx.send(());
            }
        }
        String::from_utf8(text).expect("utf-8")
    });
    // Once the stream has started, ask the server to stop.
    started_rx.await.expect("the stream starts");
    gw.shutdown.shutdown();
    tokio::time::sleep(Duration::from_millis(50)).await;
    // New connections are refused once the listener is closed.
    let refused = reqwest::Client::new().get(gw.url("/healthz")).send().await;
    assert!(refused.is_err(), "listener still accepting: {refused:?}");
    let body = in_flight.await.expect("task");
    let data = sse_data(&body);
    assert_eq!(data.last().map(String::as_str), Some("[DONE]"), "{body}");
    let text: String = data
        .iter()
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .filter_map(|c| {
            c["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(text, "You said: one two three four five six seven eight");
    let run = tokio::time::timeout(Duration::from_secs(5), gw.task)
        .await
        .expect("server stops after draining");
    assert!(run.expect("join").is_ok());
}

#[tokio::test]
async fn shutdown_deadline_cuts_stuck_requests() {
    deadline_cuts_stuck_requests(0).await;
}

#[tokio::test]
async fn shutdown_deadline_cuts_stuck_requests_on_worker_threads() {
    deadline_cuts_stuck_requests(2).await;
}

async fn deadline_cuts_stuck_requests(workers: usize) {
    let gw = spawn_workers(
        json!({
            "server": {"shutdown_grace_ms": 200},
            "providers": {"t": {"kind": "trap"}}
        }),
        workers,
    )
    .await;
    let client = gw.http.clone();
    let url = gw.url("/v1/chat/completions");
    let _stuck = tokio::spawn(async move {
        let r = client
            .post(url)
            .json(&json!({"model": "t/stuck", "stream": true, "messages": [{"role": "user", "content": "x"}]}))
            .send()
            .await;
        if let Ok(r) = r {
            let _ = r.text().await;
        }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = tokio::time::Instant::now();
    gw.shutdown.shutdown();
    let run = tokio::time::timeout(Duration::from_secs(5), gw.task)
        .await
        .expect("stops at the deadline");
    assert!(run.expect("join").is_ok());
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}
