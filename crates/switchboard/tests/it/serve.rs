//! `switchboard serve` as an operator runs it: SIGHUP reloads the config
//! file, SIGTERM shuts down cleanly.
#![cfg(all(unix, feature = "mock"))]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn post(addr: &str, path: &str, body: &str) -> String {
    let mut s = TcpStream::connect(addr).expect("connects");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("writes");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

fn ask(addr: &str) -> String {
    post(
        addr,
        "/v1/chat/completions",
        r#"{"model":"a/mock-1","messages":[{"role":"user","content":"x"}]}"#,
    )
}

/// Starts the server and returns it with the address it logged.
pub(crate) fn start(config: &std::path::Path) -> (Child, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_switchboard"));
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(config);
    start_command(cmd)
}

/// Runs `cmd` (a `switchboard serve` on `127.0.0.1:0`) with info logs and
/// returns it with the address it logged once ready.
pub(crate) fn start_command(mut cmd: Command) -> (Child, String) {
    let mut child = cmd
        .env("SWITCHBOARD_LOG", "info")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawns");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let deadline = Instant::now() + Duration::from_secs(10);
    let addr = loop {
        assert!(
            Instant::now() < deadline,
            "the server never said it was ready"
        );
        let line = lines.next().expect("a log line").expect("utf-8");
        if let Some(rest) = line.split("address=http://").nth(1) {
            break rest.split_whitespace().next().expect("address").to_owned();
        }
    };
    // Keep draining the logs so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, addr)
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .expect("kill runs")
        .success();
    assert!(ok);
}

/// Sends SIGTERM and waits (at most 10 s) for a successful exit.
fn stops_cleanly_on_sigterm(child: &mut Child) {
    signal(child, "-TERM");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().expect("waits") {
            assert!(status.success(), "{status}");
            return;
        }
        assert!(Instant::now() < deadline, "SIGTERM did not stop the server");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn sighup_reloads_and_sigterm_stops() {
    let dir = tempfile::Builder::new()
        .prefix("sb-serve-")
        .tempdir()
        .expect("dir");
    let config = dir.path().join("switchboard.toml");
    std::fs::write(
        &config,
        "[providers.a]\nkind = \"mock\"\nscript = [\"before\"]\n",
    )
    .expect("write");
    let (mut child, addr) = start(&config);
    assert!(ask(&addr).contains("\"content\":\"before\""));

    std::fs::write(
        &config,
        "[providers.a]\nkind = \"mock\"\nscript = [\"after\"]\n",
    )
    .expect("write");
    signal(&child, "-HUP");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !ask(&addr).contains("\"content\":\"after\"") {
        assert!(Instant::now() < deadline, "SIGHUP did not reload the file");
        std::thread::sleep(Duration::from_millis(50));
    }

    stops_cleanly_on_sigterm(&mut child);
}

#[test]
fn signals_sent_the_moment_it_is_ready_are_handled_not_fatal() {
    let dir = tempfile::Builder::new()
        .prefix("sb-serve-")
        .tempdir()
        .expect("dir");
    let config = dir.path().join("switchboard.toml");
    std::fs::write(&config, "[providers.a]\nkind = \"mock\"\n").expect("write");
    // The handlers are installed before the ready line: a SIGHUP at once
    // reloads (the default action would end the process), a SIGTERM at
    // once stops it cleanly.
    let (mut child, addr) = start(&config);
    signal(&child, "-HUP");
    assert!(ask(&addr).contains("\"choices\""), "still serving");
    assert!(child.try_wait().expect("waits").is_none(), "still running");
    stops_cleanly_on_sigterm(&mut child);
}
