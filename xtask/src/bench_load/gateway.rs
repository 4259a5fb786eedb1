//! The gateway under test: its config (the `openai` provider pointed at the
//! fixed upstream, and whatever a mode adds), its process (optionally
//! pinned to a core), and what its `/metrics` says of its own overhead.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;

use super::tools::{ChildGuard, free_addr, wait_ready};

/// What goes into `switchboard.toml`.
pub(super) struct GatewayConfig {
    /// `[server] listen`.
    pub(super) listen: SocketAddr,
    /// The nginx upstream: providers `up` (`/v1`) and `upstream-stream`
    /// (`/stream/v1`, the recorded stream).
    pub(super) upstream: SocketAddr,
    /// The paced upstream, as provider `paced`.
    pub(super) paced: Option<SocketAddr>,
    /// Provider `slow`: the mock, 50 tokens 60 ms apart.
    pub(super) slow_mock: bool,
    /// More lines under `[server]`.
    pub(super) server: String,
    /// More sections at the end (`[state]`, `[extensions.*]`).
    pub(super) extra: String,
}

impl GatewayConfig {
    /// A gateway on a free port in front of `upstream`, nothing else.
    pub(super) fn new(upstream: SocketAddr) -> anyhow::Result<GatewayConfig> {
        Ok(GatewayConfig {
            listen: free_addr()?,
            upstream,
            paced: None,
            slow_mock: false,
            server: String::new(),
            extra: String::new(),
        })
    }

    /// The TOML.
    pub(super) fn render(&self) -> String {
        let GatewayConfig {
            listen,
            upstream,
            server,
            extra,
            ..
        } = self;
        let mut toml = format!(
            r#"# Written by cargo xtask bench-load.
[server]
listen = "{listen}"
{server}
[providers.up]
kind = "openai"
api_key = "sk-bench-not-a-real-key"
base_url = "http://{upstream}/v1"

[providers.upstream-stream]
kind = "openai"
api_key = "sk-bench-not-a-real-key"
base_url = "http://{upstream}/stream/v1"
"#
        );
        if let Some(paced) = self.paced {
            toml.push_str(&format!(
                r#"
[providers.paced]
kind = "openai"
api_key = "sk-bench-not-a-real-key"
base_url = "http://{paced}/v1"
"#
            ));
        }
        if self.slow_mock {
            toml.push_str(&format!(
                r#"
[providers.slow]
kind = "mock"
models = ["mock-1"]
mode = "script"
script = ["{}"]
token_delay_ms = 60
"#,
                vec!["word"; 50].join(" ")
            ));
        }
        toml.push_str(extra);
        toml
    }
}

/// A running gateway, stopped when dropped.
pub(super) struct Gateway {
    /// Where it listens.
    pub(super) addr: SocketAddr,
    /// Its process id.
    pub(super) pid: u32,
    /// From spawn to `/readyz` answering 200.
    pub(super) startup: Duration,
    _process: ChildGuard,
}

impl Gateway {
    /// Writes `<work>/<name>.toml`, starts `switchboard serve` with it
    /// (under `taskset -c <cpus>` when `pin` is given), and waits for
    /// `/readyz`. Its log goes to `<work>/<name>.log`.
    pub(super) fn start(
        binary: &Path,
        work: &Path,
        name: &str,
        config: &GatewayConfig,
        pin: Option<&str>,
    ) -> anyhow::Result<Gateway> {
        let path = work.join(format!("{name}.toml"));
        std::fs::write(&path, config.render())
            .with_context(|| format!("cannot write {}", path.display()))?;
        let log_path = work.join(format!("{name}.log"));
        let log = std::fs::File::create(&log_path)
            .with_context(|| format!("cannot create {}", log_path.display()))?;
        let mut command = match pin {
            Some(cpus) => {
                let mut c = Command::new("taskset");
                c.args(["-c", cpus]).arg(binary);
                c
            }
            None => Command::new(binary),
        };
        let spawned = Instant::now();
        let child = command
            .arg("--config")
            .arg(&path)
            .arg("serve")
            .env("SWITCHBOARD_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let process = ChildGuard(child);
        wait_ready(config.listen, "/readyz", Duration::from_secs(10)).with_context(|| {
            format!(
                "the gateway did not become ready; see {}",
                log_path.display()
            )
        })?;
        Ok(Gateway {
            addr: config.listen,
            pid: process.pid(),
            startup: spawned.elapsed(),
            _process: process,
        })
    }
}

/// Sum and count of `switchboard_gateway_overhead_seconds{api="openai"}`.
pub(super) fn overhead_metric(addr: SocketAddr) -> anyhow::Result<(f64, f64)> {
    let mut conn = TcpStream::connect(addr)?;
    write!(
        conn,
        "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut text = String::new();
    conn.read_to_string(&mut text)?;
    let value = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name) && l.contains("api=\"openai\""))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    Ok((
        value("switchboard_gateway_overhead_seconds_sum"),
        value("switchboard_gateway_overhead_seconds_count"),
    ))
}
