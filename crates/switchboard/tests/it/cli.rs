//! The `switchboard` binary as a user runs it.
#![cfg(feature = "mock")]

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn switchboard(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn chat_streams_an_answer() {
    let o = switchboard(&["chat", "Hello"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "You said: Hello\n");
}

#[test]
fn chat_reads_stdin_without_a_prompt() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["chat", "--no-stream"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"from a pipe\n")
        .expect("write");
    let o = child.wait_with_output().expect("wait");
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "You said: from a pipe\n");
}

#[test]
fn chat_json_prints_the_whole_response() {
    let o = switchboard(&["chat", "--json", "-m", "mock/mock-1", "Hi there"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
    assert_eq!(v["model"], "mock-1");
    assert_eq!(v["finish_reason"], "stop");
    assert_eq!(v["content"][0]["text"], "You said: Hi there");
    assert!(v["usage"]["output_tokens"].as_u64().unwrap_or(0) > 0, "{v}");
}

#[test]
fn empty_stdin_is_a_clear_error() {
    let o = switchboard(&["chat"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stderr(&o), "error: no prompt: stdin was empty\n");
}

#[test]
fn bad_arguments_are_one_line_and_exit_2() {
    let o = switchboard(&["chat", "--bogus"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("--bogus"), "{err}");
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );

    let o = switchboard(&["chat", "--temperature", "hot", "x"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stderr(&o).lines().count(), 1);
}

#[test]
fn invalid_values_are_rejected_before_sending() {
    let o = switchboard(&["chat", "--temperature", "7", "x"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("temperature"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn unknown_model_and_instance_are_errors() {
    let o = switchboard(&["chat", "-m", "gpt-9", "x"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("gpt-9"), "{}", stderr(&o));
    let o = switchboard(&["chat", "-m", "openai/gpt-4o", "x"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("openai"), "{}", stderr(&o));
}

#[test]
fn providers_lists_the_mock_with_metadata() {
    let o = switchboard(&["providers"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let header = out.lines().next().expect("a header line");
    for col in ["NAME", "VERSION", "CAPABILITIES", "DESCRIPTION"] {
        assert!(header.contains(col), "{out}");
    }
    let row = out
        .lines()
        .find(|l| l.starts_with("| mock "))
        .expect("a mock row");
    assert!(row.contains(env!("CARGO_PKG_VERSION")), "{row}");
    assert!(row.contains("streaming"), "{row}");

    let o = switchboard(&["providers", "--json"]);
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
    let mock = v
        .as_array()
        .and_then(|a| a.iter().find(|p| p["name"] == "mock"))
        .expect("mock in JSON");
    assert_eq!(mock["crate"], "switchboard-mock");
    assert!(
        mock["capabilities"]
            .as_array()
            .is_some_and(|c| c.iter().any(|x| x == "tools"))
    );
}

#[test]
fn help_and_version_exit_zero() {
    let o = switchboard(&["--version"]);
    assert!(o.status.success());
    assert!(stdout(&o).contains(env!("CARGO_PKG_VERSION")));
    let o = switchboard(&["chat", "--help"]);
    assert!(o.status.success());
    assert!(stdout(&o).contains("--no-stream"));
}

#[test]
fn extensions_lists_the_linked_extensions() {
    let o = switchboard(&["extensions"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("NAME"), "{}", stdout(&o));
    let o = switchboard(&["extensions", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert!(v.is_array());
}

#[test]
fn call_needs_extension_dot_method_and_an_enabled_extension() {
    let o = switchboard(&["call", "nodot"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("`<extension>.<method>`"),
        "{}",
        stderr(&o)
    );
    let o = switchboard(&["call", "usage.get", "--json", "{"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("not valid JSON"), "{}", stderr(&o));
    let o = switchboard(&["call", "usage.get", "--json", "{}"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("no enabled extension named `usage`"),
        "{}",
        stderr(&o)
    );
    let o = switchboard(&["usage", "--group-by", "model"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("`usage`"), "{}", stderr(&o));
}
