//! `cargo xtask soak [--requests N] [--concurrency C] [--quick] [--release]`:
//! the gateway binary (`switchboard serve`, all providers) against the chaos
//! upstream of the fault matrix and the mock, for N requests (default
//! 100,000; `--quick` 5,000) mixing faults, fallbacks, client disconnects
//! and config reloads (SIGHUP after rewriting the file).
//!
//! It reports the requests that should have succeeded and did not, and the
//! gateway's RSS and open fds after a warm-up and after the run; it fails if
//! any should-succeed request failed, RSS grew more than 10%, or the fds did
//! not come back to the baseline (a few pooled upstream connections of slack).

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::json;

#[path = "../../crates/switchboard/tests/it/fault_matrix/chaos_upstream.rs"]
mod chaos_upstream;

use chaos_upstream::{Chaos, closed_port};

const USAGE: &str =
    "usage: cargo xtask soak [--requests N] [--concurrency C] [--quick] [--release]";

struct Opts {
    requests: usize,
    concurrency: usize,
    release: bool,
}

/// One kind of request of the mix: the model, streamed or not, whether it
/// must succeed, whether the client hangs up after the first bytes, and its
/// weight in the mix.
struct Kind {
    model: &'static str,
    stream: bool,
    must_succeed: bool,
    disconnect: bool,
    weight: usize,
}

const fn k(
    model: &'static str,
    stream: bool,
    must_succeed: bool,
    disconnect: bool,
    weight: usize,
) -> Kind {
    Kind {
        model,
        stream,
        must_succeed,
        disconnect,
        weight,
    }
}

/// The mix, per 1,000 requests. The rows that must succeed are the ones the
/// fault matrix says succeed on main today; failures that are answered are
/// fine for the others.
#[rustfmt::skip]
const MIX: &[Kind] = &[
    //  model              stream must   disconnect weight
    k("mock/mock-1",        false, true,  false, 300),
    k("mock/mock-1",        true,  true,  false, 200),
    k("chaos/ok",           false, true,  false, 100),
    k("chaos/ok",           true,  true,  false, 60),
    k("fb-500",             false, true,  false, 60),
    k("fb-503",             true,  true,  false, 40),
    k("fb-refused",         false, true,  false, 30),
    k("fb-400",             false, false, false, 20),
    k("chaos/500",          false, false, false, 30),
    k("chaos/malformed",    false, false, false, 20),
    k("chaos/html",         true,  false, false, 20),
    k("chaos/partial",      true,  false, false, 20),
    k("chaos/mid-stream-error", true, false, false, 20),
    k("chaos/401",          false, false, false, 20),
    // Client disconnects mid-stream (slow tokens, dropped after the first bytes).
    k("slow/mock-1",        true,  false, true,  57),
    // A hang before headers (the instance timeout, then the mock).
    k("fb-hang",            false, true,  false, 3),
];

fn parse(args: &[&str]) -> anyhow::Result<Opts> {
    let mut opts = Opts {
        requests: 100_000,
        concurrency: 32,
        release: false,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut num = |name: &str| -> anyhow::Result<usize> {
            it.next()
                .and_then(|s| s.replace('_', "").parse().ok())
                .with_context(|| format!("{name} needs a number; {USAGE}"))
        };
        match *arg {
            "--requests" => opts.requests = num("--requests")?,
            "--concurrency" => opts.concurrency = num("--concurrency")?.max(1),
            "--quick" => opts.requests = 5_000,
            "--release" => opts.release = true,
            other => bail!("unknown argument `{other}`; {USAGE}"),
        }
    }
    Ok(opts)
}

