//! Tests of the stream guards: unit tests on paused time, and end to end
//! through an [`Upstream`] against a local SSE server.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use http::Method;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::*;
use crate::upstream::Upstream;
use crate::{ErrorKind, ProviderContext};

fn text(t: &str) -> Result<ChatEvent, Error> {
    Ok(ChatEvent::TextDelta { text: t.into() })
}

/// Two content events, then keep-alives (empty deltas, repeated `Start`s)
/// every 50 ms, forever.
fn stalled_behind_keep_alives() -> impl Stream<Item = Result<ChatEvent, Error>> + Send {
    let start = || {
        Ok(ChatEvent::Start {
            id: "c".into(),
            model: "m".into(),
            created: None,
        })
    };
    let head = futures::stream::iter([start(), text("a"), text("b")]);
    let keep_alives = futures::stream::unfold(0u64, move |n| async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let event = if n % 2 == 0 { text("") } else { start() };
        Some((event, n + 1))
    });
    head.chain(keep_alives)
}

#[tokio::test(start_paused = true)]
async fn keep_alive_events_do_not_reset_the_progress_guard() {
    let mut events = ProgressGuard::new(stalled_behind_keep_alives(), Duration::from_secs(1));
    for _ in 0..3 {
        events.next().await.unwrap().unwrap();
    }
    let last_content = Instant::now();
    let err = loop {
        match events.next().await.unwrap() {
            Ok(event) => assert!(!is_progress(&event), "{event:?}"),
            Err(err) => break err,
        }
    };
    assert_eq!(err.kind(), &ErrorKind::Timeout);
    assert!(err.message().contains("no content for 1000 ms"), "{err}");
    let waited = last_content.elapsed();
    assert!(
        waited >= Duration::from_secs(1) && waited < Duration::from_millis(1100),
        "{waited:?}"
    );
    // Ended, and the inner stream is dropped.
    assert!(events.next().await.is_none());
}

#[tokio::test(start_paused = true)]
async fn steady_content_outlives_the_idle_timeout() {
    let steady = futures::stream::unfold(0u32, |n| async move {
        if n == 20 {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        Some((text("x"), n + 1))
    });
    let started = Instant::now();
    let events = ProgressGuard::new(steady, Duration::from_secs(1));
    let all: Vec<_> = events.collect().await;
    assert_eq!(all.len(), 20);
    assert!(all.iter().all(Result::is_ok));
    assert!(started.elapsed() >= Duration::from_secs(6));
}

#[tokio::test(start_paused = true)]
async fn a_huge_idle_timeout_saturates() {
    let steady = futures::stream::iter([text("a"), text("b")]);
    let all: Vec<_> = ProgressGuard::new(steady, Duration::MAX).collect().await;
    assert_eq!(all.len(), 2);
    let now = Instant::now();
    assert!(deadline(now, Duration::MAX) > now + Duration::from_secs(86_400 * 365));
}

#[test]
fn what_counts_as_progress() {
    let ev = |e: ChatEvent| is_progress(&e);
    assert!(!ev(ChatEvent::Start {
        id: "c".into(),
        model: "m".into(),
        created: None,
    }));
    assert!(!ev(ChatEvent::TextDelta { text: "".into() }));
    assert!(ev(ChatEvent::TextDelta { text: " ".into() }));
    assert!(!ev(ChatEvent::ReasoningDelta { text: "".into() }));
    assert!(ev(ChatEvent::ReasoningDelta { text: "r".into() }));
    assert!(!ev(ChatEvent::ToolCallDelta {
        index: 0,
        arguments: "".into()
    }));
    assert!(ev(ChatEvent::ToolCallStart {
        index: 0,
        id: "i".into(),
        name: "n".into()
    }));
    assert!(!ev(ChatEvent::Extra {
        key: "citations".into(),
        value: serde_json::json!([])
    }));
    assert!(ev(ChatEvent::Usage(crate::Usage::new(1, 1))));
    assert!(ev(ChatEvent::Finish {
        reason: crate::FinishReason::Stop
    }));
}

/// Reads a request's head; false if the connection ended first.
async fn read_head(sock: &mut tokio::net::TcpStream) -> bool {
    let mut buf = vec![0u8; 4096];
    let mut seen = Vec::new();
    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
        match sock.read(&mut buf).await {
            Ok(n) if n > 0 => seen.extend_from_slice(&buf[..n]),
            _ => return false,
        }
    }
    true
}

/// A server that answers one request with a close-delimited SSE body:
/// each `(delay in ms, text)` written after its delay.
async fn sse_server(script: Vec<(u64, String)>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        if !read_head(&mut sock).await {
            return;
        }
        let head =
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n";
        sock.write_all(head.as_bytes()).await.unwrap();
        for (delay, text) in script {
            tokio::time::sleep(Duration::from_millis(delay)).await;
            if sock.write_all(text.as_bytes()).await.is_err() {
                return;
            }
        }
    });
    format!("http://{addr}")
}

/// A minimal SSE decoder: `data: x` is the text `x`; comments are skipped.
fn decode(body: GuardedBody) -> impl Stream<Item = Result<ChatEvent, Error>> + Send {
    futures::stream::unfold((body, BytesMut::new()), |(mut body, mut buf)| async move {
        loop {
            if let Some(end) = buf.windows(2).position(|w| w == b"\n\n") {
                let frame = buf.split_to(end + 2);
                let line = String::from_utf8_lossy(&frame[..end]).into_owned();
                if let Some(data) = line.strip_prefix("data: ") {
                    return Some((text(data), (body, buf)));
                }
                continue;
            }
            match body.next().await? {
                Ok(bytes) => buf.extend_from_slice(&bytes),
                Err(e) => return Some((Err(e), (body, buf))),
            }
        }
    })
}

