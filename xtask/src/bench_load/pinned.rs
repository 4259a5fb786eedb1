//! `--pinned`: the gateway alone on core 1 (`taskset -c 1`), everything
//! else — this harness, wrk, nginx, the paced upstream — on core 0. The
//! gateway's numbers are then its own core's, not a share of two cores
//! fought over with the load generator.
//!
//! Reported:
//! - added p50/p99 latency at one connection (gateway vs nginx direct,
//!   alternating in the same run: `client::latency_c1`);
//! - the throughput climb: wrk at 1, 2, 4, ... connections through the
//!   gateway until p99 passes 1 ms, with the gateway's CPU time per request
//!   (`/proc/<pid>/stat` utime+stime before and after each window);
//! - a paced stream (64 frames, 20 ms apart): time to first token and the
//!   gaps between frames, direct and through;
//! - the highest stall-free stream concurrency: N paced streams at once,
//!   doubling N, until one has a gap over 200 ms (or fails), or 4096.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

use super::args::Opts;
use super::client::{Percentiles, Target, latency_c1};
use super::gateway::{Gateway, GatewayConfig};
use super::paced::PacedUpstream;
use super::streams::{StreamRequest, StreamSummary, concurrent, sequential};
use super::tools::{cpu_time, ensure_tools, gateway_binary, machine, raise_fd_limit, work_dir};
use super::upstream::Nginx;
use super::wrk::{CHAT_BODY, CLIENT_AUTH, chat_body, lua_script, wrk_threads};

/// Frames in a paced stream.
const FRAMES: usize = 64;
/// Between two frames of a paced stream.
const FRAME_GAP: Duration = Duration::from_millis(20);
/// A gap between frames longer than this is a stall.
const STALL: Duration = Duration::from_millis(200);
/// The climb stops once p99 passes this.
const P99_LIMIT_US: f64 = 1000.0;

/// How long each phase runs.
struct Plan {
    latency: Duration,
    climb_window: Duration,
    max_connections: u32,
    paced_streams: usize,
    max_streams: usize,
}

