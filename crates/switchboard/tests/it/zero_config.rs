//! Zero-config start: instances from the conventional key variables, run as
//! a child process with its own environment (never `set_var` in-process).
#![cfg(all(feature = "mock", feature = "openai"))]

use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::json;
use switchboard::gateway::config::env_providers::ENV_PROVIDERS;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SECRET: &str = "sk-test-ZERO-CONFIG-SECRET-4242";

/// A fake OpenAI upstream that lists one model for the test key.
async fn upstream() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/models"))
        .and(header("authorization", format!("Bearer {SECRET}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "object": "list",
            "data": [{"id": "gpt-zero-config", "object": "model", "created": 1, "owned_by": "test"}]
        })))
        .mount(&server)
        .await;
    server
}

/// Runs the binary in `dir` with only the OpenAI variables of the table set.
fn run(dir: &Path, upstream: &MockServer, args: &[&str]) -> Output {
    command(dir, upstream, args)
        .stdin(Stdio::null())
        .output()
        .expect("runs")
}

/// The binary in `dir`, its environment cleared of every variable of the
/// table but the OpenAI key and base URL.
fn command(dir: &Path, upstream: &MockServer, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_switchboard"));
    cmd.args(args)
        .current_dir(dir)
        .env_remove("SWITCHBOARD_CONFIG")
        .env_remove("SWITCHBOARD_PROFILE");
    for row in ENV_PROVIDERS {
        for group in row.triggers {
            for var in *group {
                cmd.env_remove(var);
            }
        }
        for setting in row.settings {
            for var in setting.vars {
                cmd.env_remove(var);
            }
        }
    }
    cmd.env("OPENAI_API_KEY", SECRET)
        .env("OPENAI_BASE_URL", format!("{}/v1", upstream.uri()));
    cmd
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("sb-zero-config-")
        .tempdir()
        .expect("temp dir")
}

