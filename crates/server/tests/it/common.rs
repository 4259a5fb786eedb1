//! Spawning a gateway on a free port for tests.
#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::sync::Arc;

use serde_json::Value;
use switchboard_gateway::Switchboard;
use switchboard_gateway::config::types::Config;
use switchboard_server::{Server, ShutdownHandle};

pub struct Gateway {
    pub addr: SocketAddr,
    pub sb: Arc<Switchboard>,
    pub shutdown: ShutdownHandle,
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
    pub http: reqwest::Client,
}

impl Gateway {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The text of `GET /metrics`.
    pub async fn metrics(&self) -> String {
        self.http
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("scrapes /metrics")
            .text()
            .await
            .expect("metrics text")
    }
}

pub async fn spawn(config: Value) -> Gateway {
    spawn_workers(config, 0).await
}

/// [`spawn`] with the connections on `workers` worker threads.
pub async fn spawn_workers(config: Value, workers: usize) -> Gateway {
    let config: Config = serde_json::from_value(config).expect("valid config");
    let sb = Arc::new(Switchboard::from_config(config).await.expect("builds"));
    spawn_on_workers(sb, workers).await
}

pub async fn spawn_with(sb: Arc<Switchboard>) -> Gateway {
    spawn_on_workers(sb, 0).await
}

/// [`spawn_with`], the connections served on `workers` worker threads
/// (as `switchboard serve` does) rather than on the test's runtime.
pub async fn spawn_on_workers(sb: Arc<Switchboard>, workers: usize) -> Gateway {
    let server = Server::bind(sb.clone(), "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("binds")
        .with_workers(workers);
    let addr = server.local_addr().expect("addr");
    let shutdown = server.shutdown_handle();
    let task = tokio::spawn(server.run(std::future::pending()));
    Gateway {
        addr,
        sb,
        shutdown,
        task,
        http: reqwest::Client::new(),
    }
}

/// Splits an SSE body into its `data:` payloads.
pub fn sse_data(body: &str) -> Vec<String> {
    body.split("\n\n")
        .filter_map(|frame| frame.strip_prefix("data: "))
        .map(str::to_owned)
        .collect()
}

/// Reads one HTTP/1.1 request from `sock`: the head, then the body by its
/// `content-length`. `None` when the connection closes first. (For the
/// tests' hand-written upstreams; bytes past the request are dropped.)
pub async fn read_request(sock: &mut tokio::net::TcpStream) -> Option<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let mut buf = vec![0u8; 64 * 1024];
    let mut seen = Vec::new();
    let body_start = loop {
        let n = sock.read(&mut buf).await.ok().filter(|n| *n > 0)?;
        seen.extend_from_slice(&buf[..n]);
        if let Some(i) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&seen[..body_start]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while seen.len() < body_start + length {
        let n = sock.read(&mut buf).await.ok().filter(|n| *n > 0)?;
        seen.extend_from_slice(&buf[..n]);
    }
    Some(seen)
}
