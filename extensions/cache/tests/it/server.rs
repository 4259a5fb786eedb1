//! The cache in a real gateway: a `Switchboard` with the mock provider
//! behind the HTTP server, driven over HTTP in the OpenAI and Anthropic
//! formats. The mock plays a script, so an answer that went upstream again
//! would differ from the cached one.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use futures::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_core::extension::{CompletionRecord, ExtensionContext, MethodCall, Outcome};
use switchboard_core::{Error, Extension, ExtensionInit, async_trait, extension};
use switchboard_gateway::Switchboard;
use switchboard_gateway::config::types::Config;
use switchboard_server::Server;

// The mock provider, linked so its registration is in the catalog.
use switchboard_mock as _;

/// What the probe saw of each finished request: (tag, answered by an
/// extension, instance, outcome).
type Seen = (String, bool, Option<String>, Outcome);

fn seen() -> &'static Mutex<Vec<Seen>> {
    static SEEN: OnceLock<Mutex<Vec<Seen>>> = OnceLock::new();
    SEEN.get_or_init(Default::default)
}

/// The probe's config: a tag telling the tests' gateways apart.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
struct ProbeConfig {
    tag: String,
}

/// Notes every completion record (what the usage ledger is written from).
#[extension(name = "cache-probe", config = ProbeConfig, hooks(on_complete))]
struct Probe {
    tag: String,
}

#[async_trait]
impl ExtensionInit for Probe {
    type Config = ProbeConfig;

    async fn init(config: ProbeConfig, _ctx: ExtensionContext) -> Result<Self, Error> {
        Ok(Probe { tag: config.tag })
    }
}

#[async_trait]
impl Extension for Probe {
    async fn on_complete(&self, record: &CompletionRecord) {
        if let Ok(mut seen) = seen().lock() {
            seen.push((
                self.tag.clone(),
                record.answered_by_extension,
                record.instance.as_deref().map(str::to_owned),
                record.outcome.clone(),
            ));
        }
    }
}

struct Gateway {
    addr: SocketAddr,
    sb: Arc<Switchboard>,
    http: reqwest::Client,
    tag: String,
}