async fn open(url: &str, ctx: &ProviderContext, timeout: Duration) -> super::super::StreamReply {
    let upstream = Upstream::builder(ctx, url)
        .timeout(timeout)
        .build()
        .unwrap();
    let request = upstream
        .request(Method::POST, "chat", Bytes::from_static(b"{}"))
        .unwrap();
    upstream.open(request).await.unwrap()
}

#[tokio::test]
async fn comments_do_not_keep_a_stalled_upstream_stream_open() {
    let mut script = vec![(0, "data: a\n\n".into()), (20, "data: b\n\n".into())];
    script.extend((0..60).map(|_| (50, ": keep-alive\n\n".to_owned())));
    let url = sse_server(script).await;
    let ctx = ProviderContext::standalone("up");
    let mut events = open(&url, &ctx, Duration::from_millis(300))
        .await
        .events(decode);
    assert_eq!(events.next().await.unwrap().unwrap(), text("a").unwrap());
    assert_eq!(events.next().await.unwrap().unwrap(), text("b").unwrap());
    let last_content = std::time::Instant::now();
    // The comments go on for 3 s; the stream ends after about 300 ms.
    let err = events.next().await.unwrap().unwrap_err();
    let waited = last_content.elapsed();
    assert_eq!(err.kind(), &ErrorKind::Timeout, "{err}");
    assert!(err.message().contains("no content for 300 ms"), "{err}");
    assert_eq!(err.instance(), Some("up"));
    assert!(
        waited >= Duration::from_millis(250) && waited < Duration::from_millis(1500),
        "{waited:?}"
    );
    assert!(events.next().await.is_none());
}

#[tokio::test]
async fn a_steady_upstream_stream_longer_than_the_timeout_is_fine() {
    let script = (0..16).map(|i| (50, format!("data: {i}\n\n"))).collect();
    let url = sse_server(script).await;
    let ctx = ProviderContext::standalone("up");
    let started = std::time::Instant::now();
    let events: Vec<_> = open(&url, &ctx, Duration::from_millis(300))
        .await
        .events(decode)
        .collect()
        .await;
    assert!(started.elapsed() > Duration::from_millis(600));
    assert_eq!(events.len(), 16, "{events:?}");
    assert!(events.iter().all(Result::is_ok), "{events:?}");
}

#[tokio::test]
async fn cancellation_still_ends_a_stream() {
    let script = vec![(0, "data: a\n\n".into()), (5_000, "data: b\n\n".into())];
    let url = sse_server(script).await;
    let ctx = ProviderContext::standalone("up");
    let mut events = open(&url, &ctx, Duration::from_secs(60))
        .await
        .events(decode);
    assert!(events.next().await.unwrap().is_ok());
    let cancel = ctx.cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        cancel.cancel();
    });
    let err = events.next().await.unwrap().unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Cancelled, "{err}");
}

/// A configured timeout too large for `Instant` arithmetic (`Instant::now()
/// + Duration::MAX` panics) neither panics nor times out.
#[tokio::test]
async fn a_huge_timeout_does_not_overflow() {
    let script = vec![(0, "data: a\n\n".into()), (20, "data: b\n\n".into())];
    let url = sse_server(script).await;
    let ctx = ProviderContext::standalone("up");
    let (body, _) = open(&url, &ctx, Duration::MAX).await.into_body();
    let all: Vec<_> = decode(body).collect().await;
    assert_eq!(all.len(), 2, "{all:?}");
    let url = sse_server(vec![(0, "data: a\n\n".into())]).await;
    let all: Vec<_> = open(&url, &ctx, Duration::MAX)
        .await
        .events(decode)
        .collect()
        .await;
    assert_eq!(all.len(), 1, "{all:?}");
}

/// A body dropped before its end is read on only briefly: an upstream that
/// goes on sending (the client went away mid-answer) sees its connection
/// closed within the drain window, not kept open by the gateway.
#[tokio::test]
async fn a_body_dropped_mid_answer_is_closed_within_the_drain_window() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (closed_tx, closed_rx) = tokio::sync::oneshot::channel::<std::time::Instant>();
    tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        if !read_head(&mut sock).await {
            return;
        }
        let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\
                    transfer-encoding: chunked\r\n\r\n";
        sock.write_all(head.as_bytes()).await.unwrap();
        let chunk = "9\r\ndata: a\n\n\r\n";
        while sock.write_all(chunk.as_bytes()).await.is_ok() {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let _ = closed_tx.send(std::time::Instant::now());
    });
    let ctx = ProviderContext::standalone("up");
    let (mut body, _) = open(&format!("http://{addr}"), &ctx, Duration::from_secs(5))
        .await
        .into_body();
    assert!(body.next().await.unwrap().is_ok());
    let dropped = std::time::Instant::now();
    drop(body);
    let closed = tokio::time::timeout(Duration::from_secs(5), closed_rx)
        .await
        .expect("the upstream's connection is closed")
        .expect("the server saw it");
    let after = closed.duration_since(dropped);
    assert!(after < Duration::from_millis(1000), "{after:?}");
}
