//! Web pages cannot use the gateway unless allowed: JSON content types, the
//! `Origin` allow-list with CORS, `Host` checks against DNS rebinding, no
//! unauthenticated non-loopback listener, and no empty client key.

use crate::common;

use std::sync::Arc;

use common::spawn;
use serde_json::{Value, json};
use switchboard_gateway::Switchboard;
use switchboard_gateway::config::types::Config;
use switchboard_server::Server;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn chat() -> String {
    json!({"model": "m/mock-1", "messages": [{"role": "user", "content": "hi"}]}).to_string()
}

fn mock() -> Value {
    json!({"providers": {"m": {"kind": "mock"}}})
}

#[tokio::test]
async fn a_cross_site_text_plain_post_is_refused() {
    let gw = spawn(mock()).await;
    // The "simple" request a page sends without a preflight: 415.
    for (path, content_type) in [
        ("/v1/chat/completions", Some("text/plain")),
        ("/v1/chat/completions", None),
        ("/v1/messages", Some("text/plain;charset=UTF-8")),
        ("/v1/embeddings", Some("application/x-www-form-urlencoded")),
    ] {
        let mut req = gw.http.post(gw.url(path)).body(chat());
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        let r = req.send().await.expect("sends");
        assert_eq!(r.status(), 415, "{path} with {content_type:?}");
        let v: Value = r.json().await.expect("json");
        let message = if path == "/v1/messages" {
            assert_eq!(v["type"], "error", "{v}");
            v["error"]["message"].as_str().unwrap_or("").to_owned()
        } else {
            v["error"]["message"].as_str().unwrap_or("").to_owned()
        };
        assert!(message.contains("application/json"), "{v}");
    }
    // With a page's Origin, even a JSON request is refused: 403.
    let r = gw
        .http
        .post(gw.url("/v1/chat/completions"))
        .header("content-type", "application/json")
        .header("origin", "https://evil.example")
        .body(chat())
        .send()
        .await
        .expect("sends");
    assert_eq!(r.status(), 403);
    assert!(r.headers().get("access-control-allow-origin").is_none());
    let v: Value = r.json().await.expect("json");
    let message = v["error"]["message"].as_str().unwrap_or("");
    assert!(
        message.contains("https://evil.example") && message.contains("server.cors.allowed_origins"),
        "{v}"
    );
    // `application/json` with parameters, and `+json`, are JSON.
    for ct in [
        "application/json; charset=utf-8",
        "application/vnd.switchboard+json",
    ] {
        let r = gw
            .http
            .post(gw.url("/v1/chat/completions"))
            .header("content-type", ct)
            .body(chat())
            .send()
            .await
            .expect("sends");
        assert_eq!(r.status(), 200, "{ct}");
    }
}

#[tokio::test]
async fn allowed_origins_get_cors_headers_and_preflights() {
    let gw = spawn(json!({
        "server": {"cors": {"allowed_origins": ["https://app.example"]}},
        "providers": {"m": {"kind": "mock"}}
    }))
    .await;
    let r = gw
        .http
        .request(reqwest::Method::OPTIONS, gw.url("/v1/chat/completions"))
        .header("origin", "https://app.example")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .expect("sends");
    assert_eq!(r.status(), 204);
    let h = r.headers();
    assert_eq!(h["access-control-allow-origin"], "https://app.example");
    assert!(
        h["access-control-allow-methods"]
            .to_str()
            .unwrap_or("")
            .contains("POST")
    );
    assert_eq!(
        h["access-control-allow-headers"],
        "authorization, content-type"
    );
    let r = gw
        .http
        .post(gw.url("/v1/chat/completions"))
        .header("origin", "https://app.example")
        .json(&serde_json::from_str::<Value>(&chat()).expect("json"))
        .send()
        .await
        .expect("sends");
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://app.example"
    );
    // Another origin's preflight is refused.
    let r = gw
        .http
        .request(reqwest::Method::OPTIONS, gw.url("/v1/chat/completions"))
        .header("origin", "https://other.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .expect("sends");
    assert_eq!(r.status(), 403);
}

/// `GET /healthz` with `host`, over a raw socket; the status line.
async fn status_with_host(addr: std::net::SocketAddr, host: &str) -> String {
    let mut s = TcpStream::connect(addr).await.expect("connects");
    s.write_all(
        format!("GET /healthz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .expect("writes");
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.expect("reads");
    let text = String::from_utf8_lossy(&out).into_owned();
    text.lines().next().unwrap_or("").to_owned() + "\n" + &text
}

#[tokio::test]
async fn a_rebinding_host_is_refused_on_a_loopback_listener() {
    let gw = spawn(json!({
        "server": {"allowed_hosts": ["gateway.internal"]},
        "providers": {"m": {"kind": "mock"}}
    }))
    .await;
    let port = gw.addr.port();
    let refused = status_with_host(gw.addr, &format!("evil.example:{port}")).await;
    assert!(refused.starts_with("HTTP/1.1 403"), "{refused}");
    assert!(refused.contains("server.allowed_hosts"), "{refused}");
    for host in [
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
        format!("[::1]:{port}"),
        format!("gateway.internal:{port}"),
    ] {
        let ok = status_with_host(gw.addr, &host).await;
        assert!(ok.starts_with("HTTP/1.1 200"), "{host}: {ok}");
    }
}

async fn switchboard(config: Value) -> Arc<Switchboard> {
    let config: Config = serde_json::from_value(config).expect("valid config");
    Arc::new(Switchboard::from_config(config).await.expect("builds"))
}

#[tokio::test]
async fn a_non_loopback_listener_without_client_keys_is_refused() {
    let any: std::net::SocketAddr = "0.0.0.0:0".parse().expect("addr");
    let err = Server::bind(switchboard(mock()).await, any)
        .await
        .expect_err("refused");
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    let message = err.to_string();
    assert!(
        message.contains("server.api_keys") && message.contains("server.allow_unauthenticated"),
        "{message}"
    );
    let keyed = switchboard(json!({"server": {"api_keys": [{"key": "k-123"}]}})).await;
    Server::bind(keyed, any).await.expect("with client keys");
    let opted_out = switchboard(json!({"server": {"allow_unauthenticated": true}})).await;
    Server::bind(opted_out, any)
        .await
        .expect("with the opt-out");
}

#[tokio::test]
async fn an_empty_client_key_never_matches() {
    // A programmatic config can hold an empty key (the loader refuses one).
    let gw = spawn(json!({
        "server": {"api_keys": [{"key": ""}, {"key": "real-key"}]},
        "providers": {"m": {"kind": "mock"}}
    }))
    .await;
    for (name, value) in [
        ("x-api-key", ""),
        ("authorization", "Bearer "),
        ("authorization", "Bearer"),
    ] {
        let r = gw
            .http
            .post(gw.url("/v1/chat/completions"))
            .header(name, value)
            .header("content-type", "application/json")
            .body(chat())
            .send()
            .await
            .expect("sends");
        assert_eq!(r.status(), 401, "{name}: {value:?}");
    }
    let r = gw
        .http
        .post(gw.url("/v1/chat/completions"))
        .bearer_auth("real-key")
        .header("content-type", "application/json")
        .body(chat())
        .send()
        .await
        .expect("sends");
    assert_eq!(r.status(), 200);
}
