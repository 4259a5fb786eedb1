//! Slow clients cannot hold connections: headers and bodies must arrive
//! within `server.client_timeout_ms`.

use crate::common;

use std::time::{Duration, Instant};

use common::spawn;
use serde_json::json;
use switchboard_mock as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn read_all_within(stream: &mut TcpStream, limit: Duration) -> (String, Duration) {
    let started = Instant::now();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(limit, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Err(_) => panic!("the server kept the slow connection open for {limit:?}"),
        }
    }
    (
        String::from_utf8_lossy(&out).into_owned(),
        started.elapsed(),
    )
}

#[tokio::test]
async fn incomplete_headers_are_cut_off() {
    let gw =
        spawn(json!({"server": {"client_timeout_ms": 300}, "providers": {"m": {"kind": "mock"}}}))
            .await;
    // From before the connect: the server's clock starts at its accept.
    let connecting = std::time::Instant::now();
    let mut s = TcpStream::connect(gw.addr).await.expect("connects");
    s.write_all(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("writes");
    read_all_within(&mut s, Duration::from_secs(3)).await;
    let took = connecting.elapsed();
    assert!(
        took >= Duration::from_millis(250),
        "closed too early: {took:?}"
    );
}

#[tokio::test]
async fn a_body_that_never_finishes_is_a_408() {
    let gw =
        spawn(json!({"server": {"client_timeout_ms": 300}, "providers": {"m": {"kind": "mock"}}}))
            .await;
    let mut s = TcpStream::connect(gw.addr).await.expect("connects");
    s.write_all(
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"model\":",
    )
    .await
    .expect("writes");
    let started = Instant::now();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(3), s.read(&mut buf))
        .await
        .expect("answers before 3 s")
        .expect("reads");
    let head = String::from_utf8_lossy(&buf[..n]);
    assert!(head.starts_with("HTTP/1.1 408"), "{head}");
    assert!(started.elapsed() >= Duration::from_millis(250));
}
