//! The web console at `/ui` (the `console` feature): the page with its
//! Content-Security-Policy and no admin token needed, ETags, unknown files
//! and path traversal refused, and the console's own origin allowed to call
//! the API (with the token) while other origins stay refused.
#![cfg(feature = "console")]

use crate::common::spawn;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn config() -> serde_json::Value {
    json!({"server": {"admin_token": "adm"}, "providers": {"m": {"kind": "mock"}}})
}

/// Sends `path` as written (no client-side normalization of `..`) and
/// returns the whole answer.
async fn raw_get(addr: std::net::SocketAddr, path: &str) -> String {
    let mut s = TcpStream::connect(addr).await.expect("connects");
    let req = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.expect("writes");
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.expect("reads");
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn ui_serves_the_page_with_a_strict_csp_and_no_token() {
    let gw = spawn(config()).await;
    for path in ["/ui", "/ui/", "/ui/index.html"] {
        let r = gw.http.get(gw.url(path)).send().await.expect("sends");
        assert_eq!(r.status(), 200, "{path}");
        let h = r.headers().clone();
        assert_eq!(h["content-type"], "text/html; charset=utf-8");
        let csp = h["content-security-policy"].to_str().expect("ascii");
        assert!(csp.contains("script-src 'self'"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert!(h.contains_key("etag"));
        let body = r.text().await.expect("body");
        assert!(body.contains(r#"<script type="module" src="/ui/js/app.js">"#));
    }
    let r = gw
        .http
        .get(gw.url("/ui/js/app.js"))
        .send()
        .await
        .expect("sends");
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
}

#[tokio::test]
async fn an_unchanged_asset_is_a_304() {
    let gw = spawn(config()).await;
    let r = gw
        .http
        .get(gw.url("/ui/style.css"))
        .send()
        .await
        .expect("sends");
    let etag = r.headers()["etag"].clone();
    let again = gw
        .http
        .get(gw.url("/ui/style.css"))
        .header("if-none-match", etag)
        .send()
        .await
        .expect("sends");
    assert_eq!(again.status(), 304);
    assert_eq!(again.text().await.expect("body"), "");
}

#[tokio::test]
async fn unknown_files_and_traversal_are_404() {
    let gw = spawn(config()).await;
    let r = gw
        .http
        .get(gw.url("/ui/nope.js"))
        .send()
        .await
        .expect("sends");
    assert_eq!(r.status(), 404);
    assert!(r.headers().contains_key("content-security-policy"));
    for path in [
        "/ui/../Cargo.toml",
        "/ui/js/../../Cargo.toml",
        "/ui/%2e%2e/Cargo.toml",
        "/ui/js/%2e%2e/%2e%2e/src/lib.rs",
        "/ui/..%2fCargo.toml",
        "/ui/%2e%2e%5cCargo.toml",
        "/ui//etc/passwd",
    ] {
        let answer = raw_get(gw.addr, path).await;
        let status = answer.split(' ').nth(1).unwrap_or("");
        assert!(
            status == "404" || status == "400",
            "{path}: {}",
            answer.lines().next().unwrap_or("")
        );
        assert!(!answer.contains("[package]"), "{path} leaked a file");
        assert!(!answer.contains("root:"), "{path} leaked a file");
    }
}

#[tokio::test]
async fn the_consoles_own_origin_may_call_the_api_with_the_token() {
    let gw = spawn(config()).await;
    let origin = format!("http://{}", gw.addr);
    let r = gw
        .http
        .post(gw.url("/plugins/m/reload"))
        .header("origin", &origin)
        .header("authorization", "Bearer adm")
        .send()
        .await
        .expect("sends");
    assert_eq!(r.status(), 200);
    assert!(!r.headers().contains_key("access-control-allow-origin"));
    // The same origin without the token: the admin guard still answers.
    let r = gw
        .http
        .post(gw.url("/plugins/m/reload"))
        .header("origin", &origin)
        .send()
        .await
        .expect("sends");
    assert_eq!(r.status(), 401);
    // Another origin is refused before any handler, token or not.
    let r = gw
        .http
        .post(gw.url("/plugins/m/reload"))
        .header("origin", "http://evil.example")
        .header("authorization", "Bearer adm")
        .send()
        .await
        .expect("sends");
    assert_eq!(r.status(), 403);
    // A rebinding name claiming to be same-origin is refused too.
    let r = gw
        .http
        .post(gw.url("/plugins/m/reload"))
        .header("host", "evil.example")
        .header("origin", "http://evil.example")
        .header("authorization", "Bearer adm")
        .send()
        .await
        .expect("sends");
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn the_admin_token_lists_every_model_where_client_keys_are_required() {
    let gw = spawn(json!({
        "server": {"admin_token": "adm", "api_keys": [{"key": "sk-client", "models": ["m/mock-1"]}]},
        "providers": {"m": {"kind": "mock", "models": ["mock-1", "mock-2"]}}
    }))
    .await;
    let ids = |body: serde_json::Value| -> Vec<String> {
        body["data"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|m| m["id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let list = |bearer: &'static str| {
        gw.http
            .get(gw.url("/v1/models"))
            .header("authorization", format!("Bearer {bearer}"))
            .send()
    };
    let admin = list("adm").await.expect("sends");
    assert_eq!(admin.status(), 200);
    assert_eq!(
        ids(admin.json().await.expect("json")),
        ["m/mock-1", "m/mock-2"]
    );
    let client = list("sk-client").await.expect("sends");
    assert_eq!(ids(client.json().await.expect("json")), ["m/mock-1"]);
    assert_eq!(list("wrong").await.expect("sends").status(), 401);
}