#[tokio::test]
async fn models_without_a_file_lists_an_openai_instance_from_the_environment() {
    let upstream = upstream().await;
    let dir = temp_dir();
    let out = run(dir.path(), &upstream, &["models"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    let row = stdout
        .lines()
        .find(|l| l.contains("gpt-zero-config"))
        .unwrap_or_else(|| panic!("no openai model listed:\n{stdout}\n{stderr}"));
    assert!(row.contains("| openai"), "{row}");
    assert!(stdout.contains("mock"), "the mock stays: {stdout}");
    assert!(
        stderr.contains("openai (OPENAI_API_KEY, OPENAI_BASE_URL)"),
        "{stderr}"
    );
    assert!(!stdout.contains(SECRET) && !stderr.contains(SECRET));

    let out = run(dir.path(), &upstream, &["models", "--json"]);
    let models: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert!(
        models
            .as_array()
            .expect("a list")
            .iter()
            .any(|m| m["id"] == "openai/gpt-zero-config" && m["provider"] == "openai"),
        "{models}"
    );
}

#[tokio::test]
async fn providers_env_names_the_variables_never_the_values() {
    let upstream = upstream().await;
    let dir = temp_dir();
    let out = run(dir.path(), &upstream, &["providers", "--env"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let row = stdout
        .lines()
        .find(|l| l.starts_with("| openai "))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        row.contains("found: OPENAI_API_KEY, OPENAI_BASE_URL"),
        "{row}"
    );
    assert!(
        stdout.contains("| anthropic"),
        "every row is listed: {stdout}"
    );
    assert!(!stdout.contains(SECRET));
    assert!(!stdout.contains(&upstream.uri()), "no value at all");

    let out = run(dir.path(), &upstream, &["providers", "--env", "--json"]);
    let found: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(
        found,
        json!([{"instance": "openai", "kind": "openai", "vars": ["OPENAI_API_KEY", "OPENAI_BASE_URL"]}])
    );
}

const MOCK_ONLY: &str = "[providers.mock]\nkind = \"mock\"\n";

#[tokio::test]
async fn an_explicit_file_disables_it_unless_asked() {
    let upstream = upstream().await;
    let dir = temp_dir();
    let file = dir.path().join("switchboard.toml");
    std::fs::write(&file, MOCK_ONLY).expect("write config");

    let out = run(dir.path(), &upstream, &["models"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    assert!(!stdout.contains("gpt-zero-config"), "{stdout}");
    assert!(!stderr.contains("OPENAI_API_KEY"), "{stderr}");

    let out = run(dir.path(), &upstream, &["--env-providers", "models"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("gpt-zero-config"), "{stdout}\n{stderr}");
    assert!(stderr.contains("OPENAI_API_KEY"), "{stderr}");
    assert!(!stdout.contains(SECRET) && !stderr.contains(SECRET));

    std::fs::write(
        &file,
        format!("[server]\nenv_providers = true\n\n{MOCK_ONLY}"),
    )
    .expect("write config");
    let out = run(dir.path(), &upstream, &["models"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("gpt-zero-config"), "{stdout}\n{stderr}");
}

#[tokio::test]
async fn the_file_instance_of_the_same_name_wins() {
    let upstream = upstream().await;
    let dir = temp_dir();
    std::fs::write(
        dir.path().join("switchboard.toml"),
        "[server]\nenv_providers = true\n\n[providers.openai]\nkind = \"mock\"\n",
    )
    .expect("write config");
    let out = run(dir.path(), &upstream, &["models"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    assert!(!stdout.contains("gpt-zero-config"), "{stdout}");
    assert!(!stderr.contains("OPENAI_API_KEY"), "{stderr}");
}

#[cfg(unix)]
#[tokio::test]
async fn serve_logs_which_variables_made_which_instance() {
    use std::io::{BufRead, BufReader};
    use std::time::{Duration, Instant};

    let upstream = upstream().await;
    let dir = temp_dir();
    let mut child = command(dir.path(), &upstream, &["serve", "--listen", "127.0.0.1:0"])
        .env("SWITCHBOARD_LOG", "info")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawns");
    let stderr = child.stderr.take().expect("stderr");
    let mut log = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    for line in BufReader::new(stderr).lines() {
        let line = line.expect("utf-8");
        let ready = line.contains("switchboard is ready");
        log.push(line);
        if ready || Instant::now() > deadline {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let log = log.join("\n");
    let line = log
        .lines()
        .find(|l| l.contains("instance from environment variables"))
        .unwrap_or_else(|| panic!("no env line in:\n{log}"));
    assert!(line.contains("instance=openai"), "{line}");
    assert!(line.contains("OPENAI_API_KEY, OPENAI_BASE_URL"), "{line}");
    assert!(log.contains("switchboard is ready"), "{log}");
    assert!(!log.contains(SECRET), "{log}");
}

/// Without a file, `SWITCHBOARD_*` variables still configure the built-in
/// setup: an admin token from the environment turns on the admin API (and
/// the console) next to the mock; a bad variable stops the start naming it.
#[tokio::test]
async fn switchboard_variables_configure_a_start_without_a_file() {
    let upstream = upstream().await;
    let dir = temp_dir();
    let mut cmd = command(dir.path(), &upstream, &["serve", "--listen", "127.0.0.1:0"]);
    cmd.env(
        "SWITCHBOARD_SERVER__ADMIN_TOKEN",
        "admin-from-the-environment",
    );
    let (mut child, addr) = crate::serve::start_command(cmd);
    let http = reqwest::Client::new();
    let plugins = |auth: Option<&str>| {
        let mut req = http.get(format!("http://{addr}/plugins"));
        if let Some(a) = auth {
            req = req.bearer_auth(a);
        }
        req.send()
    };
    let with = plugins(Some("admin-from-the-environment"))
        .await
        .expect("answers");
    assert_eq!(with.status(), 200);
    let listed = with.text().await.expect("body");
    assert!(
        listed.contains("\"mock\""),
        "the built-in mock stays: {listed}"
    );
    let without = plugins(None).await.expect("answers");
    assert_eq!(without.status(), 401, "the admin API needs the token");
    let _ = child.kill();
    let _ = child.wait();

    let bad = command(dir.path(), &upstream, &["serve", "--listen", "127.0.0.1:0"])
        .env("SWITCHBOARD_ROUTER__MAX_ATTEMPTS", "banana")
        .stdin(Stdio::null())
        .output()
        .expect("runs");
    assert!(!bad.status.success());
    let err = text(&bad.stderr);
    assert!(err.contains("SWITCHBOARD_ROUTER__MAX_ATTEMPTS"), "{err}");
}
