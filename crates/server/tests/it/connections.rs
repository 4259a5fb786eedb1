//! Connection hygiene: silent sockets and half-sent HTTP/2 prefaces are
//! closed within `server.client_timeout_ms`, connections past
//! `server.max_connections` wait for a free slot, and a client that stops
//! reading is dropped with its upstream stream (`server.write_timeout_ms`).

use crate::common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{spawn, spawn_workers};
use serde_json::json;
use switchboard_core::{
    ChatEvent, ChatRequest, ChatResponse, ChatStream, Error, Provider, ProviderContext,
    ProviderInit, async_trait, provider,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reads until the server closes the connection; how long that took, or
/// `None` if it was still open after `limit`.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at((started + limit).into(), stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Some(started.elapsed()),
            Ok(Ok(_)) => {}
            Err(_) => return None,
        }
    }
}

fn mock_with_timeout(ms: u64) -> serde_json::Value {
    json!({"server": {"client_timeout_ms": ms}, "providers": {"m": {"kind": "mock"}}})
}

#[tokio::test]
async fn a_silent_socket_is_closed_within_the_client_timeout() {
    let gw = spawn(mock_with_timeout(300)).await;
    // From before the connect: the server's clock starts at its accept.
    let connecting = std::time::Instant::now();
    let mut s = TcpStream::connect(gw.addr).await.expect("connects");
    closed_within(&mut s, Duration::from_secs(3))
        .await
        .expect("a connection that sends nothing is closed");
    let took = connecting.elapsed();
    assert!(
        took >= Duration::from_millis(250),
        "closed too early: {took:?}"
    );
}

#[tokio::test]
async fn a_partial_http2_preface_is_closed_within_the_client_timeout() {
    let gw = spawn(mock_with_timeout(300)).await;
    // Part of the preface: hyper-util is still detecting the protocol.
    let mut s = TcpStream::connect(gw.addr).await.expect("connects");
    s.write_all(b"PRI * HTTP/2.0\r\n").await.expect("writes");
    closed_within(&mut s, Duration::from_secs(3))
        .await
        .expect("a half-sent HTTP/2 preface is closed");
    // The whole preface but no SETTINGS frame: the HTTP/2 handshake waits.
    let mut s = TcpStream::connect(gw.addr).await.expect("connects");
    s.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        .await
        .expect("writes");
    closed_within(&mut s, Duration::from_secs(3))
        .await
        .expect("an HTTP/2 preface without SETTINGS is closed");
}

/// Sends `GET /healthz` and waits up to `limit` for the status line.
async fn healthz_within(s: &mut TcpStream, limit: Duration) -> Option<String> {
    let mut buf = [0u8; 1024];
    match tokio::time::timeout(limit, s.read(&mut buf)).await {
        Ok(Ok(n)) if n > 0 => Some(String::from_utf8_lossy(&buf[..n]).into_owned()),
        _ => None,
    }
}

#[tokio::test]
async fn connections_past_the_limit_wait_for_a_free_slot() {
    for workers in [0, 2] {
        past_the_limit(workers).await;
    }
}

async fn past_the_limit(workers: usize) {
    let gw = spawn_workers(
        json!({
            "server": {"client_timeout_ms": 10_000, "max_connections": 2},
            "providers": {"m": {"kind": "mock"}}
        }),
        workers,
    )
    .await;
    let first = TcpStream::connect(gw.addr).await.expect("connects");
    let _second = TcpStream::connect(gw.addr).await.expect("connects");
    tokio::time::sleep(Duration::from_millis(100)).await;
    // The kernel completes the handshake; the server does not accept it yet.
    let mut third = TcpStream::connect(gw.addr).await.expect("connects");
    third
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .expect("writes");
    assert_eq!(
        healthz_within(&mut third, Duration::from_millis(400)).await,
        None,
        "a third connection is served while two are open and the limit is 2"
    );
    drop(first);
    let head = healthz_within(&mut third, Duration::from_secs(3))
        .await
        .expect("served once a slot is free");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
}

