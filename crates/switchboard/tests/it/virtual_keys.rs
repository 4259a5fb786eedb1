//! Virtual keys end to end: `switchboard serve` with the `keys` extension,
//! keys made over HTTP with the admin token, used by clients in both API
//! formats, limited, and revoked.
#![cfg(all(unix, feature = "mock", feature = "keys"))]

use reqwest::Method;
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

/// A management API call with `authorization: <auth>`.
async fn rest(
    addr: &str,
    method: Method,
    path: &str,
    auth: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .request(method, format!("http://{addr}{path}"))
        .header("authorization", auth);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.expect("sends");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// A chat completion with `authorization: <auth>` (none: no header).
async fn openai_as(
    addr: &str,
    auth: Option<&str>,
    model: &str,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let headers: Vec<(&str, &str)> = auth.map(|a| ("authorization", a)).into_iter().collect();
    post(addr, "/v1/chat/completions", &headers, chat(model)).await
}

/// An Anthropic message with `x-api-key: <key>`.
async fn anthropic_as(
    addr: &str,
    key: &str,
    model: &str,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let headers = [("x-api-key", key), ("anthropic-version", "2023-06-01")];
    post(addr, "/v1/messages", &headers, anthropic(model)).await
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
    let (status, _, body) = openai_as(&addr, None, "a/mock-1").await;
    assert_eq!(status, 401, "{body}");
    let (status, _, _) = openai_as(&addr, Some("Bearer sk-sb-not-a-key"), "a/mock-1").await;
    assert_eq!(status, 401);

    // The key works, within its models, with rate-limit headers.
    let (status, headers, body) = openai_as(&addr, Some(&bearer), "a/mock-1").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["x-ratelimit-limit-requests"], "2");
    assert_eq!(headers["x-ratelimit-remaining-requests"], "1");
    let (status, _, body) = openai_as(&addr, Some(&bearer), "a/other").await;
    assert_eq!(status, 403, "a model the key may not use: {body}");

    // The Anthropic format, `x-api-key`: the second request of the minute.
    let (status, _, body) = anthropic_as(&addr, &key, "a/mock-1").await;
    assert_eq!(status, 200, "{body}");
    // The third is refused in each caller's format, with retry-after.
    let (status, headers, body) = openai_as(&addr, Some(&bearer), "a/mock-1").await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"]["code"], "rate_limit_exceeded", "{body}");
    let wait: u64 = headers["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&wait), "{wait}");
    assert_eq!(headers["x-ratelimit-remaining-requests"], "0");
    let (status, _, body) = anthropic_as(&addr, &key, "a/mock-1").await;
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
    let (status, _, body) = openai_as(&addr, Some(&bearer), "a/mock-1").await;
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
    let (status, made) = rest(
        &addr,
        Method::POST,
        "/keys",
        &admin,
        Some(json!({"name": "rest", "rpm": 100})),
    )
    .await;
    assert_eq!(status, 201, "{made}");
    let rest_key = made["key"].as_str().expect("key").to_owned();
    let id = made["id"].as_str().expect("id").to_owned();
    let (status, _) = rest(&addr, Method::GET, "/keys", "Bearer wrong", None).await;
    assert_eq!(status, 401);
    let one = format!("/keys/{id}");
    let (_, patched) = rest(&addr, Method::PATCH, &one, &admin, Some(json!({"rpm": 7}))).await;
    assert_eq!(patched["rpm"], 7, "{patched}");
    let (_, shown) = rest(&addr, Method::GET, &one, &admin, None).await;
    assert_eq!(shown["name"], "rest");
    assert!(shown.get("key").is_none(), "{shown}");
    let (status, headers, _) =
        openai_as(&addr, Some(&format!("Bearer {rest_key}")), "a/mock-1").await;
    assert_eq!(status, 200);
    assert_eq!(headers["x-ratelimit-limit-requests"], "7");
    let (status, gone) = rest(&addr, Method::DELETE, &one, &admin, None).await;
    assert_eq!(status, 200);
    assert!(gone["revoked_at"].is_string(), "{gone}");
    let (status, _) = rest(&addr, Method::GET, "/keys/key_nope", &admin, None).await;
    assert_eq!(status, 404);

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
    let (status, _, body) = openai_as(&addr, Some(&format!("Bearer {cli_key}")), "a/mock-1").await;
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
