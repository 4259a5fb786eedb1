//! The plugin-management API, with and without the token.

use crate::common;

use common::spawn;
use serde_json::{Value, json};
use switchboard_mock as _;

const TOKEN: &str = "admin-secret-token";

fn config() -> Value {
    json!({
        "server": {"admin_token": TOKEN},
        "providers": {
            "m": {"kind": "mock", "script": ["first"]},
            "n": {"kind": "mock", "fault": {"kind": "unavailable"}}
        }
    })
}

#[tokio::test]
async fn every_endpoint_needs_the_token() {
    let gw = spawn(config()).await;
    let endpoints = [
        ("GET", "/plugins"),
        ("GET", "/plugins/metadata"),
        ("GET", "/plugins/health"),
        ("POST", "/plugins/discover"),
        ("GET", "/plugins/m/status"),
        ("GET", "/plugins/m/config-schema"),
        ("PUT", "/plugins/m/config"),
        ("POST", "/plugins/m/reload"),
        ("POST", "/plugins/m/enable"),
        ("POST", "/plugins/m/disable"),
    ];
    for (method, path) in endpoints {
        for auth in [None, Some("Bearer wrong"), Some("admin-secret-token")] {
            let mut req = gw
                .http
                .request(method.parse().expect("method"), gw.url(path));
            if let Some(a) = auth {
                req = req.header("authorization", a);
            }
            let r = req.send().await.expect("sends");
            assert_eq!(r.status(), 401, "{method} {path} with {auth:?}");
        }
    }
    // Nothing was disabled by the rejected calls.
    assert_eq!(
        gw.sb.registry().get("m").expect("m").state(),
        switchboard_gateway::InstanceState::Ready
    );
}

#[tokio::test]
async fn disabled_without_a_token() {
    let gw = spawn(json!({"providers": {"m": {"kind": "mock"}}})).await;
    let r = gw
        .http
        .get(gw.url("/plugins"))
        .bearer_auth("anything")
        .send()
        .await
        .expect("sends");
    assert_eq!(r.status(), 404);
    let v: Value = r.json().await.expect("json");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("disabled"),
        "{v}"
    );
}

async fn call(gw: &common::Gateway, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = gw
        .http
        .request(method.parse().expect("method"), gw.url(path))
        .bearer_auth(TOKEN);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.expect("sends");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn list_metadata_status_schema_health() {
    let gw = spawn(config()).await;
    let (s, v) = call(&gw, "GET", "/plugins", None).await;
    assert_eq!(s, 200);
    let names: Vec<&str> = v
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|i| i["name"].as_str())
        .collect();
    assert_eq!(names, ["m", "n"]);
    assert_eq!(v[0]["state"], "ready");
    assert!(
        v[0]["capabilities"]
            .as_array()
            .expect("caps")
            .iter()
            .any(|c| c == "streaming")
    );

    let (s, v) = call(&gw, "GET", "/plugins/metadata", None).await;
    assert_eq!(s, 200);
    assert!(
        v.as_array()
            .expect("list")
            .iter()
            .any(|d| d["name"] == "mock" && d["crate"] == "switchboard-mock")
    );

    let (s, v) = call(&gw, "GET", "/plugins/m/status", None).await;
    assert_eq!(s, 200);
    assert_eq!(v["config"]["script"], json!(["first"]));
    assert_eq!(v["models"], json!(["mock-1"]));

    let (s, v) = call(&gw, "GET", "/plugins/m/config-schema", None).await;
    assert_eq!(s, 200);
    assert!(v["properties"]["token_delay_ms"].is_object(), "{v}");

    let (s, _) = call(&gw, "GET", "/plugins/zzz/status", None).await;
    assert_eq!(s, 404);

    let (s, v) = call(&gw, "GET", "/plugins/health", None).await;
    assert_eq!(s, 200);
    assert_eq!(v[0]["name"], "m");
    assert_eq!(v[0]["healthy"], true);
    assert_eq!(v[1]["healthy"], false);
    assert_eq!(v[1]["kind"], "unavailable");
}

#[tokio::test]
async fn config_update_reload_enable_disable() {
    let gw = spawn(config()).await;
    let ask = || async {
        let r = gw
            .http
            .post(gw.url("/v1/chat/completions"))
            .json(&json!({"model": "m/mock-1", "messages": [{"role": "user", "content": "x"}]}))
            .send()
            .await
            .expect("sends");
        let status = r.status().as_u16();
        let v: Value = r.json().await.expect("json");
        (
            status,
            v["choices"][0]["message"]["content"]
                .as_str()
                .unwrap_or("")
                .to_owned(),
        )
    };
    assert_eq!(ask().await, (200, "first".to_owned()));

    let (s, v) = call(
        &gw,
        "PUT",
        "/plugins/m/config",
        Some(json!({"script": ["second"]})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["config"]["script"], json!(["second"]));
    assert_eq!(ask().await, (200, "second".to_owned()));

    // An invalid update is a 400 naming the key; the old config keeps serving.
    let (s, v) = call(
        &gw,
        "PUT",
        "/plugins/m/config",
        Some(json!({"token_delay_ms": "slow"})),
    )
    .await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(v["error"]["param"], "token_delay_ms");
    assert_eq!(ask().await, (200, "second".to_owned()));

    let (s, v) = call(
        &gw,
        "POST",
        "/plugins/m/reload",
        Some(json!({"kind": "mock", "script": ["third"]})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(ask().await, (200, "third".to_owned()));
    let (s, _) = call(&gw, "POST", "/plugins/m/reload", None).await;
    assert_eq!(s, 200);

    let (s, v) = call(&gw, "POST", "/plugins/m/disable", None).await;
    assert_eq!((s, v["state"].as_str()), (200, Some("disabled")));
    assert_eq!(ask().await.0, 503);
    let (s, v) = call(&gw, "POST", "/plugins/m/enable", None).await;
    assert_eq!((s, v["state"].as_str()), (200, Some("ready")));
    assert_eq!(ask().await.0, 200);
}

#[tokio::test]
async fn secrets_are_redacted_everywhere() {
    let gw = spawn(json!({
        "server": {"admin_token": TOKEN},
        "providers": {"m": {"kind": "mock", "api_key": "sk-live-DO-NOT-LEAK"}}
    }))
    .await;
    for path in ["/plugins", "/plugins/m/status"] {
        let r = gw
            .http
            .get(gw.url(path))
            .bearer_auth(TOKEN)
            .send()
            .await
            .expect("s");
        let body = r.text().await.expect("text");
        assert!(!body.contains("sk-live-DO-NOT-LEAK"), "{path}: {body}");
        assert!(body.contains("\"api_key\":\"***\""), "{path}: {body}");
        assert!(!body.contains(TOKEN), "{path}: {body}");
    }
}

#[tokio::test]
async fn discover_without_a_file_is_an_error() {
    let gw = spawn(config()).await;
    let (s, v) = call(&gw, "POST", "/plugins/discover", None).await;
    assert_eq!(s, 500);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("not loaded from a file"),
        "{v}"
    );
}