/// Set when a `firehose` stream is dropped: the gateway let go of the upstream.
static FIREHOSE_DROPPED: AtomicBool = AtomicBool::new(false);
static FIREHOSE_EVENTS: AtomicUsize = AtomicUsize::new(0);

#[derive(Debug, Clone, serde::Deserialize, schemars::JsonSchema)]
pub(crate) struct FirehoseConfig {}

/// A provider whose stream produces large events as fast as they are read.
#[provider(name = "firehose", config = FirehoseConfig, capabilities(streaming))]
#[derive(Debug)]
pub(crate) struct Firehose;

#[async_trait]
impl ProviderInit for Firehose {
    type Config = FirehoseConfig;
    async fn init(_: FirehoseConfig, _: ProviderContext) -> Result<Self, Error> {
        Ok(Firehose)
    }
}

struct DropFlag;
impl Drop for DropFlag {
    fn drop(&mut self) {
        FIREHOSE_DROPPED.store(true, Ordering::SeqCst);
    }
}

#[async_trait]
impl Provider for Firehose {
    async fn chat(&self, _: &ChatRequest) -> Result<ChatResponse, Error> {
        Err(Error::unsupported("firehose only streams"))
    }

    async fn chat_stream(&self, _: &ChatRequest) -> Result<ChatStream, Error> {
        let first = futures::stream::iter([Ok(ChatEvent::Start {
            id: "f".into(),
            model: "firehose".into(),
            created: None,
        })]);
        let text = "x".repeat(16 * 1024);
        let rest = futures::stream::unfold(DropFlag, move |guard| {
            let text = text.clone();
            async move {
                tokio::task::yield_now().await;
                FIREHOSE_EVENTS.fetch_add(1, Ordering::SeqCst);
                Some((Ok(ChatEvent::TextDelta { text }), guard))
            }
        });
        Ok(Box::pin(futures::StreamExt::chain(first, rest)))
    }
}

#[tokio::test]
async fn a_client_that_stops_reading_is_dropped_with_its_upstream_stream() {
    let gw = spawn(json!({
        "server": {"write_timeout_ms": 300},
        "providers": {"f": {"kind": "firehose"}}
    }))
    .await;
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("rcvbuf");
    let mut s = socket.connect(gw.addr).await.expect("connects");
    let body =
        json!({"model": "f/m", "stream": true, "messages": [{"role": "user", "content": "x"}]})
            .to_string();
    s.write_all(
        format!(
            "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    )
    .await
    .expect("writes");
    let mut head = [0u8; 64];
    let n = s.read(&mut head).await.expect("reads");
    assert!(head[..n].starts_with(b"HTTP/1.1 200"));
    // From now on the client reads nothing; the socket buffers fill up.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !FIREHOSE_DROPPED.load(Ordering::SeqCst) {
        assert!(
            Instant::now() < deadline,
            "a client that stopped reading still pins its upstream stream ({} events produced)",
            FIREHOSE_EVENTS.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The connection itself is gone too.
    assert!(
        closed_within(&mut s, Duration::from_secs(3))
            .await
            .is_some(),
        "the stalled connection is closed"
    );
}

#[tokio::test]
async fn http2_with_prior_knowledge_is_served_under_the_deadlines() {
    let gw = spawn(mock_with_timeout(300)).await;
    let http = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .expect("client");
    for _ in 0..2 {
        let r = http
            .post(gw.url("/v1/chat/completions"))
            .json(&json!({"model": "m/mock-1", "messages": [{"role": "user", "content": "hi"}]}))
            .send()
            .await
            .expect("sends");
        assert_eq!(r.version(), reqwest::Version::HTTP_2);
        assert_eq!(r.status(), 200);
        // Longer than the client timeout: the idle connection is closed
        // gracefully and the client opens a new one.
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
