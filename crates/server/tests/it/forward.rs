//! The same-format fast path at the HTTP edge: an OpenAI request to an
//! OpenAI-format provider goes upstream as the client sent it (only
//! `model` changed) and the upstream's answer comes back byte for byte;
//! whenever the full path would change the request (a preset's quirks,
//! extensions, `server.forward_same_format = false`), the full path runs;
//! errors are the same on both.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

use crate::common::{self, Gateway, spawn};

/// An upstream answering every request with `status`, `headers` and
/// `body`, keeping each request's body.
pub(crate) struct Upstream {
    pub(crate) base_url: String,
    bodies: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Upstream {
    async fn start(status: &str, headers: &str, body: &str) -> Upstream {
        Upstream::serve(status, "application/json", headers, body).await
    }

    /// An upstream answering every request with `body` as an event stream.
    pub(crate) async fn sse(body: &str) -> Upstream {
        Upstream::serve("200 OK", "text/event-stream", "", body).await
    }

    /// An upstream answering every request with `status`, `content_type`,
    /// `headers` and `body`.
    pub(crate) async fn serve(
        status: &str,
        content_type: &str,
        headers: &str,
        body: &str,
    ) -> Upstream {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
        let addr = listener.local_addr().expect("addr");
        let bodies: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
        let answer = format!(
            "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\n{headers}\
             content-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        let seen = bodies.clone();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let (answer, seen) = (answer.clone(), seen.clone());
                tokio::spawn(async move {
                    let Some(request) = common::read_request(&mut sock).await else {
                        return;
                    };
                    let start = request
                        .windows(4)
                        .position(|w| w == b"\r\n\r\n")
                        .map_or(0, |i| i + 4);
                    seen.lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(request[start..].to_vec());
                    let _ = sock.write_all(answer.as_bytes()).await;
                });
            }
        });
        Upstream {
            base_url: format!("http://{addr}/v1"),
            bodies,
        }
    }

    fn ok(body: &str) -> impl Future<Output = Upstream> + '_ {
        Upstream::start("200 OK", "x-request-id: req-up-7\r\n", body)
    }

    /// The body of every request received, as text.
    pub(crate) fn received(&self) -> Vec<String> {
        self.bodies
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .collect()
    }
}

/// A chat completion as an upstream might format it: pretty-printed, with
/// fields the gateway has no name for, `created` in the past.
const ANSWER: &str = r#"{
  "id": "chatcmpl-up",
  "object": "chat.completion",
  "created": 1700000000,
  "model": "m-2025",
  "choices": [ { "index": 0, "message": { "role": "assistant", "content": "Hi!", "refusal": null, "annotations": [] }, "logprobs": null, "finish_reason": "stop" } ],
  "usage": { "prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7, "completion_tokens_details": { "audio_tokens": 0 } },
  "x_vendor_trace": { "region": "eu", "ms": 12.50 }
}"#;

/// A compact OpenAI request with a vendor field the gateway has no name for.
const REQUEST: &str = r#"{"model":"up/m","messages":[{"role":"user","content":"Hi \u00e9"}],"temperature":0.50,"x_vendor_knob":{"deep":[1,2.50,null]}}"#;

pub(crate) async fn gateway(provider: Value, server: Value) -> Gateway {
    spawn(json!({"server": server, "providers": {"up": provider}})).await
}

pub(crate) fn compatible(upstream: &Upstream) -> Value {
    json!({"kind": "openai-compatible", "base_url": upstream.base_url, "models": ["m"]})
}

/// `upstream` as an `openai-compatible` instance with Mistral's preset,
/// whose quirks (the `seed` rename) need the full path.
pub(crate) fn mistral(upstream: &Upstream) -> Value {
    let mut mistral = compatible(upstream);
    mistral["preset"] = json!("mistral");
    mistral["api_key"] = json!("sk-test");
    mistral
}

/// Asserts that `/metrics` counts `n` output tokens.
pub(crate) async fn assert_output_tokens(gw: &Gateway, n: u64) {
    let metrics = gw.metrics().await;
    let suffix = format!(" {n}");
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("switchboard_tokens_total")
                && l.contains("\"output\"")
                && l.ends_with(&suffix)),
        "{metrics}"
    );
}

pub(crate) async fn post(gw: &Gateway, body: &str) -> reqwest::Response {
    gw.http
        .post(gw.url("/v1/chat/completions"))
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .expect("sends")
}

