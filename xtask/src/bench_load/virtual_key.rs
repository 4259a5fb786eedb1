//! `--virtual-key embedded|redis`: what a virtual key of the `keys`
//! extension costs per request, against a static `server.api_keys` key on
//! the same gateway in the same run.
//!
//! The gateway runs with the `keys` extension (its store in memory) and
//! one static key; the harness makes a virtual key through the admin API
//! with generous `rpm` and `tpm` limits, so every request is looked up and
//! counted but none is refused. The limits are counted in the gateway
//! (`embedded`: `limits_backend = "memory"`) or in Redis (`redis`: one
//! script call per request; the Redis of `SWITCHBOARD_TEST_REDIS_URL`, else
//! 127.0.0.1:6379, else a `redis-server` of the run's own, under a key
//! prefix of the run's own).

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::{Value, json};

use super::args::{LimitsBackend, Opts};
use super::client::{HttpConn, Percentiles, Target, latency_c1};
use super::gateway::{Gateway, GatewayConfig};
use super::tools::{ensure_tools, gateway_binary, machine, work_dir};
use super::upstream::Nginx;
use super::wrk::{CHAT_BODY, CLIENT_AUTH, chat_body, lua_script, wrk};

const ADMIN_TOKEN: &str = "bench-admin-token-not-a-secret";
const STATIC_KEY: &str = "sk-bench-static-key";

