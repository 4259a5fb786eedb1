//! Virtual keys end to end: `switchboard serve` with the `keys` extension,
//! keys made over HTTP with the admin token, used by clients in both API
//! formats, limited, and revoked.
#![cfg(all(unix, feature = "mock", feature = "keys"))]

use serde_json::{Value, json};

use crate::serve::start;

const ADMIN: &str = "admin-secret-for-tests";

async fn post(
    addr: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Value,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut req = reqwest::Client::new()
        .post(format!("http://{addr}{path}"))
        .json(&body);
    for (n, v) in headers {
        req = req.header(*n, *v);
    }
    let resp = req.send().await.expect("sends");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.json().await.unwrap_or(Value::Null);
    (status, headers, body)
}

fn chat(model: &str) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": "hi"}]})
}

fn anthropic(model: &str) -> Value {
    json!({"model": model, "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_made_used_limited_and_revoked_over_http() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("switchboard.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nadmin_token = \"{ADMIN}\"\n\n\
             [providers.a]\nkind = \"mock\"\n\n\
             [state]\npath = \"{}\"\n\n\
             [extensions.keys]\nenabled = true\n",
            dir.path().join("state.db").display()
        ),
    )
    .expect("config");
    let (mut child, addr) = start(&config);
    let admin = format!("Bearer {ADMIN}");

    // Only the admin token makes keys.
    let (status, _, _) = post(
        &addr,
        "/v1/extensions/keys/create",
        &[],
        json!({"name": "x"}),
    )
    .await;
    assert_eq!(status, 401, "no key, no admin token");
    let (status, _, made) = post(
        &addr,
        "/v1/extensions/keys/create",
        &[("authorization", &admin)],
        json!({"name": "ci", "rpm": 2, "models": ["a/mock-1"]}),
    )
    .await;
    assert_eq!(status, 200, "{made}");
    let key = made["key"].as_str().expect("the key, once").to_owned();
    let bearer = format!("Bearer {key}");

    // With the extension on, a request without a key is refused.
    let (status, _, body) = post(&addr, "/v1/chat/completions", &[], chat("a/mock-1")).await;
    assert_eq!(status, 401, "{body}");
    let (status, _, _) = post(
        &addr,
        "/v1/chat/completions",
        &[("authorization", "Bearer sk-sb-not-a-key")],
        chat("a/mock-1"),
    )
    .await;
    assert_eq!(status, 401);

    // The key works, within its models, with rate-limit headers.
    let (status, headers, body) = post(
        &addr,
        "/v1/chat/completions",
        &[("authorization", &bearer)],
        chat("a/mock-1"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["x-ratelimit-limit-requests"], "2");
    assert_eq!(headers["x-ratelimit-remaining-requests"], "1");
    let (status, _, body) = post(
        &addr,
        "/v1/chat/completions",
        &[("authorization", &bearer)],
        chat("a/other"),
    )
    .await;
    assert_eq!(status, 403, "a model the key may not use: {body}");

    // The Anthropic format, `x-api-key`: the second request of the minute.
    let (status, _, body) = post(
        &addr,
        "/v1/messages",
        &[("x-api-key", &key), ("anthropic-version", "2023-06-01")],
        anthropic("a/mock-1"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // The third is refused in each caller's format, with retry-after.
    let (status, headers, body) = post(
        &addr,
        "/v1/chat/completions",
        &[("authorization", &bearer)],
        chat("a/mock-1"),
    )
    .await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"]["code"], "rate_limit_exceeded", "{body}");
    let wait: u64 = headers["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&wait), "{wait}");
    assert_eq!(headers["x-ratelimit-remaining-requests"], "0");
    let (status, _, body) = post(
        &addr,
        "/v1/messages",
        &[("x-api-key", &key), ("anthropic-version", "2023-06-01")],
        anthropic("a/mock-1"),
    )
    .await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"]["type"], "rate_limit_error", "{body}");

    // Revoked: refused at once with a clear 401; listing never shows a key.
    let id = made["id"].as_str().expect("id");
    let (status, _, _) = post(
        &addr,
        "/v1/extensions/keys/revoke",
        &[("authorization", &admin)],
        json!({"id": id}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _, body) = post(
        &addr,
        "/v1/chat/completions",
        &[("authorization", &bearer)],
        chat("a/mock-1"),
    )
    .await;
    assert_eq!(status, 401, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("revoked"),
        "{body}"
    );
    let (status, _, listed) = post(
        &addr,
        "/v1/extensions/keys/list",
        &[("authorization", &admin)],
        json!({}),
    )
    .await;
    assert_eq!(status, 200);
    assert!(!listed.to_string().contains(&key[6..]), "{listed}");

    // The REST face under the management API.
    let client = reqwest::Client::new();
    let url = |path: &str| format!("http://{addr}{path}");
    let made = client
        .post(url("/keys"))
        .header("authorization", &admin)
        .json(&json!({"name": "rest", "rpm": 100}))
        .send()
        .await
        .expect("sends");
    assert_eq!(made.status().as_u16(), 201);
    let made: Value = made.json().await.expect("json");
    let rest_key = made["key"].as_str().expect("key").to_owned();
    let id = made["id"].as_str().expect("id").to_owned();
    let wrong = client
        .get(url("/keys"))
        .header("authorization", "Bearer wrong")
        .send()
        .await
        .expect("sends");
    assert_eq!(wrong.status().as_u16(), 401);
    let patched: Value = client
        .patch(url(&format!("/keys/{id}")))
        .header("authorization", &admin)
        .json(&json!({"rpm": 7}))
        .send()
        .await
        .expect("sends")
        .json()
        .await
        .expect("json");
    assert_eq!(patched["rpm"], 7, "{patched}");
    let shown: Value = client
        .get(url(&format!("/keys/{id}")))
        .header("authorization", &admin)
        .send()
        .await
        .expect("sends")
        .json()
        .await
        .expect("json");
    assert_eq!(shown["name"], "rest");
    assert!(shown.get("key").is_none(), "{shown}");
    let (status, headers, _) = post(
        &addr,
        "/v1/chat/completions",
        &[("authorization", &format!("Bearer {rest_key}"))],
        chat("a/mock-1"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(headers["x-ratelimit-limit-requests"], "7");
    let gone = client
        .delete(url(&format!("/keys/{id}")))
        .header("authorization", &admin)
        .send()
        .await
        .expect("sends");
    assert_eq!(gone.status().as_u16(), 200);
    let missing = client
        .get(url("/keys/key_nope"))
        .header("authorization", &admin)
        .send()
        .await
        .expect("sends");
    assert_eq!(missing.status().as_u16(), 404);

    // The CLI writes the same store while the gateway runs.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["--config"])
        .arg(&config)
        .args([
            "keys", "create", "--name", "from-cli", "--models", "a/mock-1",
        ])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let made: Value = serde_json::from_slice(&out.stdout).expect("json");
    let cli_key = made["key"].as_str().expect("key");
    let (status, _, body) = post(
        &addr,
        "/v1/chat/completions",
        &[("authorization", &format!("Bearer {cli_key}"))],
        chat("a/mock-1"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["--config"])
        .arg(&config)
        .args(["keys", "list"])
        .output()
        .expect("runs");
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("from-cli") && table.contains("revoked"),
        "{table}"
    );
    assert!(!table.contains(&cli_key[6..]), "{table}");

    let _ = child.kill();
    let _ = child.wait();
}
