//! `--peers`: other gateways against the same upstream in the same run —
//! nginx as a bare reverse proxy, Switchboard, the Portkey gateway (npm
//! `@portkey-ai/gateway`, on Node.js) and the LiteLLM proxy (PyPI
//! `litellm[proxy]`, one worker).
//!
//! The peers are installed under `<target>/bench-load/peers/` at pinned
//! versions (the first run downloads them; later runs reuse them). A peer
//! that cannot be installed, started, or made to answer one real chat
//! completion through the upstream is reported as "not run (why)"; the run
//! goes on with the others.
//!
//! Each gateway is driven as its users would: Switchboard with model
//! `up/gpt-4o`; Portkey with `x-portkey-provider: openai` and
//! `x-portkey-custom-host: http://<upstream>/v1` (its documented way to
//! reach an OpenAI-compatible server; loopback hosts are on its default
//! trusted list); LiteLLM with a `model_list` entry `openai/gpt-4o` whose
//! `api_base` is the upstream, and its master key.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

use super::args::Opts;
use super::client::{HttpConn, Target, latency_c1};
use super::gateway::{Gateway, GatewayConfig};
use super::tools::{ChildGuard, ensure_tools, free_addr, gateway_binary, machine, work_dir};
use super::upstream::Nginx;
use super::wrk::{CHAT_BODY, CLIENT_AUTH, chat_body, lua_script, wrk};

/// The Portkey gateway's npm version.
const PORTKEY_VERSION: &str = "1.15.2";
/// The LiteLLM proxy's PyPI version.
const LITELLM_VERSION: &str = "1.108.7";
/// LiteLLM refuses to start without a master key (or with a weak one).
const LITELLM_MASTER_KEY: &str =
    "sk-bench0123456789abcdef0123456789abcdef0123456789abcdef0123456789";
/// How long a peer may take to start (LiteLLM imports for tens of seconds
/// on a busy machine).
const START_TIMEOUT: Duration = Duration::from_secs(180);

/// One gateway to measure: where, with what request.
struct Subject {
    name: String,
    addr: std::net::SocketAddr,
    body: String,
    headers: Vec<(String, String)>,
}

impl Subject {
    fn headers(&self) -> Vec<(&str, &str)> {
        self.headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect()
    }
}

/// Installs (once) and starts a peer in front of the upstream.
type StartPeer = fn(&Path, std::net::SocketAddr) -> anyhow::Result<(Subject, ChildGuard)>;

/// A row of the table: numbers, or why there are none.
enum Row {
    Ran {
        rps_32: f64,
        errors: u64,
        p50_us: f64,
        p99_us: f64,
        added_p50_us: f64,
    },
    NotRun(String),
}

