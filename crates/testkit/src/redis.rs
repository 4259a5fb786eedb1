//! A real Redis for the tests of extensions with a Redis backend:
//! `SWITCHBOARD_TEST_REDIS_URL` if set, else the one at 127.0.0.1:6379 if it
//! answers, else a `redis-server` of the test's own on a free port (killed
//! when the test ends). Without any of them [`test_redis`] says so on stderr
//! and returns `None`; `SWITCHBOARD_REQUIRE_REDIS=1` (set by `.ci/run`)
//! makes that a failure. Each test writes under a [`unique_prefix`] of its
//! own, so tests run in parallel.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A Redis for one test; kills the server it started, if any.
#[derive(Debug)]
pub struct TestRedis {
    /// `redis://host:port`.
    pub url: String,
    child: Option<Child>,
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Whether a Redis answers `PING` at `addr`.
fn answers(addr: &str) -> bool {
    let Ok(addr) = addr.parse::<SocketAddr>() else {
        return false;
    };
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(300)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    if s.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 16];
    matches!(s.read(&mut buf), Ok(n) if buf[..n].starts_with(b"+PONG"))
}

fn host_port(url: &str) -> String {
    let rest = url.trim_start_matches("redis://");
    let rest = rest.rsplit('@').next().unwrap_or(rest);
    rest.split('/').next().unwrap_or(rest).to_owned()
}

/// A Redis to test against, or `None` (said on stderr) when there is none.
pub fn test_redis(test: &str) -> Option<TestRedis> {
    if let Ok(url) = std::env::var("SWITCHBOARD_TEST_REDIS_URL") {
        assert!(
            answers(&host_port(&url)),
            "SWITCHBOARD_TEST_REDIS_URL={url} does not answer PING"
        );
        return Some(TestRedis { url, child: None });
    }
    if answers("127.0.0.1:6379") {
        return Some(TestRedis {
            url: "redis://127.0.0.1:6379".into(),
            child: None,
        });
    }
    if let Some(redis) = spawn_redis_server() {
        return Some(redis);
    }
    assert!(
        std::env::var_os("SWITCHBOARD_REQUIRE_REDIS").is_none(),
        "{test}: no Redis (SWITCHBOARD_TEST_REDIS_URL, 127.0.0.1:6379, redis-server) and SWITCHBOARD_REQUIRE_REDIS is set"
    );
    eprintln!(
        "SKIPPED {test}: no Redis to test against (set SWITCHBOARD_TEST_REDIS_URL, run one at 127.0.0.1:6379, or install redis-server)"
    );
    None
}

/// A `redis-server` of the caller's own on a free port, killed when the
/// returned value is dropped (a test may drop it to kill Redis mid-test);
/// `None` when the binary is missing or the server never answers.
pub fn spawn_redis_server() -> Option<TestRedis> {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .ok()?;
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let redis = TestRedis {
        url: format!("redis://127.0.0.1:{port}"),
        child: Some(child),
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if answers(&format!("127.0.0.1:{port}")) {
            return Some(redis);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

/// A key prefix no other test (or run) uses.
pub fn unique_prefix(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("switchboard-test:{}:{nanos}:{test}:", std::process::id())
}

/// A local port nothing listens on.
pub fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A server that accepts connections and never says a word; its port.
pub async fn silent_server() -> (u16, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let port = listener.local_addr().expect("addr").port();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    (port, task)
}
