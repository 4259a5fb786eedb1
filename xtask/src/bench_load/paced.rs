//! A paced OpenAI-shaped upstream: every chat completion is a stream of
//! `frames` SSE chunks, the first at once and each next one `gap` after the
//! previous (on a fixed schedule from the first, so delays do not add up),
//! then a usage chunk and `[DONE]`.
//!
//! The nginx upstream answers a recorded stream all at once, and the mock
//! provider paces tokens but lives inside the gateway (there is nothing to
//! call directly beside it); this small server on tokio is both: an
//! external upstream the gateway and the harness can call alike.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// The paced server, stopped when dropped (with its runtime).
pub(super) struct PacedUpstream {
    /// Where it listens.
    pub(super) addr: SocketAddr,
    _runtime: tokio::runtime::Runtime,
}

impl PacedUpstream {
    /// Starts the server on a free loopback port, on a one-thread runtime of
    /// its own.
    pub(super) fn start(frames: usize, gap: Duration) -> anyhow::Result<PacedUpstream> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("paced-upstream")
            .enable_all()
            .build()
            .context("cannot build the paced upstream's runtime")?;
        let listener = runtime
            .block_on(TcpListener::bind("127.0.0.1:0"))
            .context("cannot bind the paced upstream")?;
        let addr = listener.local_addr()?;
        runtime.spawn(async move {
            loop {
                let Ok((conn, _)) = listener.accept().await else {
                    continue;
                };
                tokio::spawn(async move {
                    let _ = serve(conn, frames, gap).await;
                });
            }
        });
        Ok(PacedUpstream {
            addr,
            _runtime: runtime,
        })
    }
}

/// Serves one keep-alive connection.
async fn serve(conn: TcpStream, frames: usize, gap: Duration) -> std::io::Result<()> {
    conn.set_nodelay(true)?;
    let mut conn = BufReader::new(conn);
    let mut line = String::new();
    loop {
        line.clear();
        if conn.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
        let mut length = 0;
        loop {
            line.clear();
            if conn.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
            if line == "\r\n" {
                break;
            }
        }
        let mut body = vec![0; length];
        conn.read_exact(&mut body).await?;
        let out = conn.get_mut();
        if path.ends_with("/chat/completions") {
            stream(out, frames, gap).await?;
        } else if path.ends_with("/models") {
            let models = r#"{"object":"list","data":[{"id":"gpt-4o","object":"model","created":1,"owned_by":"bench"}]}"#;
            respond(out, "application/json", models).await?;
        } else {
            respond(out, "text/plain", "ok").await?;
        }
    }
}

async fn respond(out: &mut TcpStream, kind: &str, body: &str) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: {kind}\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    out.write_all(head.as_bytes()).await
}

/// One paced stream, each SSE event in one HTTP chunk.
async fn stream(out: &mut TcpStream, frames: usize, gap: Duration) -> std::io::Result<()> {
    out.write_all(
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n",
    )
    .await?;
    let start = tokio::time::Instant::now();
    for i in 0..frames {
        if i > 0 {
            // (A sleep even to a past deadline waits for the timer's next
            // tick, about a millisecond: the first frame goes at once.)
            tokio::time::sleep_until(start + gap * i as u32).await;
        }
        let delta = if i == 0 {
            format!(r#"{{"role":"assistant","content":"tok{i} "}}"#)
        } else {
            format!(r#"{{"content":"tok{i} "}}"#)
        };
        chunk(out, &frame(&format!(
            r#"{{"id":"chatcmpl-paced","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{{"index":0,"delta":{delta},"finish_reason":null}}]}}"#
        )))
        .await?;
    }
    let stop = r#"{"id":"chatcmpl-paced","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#;
    let usage = format!(
        r#"{{"id":"chatcmpl-paced","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[],"usage":{{"prompt_tokens":10,"completion_tokens":{frames},"total_tokens":{}}}}}"#,
        frames + 10
    );
    let tail = format!("{}{}data: [DONE]\n\n", frame(stop), frame(&usage));
    chunk(out, &tail).await?;
    out.write_all(b"0\r\n\r\n").await
}

fn frame(json: &str) -> String {
    format!("data: {json}\n\n")
}

async fn chunk(out: &mut TcpStream, data: &str) -> std::io::Result<()> {
    out.write_all(format!("{:x}\r\n{data}\r\n", data.len()).as_bytes())
        .await
}
