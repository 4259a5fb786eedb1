//! The machine around a run: the tools bench-load needs, the release
//! binary, free ports, child processes, readiness, and what `/proc` says of
//! a process (RSS, CPU time).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// Builds the release binary the harness measures.
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

/// The gateway binary to measure: `SWITCHBOARD_BENCH_BIN` (a binary built
/// elsewhere, e.g. an older commit's, for a before/after pair on the same
/// machine), else the release build, built now.
pub(super) fn gateway_binary(root: &Path) -> anyhow::Result<PathBuf> {
    match std::env::var_os("SWITCHBOARD_BENCH_BIN") {
        Some(path) => Ok(PathBuf::from(path)),
        None => {
            build_release(root)?;
            Ok(crate::target_dir(root).join("release/switchboard"))
        }
    }
}

/// `<target>/bench-load`, created: where configs, logs, the report and the
/// peers' installs go.
pub(super) fn work_dir(root: &Path) -> anyhow::Result<PathBuf> {
    let work = crate::target_dir(root).join("bench-load");
    std::fs::create_dir_all(&work).with_context(|| format!("cannot create {}", work.display()))?;
    Ok(work)
}

/// One line naming the machine, for the head of a table.
pub(super) fn machine() -> String {
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
pub(super) fn ensure_tools() -> anyhow::Result<()> {
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

/// `name` on `PATH` (or in `/usr/sbin`, `/sbin`, where nginx lives).
pub(super) fn find_binary(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// A loopback port nothing listens on (at the time of asking).
pub(super) fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A loopback address on a free port.
pub(super) fn free_addr() -> anyhow::Result<SocketAddr> {
    Ok(SocketAddr::from(([127, 0, 0, 1], free_port()?)))
}

/// Kills the child when dropped.
pub(super) struct ChildGuard(pub(super) Child);

impl ChildGuard {
    /// The child's process id.
    pub(super) fn pid(&self) -> u32 {
        self.0.id()
    }
}

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

/// Waits until `GET <path>` on `addr` answers 200.
pub(super) fn wait_ready(addr: SocketAddr, path: &str, within: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + within;
    loop {
        if let Ok(mut conn) = TcpStream::connect(addr) {
            let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
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

/// A `/proc/<pid>/status` field in KiB (`VmRSS`, `VmHWM`).
pub(super) fn rss_kib(pid: u32, field: &str) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .with_context(|| format!("no {field} in /proc/{pid}/status"))
}

/// The CPU time a process (all its threads) has used, user plus system,
/// from `/proc/<pid>/stat` (`utime` and `stime`, fields 14 and 15).
pub(super) fn cpu_time(pid: u32) -> anyhow::Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("cannot read /proc/{pid}/stat"))?;
    cpu_time_of_stat(&stat, clock_ticks()?)
}

/// `utime + stime` of one `/proc/<pid>/stat` line, at `ticks` per second.
pub(super) fn cpu_time_of_stat(stat: &str, ticks: u64) -> anyhow::Result<Duration> {
    // The command name (field 2) is in parentheses and may hold spaces:
    // count the fields after its closing parenthesis (field 3 onwards).
    let rest = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .context("no `)` in /proc/<pid>/stat")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| -> anyhow::Result<u64> {
        fields
            .get(n - 3)
            .and_then(|v| v.parse().ok())
            .with_context(|| format!("no field {n} in /proc/<pid>/stat"))
    };
    let ticks_used = field(14)? + field(15)?;
    Ok(Duration::from_micros(ticks_used * 1_000_000 / ticks.max(1)))
}

/// Clock ticks per second (`getconf CLK_TCK`; 100 on Linux almost always).
fn clock_ticks() -> anyhow::Result<u64> {
    static TICKS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    if let Some(t) = TICKS.get() {
        return Ok(*t);
    }
    let out = Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .context("cannot run getconf CLK_TCK")?;
    let ticks: u64 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .context("getconf CLK_TCK printed no number")?;
    Ok(*TICKS.get_or_init(|| ticks))
}

/// Raises this process's open-file limit towards `n` (the soft limit, up
/// to the hard one), with `prlimit`: thousands of streams need thousands of
/// sockets. Children started afterwards inherit it.
pub(super) fn raise_fd_limit(n: u64) {
    let pid = std::process::id().to_string();
    let hard = Command::new("prlimit")
        .args([
            "--pid",
            &pid,
            "--nofile",
            "--output",
            "HARD",
            "--noheadings",
            "--raw",
        ])
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .trim()
                .parse::<u64>()
                .ok()
        });
    let Some(hard) = hard else {
        println!("    (cannot read the open-file limit; many streams may fail)");
        return;
    };
    let soft = n.min(hard);
    let ok = Command::new("prlimit")
        .args(["--pid", &pid])
        .arg(format!("--nofile={soft}:{hard}"))
        .status()
        .is_ok_and(|s| s.success());
    if !ok || soft < n {
        println!("    (open-file limit {soft}, under the {n} asked; many streams may fail)");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rss_of_this_process() {
        let rss = rss_kib(std::process::id(), "VmRSS").expect("Linux /proc");
        assert!(rss > 100.0, "{rss}");
        assert!(rss_kib(std::process::id(), "NoSuchField").is_err());
    }

    #[test]
    fn reads_cpu_time_of_a_stat_line() {
        // utime 250 and stime 50 ticks, a command name with spaces and `)`.
        let stat = "42 (a b) c) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 1 1 1";
        let t = cpu_time_of_stat(stat, 100).expect("parses");
        assert_eq!(t, Duration::from_secs(3));
        assert!(cpu_time_of_stat("garbage", 100).is_err());
        assert!(cpu_time(std::process::id()).is_ok());
    }
}
