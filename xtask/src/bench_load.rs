//! `cargo xtask bench-load`: what the gateway adds, measured against the same
//! upstream called directly, in one run.
//!
//! The upstream is nginx answering on loopback with canned OpenAI bodies (a
//! recorded chat completion and a recorded stream, from
//! `providers/openai/tests/data`), so it costs the same in both columns. The
//! load generator is `wrk`. Both come from Debian's packages and are
//! installed with apt-get when missing. The gateway is the release build of
//! `switchboard serve`, with the `openai` provider pointed at nginx.
//!
//! Measured, in this order:
//! - startup: spawn of `switchboard serve` until `/readyz` answers 200;
//! - RSS idle, then at peak (`VmHWM`) and after the load (`VmRSS`);
//! - throughput with 32 connections, direct and through the gateway;
//! - latency p50/p99 with 1 connection, direct and through;
//! - time to first token of a stream (first chunk with text), 1 connection;
//! - the gateway's `/metrics` overhead for the 1-connection run, beside the
//!   added mean latency the harness saw;
//! - RSS with 1,000 concurrent slow streams (the mock provider, 50 tokens at
//!   60 ms each).
//!
//! The table goes to stdout; the JSON to `target/bench-load/report.json`.
//! `--quick` shortens every phase (for a smoke test of the harness itself).

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

/// How long each phase runs.
struct Durations {
    throughput: Duration,
    latency: Duration,
    ttft_requests: usize,
    slow_streams: usize,
}

const CHAT_BODY: &str = r#"{"model":"gpt-4o","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Hello!"}]}"#;
const STREAM_BODY: &str = r#"{"model":"gpt-4o","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Hello!"}],"stream":true}"#;

/// Runs the whole harness.
fn build_release(root: &Path) -> anyhow::Result<()> {
    println!("==> cargo build --release -p switchboard --features all-providers,all-extensions");
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "build",
            "--release",
            "-p",
            "switchboard",
            "--features",
            "all-providers,all-extensions",
        ])
        .current_dir(root)
        .status()
        .context("cannot run cargo build")?;
    if !status.success() {
        bail!("the release build failed");
    }
    Ok(())
}