/// Runs the pinned mode.
pub(super) fn run(root: &Path, opts: &Opts) -> anyhow::Result<()> {
    let plan = if opts.quick {
        Plan {
            latency: Duration::from_secs(2),
            climb_window: Duration::from_secs(1),
            max_connections: 64,
            paced_streams: 3,
            max_streams: 256,
        }
    } else {
        Plan {
            latency: Duration::from_secs(10),
            climb_window: Duration::from_secs(5),
            max_connections: 1024,
            paced_streams: 10,
            max_streams: 4096,
        }
    };
    ensure_tools()?;
    let binary = gateway_binary(root)?;
    let work = work_dir(root)?;
    let machine = machine();
    pin_self_to_core_0()?;
    raise_fd_limit(16_384);

    // Started after the pin: nginx, wrk and the paced upstream's thread all
    // inherit core 0.
    let nginx = Nginx::start_upstream(root, &work)?;
    let paced = PacedUpstream::start(FRAMES, FRAME_GAP)?;
    let mut config = GatewayConfig::new(nginx.addr)?;
    config.paced = Some(paced.addr);
    // The default (1,024) would queue the larger stream steps in the
    // listen backlog: the point is what the gateway does with them all open.
    config.server = format!(
        "max_connections = 10000\n{}",
        super::args::full_path_line(opts)
    );
    println!("==> starting the gateway on core 1");
    let gateway = Gateway::start(&binary, &work, "switchboard-pinned", &config, Some("1"))?;

    let auth = [("Authorization", CLIENT_AUTH)];
    let gw_body = chat_body("up/gpt-4o");
    let gw_script = lua_script(&work, "chat-gw.lua", &gw_body, &auth)?;
    let gw_url = format!("http://{}/v1/chat/completions", gateway.addr);
    wrk_threads(&gw_url, &gw_script, 8, 1, Duration::from_secs(1))?;

    println!("==> latency, 1 connection (direct and gateway taking turns)");
    let path = "/v1/chat/completions";
    let c1 = latency_c1(
        &[
            Target {
                name: "direct",
                addr: nginx.addr,
                path,
                body: CHAT_BODY,
                headers: &auth,
            },
            Target {
                name: "gateway",
                addr: gateway.addr,
                path,
                body: &gw_body,
                headers: &auth,
            },
        ],
        plan.latency,
    )?;

    println!("==> throughput climb through the gateway, until p99 > 1 ms");
    let mut climb = Vec::new();
    let mut c = 1;
    while c <= plan.max_connections {
        let cpu_before = cpu_time(gateway.pid)?;
        let started = Instant::now();
        let r = wrk_threads(&gw_url, &gw_script, c, 1, plan.climb_window)?;
        let wall = started.elapsed();
        let cpu = cpu_time(gateway.pid)?.saturating_sub(cpu_before);
        let step = json!({
            "connections": c,
            "rps": r.rps,
            "p50_us": r.p50_us,
            "p99_us": r.p99_us,
            "errors": r.errors,
            "cpu_us_per_request": cpu.as_secs_f64() * 1e6 / r.requests.max(1.0),
            "gateway_cpu_share": cpu.as_secs_f64() / wall.as_secs_f64(),
        });
        println!(
            "      gateway CPU {:.1} us/request, {:.0}% of its core",
            step["cpu_us_per_request"].as_f64().unwrap_or(f64::NAN),
            step["gateway_cpu_share"].as_f64().unwrap_or(f64::NAN) * 100.0
        );
        climb.push(step);
        if r.p99_us > P99_LIMIT_US {
            break;
        }
        c *= 2;
    }

    println!("==> paced stream ({FRAMES} frames, {FRAME_GAP:?} apart), one at a time");
    let bound = FRAME_GAP * FRAMES as u32 + Duration::from_secs(30);
    let direct_stream = StreamRequest {
        addr: paced.addr,
        path: path.into(),
        body: stream_body("gpt-4o"),
    };
    let gw_stream = StreamRequest {
        addr: gateway.addr,
        path: path.into(),
        body: stream_body("paced/gpt-4o"),
    };
    let paced_1 = sequential(
        &[("direct", direct_stream), ("gateway", gw_stream.clone())],
        plan.paced_streams,
        bound,
    )?;

    println!("==> concurrent paced streams through the gateway, doubling until a stall");
    let stalls = stall_free(&gw_stream, gateway.pid, plan.max_streams, bound)?;

    drop(gateway);
    drop(paced);
    drop(nginx);

    let pcts = |p: &Percentiles| json!({"p50_us": p.p50_us, "p99_us": p.p99_us, "max_us": p.max_us, "n": p.n});
    let summary = |s: &StreamSummary| json!({"ttft": pcts(&s.ttft), "gap": pcts(&s.gap), "streams": s.streams, "completed": s.completed});
    let report = json!({
        "machine": machine,
        "quick": opts.quick,
        "pinning": "gateway on core 1; harness, wrk, nginx and the paced upstream on core 0",
        "latency_1": {"direct": pcts(&c1[0]), "gateway": pcts(&c1[1])},
        "climb": climb,
        "paced_stream": {
            "frames": FRAMES,
            "frame_gap_ms": FRAME_GAP.as_millis() as u64,
            "direct": summary(&paced_1[0]),
            "gateway": summary(&paced_1[1]),
        },
        "streams": stalls,
    });
    let path = super::write_report(&work, "report-pinned.json", &report)?;
    print!("{}", table(&report));
    println!("\nJSON: {}", path.display());
    Ok(())
}

/// A streamed chat completion for `model`.
fn stream_body(model: &str) -> String {
    format!(
        r#"{{"model":"{model}","messages":[{{"role":"user","content":"Hello!"}}],"stream":true}}"#
    )
}