/// Runs the peers comparison.
pub(super) fn run(root: &Path, opts: &Opts) -> anyhow::Result<()> {
    let (throughput, latency) = if opts.quick {
        (Duration::from_secs(2), Duration::from_secs(2))
    } else {
        (Duration::from_secs(10), Duration::from_secs(10))
    };
    ensure_tools()?;
    let binary = gateway_binary(root)?;
    let work = work_dir(root)?;
    let peers_dir = work.join("peers");
    std::fs::create_dir_all(&peers_dir)
        .with_context(|| format!("cannot create {}", peers_dir.display()))?;

    let nginx = Nginx::start_upstream(root, &work)?;
    let upstream = nginx.addr;
    let proxy = Nginx::start_proxy(&work, upstream)?;
    let config = GatewayConfig::new(upstream)?;
    let gateway = Gateway::start(&binary, &work, "switchboard-peers", &config, None)?;

    let client_auth = vec![("Authorization".to_owned(), CLIENT_AUTH.to_owned())];
    let mut subjects = vec![
        Ok(Subject {
            name: "nginx as a proxy".into(),
            addr: proxy.addr,
            body: CHAT_BODY.into(),
            headers: client_auth.clone(),
        }),
        Ok(Subject {
            name: "Switchboard".into(),
            addr: gateway.addr,
            body: chat_body("up/gpt-4o"),
            headers: client_auth.clone(),
        }),
    ];
    // Kept alive to the end of the run; stopped when dropped.
    let mut processes: Vec<ChildGuard> = Vec::new();
    for (name, start) in [
        (
            format!("Portkey {PORTKEY_VERSION}"),
            start_portkey as StartPeer,
        ),
        (format!("LiteLLM {LITELLM_VERSION}"), start_litellm),
    ] {
        println!("==> {name}");
        match start(&peers_dir, upstream)
            .and_then(|(subject, process)| check_answers(&subject).map(|()| (subject, process)))
        {
            Ok((subject, process)) => {
                processes.push(process);
                subjects.push(Ok(subject));
            }
            Err(e) => {
                println!("    not run: {e:#}");
                subjects.push(Err((name, format!("{e:#}"))));
            }
        }
    }

    let direct = Subject {
        name: "direct".into(),
        addr: upstream,
        body: CHAT_BODY.into(),
        headers: client_auth,
    };
    let mut rows: Vec<(String, Row)> = Vec::new();
    let direct_row = measure(&work, &direct, None, throughput, latency)?;
    let direct_p50 = match &direct_row {
        Row::Ran { p50_us, .. } => *p50_us,
        Row::NotRun(_) => f64::NAN,
    };
    let direct_rps = match &direct_row {
        Row::Ran { rps_32, .. } => *rps_32,
        Row::NotRun(_) => f64::NAN,
    };
    rows.push(("direct (the upstream)".into(), direct_row));
    for s in &subjects {
        match s {
            Ok(subject) => {
                let row = measure(&work, subject, Some(&direct), throughput, latency)
                    .unwrap_or_else(|e| Row::NotRun(format!("{e:#}")));
                rows.push((subject.name.clone(), row));
            }
            Err((name, why)) => rows.push((name.clone(), Row::NotRun(why.clone()))),
        }
    }
    drop(processes);
    drop(gateway);
    drop(proxy);
    drop(nginx);

    let report = json!({
        "machine": machine(),
        "quick": opts.quick,
        "rows": rows.iter().map(|(name, row)| match row {
            Row::Ran { rps_32, errors, p50_us, p99_us, added_p50_us } => json!({
                "name": name, "rps_32": rps_32, "ratio": rps_32 / direct_rps, "errors": errors,
                "p50_us": p50_us, "p99_us": p99_us, "added_p50_us": added_p50_us,
            }),
            Row::NotRun(why) => json!({"name": name, "not_run": why}),
        }).collect::<Vec<_>>(),
        "direct_p50_us": direct_p50,
    });
    let path = super::write_report(&work, "report-peers.json", &report)?;
    print!("{}", table(&report));
    println!("\nJSON: {}", path.display());
    Ok(())
}

/// Throughput at 32 connections, then latency at one connection taking
/// turns with `direct` (the added p50 is against that same run's direct).
fn measure(
    work: &Path,
    s: &Subject,
    direct: Option<&Subject>,
    throughput: Duration,
    latency: Duration,
) -> anyhow::Result<Row> {
    let slug: String = s
        .name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let script = lua_script(work, &format!("peer-{slug}.lua"), &s.body, &s.headers())?;
    let url = format!("http://{}/v1/chat/completions", s.addr);
    wrk(&url, &script, 8, Duration::from_secs(1))?;
    let w = wrk(&url, &script, 32, throughput)?;
    let headers = s.headers();
    let mut targets = vec![Target {
        name: &s.name,
        addr: s.addr,
        path: "/v1/chat/completions",
        body: &s.body,
        headers: &headers,
    }];
    let direct_headers = direct.map(Subject::headers).unwrap_or_default();
    if let Some(d) = direct {
        targets.insert(
            0,
            Target {
                name: "direct",
                addr: d.addr,
                path: "/v1/chat/completions",
                body: &d.body,
                headers: &direct_headers,
            },
        );
    }
    let c1 = latency_c1(&targets, latency)?;
    let (mine, base) = match c1.as_slice() {
        [d, m] => (*m, d.p50_us),
        [m] => (*m, m.p50_us),
        _ => bail!("no latency result"),
    };
    Ok(Row::Ran {
        rps_32: w.rps,
        errors: w.errors,
        p50_us: mine.p50_us,
        p99_us: mine.p99_us,
        added_p50_us: mine.p50_us - base,
    })
}

/// One chat completion through the peer must come back with the upstream's
/// recorded answer before anything is timed.
fn check_answers(s: &Subject) -> anyhow::Result<()> {
    let mut conn = HttpConn::connect(s.addr)?;
    for (n, v) in &s.headers {
        conn = conn.with_header(n, v);
    }
    let body = conn
        .post("/v1/chat/completions", &s.body)
        .context("the check request failed")?;
    let text = String::from_utf8_lossy(&body);
    if !text.contains("How can I assist you today?") {
        bail!("the check request did not carry the upstream's answer: {text}");
    }
    println!("    answers a chat completion through the upstream");
    Ok(())
}

