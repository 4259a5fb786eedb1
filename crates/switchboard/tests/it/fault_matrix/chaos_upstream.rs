//! A misbehaving OpenAI-compatible upstream: the fault is the request's
//! `model` (see [`Fault`]), and every request is counted per model.
//!
//! It is a hand-written HTTP/1.1 server on raw TCP so that it can misbehave
//! in ways a real HTTP library would not let it (hang before the headers,
//! cut a body short, lie about its length). Shared with `cargo xtask soak`
//! (`xtask/src/soak.rs` includes this file), so it depends on nothing but
//! tokio and serde_json.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// What the upstream does for a model. The model name is the fault's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// A normal answer (JSON or a short SSE stream).
    Ok,
    /// 429 with `Retry-After: 1`.
    RateLimitedShort,
    /// 429 with `Retry-After: 120`.
    RateLimitedLong,
    /// 500, 503, 529, 401, 400 with an OpenAI error body.
    Status(u16),
    /// Reads the request and never answers.
    Hang,
    /// 200 `application/json` whose body is not JSON.
    Malformed,
    /// 200 `text/html`.
    Html,
    /// A valid answer sent a few bytes at a time, over about 600 ms.
    SlowBody,
    /// A valid 200 of 40 MB.
    Huge,
    /// A stream: two content chunks, then only `: keep-alive` comments for
    /// 30 s (non-stream: the headers, then a space every 200 ms).
    KeepAlive,
    /// A stream of only `: keep-alive` comments, from the start.
    KeepAliveFirst,
    /// One chunk, then half an SSE line, then the connection closes
    /// (non-stream: half the body promised by `Content-Length`).
    Partial,
    /// One chunk, then a typed error event (non-stream: a 200 whose body is
    /// an OpenAI error object).
    MidStreamError,
}

impl Fault {
    /// Every fault with its model name.
    pub(crate) const ALL: &'static [(&'static str, Fault)] = &[
        ("ok", Fault::Ok),
        ("429-short", Fault::RateLimitedShort),
        ("429-long", Fault::RateLimitedLong),
        ("500", Fault::Status(500)),
        ("503", Fault::Status(503)),
        ("529", Fault::Status(529)),
        ("401", Fault::Status(401)),
        ("400", Fault::Status(400)),
        ("hang", Fault::Hang),
        ("malformed", Fault::Malformed),
        ("html", Fault::Html),
        ("slow-body", Fault::SlowBody),
        ("huge", Fault::Huge),
        ("keep-alive", Fault::KeepAlive),
        ("keep-alive-first", Fault::KeepAliveFirst),
        ("partial", Fault::Partial),
        ("mid-stream-error", Fault::MidStreamError),
    ];

    pub(crate) fn from_model(model: &str) -> Option<Fault> {
        Fault::ALL
            .iter()
            .find(|(name, _)| *name == model)
            .map(|(_, f)| *f)
    }
}

/// The running upstream; dropping it stops the listener and every
/// connection it holds.
#[derive(Debug)]
pub(crate) struct Chaos {
    pub(crate) addr: SocketAddr,
    attempts: Arc<Mutex<HashMap<String, usize>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Chaos {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Chaos {
    /// Binds 127.0.0.1:0 and serves until dropped.
    pub(crate) async fn start() -> std::io::Result<Chaos> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let attempts = Arc::new(Mutex::new(HashMap::new()));
        let counts = attempts.clone();
        let task = tokio::spawn(async move {
            // Connections live in the set: aborting this task drops the set,
            // which aborts (and closes) every connection.
            let mut conns = JoinSet::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        if let Ok((stream, _)) = accepted {
                            conns.spawn(connection(stream, counts.clone()));
                        }
                    }
                    Some(_) = conns.join_next(), if !conns.is_empty() => {}
                }
            }
        });
        Ok(Chaos {
            addr,
            attempts,
            task,
        })
    }

    /// `http://127.0.0.1:<port>/v1`.
    pub(crate) fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Requests received for a model (a fault name).
    pub(crate) fn attempts(&self, model: &str) -> usize {
        self.attempts
            .lock()
            .map(|m| m.get(model).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    /// Requests received, all models.
    pub(crate) fn total_attempts(&self) -> usize {
        self.attempts.lock().map(|m| m.values().sum()).unwrap_or(0)
    }
}

/// A port nothing listens on (bound, then closed).
pub(crate) fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(9)
}