/// Runs the virtual-key comparison.
pub(super) fn run(root: &Path, opts: &Opts, backend: LimitsBackend) -> anyhow::Result<()> {
    let (throughput, latency) = if opts.quick {
        (Duration::from_secs(2), Duration::from_secs(2))
    } else {
        (Duration::from_secs(10), Duration::from_secs(10))
    };
    ensure_tools()?;
    let binary = gateway_binary(root)?;
    let work = work_dir(root)?;
    let nginx = Nginx::start_upstream(root, &work)?;

    // Kept to the end: a Redis this run started stops when it drops.
    let redis = match backend {
        LimitsBackend::Embedded => None,
        LimitsBackend::Redis => Some(
            switchboard_testkit::redis::test_redis("bench-load")
                .context("no Redis: set SWITCHBOARD_TEST_REDIS_URL, run one at 127.0.0.1:6379, or install redis-server")?,
        ),
    };
    let limits = match &redis {
        None => "limits_backend = \"memory\"\n".to_owned(),
        Some(redis) => format!(
            "limits_backend = \"redis\"\nredis_url = \"{}\"\nredis_prefix = \"{}\"\n",
            redis.url,
            switchboard_testkit::redis::unique_prefix("bench-load")
        ),
    };
    let backend_name = match backend {
        LimitsBackend::Embedded => "embedded (memory)",
        LimitsBackend::Redis => "redis",
    };
    let mut config = GatewayConfig::new(nginx.addr)?;
    config.server = format!(
        "admin_token = \"{ADMIN_TOKEN}\"\napi_keys = [{{ key = \"{STATIC_KEY}\", name = \"static\" }}]\n"
    );
    config.extra =
        format!("\n[state]\npath = \":memory:\"\n\n[extensions.keys]\nenabled = true\n{limits}");
    println!("==> starting the gateway with the keys extension, limits {backend_name}");
    let gateway = Gateway::start(&binary, &work, "switchboard-keys", &config, None)?;

    let key = create_key(&gateway, true)?;
    // A key with no limits: what looking the key up costs, apart.
    let bare_key = create_key(&gateway, false)?;
    let bare_auth = format!("Bearer {bare_key}");
    let static_auth = format!("Bearer {STATIC_KEY}");
    let virtual_auth = format!("Bearer {key}");
    let gw_body = chat_body("up/gpt-4o");
    let path = "/v1/chat/completions";
    // Both keys answer before anything is timed.
    for auth in [&static_auth, &virtual_auth, &bare_auth] {
        HttpConn::connect(gateway.addr)?
            .with_header("Authorization", auth)
            .post(path, &gw_body)
            .context("a chat completion through the gateway with the key")?;
    }

    let url = format!("http://{}{path}", gateway.addr);
    let direct_url = format!("http://{}{path}", nginx.addr);
    let direct_script = lua_script(
        &work,
        "chat.lua",
        CHAT_BODY,
        &[("Authorization", CLIENT_AUTH)],
    )?;
    let static_script = lua_script(
        &work,
        "chat-static.lua",
        &gw_body,
        &[("Authorization", &static_auth)],
    )?;
    let virtual_script = lua_script(
        &work,
        "chat-virtual.lua",
        &gw_body,
        &[("Authorization", &virtual_auth)],
    )?;
    wrk(&url, &static_script, 8, Duration::from_secs(1))?;
    wrk(&url, &virtual_script, 8, Duration::from_secs(1))?;

    // This machine's speed drifts by tens of percent from one second to the
    // next (shared cores): the two keys take turns in short rounds and the
    // median of the rounds' ratios is reported, so drift hits both alike.
    let rounds = if opts.quick { 2 } else { 5 };
    let slice = throughput / rounds;
    println!("==> throughput, 32 connections ({rounds} rounds of {slice:?} each, taking turns)");
    let direct_32 = wrk(&direct_url, &direct_script, 32, slice)?;
    let (mut static_rps, mut virtual_rps, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    let mut errors = 0;
    for _ in 0..rounds {
        let s = wrk(&url, &static_script, 32, slice)?;
        let v = wrk(&url, &virtual_script, 32, slice)?;
        errors += s.errors + v.errors;
        ratios.push(v.rps / s.rps);
        static_rps.push(s.rps);
        virtual_rps.push(v.rps);
    }

    println!("==> latency, 1 connection (taking turns)");
    let direct_headers = [("Authorization", CLIENT_AUTH)];
    let static_headers = [("Authorization", static_auth.as_str())];
    let virtual_headers = [("Authorization", virtual_auth.as_str())];
    let bare_headers = [("Authorization", bare_auth.as_str())];
    let c1 = latency_c1(
        &[
            Target {
                name: "direct",
                addr: nginx.addr,
                path,
                body: CHAT_BODY,
                headers: &direct_headers,
            },
            Target {
                name: "static key",
                addr: gateway.addr,
                path,
                body: &gw_body,
                headers: &static_headers,
            },
            Target {
                name: "virtual key",
                addr: gateway.addr,
                path,
                body: &gw_body,
                headers: &virtual_headers,
            },
            Target {
                name: "virtual key, no limits",
                addr: gateway.addr,
                path,
                body: &gw_body,
                headers: &bare_headers,
            },
        ],
        latency,
    )?;
    // What "one round trip" to this Redis costs, measured in the same run.
    let ping = match &redis {
        Some(redis) => {
            println!("==> Redis round trip (PING), 1 connection");
            Some(redis_ping(&redis.url, latency)?)
        }
        None => None,
    };
    drop(gateway);
    drop(nginx);
    drop(redis);

    let report = json!({
        "machine": machine(),
        "quick": opts.quick,
        "limits_backend": backend_name,
        "throughput_32": {
            "direct_rps": direct_32.rps,
            "static_rps": median(&mut static_rps),
            "virtual_rps": median(&mut virtual_rps),
            "virtual_over_static": median(&mut ratios),
            "rounds": rounds,
            "errors": errors,
        },
        "latency_1": {
            "direct_p50_us": c1[0].p50_us,
            "static_p50_us": c1[1].p50_us,
            "virtual_p50_us": c1[2].p50_us,
            "direct_p99_us": c1[0].p99_us,
            "static_p99_us": c1[1].p99_us,
            "virtual_p99_us": c1[2].p99_us,
            "virtual_added_p50_us": c1[2].p50_us - c1[1].p50_us,
            "virtual_added_p99_us": c1[2].p99_us - c1[1].p99_us,
            "bare_p50_us": c1[3].p50_us,
            "bare_added_p50_us": c1[3].p50_us - c1[1].p50_us,
        },
        "redis_ping": ping.map(|p| json!({"p50_us": p.p50_us, "p99_us": p.p99_us})),
    });
    let name = match backend {
        LimitsBackend::Embedded => "report-virtual-key-embedded.json",
        LimitsBackend::Redis => "report-virtual-key-redis.json",
    };
    let path = super::write_report(&work, name, &report)?;
    print!("{}", table(&report));
    println!("\nJSON: {}", path.display());
    if errors > 0 {
        bail!(
            "the gateway answered with errors during the load; see target/bench-load/switchboard-keys.log"
        );
    }
    Ok(())
}

/// The median of `values` (sorted in place); NaN when empty.
fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// Makes a virtual key, with `limited`, limits no run reaches; the key.
fn create_key(gateway: &Gateway, limited: bool) -> anyhow::Result<String> {
    let body = if limited {
        json!({
            "name": "bench-load",
            "rpm": 4_000_000_000_u64,
            "tpm": 1_000_000_000_000_u64,
        })
    } else {
        json!({"name": "bench-load-bare"})
    }
    .to_string();
    let answer = HttpConn::connect(gateway.addr)?
        .with_header("Authorization", &format!("Bearer {ADMIN_TOKEN}"))
        .post("/v1/extensions/keys/create", &body)
        .context("cannot create a virtual key (keys.create)")?;
    let answer: Value = serde_json::from_slice(&answer).context("keys.create answered no JSON")?;
    answer["key"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("keys.create answered no key: {answer}"))
}

/// PING round trips to the Redis at `url` (`redis://[user:pass@]host:port[/db]`)
/// on one connection for `duration`: what one round trip costs here.
fn redis_ping(url: &str, duration: Duration) -> anyhow::Result<Percentiles> {
    use std::io::{Read as _, Write as _};
    let rest = url.strip_prefix("redis://").unwrap_or(url);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    let host = rest.split('/').next().unwrap_or(rest);
    let mut conn = std::net::TcpStream::connect(host)
        .with_context(|| format!("cannot connect to Redis at {host}"))?;
    conn.set_nodelay(true)?;
    conn.set_read_timeout(Some(Duration::from_secs(2)))?;
    let mut samples = Vec::new();
    let mut answer = [0u8; 7];
    let end = std::time::Instant::now() + duration;
    while std::time::Instant::now() < end {
        let started = std::time::Instant::now();
        conn.write_all(b"PING\r\n")?;
        conn.read_exact(&mut answer)?;
        if &answer != b"+PONG\r\n" {
            bail!(
                "Redis answered PING with {:?}",
                String::from_utf8_lossy(&answer)
            );
        }
        samples.push(started.elapsed());
    }
    let p = Percentiles::of(&samples);
    println!(
        "    redis PING c=1: p50 {:.0} us, p99 {:.0} us ({} round trips)",
        p.p50_us, p.p99_us, p.n
    );
    Ok(p)
}

/// The Markdown table of a virtual-key report.
fn table(r: &Value) -> String {
    let f = |p: &str| r.pointer(p).and_then(Value::as_f64).unwrap_or(f64::NAN);
    let mut s = String::new();
    let _ = writeln!(s, "\n{}", r["machine"].as_str().unwrap_or_default());
    let _ = writeln!(
        s,
        "keys extension on; virtual key limits: {}\n",
        r["limits_backend"].as_str().unwrap_or_default()
    );
    let _ = writeln!(
        s,
        "| measure | direct | static key | virtual key | virtual vs static |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|");
    let _ = writeln!(
        s,
        "| throughput, 32 connections (median of rounds) | {:.0} req/s | {:.0} req/s | {:.0} req/s | **{:.2}x** |",
        f("/throughput_32/direct_rps"),
        f("/throughput_32/static_rps"),
        f("/throughput_32/virtual_rps"),
        f("/throughput_32/virtual_over_static"),
    );
    for (name, p) in [("p50", "p50_us"), ("p99", "p99_us")] {
        let _ = writeln!(
            s,
            "| latency {name}, 1 connection | {:.0} us | {:.0} us | {:.0} us | **{:+.0} us** |",
            f(&format!("/latency_1/direct_{p}")),
            f(&format!("/latency_1/static_{p}")),
            f(&format!("/latency_1/virtual_{p}")),
            f(&format!("/latency_1/virtual_added_{p}")),
        );
    }
    let _ = writeln!(
        s,
        "\nA virtual key with no limits (the lookup alone), same run: p50 {:+.0} us over the static key.",
        f("/latency_1/bare_added_p50_us"),
    );
    if r["redis_ping"].is_object() {
        let _ = writeln!(
            s,
            "\nOne Redis round trip (PING on one connection), same run: p50 {:.0} us, p99 {:.0} us.",
            f("/redis_ping/p50_us"),
            f("/redis_ping/p99_us"),
        );
    }
    s
}
