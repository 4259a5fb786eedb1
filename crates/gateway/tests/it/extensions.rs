//! Extensions in the gateway: hook order, refusals, answers from
//! `on_request` (complete and streamed), `on_event` changing and refusing a
//! stream, completion records (ok, error, cancelled stream with partial
//! usage), the drop counter under a stalled `on_complete`, methods
//! (arguments validated, unknown method, admin-only), panics caught,
//! narrowing by alias, reload adding and removing an extension.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_core::extension;
use switchboard_core::extension::{
    CompletionRecord, Extension, ExtensionContext, ExtensionInit, InboundApi, MethodCall,
    MethodInfo, Outcome, RequestAction, RequestContext,
};
use switchboard_core::{
    ChatEvent, ChatRequest, ChatResponse, ContentPart, Error, ErrorKind, Message, Usage,
};
use switchboard_gateway::Switchboard;
use switchboard_gateway::config::types::Config;
use switchboard_mock as _;

/// What the test extensions saw, by the `tag` of their config.
#[derive(Default)]
struct Seen {
    calls: Vec<String>,
    records: Vec<Arc<CompletionRecord>>,
}

fn seen() -> &'static Mutex<HashMap<String, Seen>> {
    static SEEN: OnceLock<Mutex<HashMap<String, Seen>>> = OnceLock::new();
    SEEN.get_or_init(Default::default)
}

fn note(tag: &str, call: String) {
    seen()
        .lock()
        .expect("lock")
        .entry(tag.to_owned())
        .or_default()
        .calls
        .push(call);
}

fn calls(tag: &str) -> Vec<String> {
    seen()
        .lock()
        .expect("lock")
        .get(tag)
        .map(|s| s.calls.clone())
        .unwrap_or_default()
}

fn records(tag: &str) -> Vec<Arc<CompletionRecord>> {
    seen()
        .lock()
        .expect("lock")
        .get(tag)
        .map(|s| s.records.clone())
        .unwrap_or_default()
}

/// The test extensions' config.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProbeConfig {
    /// Where calls are noted.
    #[serde(default)]
    tag: String,
    /// What to do: `refuse`, `answer`, `upper`, `refuse_stream`, `stall`, `panic`.
    #[serde(default)]
    mode: String,
}

/// A test extension with every hook, its behaviour set by `mode`.
#[extension(
    name = "probe",
    config = ProbeConfig,
    hooks(on_request, on_response, on_event, on_complete, methods)
)]
pub(crate) struct Probe {
    config: ProbeConfig,
}

#[async_trait]
impl Extension for Probe {
    async fn on_request(
        &self,
        ctx: &mut RequestContext,
        request: &mut ChatRequest,
    ) -> Result<RequestAction, Error> {
        note(&self.config.tag, "probe:request".into());
        ctx.set_response_header("x-probe", "seen");
        match self.config.mode.as_str() {
            "refuse" => Err(Error::content_filter("refused by probe")),
            "panic" => panic!("probe panics"),
            "answer" => Ok(RequestAction::Answer(ChatResponse {
                id: "probe-1".into(),
                model: request.model.clone(),
                content: vec![ContentPart::Text {
                    text: "from the probe".into(),
                }],
                usage: Usage::new(1, 2),
                ..Default::default()
            })),
            _ => Ok(RequestAction::Continue),
        }
    }

    async fn on_response(
        &self,
        _ctx: &mut RequestContext,
        response: &mut ChatResponse,
    ) -> Result<(), Error> {
        note(&self.config.tag, "probe:response".into());
        response.content.push(ContentPart::Text {
            text: " [probe]".into(),
        });
        Ok(())
    }

    fn on_event(
        &self,
        ctx: &mut RequestContext,
        event: ChatEvent,
        out: &mut Vec<ChatEvent>,
    ) -> Result<(), Error> {
        match (self.config.mode.as_str(), event) {
            ("upper", ChatEvent::TextDelta { text }) => out.push(ChatEvent::TextDelta {
                text: text.to_uppercase(),
            }),
            ("refuse_stream", ChatEvent::TextDelta { text }) => {
                let n = ctx.scratch.get_or_default::<u32>();
                *n += 1;
                if *n >= 2 {
                    return Err(Error::content_filter("refused mid-stream"));
                }
                out.push(ChatEvent::TextDelta { text });
            }
            (_, event) => out.push(event),
        }
        Ok(())
    }