pub(crate) fn run(root: &Path, args: &[&str]) -> anyhow::Result<()> {
    let quick = args.contains(&"--quick");
    // `--with-usage`: the same run with the `usage` extension enabled (its
    // hooks on every request, its ledger in an in-memory store), to show
    // what an extension costs next to a run without.
    let with_usage = args.contains(&"--with-usage");
    if let Some(bad) = args
        .iter()
        .find(|a| **a != "--quick" && **a != "--with-usage")
    {
        bail!("unknown argument `{bad}`; usage: cargo xtask bench-load [--quick] [--with-usage]");
    }
    let durations = if quick {
        Durations {
            throughput: Duration::from_secs(2),
            latency: Duration::from_secs(2),
            ttft_requests: 300,
            slow_streams: 200,
        }
    } else {
        Durations {
            throughput: Duration::from_secs(10),
            latency: Duration::from_secs(10),
            ttft_requests: 3000,
            slow_streams: 1000,
        }
    };
    ensure_tools()?;
    // `SWITCHBOARD_BENCH_BIN` measures a binary built elsewhere (e.g. an
    // older commit's, for a before/after pair on the same machine).
    let binary = match std::env::var_os("SWITCHBOARD_BENCH_BIN") {
        Some(path) => std::path::PathBuf::from(path),
        None => {
            build_release(root)?;
            crate::target_dir(root).join("release/switchboard")
        }
    };
    let work = crate::target_dir(root).join("bench-load");
    std::fs::create_dir_all(&work).with_context(|| format!("cannot create {}", work.display()))?;

    let nginx_port = free_port()?;
    let gateway_port = free_port()?;
    let nginx = Nginx::start(root, &work, nginx_port)?;
    let upstream = SocketAddr::from(([127, 0, 0, 1], nginx_port));
    let gateway_addr = SocketAddr::from(([127, 0, 0, 1], gateway_port));
    wait_ready(upstream, "/healthz", Duration::from_secs(10)).context("nginx did not start")?;
    let proxy_port = free_port()?;
    let proxy = Nginx::start_proxy(&work, proxy_port, upstream)?;
    let proxy_addr = SocketAddr::from(([127, 0, 0, 1], proxy_port));
    wait_ready(proxy_addr, "/healthz", Duration::from_secs(10))
        .context("the reference nginx proxy did not start")?;

    let config = work.join("switchboard.toml");
    std::fs::write(
        &config,
        format!(
            r#"# Written by cargo xtask bench-load.
[server]
listen = "{gateway_addr}"

[providers.up]
kind = "openai"
api_key = "sk-bench-not-a-real-key"
base_url = "http://{upstream}/v1"

[providers.upstream-stream]
kind = "openai"
api_key = "sk-bench-not-a-real-key"
base_url = "http://{upstream}/stream/v1"

[providers.slow]
kind = "mock"
models = ["mock-1"]
mode = "script"
script = ["{slow_answer}"]
token_delay_ms = 60
{extensions}"#,
            slow_answer = vec!["word"; 50].join(" "),
            extensions = if with_usage {
                "\n[state]\npath = \":memory:\"\n\n[extensions.usage]\nenabled = true\n"
            } else {
                ""
            },
        ),
    )?;
    if with_usage {
        println!("==> with the usage extension enabled");
    }

    println!("==> starting the gateway");
    let log = std::fs::File::create(work.join("gateway.log"))?;
    let spawned = Instant::now();
    let gateway = Command::new(&binary)
        .args(["--config"])
        .arg(&config)
        .arg("serve")
        .env("SWITCHBOARD_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .with_context(|| format!("cannot start {}", binary.display()))?;
    let gateway = ChildGuard(gateway);
    wait_ready(gateway_addr, "/readyz", Duration::from_secs(10))
        .context("the gateway did not become ready; see target/bench-load/gateway.log")?;
    let startup = spawned.elapsed();
    let pid = gateway.0.id();
    std::thread::sleep(Duration::from_millis(300));
    let rss_idle = rss_kib(pid, "VmRSS")?;

    // Warm both paths (connection pools, lazy statics) before measuring.
    let direct_url = format!("http://{upstream}/v1/chat/completions");
    let gateway_url = format!("http://{gateway_addr}/v1/chat/completions");
    let chat_script = lua_script(&work, "chat.lua", CHAT_BODY)?;
    let chat_gw_script = lua_script(
        &work,
        "chat-gw.lua",
        &CHAT_BODY.replace("\"gpt-4o\"", "\"up/gpt-4o\""),
    )?;
    wrk(&direct_url, &chat_script, 8, Duration::from_secs(1))?;
    wrk(&gateway_url, &chat_gw_script, 8, Duration::from_secs(1))?;

    let proxy_url = format!("http://{proxy_addr}/v1/chat/completions");
    wrk(&proxy_url, &chat_script, 8, Duration::from_secs(1))?;

    println!("==> throughput, 32 connections");
    let direct_32 = wrk(&direct_url, &chat_script, 32, durations.throughput)?;
    let gateway_32 = wrk(&gateway_url, &chat_gw_script, 32, durations.throughput)?;
    let proxy_32 = wrk(&proxy_url, &chat_script, 32, durations.throughput)?;

    println!("==> latency, 1 connection");
    let overhead_before = overhead_metric(gateway_addr)?;
    let gateway_1 = wrk(&gateway_url, &chat_gw_script, 1, durations.latency)?;
    let overhead_after = overhead_metric(gateway_addr)?;
    let direct_1 = wrk(&direct_url, &chat_script, 1, durations.latency)?;
    let proxy_1 = wrk(&proxy_url, &chat_script, 1, durations.latency)?;

    println!("==> time to first token, 1 connection");
    let stream_gw = STREAM_BODY.replace("\"gpt-4o\"", "\"upstream-stream/gpt-4o\"");
    let ttft_direct = ttft(
        upstream,
        "/stream/v1/chat/completions",
        STREAM_BODY,
        durations.ttft_requests,
    )?;
    let ttft_gateway = ttft(
        gateway_addr,
        "/v1/chat/completions",
        &stream_gw,
        durations.ttft_requests,
    )?;

    std::thread::sleep(Duration::from_millis(500));
    let rss_peak = rss_kib(pid, "VmHWM")?;
    let rss_after = rss_kib(pid, "VmRSS")?;

    println!(
        "==> {} concurrent slow streams (mock, 50 tokens x 60 ms)",
        durations.slow_streams
    );
    let slow = slow_streams(gateway_addr, pid, durations.slow_streams)?;
    let rss_after_slow = rss_kib(pid, "VmRSS")?;

    drop(gateway);
    drop(proxy);
    drop(nginx);

    let overhead_mean_us = {
        let (sum, count) = (
            overhead_after.0 - overhead_before.0,
            overhead_after.1 - overhead_before.1,
        );
        if count > 0.0 {
            sum / count * 1e6
        } else {
            f64::NAN
        }
    };
    let added_mean_us = gateway_1.mean_us - direct_1.mean_us;
    let report = json!({
        "machine": machine(),
        "quick": quick,
        "throughput_32": {
            "direct_rps": direct_32.rps,
            "gateway_rps": gateway_32.rps,
            "ratio": gateway_32.rps / direct_32.rps,
            "gateway_errors": gateway_32.errors,
            "nginx_proxy_rps": proxy_32.rps,
            "nginx_proxy_ratio": proxy_32.rps / direct_32.rps,
            "target_ratio": 0.45,
        },
        "latency_1": {
            "direct_p50_us": direct_1.p50_us,
            "gateway_p50_us": gateway_1.p50_us,
            "added_p50_us": gateway_1.p50_us - direct_1.p50_us,
            "direct_p99_us": direct_1.p99_us,
            "gateway_p99_us": gateway_1.p99_us,
            "added_p99_us": gateway_1.p99_us - direct_1.p99_us,
            "added_mean_us": added_mean_us,
            "nginx_proxy_p50_us": proxy_1.p50_us,
            "nginx_proxy_added_p50_us": proxy_1.p50_us - direct_1.p50_us,
            "target_added_p50_us": 50,
        },
        "ttft_1": {
            "direct_p50_us": ttft_direct.p50_us,
            "gateway_p50_us": ttft_gateway.p50_us,
            "added_p50_us": ttft_gateway.p50_us - ttft_direct.p50_us,
            "direct_p99_us": ttft_direct.p99_us,
            "gateway_p99_us": ttft_gateway.p99_us,
            "target_added_us": 50,
        },
        "overhead_metric": {
            "metrics_mean_us": overhead_mean_us,
            "harness_added_mean_us": added_mean_us,
            "harness_added_p50_us": gateway_1.p50_us - direct_1.p50_us,
            // The harness's added p50 over the metric's mean: wrk's mean is
            // pulled around by a few slow outliers of either column.
            "ratio": (gateway_1.p50_us - direct_1.p50_us) / overhead_mean_us,
        },
        "rss_kib": {
            "idle": rss_idle,
            "peak_after_load": rss_peak,
            "after_load": rss_after,
            "slow_streams": slow.streams,
            "slow_streams_completed": slow.completed,
            "slow_streams_peak": slow.peak_rss_kib,
            "after_slow_streams": rss_after_slow,
            "target_idle": 20 * 1024,
            "target_slow_streams": 60 * 1024,
        },
        "startup_ms": startup.as_secs_f64() * 1000.0,
        "target_startup_ms": 20,
    });
    let path = work.join("report.json");
    std::fs::write(&path, serde_json::to_string_pretty(&report)?)?;
    print!("{}", table(&report));
    println!("\nJSON: {}", path.display());
    if slow.completed < slow.streams {
        bail!(
            "only {} of {} slow streams completed",
            slow.completed,
            slow.streams
        );
    }
    if gateway_32.errors > 0 || gateway_1.errors > 0 {
        bail!(
            "the gateway answered with errors during the load; see target/bench-load/gateway.log"
        );
    }
    Ok(())
}

/// The Markdown table of a report.
fn table(r: &Value) -> String {
    let f = |p: &str| r.pointer(p).and_then(Value::as_f64).unwrap_or(f64::NAN);
    let mut s = String::new();
    let _ = writeln!(s, "\n{}\n", r["machine"].as_str().unwrap_or_default());
    let _ = writeln!(
        s,
        "| measure | direct | through the gateway | result | target |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|");
    let _ = writeln!(
        s,
        "| throughput, 32 connections | {:.0} req/s | {:.0} req/s | **{:.2}x** | >= 0.45x |",
        f("/throughput_32/direct_rps"),
        f("/throughput_32/gateway_rps"),
        f("/throughput_32/ratio"),
    );
    let _ = writeln!(
        s,
        "| latency p50, 1 connection | {:.0} us | {:.0} us | **{:+.0} us** | <= +50 us |",
        f("/latency_1/direct_p50_us"),
        f("/latency_1/gateway_p50_us"),
        f("/latency_1/added_p50_us"),
    );
    let _ = writeln!(
        s,
        "| reference: nginx as a plain reverse proxy | | {:.0} req/s, p50 {:.0} us | {:.2}x, {:+.0} us | |",
        f("/throughput_32/nginx_proxy_rps"),
        f("/latency_1/nginx_proxy_p50_us"),
        f("/throughput_32/nginx_proxy_ratio"),
        f("/latency_1/nginx_proxy_added_p50_us"),
    );
    let _ = writeln!(
        s,
        "| latency p99, 1 connection | {:.0} us | {:.0} us | {:+.0} us | |",
        f("/latency_1/direct_p99_us"),
        f("/latency_1/gateway_p99_us"),
        f("/latency_1/added_p99_us"),
    );
    let _ = writeln!(
        s,
        "| time to first token p50, stream | {:.0} us | {:.0} us | **{:+.0} us** | <= +50 us |",
        f("/ttft_1/direct_p50_us"),
        f("/ttft_1/gateway_p50_us"),
        f("/ttft_1/added_p50_us"),
    );
    let _ = writeln!(
        s,
        "| /metrics gateway_overhead_seconds mean vs added p50 | | {:.1} us | {:.1} us ({:.2}x) | within 2x |",
        f("/overhead_metric/metrics_mean_us"),
        f("/overhead_metric/harness_added_p50_us"),
        f("/overhead_metric/ratio"),
    );
    let mib = |p: &str| f(p) / 1024.0;
    let _ = writeln!(
        s,
        "| RSS idle / peak / after load | | {:.1} / {:.1} / {:.1} MiB | | idle <= 20 MiB |",
        mib("/rss_kib/idle"),
        mib("/rss_kib/peak_after_load"),
        mib("/rss_kib/after_load"),
    );
    let _ = writeln!(
        s,
        "| RSS with {:.0} concurrent slow streams | | {:.1} MiB | {:.0} completed | <= 60 MiB |",
        f("/rss_kib/slow_streams"),
        mib("/rss_kib/slow_streams_peak"),
        f("/rss_kib/slow_streams_completed"),
    );
    let _ = writeln!(
        s,
        "| startup to ready | | {:.1} ms | | <= 20 ms |",
        f("/startup_ms"),
    );
    s
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!(
        "{cores} cores ({cpu}), Linux {}; wrk, nginx and the gateway on the same machine",
        kernel.trim()
    )
}

/// Installs nginx and wrk from Debian's packages when missing.
fn ensure_tools() -> anyhow::Result<()> {
    let missing: Vec<&str> = [("nginx", "nginx-light"), ("wrk", "wrk")]
        .into_iter()
        .filter(|(bin, _)| find_binary(bin).is_none())
        .map(|(_, pkg)| pkg)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    println!("==> apt-get install {}", missing.join(" "));
    let ok = Command::new("apt-get")
        .args(["update", "-qq"])
        .status()
        .is_ok_and(|s| s.success())
        && Command::new("apt-get")
            .args(["install", "-y", "-qq"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .is_ok_and(|s| s.success());
    if !ok {
        bail!(
            "cannot install {}; install nginx and wrk, then run again",
            missing.join(" ")
        );
    }
    Ok(())
}

fn find_binary(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Kills the child when dropped.
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        // SIGTERM first: nginx's master then stops its workers (a SIGKILL
        // would leave them running, holding the port).
        let terminated = Command::new("kill")
            .arg(self.0.id().to_string())
            .status()
            .is_ok_and(|s| s.success());
        let deadline = Instant::now() + Duration::from_secs(3);
        while terminated && Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// nginx serving the canned upstream answers.
struct Nginx(#[allow(dead_code, reason = "kept to kill nginx on drop")] ChildGuard);

impl Nginx {
    fn start(root: &Path, work: &Path, port: u16) -> anyhow::Result<Nginx> {
        let data = root.join("providers/openai/tests/data");
        let chat = std::fs::read_to_string(data.join("chat_response.json"))?;
        let stream = std::fs::read_to_string(data.join("chat_stream_text.sse"))?;
        // Canned answers are static files; `error_page 405 =200` lets the
        // static module answer POSTs (nginx's `return` caps a string at 4 KiB).
        let www = work.join("www");
        let models = std::fs::read_to_string(data.join("models_list.json"))?;
        for (path, body) in [
            ("v1/chat/completions", &chat),
            ("stream/v1/chat/completions", &stream),
            ("v1/models", &models),
            ("stream/v1/models", &models),
        ] {
            let file = www.join(path);
            if let Some(parent) = file.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&file, body)?;
        }
        let conf = work.join("nginx.conf");
        let dir = work.display();
        std::fs::write(
            &conf,
            format!(
                r#"# Written by cargo xtask bench-load: a fixed, fast OpenAI-shaped upstream.
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {dir}/nginx-body;
  keepalive_requests 1000000;
  open_file_cache max=16;
  root {dir}/www;
  server {{
    listen 127.0.0.1:{port};
    location = /healthz {{ return 200 "ok"; }}
    location ~ /models$ {{ default_type application/json; }}
    # The recorded chat completion (providers/openai/tests/data/chat_response.json).
    location = /v1/chat/completions {{
      default_type application/json;
      error_page 405 =200 $uri;
    }}
    # The recorded stream (providers/openai/tests/data/chat_stream_text.sse).
    location = /stream/v1/chat/completions {{
      default_type text/event-stream;
      error_page 405 =200 $uri;
    }}
  }}
}}
"#
            ),
        )?;
        Self::spawn(work, &conf)
    }

    /// A second nginx, proxying to the first with keep-alive: the reference
    /// for what a proxy that parses nothing costs on this machine.
    fn start_proxy(work: &Path, port: u16, upstream: SocketAddr) -> anyhow::Result<Nginx> {
        let conf = work.join("nginx-proxy.conf");
        let dir = work.display();
        std::fs::write(
            &conf,
            format!(
                r#"# Written by cargo xtask bench-load: nginx as a plain reverse proxy (reference).
worker_processes 1;
daemon off;
pid {dir}/nginx-proxy.pid;
error_log {dir}/nginx-proxy-error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {dir}/nginx-proxy-body;
  proxy_temp_path {dir}/nginx-proxy-temp;
  keepalive_requests 1000000;
  upstream up {{ server {upstream}; keepalive 64; keepalive_requests 1000000; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://up;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }}
  }}
}}
"#
            ),
        )?;
        Self::spawn(work, &conf)
    }

    fn spawn(work: &Path, conf: &Path) -> anyhow::Result<Nginx> {
        let nginx = find_binary("nginx").context("nginx not found")?;
        let child = Command::new(nginx)
            .arg("-p")
            .arg(work)
            .arg("-c")
            .arg(conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start nginx")?;
        Ok(Nginx(ChildGuard(child)))
    }
}

fn wait_ready(addr: SocketAddr, path: &str, within: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + within;
    loop {
        if let Ok(mut conn) = TcpStream::connect(addr) {
            let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
            let mut answer = String::new();
            if conn.write_all(req.as_bytes()).is_ok()
                && conn.read_to_string(&mut answer).is_ok()
                && answer.starts_with("HTTP/1.1 200")
            {
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            bail!("{addr}{path} did not answer 200 within {within:?}");
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

fn rss_kib(pid: u32, field: &str) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .with_context(|| format!("no {field} in /proc/{pid}/status"))
}

fn lua_script(work: &Path, name: &str, body: &str) -> anyhow::Result<PathBuf> {
    let path = work.join(name);
    std::fs::write(
        &path,
        format!(
            r#"-- Written by cargo xtask bench-load.
wrk.method = "POST"
wrk.body = [[{body}]]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-client"

done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    "WRK_JSON {{\"requests\":%d,\"duration_us\":%d,\"errors\":%d,\"mean_us\":%f,\"p50_us\":%d,\"p90_us\":%d,\"p99_us\":%d,\"max_us\":%d}}\n",
    summary.requests, summary.duration, errors, latency.mean,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"#
        ),
    )?;
    Ok(path)
}

/// One wrk run's numbers.
#[derive(Debug)]
struct WrkResult {
    rps: f64,
    errors: u64,
    mean_us: f64,
    p50_us: f64,
    p99_us: f64,
}

fn wrk(
    url: &str,
    script: &Path,
    connections: u32,
    duration: Duration,
) -> anyhow::Result<WrkResult> {
    let threads = connections.min(2);
    let output = Command::new(find_binary("wrk").context("wrk not found")?)
        .arg(format!("-t{threads}"))
        .arg(format!("-c{connections}"))
        .arg(format!("-d{}s", duration.as_secs().max(1)))
        .arg("-s")
        .arg(script)
        .arg(url)
        .output()
        .context("cannot run wrk")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("WRK_JSON "))
        .with_context(|| format!("wrk printed no result:\n{stdout}"))?;
    let v: Value = serde_json::from_str(line)?;
    let f = |k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    let result = WrkResult {
        rps: f("requests") / (f("duration_us") / 1e6),
        errors: v["errors"].as_u64().unwrap_or(0),
        mean_us: f("mean_us"),
        p50_us: f("p50_us"),
        p99_us: f("p99_us"),
    };
    println!(
        "    {url} c={connections}: {:.0} req/s, p50 {:.0} us, p99 {:.0} us, errors {}",
        result.rps, result.p50_us, result.p99_us, result.errors
    );
    Ok(result)
}

/// Sum and count of `switchboard_gateway_overhead_seconds{api="openai"}`.
fn overhead_metric(addr: SocketAddr) -> anyhow::Result<(f64, f64)> {
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

/// Percentiles of a time-to-first-token series.
struct Ttft {
    p50_us: f64,
    p99_us: f64,
}

/// `n` streamed requests one after another on one keep-alive connection;
/// the time from sending each request to the first chunk carrying text.
fn ttft(addr: SocketAddr, path: &str, body: &str, n: usize) -> anyhow::Result<Ttft> {
    let mut conn = HttpConn::connect(addr)?;
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n + n / 10 {
        let started = Instant::now();
        let first = conn.stream(path, body)?;
        samples.push(first.duration_since(started));
    }
    // The first tenth warms up.
    let mut samples: Vec<f64> = samples[n / 10..]
        .iter()
        .map(|d| d.as_secs_f64() * 1e6)
        .collect();
    samples.sort_by(f64::total_cmp);
    let pct = |p: f64| samples[((samples.len() as f64 - 1.0) * p).round() as usize];
    let result = Ttft {
        p50_us: pct(0.5),
        p99_us: pct(0.99),
    };
    println!(
        "    {addr}{path}: TTFT p50 {:.0} us, p99 {:.0} us",
        result.p50_us, result.p99_us
    );
    Ok(result)
}

/// A minimal HTTP/1.1 client on a blocking socket: enough to time a
/// stream's first text chunk and read its end (Content-Length or chunked).
struct HttpConn {
    addr: SocketAddr,
    reader: BufReader<TcpStream>,
}

impl HttpConn {
    fn connect(addr: SocketAddr) -> anyhow::Result<HttpConn> {
        let stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        Ok(HttpConn {
            addr,
            reader: BufReader::with_capacity(64 * 1024, stream),
        })
    }

    /// Sends a streamed request; returns when the first text arrived, after
    /// reading the whole response.
    fn stream(&mut self, path: &str, body: &str) -> anyhow::Result<Instant> {
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.addr,
            body.len()
        );
        self.reader.get_mut().write_all(request.as_bytes())?;
        let mut line = String::new();
        self.reader.read_line(&mut line)?;
        if !line.starts_with("HTTP/1.1 200") {
            bail!("{}{path} answered `{}`", self.addr, line.trim());
        }
        let mut length: Option<usize> = None;
        let mut chunked = false;
        loop {
            line.clear();
            if self.reader.read_line(&mut line)? == 0 {
                bail!("connection closed in the headers");
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            let lower = l.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                length = v.trim().parse().ok();
            } else if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
                chunked = true;
            }
        }
        let mut seen = Vec::with_capacity(8 * 1024);
        let mut first: Option<Instant> = None;
        let needle = b"\"content\":\"";
        let check = |seen: &[u8], first: &mut Option<Instant>| {
            if first.is_none() {
                let has_text = seen
                    .windows(needle.len() + 1)
                    .any(|w| &w[..needle.len()] == needle && w[needle.len()] != b'"');
                if has_text {
                    *first = Some(Instant::now());
                }
            }
        };
        if chunked {
            loop {
                line.clear();
                self.reader.read_line(&mut line)?;
                let size = usize::from_str_radix(line.trim(), 16)
                    .with_context(|| format!("bad chunk size `{}`", line.trim()))?;
                if size == 0 {
                    line.clear();
                    self.reader.read_line(&mut line)?;
                    break;
                }
                let start = seen.len();
                seen.resize(start + size, 0);
                self.reader.read_exact(&mut seen[start..])?;
                let mut crlf = [0u8; 2];
                self.reader.read_exact(&mut crlf)?;
                check(&seen, &mut first);
            }
        } else {
            let length = length.context("neither Content-Length nor chunked")?;
            seen.resize(length, 0);
            self.reader.read_exact(&mut seen)?;
            check(&seen, &mut first);
        }
        first.context("the stream carried no text")
    }
}

/// What the slow-stream phase saw.
struct Slow {
    streams: usize,
    completed: usize,
    peak_rss_kib: f64,
}

/// `n` concurrent streams from the slow mock; samples the gateway's RSS
/// while they are all open.
fn slow_streams(gateway: SocketAddr, pid: u32, n: usize) -> anyhow::Result<Slow> {
    let started = Arc::new(AtomicUsize::new(0));
    let completed = Arc::new(AtomicUsize::new(0));
    let body =
        r#"{"model":"slow/mock-1","messages":[{"role":"user","content":"go"}],"stream":true}"#;
    let mut handles = Vec::with_capacity(n);
    for _ in 0..n {
        let (started, completed) = (started.clone(), completed.clone());
        let handle = std::thread::Builder::new().stack_size(128 * 1024).spawn(
            move || -> anyhow::Result<()> {
                let mut conn = HttpConn::connect(gateway)?;
                started.fetch_add(1, Ordering::Relaxed);
                conn.stream("/v1/chat/completions", body)?;
                completed.fetch_add(1, Ordering::Relaxed);
                Ok(())
            },
        )?;
        handles.push(handle);
    }
    let mut peak: f64 = 0.0;
    let deadline = Instant::now() + Duration::from_secs(60);
    while completed.load(Ordering::Relaxed) < n && Instant::now() < deadline {
        if let Ok(rss) = rss_kib(pid, "VmRSS") {
            peak = peak.max(rss);
        }
        std::thread::sleep(Duration::from_millis(50));
        if handles.iter().all(|h| h.is_finished()) {
            break;
        }
    }
    let mut first_error = None;
    for h in handles {
        match h.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                first_error.get_or_insert(e);
            }
            Err(_) => {
                first_error.get_or_insert(anyhow::anyhow!("a client thread panicked"));
            }
        }
    }
    if let Some(e) = first_error {
        println!("    first slow-stream error: {e:#}");
    }
    let completed = completed.load(Ordering::Relaxed);
    println!(
        "    {completed}/{n} streams completed; gateway RSS peak while open {:.1} MiB",
        peak / 1024.0
    );
    Ok(Slow {
        streams: n,
        completed,
        peak_rss_kib: peak,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-connection server answering each request with `answers` in order.
    fn serve(answers: Vec<&'static str>) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binds");
        let addr = listener.local_addr().expect("addr");
        std::thread::spawn(move || {
            let Ok((conn, _)) = listener.accept() else {
                return;
            };
            let mut reader = BufReader::new(conn);
            for answer in answers {
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                    if line == "\r\n" {
                        break;
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let _ = reader.get_mut().write_all(answer.as_bytes());
            }
        });
        addr
    }

    const CHUNKED: &str = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n\
        16\r\ndata: {\"content\":\"\"}\n\n\r\n\
        18\r\ndata: {\"content\":\"Hi\"}\n\n\r\n\
        0\r\n\r\n";
    const LENGTH: &str =
        "HTTP/1.1 200 OK\r\ncontent-length: 24\r\n\r\ndata: {\"content\":\"Hi\"}\n\n";
    const EMPTY: &str = "HTTP/1.1 200 OK\r\ncontent-length: 22\r\n\r\ndata: {\"content\":\"\"}\n\n";

    #[test]
    fn times_first_text_over_one_keep_alive_connection() {
        let addr = serve(vec![CHUNKED, LENGTH, CHUNKED, EMPTY]);
        let mut conn = HttpConn::connect(addr).expect("connects");
        for _ in 0..3 {
            let started = Instant::now();
            let first = conn.stream("/s", "{}").expect("a stream with text");
            assert!(first >= started);
        }
        let err = conn.stream("/s", "{}").expect_err("no text in it");
        assert!(err.to_string().contains("no text"), "{err}");
    }

    #[test]
    fn a_non_200_answer_is_an_error() {
        let addr = serve(vec![
            "HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n",
        ]);
        let mut conn = HttpConn::connect(addr).expect("connects");
        let err = conn.stream("/s", "{}").expect_err("502");
        assert!(err.to_string().contains("502"), "{err}");
    }

    #[test]
    fn reads_rss_of_this_process() {
        let rss = rss_kib(std::process::id(), "VmRSS").expect("Linux /proc");
        assert!(rss > 100.0, "{rss}");
        assert!(rss_kib(std::process::id(), "NoSuchField").is_err());
    }
}