struct Request {
    path: String,
    body: Vec<u8>,
}

/// Reads one request; `None` at EOF or on garbage.
async fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Request> {
    let head_end = loop {
        if let Some(i) = find(buf, b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > 64 * 1024 {
            return None;
        }
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let length = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = buf[head_end..head_end + length].to_vec();
    buf.drain(..head_end + length);
    Some(Request { path, body })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

async fn connection(mut stream: TcpStream, attempts: Arc<Mutex<HashMap<String, usize>>>) {
    let _ = stream.set_nodelay(true);
    let mut buf = Vec::new();
    while let Some(req) = read_request(&mut stream, &mut buf).await {
        let json: serde_json::Value = serde_json::from_slice(&req.body).unwrap_or_default();
        if req.path.ends_with("/models") {
            let body = r#"{"object":"list","data":[{"id":"ok","object":"model","created":0,"owned_by":"chaos"}]}"#;
            if write_json(&mut stream, 200, &[], body).await.is_err() {
                return;
            }
            continue;
        }
        let model = json["model"].as_str().unwrap_or("").to_owned();
        let stream_mode = json["stream"].as_bool().unwrap_or(false);
        if let Ok(mut m) = attempts.lock() {
            *m.entry(model.clone()).or_default() += 1;
        }
        let fault = Fault::from_model(&model).unwrap_or(Fault::Ok);
        match answer(&mut stream, fault, &model, stream_mode).await {
            Ok(true) => continue,
            _ => return,
        }
    }
}

fn completion(model: &str, text: &str) -> String {
    serde_json::json!({
        "id": "chatcmpl-chaos",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
    })
    .to_string()
}

fn chunk(model: &str, text: &str) -> String {
    let c = serde_json::json!({
        "id": "chatcmpl-chaos",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": model,
        "choices": [{"index": 0, "delta": {"role": "assistant", "content": text}, "finish_reason": null}]
    });
    format!("data: {c}\n\n")
}

fn finish_chunk(model: &str) -> String {
    let c = serde_json::json!({
        "id": "chatcmpl-chaos",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": model,
        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]
    });
    format!("data: {c}\n\ndata: [DONE]\n\n")
}

fn error_body(status: u16) -> String {
    let (ty, code) = match status {
        400 => ("invalid_request_error", "invalid_value"),
        401 => ("invalid_request_error", "invalid_api_key"),
        429 => ("rate_limit_error", "rate_limit_exceeded"),
        _ => ("server_error", "server_error"),
    };
    serde_json::json!({"error": {"message": format!("chaos says {status}"), "type": ty, "param": null, "code": code}})
        .to_string()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Whatever",
    }
}

async fn write_json(
    stream: &mut TcpStream,
    status: u16,
    extra: &[(&str, &str)],
    body: &str,
) -> std::io::Result<()> {
    write_head(stream, status, "application/json", Some(body.len()), extra).await?;
    stream.write_all(body.as_bytes()).await
}

async fn write_head(
    stream: &mut TcpStream,
    status: u16,
    content_type: &str,
    length: Option<usize>,
    extra: &[(&str, &str)],
) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\ncontent-type: {content_type}\r\n",
        reason(status)
    );
    match length {
        Some(n) => head.push_str(&format!("content-length: {n}\r\n")),
        // A body that ends when the connection does.
        None => head.push_str("connection: close\r\n"),
    }
    for (k, v) in extra {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await
}

async fn sse_head(stream: &mut TcpStream) -> std::io::Result<()> {
    write_head(stream, 200, "text/event-stream", None, &[]).await
}

