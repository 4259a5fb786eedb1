//! Extensions at the HTTP edge: refusals and answers from `on_request` in
//! both API formats (complete and streamed), refusals mid-stream as error
//! events, response headers, the request context (client key id, no
//! secrets), records of streams the client dropped, extension methods
//! (generic and mounted routes, bad arguments, unknown methods, admin-only
//! methods), and `GET /plugins` listing both plugin kinds.

use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_core::extension::{
    CompletionRecord, Extension, ExtensionContext, ExtensionInit, MethodCall, MethodInfo, Outcome,
    RequestAction, RequestContext,
};
use switchboard_core::{
    ChatEvent, ChatRequest, ChatResponse, ContentPart, Error, Usage, extension,
};

use crate::common::{Gateway, spawn};

const TOKEN: &str = "admin-secret";
const KEY: &str = "sk-client-alice";

/// (tag, outcome, streamed, usage_partial, output_chars) of each record.
type Noted = (String, Outcome, bool, bool, u64);

fn records() -> &'static Mutex<Vec<Noted>> {
    static R: OnceLock<Mutex<Vec<Noted>>> = OnceLock::new();
    R.get_or_init(Default::default)
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct GuardConfig {
    #[serde(default)]
    mode: String,
    #[serde(default)]
    tag: String,
}

/// A test extension for the edge.
#[extension(
    name = "guard",
    config = GuardConfig,
    hooks(on_request, on_event, on_complete, methods),
    mount = "/v1/guardtest"
)]
pub(crate) struct Guard {
    config: GuardConfig,
}

#[async_trait]
impl Extension for Guard {
    async fn on_request(
        &self,
        ctx: &mut RequestContext,
        request: &mut ChatRequest,
    ) -> Result<RequestAction, Error> {
        let key = ctx.client_key.as_ref().map(|k| k.id.to_string());
        ctx.set_response_header("x-guard-key", key.unwrap_or_else(|| "-".into()));
        let saw_secret = ctx.header("authorization").is_some() || ctx.header("x-api-key").is_some();
        ctx.set_response_header("x-guard-saw-secret", saw_secret.to_string());
        ctx.set_response_header("x-guard-api", ctx.api.as_str());
        match self.config.mode.as_str() {
            "refuse" => Err(Error::content_filter("refused by guard")),
            "quota" => Err(Error::quota_exceeded("budget spent")),
            "answer" => Ok(RequestAction::Answer(ChatResponse {
                id: "guard-1".into(),
                model: request.model.clone(),
                content: vec![ContentPart::Text {
                    text: "from the guard".into(),
                }],
                usage: Usage::new(1, 2),
                ..Default::default()
            })),
            _ => Ok(RequestAction::Continue),
        }
    }

    fn on_event(
        &self,
        _ctx: &mut RequestContext,
        event: ChatEvent,
        out: &mut Vec<ChatEvent>,
    ) -> Result<(), Error> {
        if self.config.mode == "refuse_stream"
            && let ChatEvent::TextDelta { text } = &event
            && text.contains("said")
        {
            return Err(Error::content_filter("refused mid-stream by guard"));
        }
        out.push(event);
        Ok(())
    }

    async fn on_complete(&self, record: &CompletionRecord) {
        records().lock().expect("lock").push((
            self.config.tag.clone(),
            record.outcome.clone(),
            record.streamed,
            record.usage_partial,
            record.output_chars,
        ));
    }

    fn methods(&self) -> Vec<MethodInfo> {
        vec![
            MethodInfo::new(
                "echo",
                "Returns its arguments.",
                json!({"type": "object", "properties": {"n": {"type": "integer"}}}),
                json!({}),
            ),
            MethodInfo::new(
                "get",
                "Returns the query.",
                json!({"type": "object", "additionalProperties": {"type": "string"}}),
                json!({}),
            ),
            MethodInfo::new(
                "secret",
                "Admin only.",
                json!({"type": "object"}),
                json!({}),
            )
            .admin_only(),
        ]
    }

    async fn call(&self, call: MethodCall) -> Result<Value, Error> {
        Ok(json!({
            "method": call.method,
            "arguments": call.arguments,
            "admin": call.admin,
            "key": call.client_key.map(|k| k.id.to_string()),
        }))
    }
}

