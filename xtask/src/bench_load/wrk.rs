//! The load generator: `wrk` with a Lua script that sends one fixed POST
//! and prints its summary as one JSON line.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::Context;
use serde_json::Value;

use super::tools::find_binary;

/// The chat completion every phase sends (model `gpt-4o`).
pub(super) const CHAT_BODY: &str = r#"{"model":"gpt-4o","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Hello!"}]}"#;

/// [`CHAT_BODY`] with the model named `model`.
pub(super) fn chat_body(model: &str) -> String {
    CHAT_BODY.replace("\"gpt-4o\"", &format!("\"{model}\""))
}

/// The `Authorization` header every script sends unless told otherwise
/// (the gateways measured here check no key, or accept this one).
pub(super) const CLIENT_AUTH: &str = "Bearer sk-client";

/// Writes `<work>/<name>`: a wrk script POSTing `body` with `headers`
/// (besides `Content-Type: application/json`), and printing `WRK_JSON {...}`.
pub(super) fn lua_script(
    work: &Path,
    name: &str,
    body: &str,
    headers: &[(&str, &str)],
) -> anyhow::Result<PathBuf> {
    let path = work.join(name);
    let headers: String = headers
        .iter()
        .map(|(n, v)| format!("wrk.headers[\"{n}\"] = \"{v}\"\n"))
        .collect();
    std::fs::write(
        &path,
        format!(
            r#"-- Written by cargo xtask bench-load.
wrk.method = "POST"
wrk.body = [[{body}]]
wrk.headers["Content-Type"] = "application/json"
{headers}
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
    )
    .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

/// One wrk run's numbers.
#[derive(Debug, Clone, Copy)]
pub(super) struct WrkResult {
    /// Requests answered, in all.
    pub(super) requests: f64,
    /// Requests per second.
    pub(super) rps: f64,
    /// Connect, read, write, timeout errors and non-2xx answers.
    pub(super) errors: u64,
    /// Mean latency.
    pub(super) mean_us: f64,
    /// Median latency.
    pub(super) p50_us: f64,
    /// 99th percentile latency.
    pub(super) p99_us: f64,
}

/// Runs wrk against `url` with `connections` for `duration`, on two threads
/// at most (the machines this runs on have two cores).
pub(super) fn wrk(
    url: &str,
    script: &Path,
    connections: u32,
    duration: Duration,
) -> anyhow::Result<WrkResult> {
    wrk_threads(url, script, connections, connections.min(2), duration)
}

/// [`wrk`] with the number of wrk threads given.
pub(super) fn wrk_threads(
    url: &str,
    script: &Path,
    connections: u32,
    threads: u32,
    duration: Duration,
) -> anyhow::Result<WrkResult> {
    let output = Command::new(find_binary("wrk").context("wrk not found")?)
        .arg(format!("-t{}", threads.clamp(1, connections.max(1))))
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
        .with_context(|| {
            format!(
                "wrk printed no result:\n{stdout}{}",
                String::from_utf8_lossy(&output.stderr)
            )
        })?;
    let result = parse_wrk_json(line)?;
    println!(
        "    {url} c={connections}: {:.0} req/s, p50 {:.0} us, p99 {:.0} us, errors {}",
        result.rps, result.p50_us, result.p99_us, result.errors
    );
    Ok(result)
}

/// The numbers of one `WRK_JSON` line.
fn parse_wrk_json(line: &str) -> anyhow::Result<WrkResult> {
    let v: Value = serde_json::from_str(line).with_context(|| format!("bad wrk line `{line}`"))?;
    let f = |k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    Ok(WrkResult {
        requests: f("requests"),
        rps: f("requests") / (f("duration_us") / 1e6),
        errors: v["errors"].as_u64().unwrap_or(0),
        mean_us: f("mean_us"),
        p50_us: f("p50_us"),
        p99_us: f("p99_us"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_summary_line() {
        let r = parse_wrk_json(
            r#"{"requests":2000,"duration_us":2000000,"errors":3,"mean_us":51.5,"p50_us":40,"p90_us":60,"p99_us":90,"max_us":400}"#,
        )
        .expect("parses");
        assert_eq!(r.rps, 1000.0);
        assert_eq!((r.errors, r.p50_us, r.p99_us), (3, 40.0, 90.0));
        assert!(parse_wrk_json("not json").is_err());
    }
}