/// Pins this process (every thread) to core 0, so that what it starts
/// inherits core 0; fails when the machine has no core 1 to give the
/// gateway.
fn pin_self_to_core_0() -> anyhow::Result<()> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cores < 2 {
        bail!("--pinned needs two cores (this process may use {cores})");
    }
    let status = Command::new("taskset")
        .args(["-a", "-p", "-c", "0"])
        .arg(std::process::id().to_string())
        .stdout(std::process::Stdio::null())
        .status()
        .context("cannot run taskset (util-linux)")?;
    if !status.success() {
        bail!("taskset could not pin this process to core 0");
    }
    Ok(())
}

/// N paced streams at once through the gateway, N = 16, 32, ... up to
/// `max`, until a step stalls (a gap over [`STALL`], or a stream that
/// failed or came short). Every step's numbers, and the highest N without
/// a stall.
fn stall_free(req: &StreamRequest, pid: u32, max: usize, bound: Duration) -> anyhow::Result<Value> {
    let me = std::process::id();
    let mut steps = Vec::new();
    let mut highest_ok: Option<usize> = None;
    let mut first_stall: Option<Value> = None;
    let mut n = 16;
    while n <= max {
        let (gw_before, me_before) = (cpu_time(pid)?, cpu_time(me)?);
        let started = Instant::now();
        let results = concurrent(req, n, bound)?;
        let wall = started.elapsed().as_secs_f64();
        let gw_cpu = cpu_time(pid)?.saturating_sub(gw_before).as_secs_f64();
        let me_cpu = cpu_time(me)?.saturating_sub(me_before).as_secs_f64();
        let mut errors = Vec::new();
        let mut timings = Vec::with_capacity(n);
        for r in results {
            match r {
                Ok(t) => timings.push(t),
                Err(e) => errors.push(format!("{e:#}")),
            }
        }
        let s = StreamSummary::of(&timings, FRAMES);
        let short = s.streams - s.completed;
        let stalled = !errors.is_empty() || short > 0 || s.gap.max_us > STALL.as_secs_f64() * 1e6;
        let step = json!({
            "streams": n,
            "completed": s.completed,
            "failed": errors.len(),
            "first_error": errors.first(),
            "ttft_p99_us": s.ttft.p99_us,
            "gap_p50_us": s.gap.p50_us,
            "gap_p99_us": s.gap.p99_us,
            "gap_max_us": s.gap.max_us,
            "gateway_cpu_share": gw_cpu / wall,
            "harness_cpu_share": me_cpu / wall,
            "stalled": stalled,
        });
        println!(
            "    {n} streams: {} completed, {} failed; gap p99 {:.1} ms, max {:.1} ms; CPU: gateway {:.0}%, harness {:.0}%{}",
            s.completed,
            errors.len(),
            s.gap.p99_us / 1000.0,
            s.gap.max_us / 1000.0,
            gw_cpu / wall * 100.0,
            me_cpu / wall * 100.0,
            if stalled { " — STALL" } else { "" }
        );
        if let Some(e) = errors.first() {
            println!("      first error: {e}");
        }
        steps.push(step.clone());
        if stalled {
            first_stall = Some(step);
            break;
        }
        highest_ok = Some(n);
        n *= 2;
    }
    Ok(json!({
        "stall_gap_ms": STALL.as_millis() as u64,
        "max_tried": max,
        "highest_stall_free": highest_ok,
        "first_stall": first_stall,
        "steps": steps,
    }))
}