#[async_trait]
impl ExtensionInit for Guard {
    type Config = GuardConfig;

    async fn init(config: GuardConfig, _ctx: ExtensionContext) -> Result<Self, Error> {
        Ok(Guard { config })
    }
}

async fn gateway(mode: &str) -> Gateway {
    gateway_with(mode, "", json!({"kind": "mock"})).await
}

async fn gateway_with(mode: &str, tag: &str, provider: Value) -> Gateway {
    spawn(json!({
        "server": {"admin_token": TOKEN, "api_keys": [{"key": KEY, "name": "alice"}]},
        "providers": {"m": provider},
        "extensions": {"guard": {"enabled": true, "mode": mode, "tag": tag}}
    }))
    .await
}

async fn openai(gw: &Gateway, stream: bool) -> reqwest::Response {
    gw.http
        .post(gw.url("/v1/chat/completions"))
        .bearer_auth(KEY)
        .json(&json!({"model": "m/mock-1", "stream": stream,
            "messages": [{"role": "user", "content": "hello there"}]}))
        .send()
        .await
        .expect("sends")
}

async fn anthropic(gw: &Gateway, stream: bool) -> reqwest::Response {
    gw.http
        .post(gw.url("/v1/messages"))
        .header("x-api-key", KEY)
        .json(
            &json!({"model": "m/mock-1", "max_tokens": 64, "stream": stream,
            "messages": [{"role": "user", "content": "hello there"}]}),
        )
        .send()
        .await
        .expect("sends")
}

#[tokio::test]
async fn a_refusal_in_both_formats() {
    let gw = gateway("refuse").await;
    let r = openai(&gw, false).await;
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["error"]["type"], "invalid_request_error");
    assert_eq!(v["error"]["code"], "content_filter");
    assert_eq!(v["error"]["message"], "refused by guard");
    let r = anthropic(&gw, true).await;
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["type"], "error");
    assert_eq!(v["error"]["type"], "invalid_request_error");

    let gw = gateway("quota").await;
    let r = openai(&gw, false).await;
    assert_eq!(r.status(), 429);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["error"]["type"], "insufficient_quota");
    assert_eq!(v["error"]["code"], "insufficient_quota");
    let v: Value = anthropic(&gw, false).await.json().await.expect("json");
    assert_eq!(v["error"]["type"], "rate_limit_error");
}

#[tokio::test]
async fn an_answer_from_on_request_streamed_to_both_formats() {
    let gw = gateway_with(
        "answer",
        "",
        json!({"kind": "mock", "fault": {"kind": "unavailable"}}),
    )
    .await;
    let r = openai(&gw, true).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-guard-key"], "alice");
    assert_eq!(r.headers()["x-guard-saw-secret"], "false");
    assert_eq!(r.headers()["x-guard-api"], "openai");
    let body = r.text().await.expect("body");
    assert!(body.contains("from the guard"), "{body}");
    assert!(body.trim_end().ends_with("data: [DONE]"), "{body}");
    let r = anthropic(&gw, true).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-guard-api"], "anthropic");
    let body = r.text().await.expect("body");
    assert!(body.contains("from the guard"), "{body}");
    assert!(body.contains("message_stop"), "{body}");
    let v: Value = openai(&gw, false).await.json().await.expect("json");
    assert_eq!(v["choices"][0]["message"]["content"], "from the guard");
}

#[tokio::test]
async fn a_refusal_mid_stream_is_an_error_event_in_both_formats() {
    let gw = gateway("refuse_stream").await;
    let body = openai(&gw, true).await.text().await.expect("body");
    assert!(body.contains("refused mid-stream by guard"), "{body}");
    assert!(body.contains("\"error\""), "{body}");
    let body = anthropic(&gw, true).await.text().await.expect("body");
    assert!(body.contains("event: error"), "{body}");
    assert!(body.contains("refused mid-stream by guard"), "{body}");
}