/// Answers one request; `Ok(true)` keeps the connection for the next one.
async fn answer(
    stream: &mut TcpStream,
    fault: Fault,
    model: &str,
    sse: bool,
) -> std::io::Result<bool> {
    match fault {
        Fault::Ok if sse => {
            sse_head(stream).await?;
            stream
                .write_all(chunk(model, "chaos ok").as_bytes())
                .await?;
            stream.write_all(finish_chunk(model).as_bytes()).await?;
            Ok(false)
        }
        Fault::Ok => {
            write_json(stream, 200, &[], &completion(model, "chaos ok")).await?;
            Ok(true)
        }
        Fault::RateLimitedShort => {
            write_json(stream, 429, &[("retry-after", "1")], &error_body(429)).await?;
            Ok(true)
        }
        Fault::RateLimitedLong => {
            write_json(stream, 429, &[("retry-after", "120")], &error_body(429)).await?;
            Ok(true)
        }
        Fault::Status(status) => {
            write_json(stream, status, &[], &error_body(status)).await?;
            Ok(true)
        }
        Fault::Hang => {
            // Never answers; the connection closes when the gateway gives up
            // (the read sees EOF) or when the upstream is dropped.
            let mut sink = [0u8; 1024];
            while stream.read(&mut sink).await? > 0 {}
            Ok(false)
        }
        Fault::Malformed => {
            write_json(
                stream,
                200,
                &[],
                r#"{"id": "chatcmpl-chaos", "choices": [{"#,
            )
            .await?;
            Ok(true)
        }
        Fault::Html => {
            let body = "<html><body><h1>502 Bad Gateway</h1>nginx</body></html>";
            write_head(stream, 200, "text/html", Some(body.len()), &[]).await?;
            stream.write_all(body.as_bytes()).await?;
            Ok(true)
        }
        Fault::SlowBody if sse => {
            sse_head(stream).await?;
            for word in ["slow ", "but ", "steady"] {
                stream.write_all(chunk(model, word).as_bytes()).await?;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            stream.write_all(finish_chunk(model).as_bytes()).await?;
            Ok(false)
        }
        Fault::SlowBody => {
            let body = completion(model, "slow but steady");
            write_head(stream, 200, "application/json", Some(body.len()), &[]).await?;
            let pieces = body.as_bytes().chunks(body.len().div_ceil(6));
            for piece in pieces {
                stream.write_all(piece).await?;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Ok(true)
        }
        Fault::Huge => {
            // Built with `format!` (a copy), not through serde: fast even in
            // a debug build.
            let text = "x".repeat(40 * 1024 * 1024);
            if sse {
                sse_head(stream).await?;
                let event = format!(
                    "data: {{\"id\":\"chatcmpl-chaos\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"{model}\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{text}\"}},\"finish_reason\":null}}]}}\n\n"
                );
                drop(text);
                stream.write_all(event.as_bytes()).await?;
                stream.write_all(finish_chunk(model).as_bytes()).await?;
                Ok(false)
            } else {
                let body = completion(model, "")
                    .replace("\"content\":\"\"", &format!("\"content\":\"{text}\""));
                drop(text);
                write_json(stream, 200, &[], &body).await?;
                Ok(true)
            }
        }
        Fault::KeepAlive if sse => {
            sse_head(stream).await?;
            stream.write_all(chunk(model, "one ").as_bytes()).await?;
            stream.write_all(chunk(model, "two ").as_bytes()).await?;
            keep_alive_comments(stream).await?;
            Ok(false)
        }
        Fault::KeepAliveFirst if sse => {
            sse_head(stream).await?;
            keep_alive_comments(stream).await?;
            Ok(false)
        }
        Fault::KeepAlive | Fault::KeepAliveFirst => {
            write_head(stream, 200, "application/json", None, &[]).await?;
            for _ in 0..150 {
                stream.write_all(b" ").await?;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Ok(false)
        }
        Fault::Partial if sse => {
            sse_head(stream).await?;
            stream.write_all(chunk(model, "half ").as_bytes()).await?;
            stream
                .write_all(b"data: {\"id\":\"chatcmpl-chaos\",\"cho")
                .await?;
            stream.flush().await?;
            Ok(false)
        }
        Fault::Partial => {
            let body = completion(model, "cut short");
            write_head(stream, 200, "application/json", Some(body.len()), &[]).await?;
            stream.write_all(&body.as_bytes()[..body.len() / 2]).await?;
            stream.flush().await?;
            Ok(false)
        }
        Fault::MidStreamError if sse => {
            sse_head(stream).await?;
            stream.write_all(chunk(model, "before ").as_bytes()).await?;
            let err = serde_json::json!({"error": {"message": "chaos broke mid-stream", "type": "server_error", "code": "server_error"}});
            stream
                .write_all(format!("data: {err}\n\n").as_bytes())
                .await?;
            Ok(false)
        }
        Fault::MidStreamError => {
            write_json(stream, 200, &[], &error_body(500)).await?;
            Ok(true)
        }
    }
}

/// `: keep-alive` every 200 ms for 30 s.
async fn keep_alive_comments(stream: &mut TcpStream) -> std::io::Result<()> {
    for _ in 0..150 {
        stream.write_all(b": keep-alive\n\n").await?;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(())
}