#[tokio::test]
async fn a_same_format_request_and_its_answer_pass_through_byte_for_byte() {
    let upstream = Upstream::ok(ANSWER).await;
    let gw = gateway(compatible(&upstream), json!({})).await;
    let r = post(&gw, REQUEST).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    assert_eq!(r.headers()["x-switchboard-instance"], "up");
    assert_eq!(r.headers()["x-switchboard-upstream-request-id"], "req-up-7");
    assert_eq!(
        r.text().await.expect("body"),
        ANSWER,
        "the upstream's bytes"
    );
    assert_eq!(
        upstream.received(),
        [REQUEST.replace(r#""model":"up/m""#, r#""model":"m""#)],
        "the client's bytes, only the model changed"
    );
    // The usage read from the forwarded answer reaches the metrics.
    assert_output_tokens(&gw, 2).await;
}

#[tokio::test]
async fn the_full_path_runs_when_a_route_would_change_the_request() {
    // A preset with quirks (Mistral renames `seed`): fitted, so re-encoded.
    let upstream = Upstream::ok(ANSWER).await;
    let gw = gateway(mistral(&upstream), json!({})).await;
    let r = post(
        &gw,
        &REQUEST.replace("\"temperature\"", "\"seed\":7,\"temperature\""),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()
            .get("x-switchboard-upstream-request-id")
            .is_none()
    );
    let body = r.text().await.expect("body");
    assert_ne!(body, ANSWER, "encoded again");
    let v: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(v["choices"][0]["message"]["content"], "Hi!");
    let sent: Value = serde_json::from_str(&upstream.received()[0]).expect("JSON");
    assert_eq!(sent["random_seed"], 7, "renamed: {sent}");
    assert!(sent.get("seed").is_none());

    // Switched off in the config: the same route, encoded again.
    let upstream = Upstream::ok(ANSWER).await;
    let gw = gateway(compatible(&upstream), json!({"forward_same_format": false})).await;
    let r = post(&gw, REQUEST).await;
    assert_eq!(r.status(), 200);
    let body = r.text().await.expect("body");
    assert_ne!(body, ANSWER);
    assert_eq!(
        serde_json::from_str::<Value>(&body).expect("JSON")["choices"][0]["message"]["content"],
        "Hi!"
    );
    assert_ne!(upstream.received()[0], REQUEST.replace("up/m", "m"));

    // With an extension enabled (it may change the request or the answer).
    let upstream = Upstream::ok(ANSWER).await;
    let gw = spawn(json!({
        "providers": {"up": compatible(&upstream)},
        "extensions": {"guard": {"enabled": true}}
    }))
    .await;
    let r = post(&gw, REQUEST).await;
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("x-guard-api").is_some(), "the hook ran");
    assert_ne!(r.text().await.expect("body"), ANSWER);
}

#[tokio::test]
async fn a_request_naming_the_upstreams_model_goes_as_it_came() {
    let upstream = Upstream::ok(ANSWER).await;
    let gw = spawn(json!({
        "providers": {"up": compatible(&upstream)},
        "models": {"m": {"targets": ["up/m"]}}
    }))
    .await;
    // Spaces and all: nothing to rewrite, nothing re-written.
    let request =
        "{ \"model\" : \"m\",\n  \"messages\": [{\"role\": \"user\", \"content\": \"x\"}] }";
    let r = post(&gw, request).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.expect("body"), ANSWER);
    assert_eq!(upstream.received(), [request]);
}

/// `body` through a gateway on `upstream`, forwarding or not.
async fn asked(upstream: &Upstream, forward: bool, body: &str) -> reqwest::Response {
    let gw = gateway(
        compatible(upstream),
        json!({"forward_same_format": forward}),
    )
    .await;
    post(&gw, body).await
}

#[tokio::test]
async fn errors_are_the_same_as_on_the_full_path() {
    for forward in [true, false] {
        // An error object with a 200 status is that error.
        let upstream = Upstream::ok(
            r#"{"error":{"message":"bad thing","type":"invalid_request_error","param":"messages","code":null}}"#,
        )
        .await;
        let r = asked(&upstream, forward, REQUEST).await;
        assert_eq!(r.status(), 400, "forward {forward}");
        let v: Value = r.json().await.expect("JSON");
        assert!(
            v["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("bad thing")),
            "{v}"
        );

        // Not a chat completion: 502, in the caller's format.
        let upstream = Upstream::ok(r#"{"choices": []}"#).await;
        let r = asked(&upstream, forward, REQUEST).await;
        assert_eq!(r.status(), 502, "forward {forward}");
        let v: Value = r.json().await.expect("JSON");
        assert!(v["error"]["message"].as_str().is_some(), "{v}");

        // A 429 with Retry-After is passed on as a 429 with its delay.
        let upstream = Upstream::start(
            "429 Too Many Requests",
            "retry-after: 7\r\n",
            r#"{"error":{"message":"slow down","type":"rate_limit_error","code":"rate_limit_exceeded"}}"#,
        )
        .await;
        let gw = spawn(json!({
            "server": {"forward_same_format": forward},
            "router": {"max_attempts": 1, "retries_per_target": 0},
            "providers": {"up": compatible(&upstream)}
        }))
        .await;
        let r = post(&gw, REQUEST).await;
        assert_eq!(r.status(), 429, "forward {forward}");
        assert_eq!(r.headers()["retry-after"], "7");

        // Invalid input never reaches the upstream.
        let upstream = Upstream::ok(ANSWER).await;
        let r = asked(
            &upstream,
            forward,
            r#"{"model":"up/m","messages":[],"temperature":9}"#,
        )
        .await;
        assert_eq!(r.status(), 400);
        assert!(upstream.received().is_empty());
    }
}