/// Runs `command` to install something, its output to `log`; an error
/// naming the log when it fails.
fn install(mut command: Command, log: &Path, what: &str) -> anyhow::Result<()> {
    let file =
        std::fs::File::create(log).with_context(|| format!("cannot create {}", log.display()))?;
    let status = command
        .stdout(file.try_clone()?)
        .stderr(file)
        .status()
        .with_context(|| format!("cannot run the install of {what}"))?;
    if !status.success() {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        bail!(
            "installing {what} failed ({status}): {}; see {}",
            first_error(&text),
            log.display()
        );
    }
    Ok(())
}

/// The first line of an installer's log that says "error" (npm prints
/// `npm error code ECONNREFUSED` first, pip `ERROR: ...`), shortened; else
/// its last line.
fn first_error(log: &str) -> String {
    let line = log
        .lines()
        .find(|l| l.to_ascii_lowercase().contains("error"))
        .or_else(|| log.lines().rev().find(|l| !l.trim().is_empty()))
        .unwrap_or("no output");
    line.trim().chars().take(160).collect()
}

/// Starts a peer process with its output in `log`, and waits until
/// `GET <ready_path>` answers 200 (or the process exits, or
/// [`START_TIMEOUT`] passes).
fn spawn_peer(
    mut command: Command,
    addr: std::net::SocketAddr,
    ready_path: &str,
    log: &Path,
) -> anyhow::Result<ChildGuard> {
    let file =
        std::fs::File::create(log).with_context(|| format!("cannot create {}", log.display()))?;
    let child = command
        .stdin(Stdio::null())
        .stdout(file.try_clone()?)
        .stderr(file)
        .spawn()
        .context("cannot start it")?;
    let mut guard = ChildGuard(child);
    let started = Instant::now();
    loop {
        if super::tools::wait_ready(addr, ready_path, Duration::from_millis(1)).is_ok() {
            println!("    ready after {:.1} s", started.elapsed().as_secs_f64());
            return Ok(guard);
        }
        if let Ok(Some(status)) = guard.0.try_wait() {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            // A Python traceback or a Node.js crash ends with its cause.
            let last = text
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("no output");
            bail!(
                "it exited ({status}) before answering: {}; see {}",
                last.trim().chars().take(160).collect::<String>(),
                log.display()
            );
        }
        if started.elapsed() > START_TIMEOUT {
            bail!("not ready within {START_TIMEOUT:?}; see {}", log.display());
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Installs (once) and starts the Portkey gateway.
fn start_portkey(
    peers: &Path,
    upstream: std::net::SocketAddr,
) -> anyhow::Result<(Subject, ChildGuard)> {
    let dir = peers.join("portkey");
    let marker = dir.join(format!(".installed-{PORTKEY_VERSION}"));
    let server = dir.join("node_modules/@portkey-ai/gateway/build/start-server.js");
    if !marker.exists() || !server.exists() {
        std::fs::create_dir_all(&dir)?;
        println!("    npm install @portkey-ai/gateway@{PORTKEY_VERSION}");
        let mut npm = Command::new("npm");
        npm.args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&dir)
            .arg(format!("@portkey-ai/gateway@{PORTKEY_VERSION}"));
        install(npm, &dir.join("install.log"), "the Portkey gateway (npm)")?;
        std::fs::write(&marker, "")?;
    }
    let addr = free_addr()?;
    let mut node = Command::new("node");
    node.arg(&server)
        .arg(format!("--port={}", addr.port()))
        .arg("--headless")
        .current_dir(&dir)
        .env("NODE_ENV", "production");
    let process = spawn_peer(node, addr, "/", &dir.join("run.log"))?;
    let headers = vec![
        ("x-portkey-provider".into(), "openai".into()),
        (
            "x-portkey-custom-host".into(),
            format!("http://{upstream}/v1"),
        ),
        (
            "Authorization".into(),
            "Bearer sk-bench-not-a-real-key".into(),
        ),
    ];
    Ok((
        Subject {
            name: format!("Portkey {PORTKEY_VERSION}"),
            addr,
            body: CHAT_BODY.into(),
            headers,
        },
        process,
    ))
}

/// Installs (once, in a venv) and starts the LiteLLM proxy with one worker.
fn start_litellm(
    peers: &Path,
    upstream: std::net::SocketAddr,
) -> anyhow::Result<(Subject, ChildGuard)> {
    let venv = peers.join("litellm-venv");
    let marker = venv.join(format!(".installed-{LITELLM_VERSION}"));
    let litellm: PathBuf = venv.join("bin/litellm");
    if !marker.exists() || !litellm.exists() {
        println!("    python3 -m venv; pip install 'litellm[proxy]=={LITELLM_VERSION}'");
        let mut mkvenv = Command::new("python3");
        mkvenv.args(["-m", "venv"]).arg(&venv);
        install(mkvenv, &peers.join("litellm-venv.log"), "a Python venv")?;
        let mut pip = Command::new(venv.join("bin/pip"));
        pip.args(["install", "-q"])
            .arg(format!("litellm[proxy]=={LITELLM_VERSION}"));
        install(pip, &peers.join("litellm-install.log"), "LiteLLM (pip)")?;
        std::fs::write(&marker, "")?;
    }
    let config = peers.join("litellm.yaml");
    std::fs::write(
        &config,
        format!(
            "# Written by cargo xtask bench-load.\n\
             model_list:\n  - model_name: gpt-4o\n    litellm_params:\n      \
             model: openai/gpt-4o\n      api_base: http://{upstream}/v1\n      \
             api_key: sk-bench-not-a-real-key\n"
        ),
    )
    .with_context(|| format!("cannot write {}", config.display()))?;
    let addr = free_addr()?;
    let mut cmd = Command::new(&litellm);
    cmd.arg("--config")
        .arg(&config)
        .args(["--host", "127.0.0.1", "--port"])
        .arg(addr.port().to_string())
        .args(["--num_workers", "1"])
        .current_dir(peers)
        .env("LITELLM_MASTER_KEY", LITELLM_MASTER_KEY)
        // The model cost map from the package, not fetched from GitHub.
        .env("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        .env("LITELLM_LOG", "ERROR");
    let process = spawn_peer(
        cmd,
        addr,
        "/health/liveliness",
        &peers.join("litellm-run.log"),
    )?;
    Ok((
        Subject {
            name: format!("LiteLLM {LITELLM_VERSION}"),
            addr,
            body: CHAT_BODY.into(),
            headers: vec![(
                "Authorization".into(),
                format!("Bearer {LITELLM_MASTER_KEY}"),
            )],
        },
        process,
    ))
}

/// The Markdown table of a peers report.
fn table(r: &Value) -> String {
    let f = |v: &Value, k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    let mut s = String::new();
    let _ = writeln!(s, "\n{}\n", r["machine"].as_str().unwrap_or_default());
    let _ = writeln!(
        s,
        "| gateway | req/s, 32 connections | vs direct | p50, 1 connection | p99, 1 connection | added p50 |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|");
    for row in r["rows"].as_array().into_iter().flatten() {
        let name = row["name"].as_str().unwrap_or_default();
        if let Some(why) = row["not_run"].as_str() {
            let why = why.replace('|', "/").replace('\n', " ");
            let _ = writeln!(s, "| {name} | not run ({why}) | | | | |");
            continue;
        }
        let errors = row["errors"].as_u64().unwrap_or(0);
        let added = if name.starts_with("direct") {
            String::new()
        } else {
            format!("**{:+.0} us**", f(row, "added_p50_us"))
        };
        let _ = writeln!(
            s,
            "| {name} | {:.0}{} | {} | {:.0} us | {:.0} us | {added} |",
            f(row, "rps_32"),
            if errors > 0 {
                format!(" ({errors} errors)")
            } else {
                String::new()
            },
            ratio(f(row, "ratio")),
            f(row, "p50_us"),
            f(row, "p99_us"),
        );
    }
    s
}

/// `0.54x`; small ratios keep a third decimal (`0.002x`, not `0.00x`).
fn ratio(r: f64) -> String {
    if r < 0.1 {
        format!("{r:.3}x")
    } else {
        format!("{r:.2}x")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_install_failure_is_told_by_its_first_error_line() {
        let npm = "npm error code ECONNREFUSED\nnpm error syscall connect\n";
        assert_eq!(first_error(npm), "npm error code ECONNREFUSED");
        assert_eq!(first_error("Collecting x\nDone\n\n"), "Done");
        assert_eq!(first_error(""), "no output");
    }

    #[test]
    fn small_ratios_keep_a_third_decimal() {
        assert_eq!(ratio(0.0014), "0.001x");
        assert_eq!(ratio(0.0125), "0.013x");
        assert_eq!(ratio(0.54), "0.54x");
    }
}
