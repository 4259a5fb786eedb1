//! `switchboard serve`'s log level comes from `SWITCHBOARD_LOG`, else
//! `RUST_LOG`: at `warn` no INFO line is written, not even the access log
//! with `server.access_log = "all"`.
#![cfg(all(unix, feature = "mock"))]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A chat request over a fresh connection; `None` while nothing listens.
fn ask(addr: &str) -> Option<String> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let body = r#"{"model":"a/mock-1","messages":[{"role":"user","content":"x"}]}"#;
    write!(
        s,
        "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

/// Runs the gateway with these log variables, answers two requests, stops
/// it, and returns what it wrote to stderr.
fn stderr_of(vars: &[(&str, &str)]) -> String {
    let dir = tempfile::Builder::new()
        .prefix("sb-log-")
        .tempdir()
        .expect("dir");
    let config = dir.path().join("switchboard.toml");
    std::fs::write(
        &config,
        "[server]\naccess_log = \"all\"\n[providers.a]\nkind = \"mock\"\n",
    )
    .expect("write");
    // A free port (the ready line, which would name it, is INFO).
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut command = Command::new(env!("CARGO_BIN_EXE_switchboard"));
    command
        .args(["serve", "--listen", &addr, "--config"])
        .arg(&config)
        .env_remove("SWITCHBOARD_LOG")
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (name, value) in vars {
        command.env(name, value);
    }
    let child = command.spawn().expect("spawns");
    let deadline = Instant::now() + Duration::from_secs(10);
    let answer = loop {
        if let Some(answer) = ask(&addr) {
            break answer;
        }
        assert!(Instant::now() < deadline, "the server never answered");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(ask(&addr).is_some_and(|a| a.starts_with("HTTP/1.1 200")));
    let stopped = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(stopped.success());
    let output = child.wait_with_output().expect("waits");
    assert!(output.status.success(), "{}", output.status);
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn rust_log_warn_silences_info_lines() {
    let stderr = stderr_of(&[("RUST_LOG", "warn")]);
    assert!(!stderr.contains("INFO"), "{stderr}");
}

#[test]
fn switchboard_log_wins_over_rust_log() {
    let stderr = stderr_of(&[("SWITCHBOARD_LOG", "warn"), ("RUST_LOG", "info")]);
    assert!(!stderr.contains("INFO"), "{stderr}");

    let stderr = stderr_of(&[("SWITCHBOARD_LOG", "info"), ("RUST_LOG", "warn")]);
    let access = stderr
        .lines()
        .filter(|l| l.contains("INFO") && l.contains("switchboard::access"))
        .count();
    assert_eq!(access, 2, "both requests are logged at INFO:\n{stderr}");
    assert!(stderr.contains("switchboard is ready"), "{stderr}");
}

#[test]
fn without_variables_the_level_is_info() {
    let stderr = stderr_of(&[]);
    assert!(stderr.contains("switchboard is ready"), "{stderr}");
}