async fn gateway(tag: &str, mock: Value) -> Gateway {
    let config = json!({
        "state": {"path": ":memory:"},
        "providers": {"m": mock},
        "extensions": {
            "cache": {"enabled": true},
            "cache-probe": {"enabled": true, "tag": tag}
        }
    });
    let config: Config = serde_json::from_value(config).expect("valid config");
    let sb = Arc::new(Switchboard::from_config(config).await.expect("builds"));
    let server = Server::bind(sb.clone(), "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("binds");
    let addr = server.local_addr().expect("addr");
    tokio::spawn(server.run(std::future::pending()));
    Gateway {
        addr,
        sb,
        http: reqwest::Client::new(),
        tag: tag.to_owned(),
    }
}

fn script() -> Value {
    json!({"kind": "mock", "script": ["the first answer", "the second answer", "the third answer"]})
}

impl Gateway {
    async fn openai(&self, stream: bool, cache_control: Option<&str>) -> reqwest::Response {
        let mut r = self
            .http
            .post(format!("http://{}/v1/chat/completions", self.addr))
            .json(
                &json!({"model": "m/mock-1", "stream": stream, "max_tokens": 64,
                "messages": [{"role": "user", "content": "hello there"}]}),
            );
        if let Some(v) = cache_control {
            r = r.header("cache-control", v);
        }
        r.send().await.expect("sends")
    }

    async fn anthropic(&self, stream: bool) -> reqwest::Response {
        self.http
            .post(format!("http://{}/v1/messages", self.addr))
            .json(
                &json!({"model": "m/mock-1", "max_tokens": 64, "stream": stream,
                "messages": [{"role": "user", "content": "hello there"}]}),
            )
            .send()
            .await
            .expect("sends")
    }

    async fn stats(&self) -> Value {
        let call = MethodCall {
            method: "stats".into(),
            arguments: json!({}),
            client_key: None,
            admin: true,
            request_id: "test".into(),
        };
        self.sb.call_extension("cache", call).await.expect("stats")
    }

    /// Waits until the cache has stored `n` answers or counted `n`
    /// incomplete ones (`on_complete` runs off the request path).
    async fn wait_for(&self, field: &str, n: u64) -> Value {
        let mut stats = Value::Null;
        for _ in 0..250 {
            stats = self.stats().await;
            let got = match field {
                "incomplete" => stats["not_stored"]["incomplete"].as_u64(),
                _ => stats[field].as_u64(),
            };
            if got == Some(n) {
                return stats;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("the cache never reached {field} = {n}: {stats}");
    }

    /// The probe's records of this gateway, once there are `n`.
    async fn records(&self, n: usize) -> Vec<Seen> {
        for _ in 0..250 {
            let mine: Vec<Seen> = seen()
                .lock()
                .expect("lock")
                .iter()
                .filter(|s| s.0 == self.tag)
                .cloned()
                .collect();
            if mine.len() >= n {
                return mine;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("fewer than {n} records for {}", self.tag);
    }
}

fn cache_header(r: &reqwest::Response) -> String {
    r.headers()
        .get("x-switchboard-cache")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("none")
        .to_owned()
}

/// The `data:` payloads of an SSE body that are JSON.
fn sse_json(body: &str) -> Vec<Value> {
    body.split("\n\n")
        .flat_map(|frame| frame.lines())
        .filter_map(|line| line.strip_prefix("data: "))
        .filter_map(|data| serde_json::from_str(data).ok())
        .collect()
}

/// The text of an OpenAI stream, and its completion id.
fn openai_stream_text(body: &str) -> (String, String) {
    let chunks = sse_json(body);
    let text = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    let id = chunks
        .first()
        .and_then(|c| c["id"].as_str())
        .unwrap_or_default()
        .to_owned();
    (text, id)
}

/// The text of an Anthropic stream, and its event types in order.
fn anthropic_stream_text(body: &str) -> (String, Vec<String>) {
    let events = sse_json(body);
    let text = events
        .iter()
        .filter(|e| e["type"] == "content_block_delta")
        .filter_map(|e| e["delta"]["text"].as_str())
        .collect();
    let types = events
        .iter()
        .filter_map(|e| e["type"].as_str().map(str::to_owned))
        .collect();
    (text, types)
}

#[tokio::test]
async fn a_complete_answer_is_cached_and_the_hit_costs_nothing() {
    let gw = gateway("complete", script()).await;
    let first = gw.openai(false, None).await;
    assert_eq!(first.status(), 200);
    assert_eq!(cache_header(&first), "miss");
    let first: Value = first.json().await.expect("json");
    assert_eq!(
        first["choices"][0]["message"]["content"],
        "the first answer"
    );
    gw.wait_for("stores", 1).await;

    let second = gw.openai(false, None).await;
    assert_eq!(cache_header(&second), "hit");
    let second: Value = second.json().await.expect("json");
    assert_eq!(
        second["choices"][0]["message"]["content"],
        "the first answer"
    );
    assert_eq!(second["id"], first["id"], "the cached answer, unchanged");

    // The hit's record: answered by an extension (the cache), so the usage
    // ledger writes no row for it (`switchboard-ext-usage`'s `entry`).
    let records = gw.records(2).await;
    assert_eq!(
        records[1],
        ("complete".into(), true, Some("cache".into()), Outcome::Ok)
    );
    assert!(!records[0].1, "the miss went upstream");
    let stats = gw.wait_for("hits", 1).await;
    assert_eq!(stats["misses"], 1);
}

#[tokio::test]
async fn openai_stream_miss_then_streamed_hit() {
    let gw = gateway("openai-stream", script()).await;
    let first = gw.openai(true, None).await;
    assert_eq!(cache_header(&first), "miss");
    let (text, id) = openai_stream_text(&first.text().await.expect("body"));
    assert_eq!(text, "the first answer");
    gw.wait_for("stores", 1).await;

    let second = gw.openai(true, None).await;
    assert_eq!(cache_header(&second), "hit");
    assert!(
        second
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream")),
        "a streaming client gets a stream"
    );
    let body = second.text().await.expect("body");
    assert_eq!(openai_stream_text(&body), (text, id), "{body}");
    assert!(body.trim_end().ends_with("data: [DONE]"), "{body}");

    // The streamed answer also answers a complete request.
    let third = gw.openai(false, None).await;
    assert_eq!(cache_header(&third), "hit");
    let third: Value = third.json().await.expect("json");
    assert_eq!(
        third["choices"][0]["message"]["content"],
        "the first answer"
    );
}

#[tokio::test]
async fn anthropic_stream_miss_then_streamed_hit() {
    let gw = gateway("anthropic-stream", script()).await;
    let first = gw.anthropic(true).await;
    assert_eq!(cache_header(&first), "miss");
    let (text, types) = anthropic_stream_text(&first.text().await.expect("body"));
    assert_eq!(text, "the first answer");
    gw.wait_for("stores", 1).await;

    let second = gw.anthropic(true).await;
    assert_eq!(cache_header(&second), "hit");
    let body = second.text().await.expect("body");
    let (hit_text, hit_types) = anthropic_stream_text(&body);
    assert_eq!(hit_text, "the first answer", "{body}");
    assert_eq!(hit_types.first().map(String::as_str), Some("message_start"));
    assert_eq!(hit_types.last().map(String::as_str), Some("message_stop"));
    // The same events, the text in one delta instead of one per word.
    let (mut types, mut hit_types) = (types, hit_types);
    types.dedup();
    hit_types.dedup();
    assert_eq!(hit_types, types);

    let complete = gw.anthropic(false).await;
    assert_eq!(cache_header(&complete), "hit");
    let complete: Value = complete.json().await.expect("json");
    assert_eq!(complete["content"][0]["text"], "the first answer");
}

#[tokio::test]
async fn a_cancelled_stream_is_not_stored() {
    let mock = json!({"kind": "mock", "token_delay_ms": 200,
        "script": ["one two three four five six", "the second answer"]});
    let gw = gateway("cancelled", mock).await;
    let r = gw.openai(true, None).await;
    assert_eq!(cache_header(&r), "miss");
    let mut body = r.bytes_stream();
    let mut seen_text = String::new();
    while let Some(chunk) = body.next().await {
        seen_text.push_str(&String::from_utf8_lossy(&chunk.expect("chunk")));
        if seen_text.contains("\"content\"") {
            break;
        }
    }
    drop(body);
    let stats = gw.wait_for("incomplete", 1).await;
    assert_eq!(stats["stores"], 0, "{stats}");
    let records = gw.records(1).await;
    assert_eq!(records[0].3, Outcome::Cancelled);

    let again = gw.openai(false, None).await;
    assert_eq!(cache_header(&again), "miss");
    let again: Value = again.json().await.expect("json");
    assert_eq!(
        again["choices"][0]["message"]["content"],
        "the second answer"
    );
}

#[tokio::test]
async fn cache_control_bypasses_over_http() {
    let gw = gateway("bypass", script()).await;
    let r = gw.openai(false, Some("no-store")).await;
    assert_eq!(cache_header(&r), "bypass");
    let r = gw.openai(false, None).await;
    assert_eq!(cache_header(&r), "miss", "no-store stored nothing");
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["choices"][0]["message"]["content"], "the second answer");
    gw.wait_for("stores", 1).await;
    let r = gw.openai(false, Some("no-cache")).await;
    assert_eq!(cache_header(&r), "bypass");
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["choices"][0]["message"]["content"], "the third answer");
    gw.wait_for("stores", 2).await;
    let r = gw.openai(false, None).await;
    assert_eq!(cache_header(&r), "hit");
    let v: Value = r.json().await.expect("json");
    assert_eq!(
        v["choices"][0]["message"]["content"], "the third answer",
        "no-cache stored the fresh answer"
    );
    let mut metrics = String::new();
    gw.sb.extension_metrics(&mut metrics);
    assert!(
        metrics.contains("switchboard_cache_bypasses_total{reason=\"no_store\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("switchboard_cache_hits_total 1"),
        "{metrics}"
    );
}
