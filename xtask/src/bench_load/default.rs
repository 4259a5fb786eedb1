//! The default mode of `cargo xtask bench-load`: what the gateway adds,
//! measured against the same upstream called directly and against nginx as
//! a plain reverse proxy, in one run (the table the README quotes).
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
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::bail;
use serde_json::{Value, json};

use super::args::Opts;
use super::client::{HttpConn, ttft};
use super::gateway::{Gateway, GatewayConfig, overhead_metric};
use super::tools::{ensure_tools, gateway_binary, machine, rss_kib, work_dir};
use super::upstream::Nginx;
use super::wrk::{CHAT_BODY, CLIENT_AUTH, chat_body, lua_script, wrk};

/// How long each phase runs.
struct Durations {
    throughput: Duration,
    latency: Duration,
    ttft_requests: usize,
    slow_streams: usize,
}

const STREAM_BODY: &str = r#"{"model":"gpt-4o","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Hello!"}],"stream":true}"#;

/// Runs the default harness.
pub(super) fn run(root: &Path, opts: &Opts) -> anyhow::Result<()> {
    let quick = opts.quick;
    let with_usage = opts.with_usage;
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
    let binary = gateway_binary(root)?;
    let work = work_dir(root)?;

    let nginx = Nginx::start_upstream(root, &work)?;
    let upstream = nginx.addr;
    let proxy = Nginx::start_proxy(&work, upstream)?;
    let proxy_addr = proxy.addr;

    let mut config = GatewayConfig::new(upstream)?;
    config.slow_mock = true;
    config.server = super::args::full_path_line(opts).into();
    if with_usage {
        config.extra =
            "\n[state]\npath = \":memory:\"\n\n[extensions.usage]\nenabled = true\n".into();
        println!("==> with the usage extension enabled");
    }

    println!("==> starting the gateway");
    let gateway = Gateway::start(&binary, &work, "switchboard", &config, None)?;
    let gateway_addr = gateway.addr;
    let startup = gateway.startup;
    let pid = gateway.pid;
    std::thread::sleep(Duration::from_millis(300));
    let rss_idle = rss_kib(pid, "VmRSS")?;

    // Warm both paths (connection pools, lazy statics) before measuring.
    let direct_url = format!("http://{upstream}/v1/chat/completions");
    let gateway_url = format!("http://{gateway_addr}/v1/chat/completions");
    let auth = [("Authorization", CLIENT_AUTH)];
    let chat_script = lua_script(&work, "chat.lua", CHAT_BODY, &auth)?;
    let chat_gw_script = lua_script(&work, "chat-gw.lua", &chat_body("up/gpt-4o"), &auth)?;
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
    let path = super::write_report(&work, "report.json", &report)?;
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
            "the gateway answered with errors during the load; see target/bench-load/switchboard.log"
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