#[tokio::test]
async fn a_stream_the_client_drops_is_recorded_as_cancelled() {
    let gw = gateway_with("", "cancel", json!({"kind": "mock", "token_delay_ms": 300})).await;
    let r = openai(&gw, true).await;
    let mut body = r.bytes_stream();
    let mut seen = String::new();
    while let Some(chunk) = body.next().await {
        seen.push_str(&String::from_utf8_lossy(&chunk.expect("chunk")));
        if seen.contains("content") {
            break;
        }
    }
    drop(body);
    for _ in 0..300 {
        let found = records()
            .lock()
            .expect("lock")
            .iter()
            .find(|r| r.0 == "cancel")
            .cloned();
        if let Some((_, outcome, streamed, partial, _)) = found {
            assert_eq!(outcome, Outcome::Cancelled);
            assert!(streamed && partial);
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no record of the cancelled stream");
}

async fn post(gw: &Gateway, path: &str, auth: &str, body: Value) -> (u16, Value) {
    let r = gw
        .http
        .post(gw.url(path))
        .bearer_auth(auth)
        .json(&body)
        .send()
        .await
        .expect("sends");
    (r.status().as_u16(), r.json().await.expect("json"))
}

#[tokio::test]
async fn methods_over_http() {
    let gw = gateway("").await;
    let (s, v) = post(&gw, "/v1/extensions/guard/echo", KEY, json!({"n": 3})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["arguments"]["n"], 3);
    assert_eq!(v["key"], "alice");
    assert_eq!(v["admin"], false);
    let (s, v) = post(&gw, "/v1/extensions/guard/echo", KEY, json!({"n": "x"})).await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(v["error"]["param"], "n");
    let (s, v) = post(&gw, "/v1/extensions/guard/nope", KEY, json!({})).await;
    assert_eq!(s, 404, "{v}");
    let msg = v["error"]["message"].as_str().expect("message");
    assert!(msg.contains("echo, get, secret"), "{msg}");
    let (s, _) = post(&gw, "/v1/extensions/guard/echo", "wrong-key", json!({})).await;
    assert_eq!(s, 401);
    let (s, v) = post(&gw, "/v1/extensions/guard/secret", KEY, json!({})).await;
    assert_eq!(s, 403, "{v}");
    let (s, v) = post(&gw, "/v1/extensions/guard/secret", TOKEN, json!({})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["admin"], true);
    // The mount: POST {mount}/{method} and GET {mount} (method `get`).
    let (s, v) = post(&gw, "/v1/guardtest/echo", KEY, json!({"n": 1})).await;
    assert_eq!(s, 200, "{v}");
    let r = gw
        .http
        .get(gw.url("/v1/guardtest?group_by=model&from=2026-01-01"))
        .bearer_auth(KEY)
        .send()
        .await
        .expect("sends");
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["method"], "get");
    assert_eq!(
        v["arguments"],
        json!({"group_by": "model", "from": "2026-01-01"})
    );
}

#[tokio::test]
async fn plugins_lists_both_kinds_and_extensions_can_be_disabled() {
    let gw = gateway("answer").await;
    let r = gw
        .http
        .get(gw.url("/plugins"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("sends");
    let v: Value = r.json().await.expect("json");
    let kinds: Vec<(&str, &str)> = v
        .as_array()
        .expect("list")
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap_or(""),
                p["kind"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(kinds, [("m", "provider"), ("guard", "extension")]);
    assert_eq!(v[0]["provider"], "mock");
    assert_eq!(v[1]["state"], "running");
    assert_eq!(
        v[1]["hooks"],
        json!(["request", "event", "complete", "methods"])
    );
    let r = gw
        .http
        .post(gw.url("/extensions/guard/disable"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("sends");
    assert_eq!(r.status(), 200);
    let v: Value = openai(&gw, false).await.json().await.expect("json");
    assert_eq!(
        v["choices"][0]["message"]["content"], "You said: hello there",
        "the disabled extension no longer answers"
    );
}

#[tokio::test]
async fn metrics_include_the_extensions() {
    let gw = gateway("").await;
    let body = gw.metrics().await;
    assert!(
        body.contains("switchboard_extension_records_dropped_total{extension=\"guard\"} 0"),
        "{body}"
    );
}