/// The Markdown tables of a pinned report.
fn table(r: &Value) -> String {
    let f = |v: &Value, p: &str| v.pointer(p).and_then(Value::as_f64).unwrap_or(f64::NAN);
    let mut s = String::new();
    let _ = writeln!(s, "\n{}", r["machine"].as_str().unwrap_or_default());
    let _ = writeln!(s, "{}\n", r["pinning"].as_str().unwrap_or_default());
    let _ = writeln!(s, "| measure | direct | through the gateway | added |");
    let _ = writeln!(s, "|---|---|---|---|");
    for (name, p) in [("p50", "p50_us"), ("p99", "p99_us")] {
        let (d, g) = (
            f(r, &format!("/latency_1/direct/{p}")),
            f(r, &format!("/latency_1/gateway/{p}")),
        );
        let _ = writeln!(
            s,
            "| latency {name}, 1 connection | {d:.0} us | {g:.0} us | **{:+.0} us** |",
            g - d
        );
    }
    for (name, p) in [
        ("paced stream: time to first token p50", "ttft/p50_us"),
        ("paced stream: time to first token p99", "ttft/p99_us"),
        ("paced stream: gap between frames p50", "gap/p50_us"),
        ("paced stream: gap between frames p99", "gap/p99_us"),
        ("paced stream: gap between frames max", "gap/max_us"),
    ] {
        let (d, g) = (
            f(r, &format!("/paced_stream/direct/{p}")),
            f(r, &format!("/paced_stream/gateway/{p}")),
        );
        let _ = writeln!(s, "| {name} | {d:.0} us | {g:.0} us | {:+.0} us |", g - d);
    }
    let climb = r["climb"].as_array().cloned().unwrap_or_default();
    let within = climb
        .iter()
        .filter(|c| f(c, "/p99_us") <= P99_LIMIT_US)
        .max_by(|a, b| f(a, "/rps").total_cmp(&f(b, "/rps")));
    match within {
        Some(best) => {
            let _ = writeln!(
                s,
                "| most throughput with p99 <= 1 ms | | **{:.0} req/s** at {} connections | |",
                f(best, "/rps"),
                best["connections"]
            );
        }
        None => {
            let _ = writeln!(
                s,
                "| most throughput with p99 <= 1 ms | | none: p99 over 1 ms at 1 connection | |"
            );
        }
    }
    if let Some(first) = climb.first() {
        let _ = writeln!(
            s,
            "| gateway CPU per request, 1 connection | | {:.1} us | |",
            f(first, "/cpu_us_per_request")
        );
    }
    if let Some(best) = within {
        let _ = writeln!(
            s,
            "| gateway CPU per request, at that throughput | | {:.1} us | |",
            f(best, "/cpu_us_per_request")
        );
    }
    let streams = &r["streams"];
    let _ = writeln!(
        s,
        "| highest stall-free paced streams (no gap > {} ms) | | **{}** | {} |",
        streams["stall_gap_ms"],
        streams["highest_stall_free"]
            .as_u64()
            .map_or("none".into(), |n| n.to_string()),
        match streams["first_stall"].get("streams") {
            Some(n) => format!("{n} stalled"),
            None => format!("none stalled up to {}", streams["max_tried"]),
        }
    );

    let _ = writeln!(s, "\nThroughput climb through the gateway:\n");
    let _ = writeln!(
        s,
        "| connections | req/s | p50 | p99 | gateway CPU / request | gateway core busy |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|");
    for c in &climb {
        let _ = writeln!(
            s,
            "| {} | {:.0} | {:.0} us | {:.0} us | {:.1} us | {:.0}% |",
            c["connections"],
            f(c, "/rps"),
            f(c, "/p50_us"),
            f(c, "/p99_us"),
            f(c, "/cpu_us_per_request"),
            f(c, "/gateway_cpu_share") * 100.0
        );
    }

    let _ = writeln!(s, "\nConcurrent paced streams through the gateway:\n");
    let _ = writeln!(
        s,
        "| streams | completed | TTFT p99 | gap p99 | gap max | gateway core busy | harness core busy |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|");
    for st in streams["steps"].as_array().into_iter().flatten() {
        let _ = writeln!(
            s,
            "| {} | {} | {:.1} ms | {:.1} ms | {:.1} ms{} | {:.0}% | {:.0}% |",
            st["streams"],
            st["completed"],
            f(st, "/ttft_p99_us") / 1000.0,
            f(st, "/gap_p99_us") / 1000.0,
            f(st, "/gap_max_us") / 1000.0,
            if st["stalled"].as_bool() == Some(true) {
                " (stall)"
            } else {
                ""
            },
            f(st, "/gateway_cpu_share") * 100.0,
            f(st, "/harness_cpu_share") * 100.0
        );
    }
    s
}
