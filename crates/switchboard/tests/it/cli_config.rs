//! The CLI with a configuration file: `chat -m instance/model` against an
//! OpenAI-compatible server on localhost, `models`, `config check`.
#![cfg(all(feature = "mock", feature = "openai-compatible"))]

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::json;
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A fresh directory, removed when the guard drops.
fn temp_dir(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("sb-cli-{name}-"))
        .tempdir()
        .expect("temp dir")
}

fn run(dir: &PathBuf, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(args)
        .current_dir(dir)
        .env_remove("SWITCHBOARD_CONFIG")
        .env_remove("SWITCHBOARD_PROFILE")
        .stdin(Stdio::null())
        .output()
        .expect("runs")
}

#[tokio::test]
async fn chat_against_a_local_openai_compatible_server() {
    let upstream = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(header("authorization", "Bearer sk-local-test"))
        .and(body_partial_json(json!({"model": "llama-3.1-8b", "stream": true})))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "text/event-stream")
                .set_body_string(concat!(
                    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"llama-3.1-8b\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n",
                    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"llama-3.1-8b\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi from\"},\"finish_reason\":null}]}\n\n",
                    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"llama-3.1-8b\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" localhost\"},\"finish_reason\":null}]}\n\n",
                    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"llama-3.1-8b\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
                    "data: [DONE]\n\n"
                )),
        )
        .expect(1)
        .mount(&upstream)
        .await;
    let guard = temp_dir("chat");
    let dir = guard.path().to_path_buf();
    std::fs::write(
        dir.join("switchboard.toml"),
        format!(
            "[providers.local]\nkind = \"openai-compatible\"\nbase_url = \"{}/v1\"\napi_key = \"${{LOCAL_KEY}}\"\nmodels = [\"llama-3.1-8b\"]\n",
            upstream.uri()
        ),
    )
    .expect("write config");
    std::fs::write(dir.join(".env"), "LOCAL_KEY=sk-local-test\n").expect("write .env");
    let out = tokio::task::spawn_blocking(move || {
        run(
            &dir,
            &["chat", "--show-route", "-m", "local/llama-3.1-8b", "Hello"],
        )
    })
    .await
    .expect("joins");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "Hi from localhost\n");
    assert!(
        stderr.contains("[local/llama-3.1-8b in 1 attempt]"),
        "{stderr}"
    );
    assert!(!stderr.contains("sk-local-test"), "{stderr}");
}

#[test]
fn models_and_config_check() {
    let guard = temp_dir("models");
    let dir = guard.path().to_path_buf();
    std::fs::write(
        dir.join("switchboard.toml"),
        "[providers.a]\nkind = \"mock\"\nmodels = [\"small\"]\n\n[models.fast]\ntargets = [\"a/small\"]\n",
    )
    .expect("write config");
    let out = run(&dir, &["models"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.lines().any(|l| l.starts_with("| a/small ")),
        "{table}"
    );
    assert!(table.lines().any(|l| l.starts_with("| fast ")), "{table}");

    let out = run(&dir, &["config", "check"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("ok: "),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    std::fs::write(
        dir.join("bad.toml"),
        "[providers.a]\nkind = \"mock\"\ntoken_delay_ms = \"slow\"\n",
    )
    .expect("write bad config");
    let out = run(&dir, &["config", "check", "bad.toml"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.toml") && err.contains("providers.a.token_delay_ms"),
        "{err}"
    );

    let out = run(&dir, &["config", "schema"]);
    assert!(out.status.success());
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON schema");
    assert!(schema["properties"]["providers"].is_object());
}

/// With `usage` on, `switchboard models` shows the catalog's prices for
/// models whose provider gave none: here the mock's documented test price,
/// found by the instance's kind (`a` is a `mock`), not its name.
#[test]
#[cfg(feature = "usage")]
fn models_get_prices_from_the_usage_extension() {
    let guard = temp_dir("models-prices");
    let dir = guard.path().to_path_buf();
    let config = "[providers.a]\nkind = \"mock\"\nmodels = [\"small\"]\n\n\
                  [state]\npath = \":memory:\"\n\n[extensions.usage]\nenabled = true\n";
    std::fs::write(dir.join("switchboard.toml"), config).expect("write config");
    let out = run(&dir, &["models", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let models: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let small = models
        .as_array()
        .and_then(|m| m.iter().find(|m| m["id"] == "a/small"))
        .expect("a/small is listed");
    assert_eq!(small["input_price_per_million"], 1.0, "{small}");
    assert_eq!(small["output_price_per_million"], 2.0, "{small}");

    // Without the extension, no price is invented.
    std::fs::write(
        dir.join("switchboard.toml"),
        "[providers.a]\nkind = \"mock\"\nmodels = [\"small\"]\n",
    )
    .expect("write config");
    let out = run(&dir, &["models", "--json"]);
    let models: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert!(
        models[0].get("input_price_per_million").is_none(),
        "{models}"
    );
}