/// Builds the binary and runs the soak.
pub(crate) fn run(root: &Path, args: &[&str]) -> anyhow::Result<()> {
    let opts = parse(args)?;
    let mut build = vec!["build", "-p", "switchboard", "--features", "all-providers"];
    if opts.release {
        build.push("--release");
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    println!("==> cargo {}", build.join(" "));
    let status = Command::new(cargo)
        .args(&build)
        .current_dir(root)
        .status()
        .context("cannot run cargo build")?;
    if !status.success() {
        bail!("the build failed ({status})");
    }
    let target = crate::target_dir(root);
    let bin = target
        .join(if opts.release { "release" } else { "debug" })
        .join("switchboard");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("tokio runtime")?;
    rt.block_on(soak(&bin, &opts))
}

fn config(chaos: &Chaos, dead_port: u16, listen: SocketAddr, generation: usize) -> String {
    let base = chaos.base_url();
    format!(
        r#"# Written by `cargo xtask soak` (generation {generation}).
[server]
listen = "{listen}"

[router]
retries_per_target = 1
backoff_base_ms = 10
backoff_max_ms = 50

# Lenient passive health: until per-deployment health lands (ISSUE13 #7),
# the failing models of the chaos instance would cool its healthy ones too.
[health]
consecutive_failures = 1000000
min_requests = 1000000

[providers.chaos]
kind = "openai-compatible"
base_url = "{base}"
api_key = "sk-soak"
timeout_ms = 1500

[providers.dead]
kind = "openai-compatible"
base_url = "http://127.0.0.1:{dead_port}/v1"
api_key = "sk-soak"
timeout_ms = 1500

[providers.mock]
kind = "mock"

[providers.slow]
kind = "mock"
token_delay_ms = 20

# Changed by every reload.
[providers.spare]
kind = "mock"
script = ["generation {generation}"]

[models.fb-500]
strategy = "fallback"
targets = ["chaos/500", "mock/mock-1"]

[models.fb-503]
strategy = "fallback"
targets = ["chaos/503", "mock/mock-1"]

[models.fb-400]
strategy = "fallback"
targets = ["chaos/400", "mock/mock-1"]

[models.fb-hang]
strategy = "fallback"
targets = ["chaos/hang", "mock/mock-1"]

[models.fb-refused]
strategy = "fallback"
targets = ["dead/refused", "mock/mock-1"]
"#
    )
}

/// The running gateway; killed on drop.
struct Gateway {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_gateway(bin: &Path, config: &Path, addr: SocketAddr) -> anyhow::Result<Gateway> {
    let child = Command::new(bin)
        .args(["serve", "--config"])
        .arg(config)
        .env("SWITCHBOARD_LOG", "error")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("cannot start {}", bin.display()))?;
    Ok(Gateway { child, addr })
}

async fn wait_ready(http: &reqwest::Client, addr: SocketAddr) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(r) = http.get(format!("http://{addr}/readyz")).send().await
            && r.status().is_success()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("the gateway did not become ready on {addr}")
}

fn fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

#[derive(Default)]
struct Counts {
    done: AtomicUsize,
    must_ok: AtomicUsize,
    must_failed: AtomicUsize,
    other: AtomicUsize,
    disconnects: AtomicUsize,
    reloads: AtomicUsize,
    failures: std::sync::Mutex<Vec<String>>,
}

/// Sends one request of `kind`; `Err` says why a must-succeed one failed.
async fn one(http: &reqwest::Client, addr: SocketAddr, kind: &Kind) -> Result<(), String> {
    let body = json!({"model": kind.model, "messages": [{"role": "user", "content": "soak"}], "stream": kind.stream});
    let resp = http
        .post(format!("http://{addr}/v1/chat/completions"))
        .json(&body)
        .send()
        .await
        .map_err(|e| format!("{}: send: {e}", kind.model))?;
    let status = resp.status();
    if kind.disconnect {
        let mut resp = resp;
        // The first bytes, then hang up.
        let _ = resp.chunk().await;
        return Ok(());
    }
    let text = resp
        .text()
        .await
        .map_err(|e| format!("{}: body: {e}", kind.model))?;
    if !status.is_success() {
        return Err(format!("{}: {status}: {text:.200}", kind.model));
    }
    let complete = if kind.stream {
        text.trim_end().ends_with("data: [DONE]")
    } else {
        text.contains("\"choices\"")
    };
    if complete {
        Ok(())
    } else {
        Err(format!("{}: incomplete answer: {text:.200}", kind.model))
    }
}

fn pick(i: usize) -> &'static Kind {
    let total: usize = MIX.iter().map(|k| k.weight).sum();
    // Spread the kinds (a multiplicative hash of the index).
    let mut slot = i.wrapping_mul(2_654_435_761) % total;
    for kind in MIX {
        if slot < kind.weight {
            return kind;
        }
        slot -= kind.weight;
    }
    &MIX[0]
}

/// Runs `n` requests starting at index `from`, `concurrency` at a time,
/// reloading the config every `reload_every` requests.
#[allow(clippy::too_many_arguments)]
async fn phase(
    http: &reqwest::Client,
    gw: &Gateway,
    from: usize,
    n: usize,
    concurrency: usize,
    counts: &Arc<Counts>,
    reload: &(dyn Fn(usize) + Sync),
    reload_every: usize,
) {
    let next = Arc::new(AtomicUsize::new(from));
    let end = from + n;
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (http, next, counts, addr) = (http.clone(), next.clone(), counts.clone(), gw.addr);
        workers.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= end {
                    break;
                }
                let kind = pick(i);
                let r = tokio::time::timeout(Duration::from_secs(30), one(&http, addr, kind))
                    .await
                    .unwrap_or_else(|_| Err(format!("{}: no answer in 30 s", kind.model)));
                counts.done.fetch_add(1, Ordering::Relaxed);
                match (kind.must_succeed, r) {
                    (true, Ok(())) => {
                        counts.must_ok.fetch_add(1, Ordering::Relaxed);
                    }
                    (true, Err(why)) => {
                        counts.must_failed.fetch_add(1, Ordering::Relaxed);
                        if let Ok(mut f) = counts.failures.lock()
                            && f.len() < 10
                        {
                            f.push(why);
                        }
                    }
                    (false, _) if kind.disconnect => {
                        counts.disconnects.fetch_add(1, Ordering::Relaxed);
                    }
                    (false, _) => {
                        counts.other.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        });
    }
    let mut last_reload = from;
    while !workers.is_empty() {
        tokio::select! {
            _ = workers.join_next() => {}
            _ = tokio::time::sleep(Duration::from_millis(50)) => {
                let done = next.load(Ordering::Relaxed).min(end);
                if reload_every > 0 && done >= last_reload + reload_every {
                    last_reload = done;
                    reload(counts.reloads.fetch_add(1, Ordering::Relaxed) + 1);
                }
            }
        }
    }
}