    async fn on_complete(&self, record: &CompletionRecord) {
        if self.config.mode == "stall" {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        let mut map = seen().lock().expect("lock");
        let entry = map.entry(self.config.tag.clone()).or_default();
        // The record is shared with other extensions: keep what tests look at.
        entry.records.push(Arc::new(CompletionRecord {
            request_id: record.request_id.clone(),
            started_at: record.started_at,
            api: record.api,
            client_key: record.client_key.clone(),
            requested_model: record.requested_model.clone(),
            instance: record.instance.clone(),
            model: record.model.clone(),
            attempts: record.attempts,
            fallbacks: record.fallbacks,
            streamed: record.streamed,
            answered_by_extension: record.answered_by_extension,
            usage: record.usage,
            usage_partial: record.usage_partial,
            output_chars: record.output_chars,
            outcome: record.outcome.clone(),
            latency: record.latency,
            time_to_first_token: record.time_to_first_token,
            scratch: Default::default(),
        }));
    }

    fn methods(&self) -> Vec<MethodInfo> {
        vec![
            MethodInfo::new(
                "echo",
                "Returns its text.",
                json!({"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}),
                json!({"type": "object"}),
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
        Ok(json!({"method": call.method, "echo": call.arguments["text"]}))
    }
}

#[async_trait]
impl ExtensionInit for Probe {
    type Config = ProbeConfig;

    async fn init(config: ProbeConfig, _ctx: ExtensionContext) -> Result<Self, Error> {
        Ok(Probe { config })
    }
}

/// A second extension, to check the order of hooks.
#[extension(name = "second", config = ProbeConfig, hooks(on_request, on_response))]
pub(crate) struct Second {
    tag: String,
}

#[async_trait]
impl Extension for Second {
    async fn on_request(
        &self,
        _ctx: &mut RequestContext,
        _request: &mut ChatRequest,
    ) -> Result<RequestAction, Error> {
        note(&self.tag, "second:request".into());
        Ok(RequestAction::Continue)
    }

    async fn on_response(
        &self,
        _ctx: &mut RequestContext,
        _response: &mut ChatResponse,
    ) -> Result<(), Error> {
        note(&self.tag, "second:response".into());
        Ok(())
    }
}

#[async_trait]
impl ExtensionInit for Second {
    type Config = ProbeConfig;

    async fn init(config: ProbeConfig, _ctx: ExtensionContext) -> Result<Self, Error> {
        Ok(Second { tag: config.tag })
    }
}

async fn switchboard(config: Value) -> Switchboard {
    let config: Config = serde_json::from_value(config).expect("valid config");
    Switchboard::from_config(config).await.expect("builds")
}

fn with_probe(tag: &str, mode: &str) -> Value {
    json!({
        "providers": {"m": {"kind": "mock"}},
        "extensions": {"probe": {"enabled": true, "tag": tag, "mode": mode}}
    })
}

fn req(model: &str) -> ChatRequest {
    ChatRequest::new(model, vec![Message::user("hello there")])
}

fn ctx() -> RequestContext {
    RequestContext::new("r-1", InboundApi::OpenAi)
}

/// Waits for `n` records of `tag` (on_complete runs on its own task).
async fn wait_records(tag: &str, n: usize) -> Vec<Arc<CompletionRecord>> {
    for _ in 0..200 {
        let r = records(tag);
        if r.len() >= n {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{tag}: expected {n} records, got {}", records(tag).len());
}

#[tokio::test]
async fn hooks_run_in_order_for_requests_and_answers() {
    let sb = switchboard(json!({
        "providers": {"m": {"kind": "mock"}},
        "extensions": {
            "probe": {"enabled": true, "order": 1, "tag": "order"},
            "second": {"enabled": true, "order": 0, "tag": "order"}
        }
    }))
    .await;
    let out = sb
        .chat_with(&mut ctx(), req("m/mock-1"))
        .await
        .expect("answers");
    assert_eq!(out.value.text(), "You said: hello there [probe]");
    assert_eq!(
        calls("order"),
        [
            "second:request",
            "probe:request",
            "second:response",
            "probe:response"
        ]
    );
}

#[tokio::test]
async fn a_refusal_never_reaches_the_provider_and_is_recorded() {
    // The provider always fails: a refusal's error proves it was not called.
    let sb = switchboard(json!({
        "providers": {"m": {"kind": "mock", "fault": {"kind": "unavailable"}}},
        "extensions": {"probe": {"enabled": true, "tag": "refuse", "mode": "refuse"}}
    }))
    .await;
    let e = sb
        .chat_with(&mut ctx(), req("m/mock-1"))
        .await
        .expect_err("refused");
    assert_eq!(e.kind(), &ErrorKind::ContentFilter);
    let r = wait_records("refuse", 1).await;
    assert_eq!(
        r[0].outcome,
        Outcome::Error {
            kind: "content_filter",
            status: 400
        }
    );
    assert_eq!(r[0].attempts, 0);
}

#[tokio::test]
async fn an_answer_from_on_request_skips_routing_complete_and_streamed() {
    let sb = switchboard(json!({
        "providers": {"m": {"kind": "mock", "fault": {"kind": "unavailable"}}},
        "extensions": {"probe": {"enabled": true, "tag": "answer", "mode": "answer"}}
    }))
    .await;
    let mut c = ctx();
    let out = sb
        .chat_with(&mut c, req("m/mock-1"))
        .await
        .expect("answered");
    assert_eq!(out.value.text(), "from the probe [probe]");
    assert_eq!(&*out.route.instance, "probe");
    assert_eq!(
        c.response_headers,
        vec![("x-probe".to_owned(), "seen".to_owned())]
    );
    let streamed = sb
        .chat_stream_with(&mut ctx(), req("m/mock-1"))
        .await
        .expect("answered");
    let events: Vec<ChatEvent> = streamed.value.map(|e| e.expect("no error")).collect().await;
    let text: String = events
        .iter()
        .filter_map(|e| match e {
            ChatEvent::TextDelta { text } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(text, "from the probe");
    let r = wait_records("answer", 2).await;
    assert!(
        r.iter()
            .all(|r| r.answered_by_extension && r.outcome == Outcome::Ok)
    );
}

#[tokio::test]
async fn on_event_changes_text_and_can_refuse_mid_stream() {
    let sb = switchboard(with_probe("upper", "upper")).await;
    let s = sb
        .chat_stream_with(&mut ctx(), req("m/mock-1"))
        .await
        .expect("streams");
    let text: String = s
        .value
        .filter_map(|e| async move {
            match e.expect("ok") {
                ChatEvent::TextDelta { text } => Some(text),
                _ => None,
            }
        })
        .collect()
        .await;
    assert_eq!(text, "YOU SAID: HELLO THERE");

    let sb = switchboard(with_probe("refuse_stream", "refuse_stream")).await;
    let s = sb
        .chat_stream_with(&mut ctx(), req("m/mock-1"))
        .await
        .expect("streams");
    let items: Vec<Result<ChatEvent, Error>> = s.value.collect().await;
    let last = items.last().expect("items");
    assert_eq!(
        last.as_ref().expect_err("ends with the refusal").kind(),
        &ErrorKind::ContentFilter
    );
    let r = wait_records("refuse_stream", 1).await;
    assert!(matches!(
        r[0].outcome,
        Outcome::Error {
            kind: "content_filter",
            ..
        }
    ));
}

#[tokio::test]
async fn records_for_ok_error_and_cancelled_streams() {
    let sb = switchboard(json!({
        "providers": {
            "m": {"kind": "mock"},
            "slow": {"kind": "mock", "token_delay_ms": 200},
            "bad": {"kind": "mock", "fault": {"kind": "unavailable"}}
        },
        "router": {"max_attempts": 1},
        "extensions": {"probe": {"enabled": true, "tag": "records"}}
    }))
    .await;
    sb.chat_with(&mut ctx(), req("m/mock-1")).await.expect("ok");
    wait_records("records", 1).await;
    sb.chat_with(&mut ctx(), req("bad/mock-1"))
        .await
        .expect_err("fails");
    wait_records("records", 2).await;
    let mut s = sb
        .chat_stream_with(&mut ctx(), req("slow/mock-1"))
        .await
        .expect("streams");
    // Read until the first text, then go away.
    while let Some(e) = s.value.next().await {
        if matches!(e.expect("ok"), ChatEvent::TextDelta { .. }) {
            break;
        }
    }
    drop(s);
    let r = wait_records("records", 3).await;
    assert_eq!(r[0].outcome, Outcome::Ok);
    assert!(r[0].usage.is_some() && !r[0].streamed);
    assert!(matches!(
        r[1].outcome,
        Outcome::Error {
            kind: "unavailable",
            ..
        }
    ));
    assert_eq!(r[2].outcome, Outcome::Cancelled);
    assert!(r[2].streamed && r[2].usage_partial);
    assert!(r[2].output_chars > 0, "text received so far is counted");
    assert!(r[2].time_to_first_token.is_some());
}

#[tokio::test]
async fn a_stalled_on_complete_drops_and_counts_records_without_slowing_requests() {
    let sb = switchboard(with_probe("stall", "stall")).await;
    let started = std::time::Instant::now();
    for _ in 0..1100 {
        sb.chat_with(&mut ctx(), req("m/mock-1")).await.expect("ok");
    }
    assert!(started.elapsed() < Duration::from_secs(30));
    let status = sb
        .extension_statuses()
        .into_iter()
        .find(|s| s.name == "probe")
        .expect("probe");
    // One record is being handled (stalled), 1024 wait; the rest are dropped.
    assert!(status.dropped_records >= 1100 - 1025, "{status:?}");
    let mut metrics = String::new();
    sb.extension_metrics(&mut metrics);
    assert!(
        metrics.contains(&format!(
            "switchboard_extension_records_dropped_total{{extension=\"probe\"}} {}",
            status.dropped_records
        )),
        "{metrics}"
    );
}

fn method(name: &str, arguments: Value, admin: bool) -> MethodCall {
    MethodCall {
        method: name.into(),
        arguments,
        client_key: None,
        admin,
        request_id: Arc::from("r"),
    }
}

#[tokio::test]
async fn methods_validate_arguments_and_name_what_is_available() {
    let sb = switchboard(with_probe("methods", "")).await;
    let out = sb
        .call_extension("probe", method("echo", json!({"text": "hi"}), false))
        .await
        .expect("calls");
    assert_eq!(out["echo"], "hi");
    let e = sb
        .call_extension("probe", method("echo", json!({"text": 3}), false))
        .await
        .expect_err("bad argument");
    assert_eq!(e.kind(), &ErrorKind::InvalidRequest);
    assert_eq!(e.param(), Some("text"));
    assert!(e.message().contains("text"), "{e}");
    let e = sb
        .call_extension("probe", method("nope", json!({}), false))
        .await
        .expect_err("unknown");
    assert_eq!(e.kind(), &ErrorKind::NotFound);
    assert!(e.message().contains("echo, secret"), "{e}");
    let e = sb
        .call_extension("nobody", method("echo", json!({}), false))
        .await
        .expect_err("unknown extension");
    assert_eq!(e.kind(), &ErrorKind::NotFound);
    assert!(e.message().contains("probe"), "{e}");
    let e = sb
        .call_extension("probe", method("secret", json!({}), false))
        .await
        .expect_err("admin only");
    assert_eq!(e.kind(), &ErrorKind::Permission);
    sb.call_extension("probe", method("secret", json!({}), true))
        .await
        .expect("admin may");
}

#[tokio::test]
async fn a_panicking_hook_is_an_internal_error() {
    let sb = switchboard(with_probe("panic", "panic")).await;
    let e = sb
        .chat_with(&mut ctx(), req("m/mock-1"))
        .await
        .expect_err("caught");
    assert_eq!(e.kind(), &ErrorKind::Internal);
}

#[tokio::test]
async fn an_alias_can_narrow_the_extensions_that_apply() {
    let sb = switchboard(json!({
        "providers": {"m": {"kind": "mock"}},
        "models": {
            "plain": {"targets": ["m/mock-1"], "extensions": []},
            "probed": {"targets": ["m/mock-1"]}
        },
        "extensions": {"probe": {"enabled": true, "tag": "narrow"}}
    }))
    .await;
    let out = sb.chat_with(&mut ctx(), req("plain")).await.expect("ok");
    assert_eq!(out.value.text(), "You said: hello there");
    let out = sb.chat_with(&mut ctx(), req("probed")).await.expect("ok");
    assert_eq!(out.value.text(), "You said: hello there [probe]");
}

#[tokio::test]
async fn enable_disable_and_reload_add_and_remove_extensions() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("switchboard.toml");
    std::fs::write(&path, "[providers.m]\nkind = \"mock\"\n").expect("write");
    let sb = Switchboard::from_config_file(&path).await.expect("builds");
    assert!(!sb.has_extensions());
    std::fs::write(
        &path,
        "[providers.m]\nkind = \"mock\"\n[state]\npath = \":memory:\"\n[extensions.probe]\nenabled = true\n",
    )
    .expect("write");
    sb.reload_from_file().await.expect("reloads");
    assert!(sb.has_extensions());
    let out = sb.chat_with(&mut ctx(), req("m/mock-1")).await.expect("ok");
    assert!(out.value.text().ends_with("[probe]"));
    sb.set_extension_enabled("probe", false).await.expect("off");
    assert!(!sb.has_extensions());
    sb.set_extension_enabled("probe", true).await.expect("on");
    assert!(sb.has_extensions());
    std::fs::write(&path, "[providers.m]\nkind = \"mock\"\n").expect("write");
    sb.reload_from_file().await.expect("reloads");
    assert!(!sb.has_extensions());
}

#[tokio::test]
async fn config_errors_name_linked_extensions_and_bad_keys() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("switchboard.toml");
    std::fs::write(
        &path,
        "[extensions.prob]\nenabled = true\n[extensions.probe]\nenabled = true\nmode = 3\n",
    )
    .expect("write");
    let e = Switchboard::from_config_file(&path)
        .await
        .expect_err("bad config")
        .to_string();
    assert!(e.contains("unknown extension `prob`"), "{e}");
    assert!(e.contains("did you mean `probe`"), "{e}");
    assert!(e.contains("extensions.probe.mode"), "{e}");
}

#[tokio::test]
async fn without_extensions_chat_with_is_chat() {
    let sb = switchboard(json!({"providers": {"m": {"kind": "mock"}}})).await;
    assert!(!sb.has_extensions());
    let out = sb.chat_with(&mut ctx(), req("m/mock-1")).await.expect("ok");
    assert_eq!(out.value.text(), "You said: hello there");
}

#[tokio::test]
async fn changed_settings_rebuild_the_extension() {
    let sb = switchboard(with_probe("rebuild", "")).await;
    sb.chat_with(&mut ctx(), req("m/mock-1")).await.expect("ok");
    let mut settings = serde_json::Map::new();
    settings.insert("tag".into(), json!("rebuild"));
    settings.insert("mode".into(), json!("refuse"));
    sb.set_extension_config("probe", settings)
        .await
        .expect("rebuilds");
    let e = sb
        .chat_with(&mut ctx(), req("m/mock-1"))
        .await
        .expect_err("the rebuilt extension refuses");
    assert_eq!(e.kind(), &ErrorKind::ContentFilter);
    let mut bad = serde_json::Map::new();
    bad.insert("mode".into(), json!(3));
    let e = sb
        .set_extension_config("probe", bad)
        .await
        .expect_err("invalid settings change nothing");
    assert!(e.to_string().contains("mode"), "{e}");
}