async fn soak(bin: &Path, opts: &Opts) -> anyhow::Result<()> {
    let chaos = Chaos::start().await.context("chaos upstream")?;
    let dir = std::env::temp_dir().join(format!("sb-soak-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("switchboard.toml");
    let listen: SocketAddr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0")?;
        l.local_addr()?
    };
    let dead = closed_port();
    std::fs::write(&path, config(&chaos, dead, listen, 0))?;
    let gw = start_gateway(bin, &path, listen)?;
    let pid = gw.child.id();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(opts.concurrency)
        .build()?;
    wait_ready(&http, gw.addr).await?;

    let reload = |generation: usize| {
        let _ = std::fs::write(&path, config(&chaos, dead, listen, generation));
        let _ = Command::new("kill")
            .args(["-HUP", &pid.to_string()])
            .status();
    };
    let counts = Arc::new(Counts::default());
    let warmup = (opts.requests / 20).clamp(500, 5_000);
    let started = Instant::now();
    phase(&http, &gw, 0, warmup, opts.concurrency, &counts, &reload, 0).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (rss_before, fds_before) = (rss_kib(pid), fds(pid));
    let warm = counts.done.load(Ordering::Relaxed);
    let reload_every = (opts.requests / 50).max(100);
    let t = Instant::now();
    phase(
        &http,
        &gw,
        warmup,
        opts.requests,
        opts.concurrency,
        &counts,
        &reload,
        reload_every,
    )
    .await;
    let secs = t.elapsed().as_secs_f64();
    // Let the disconnects, timeouts and idle pools settle.
    drop(http);
    let mut fds_after = fds(pid);
    for _ in 0..40 {
        if fds_after <= fds_before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
        fds_after = fds(pid);
    }
    let rss_after = rss_kib(pid);
    let alive = !exited(pid);
    drop(gw);
    let _ = std::fs::remove_dir_all(&dir);

    let c = &counts;
    let n = c.done.load(Ordering::Relaxed) - warm;
    let must_failed = c.must_failed.load(Ordering::Relaxed);
    let rss_growth = if rss_before > 0 {
        (rss_after as f64 - rss_before as f64) / rss_before as f64 * 100.0
    } else {
        0.0
    };
    println!("\n| soak | value |\n|---|---|");
    println!(
        "| requests (after {warm} warm-up) | {n} in {secs:.1} s ({:.0}/s), concurrency {} |",
        n as f64 / secs,
        opts.concurrency
    );
    println!(
        "| should succeed: ok / failed | {} / {must_failed} |",
        c.must_ok.load(Ordering::Relaxed)
    );
    println!(
        "| expected failures answered | {} |",
        c.other.load(Ordering::Relaxed)
    );
    println!(
        "| client disconnects | {} |",
        c.disconnects.load(Ordering::Relaxed)
    );
    println!(
        "| config reloads (SIGHUP) | {} |",
        c.reloads.load(Ordering::Relaxed)
    );
    println!("| chaos upstream attempts | {} |", chaos.total_attempts());
    println!(
        "| gateway RSS before / after | {:.1} / {:.1} MiB ({rss_growth:+.1}%) |",
        rss_before as f64 / 1024.0,
        rss_after as f64 / 1024.0
    );
    println!("| gateway open fds before / after | {fds_before} / {fds_after} |");
    println!("| total time | {:.1} s |", started.elapsed().as_secs_f64());
    if let Ok(f) = c.failures.lock() {
        for why in f.iter() {
            println!("failed: {why}");
        }
    }
    let mut problems = Vec::new();
    if !alive {
        problems.push("the gateway exited during the soak".to_owned());
    }
    if must_failed > 0 {
        problems.push(format!(
            "{must_failed} requests that should have succeeded failed"
        ));
    }
    if rss_growth > 10.0 {
        problems.push(format!("RSS grew {rss_growth:.1}% (> 10%)"));
    }
    // Slack for the pooled upstream connections of the last requests.
    if fds_after > fds_before + 4 {
        problems.push(format!(
            "open fds did not come back ({fds_before} -> {fds_after})"
        ));
    }
    if problems.is_empty() {
        println!("\nsoak: ok");
        Ok(())
    } else {
        bail!("soak failed: {}", problems.join("; "))
    }
}

/// Whether the process has exited (a zombie, not yet reaped), from `/proc`.
fn exited(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map(|s| {
            s.lines()
                .any(|l| l.starts_with("State:") && (l.contains('Z') || l.contains('X')))
        })
        .unwrap_or(true)
}
