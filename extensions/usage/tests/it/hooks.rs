//! The hooks driven as the gateway drives them: `on_request`, then
//! `on_response` or `on_event` per event, then `on_complete` with the record.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::json;
use switchboard_core::extension::{
    ClientKeyInfo, CompletionRecord, ExtensionContext, Gateway, Hooks, InboundApi, Outcome,
    RequestContext, Scratch, registered_extensions,
};
use switchboard_core::{
    ChatEvent, ChatRequest, ChatResponse, ContentPart, Error, Extension, FinishReason, Message,
    Usage, async_trait,
};
use switchboard_ext_usage::{
    COST_HEADER, ESTIMATED_HEADER, UNKNOWN_COST, UsageConfig, UsageExtension,
};
use tokio_util::sync::CancellationToken;

use crate::memory_store::MemoryStore;

struct NoGateway;

#[async_trait]
impl Gateway for NoGateway {
    async fn chat(&self, _: RequestContext, _: ChatRequest) -> Result<ChatResponse, Error> {
        Err(Error::unavailable("no gateway in this test"))
    }
}

fn extension(store: &Arc<MemoryStore>) -> UsageExtension {
    UsageExtension::new(UsageConfig::default(), store.clone()).expect("builds")
}

fn request(prompt: &str) -> ChatRequest {
    ChatRequest {
        model: "gpt-4o".into(),
        messages: vec![Message::user(prompt)],
        ..Default::default()
    }
}

fn response(instance: &str, model: &str, text: &str, usage: Usage) -> ChatResponse {
    ChatResponse {
        id: "r".into(),
        model: model.into(),
        provider: instance.into(),
        content: vec![ContentPart::text(text)],
        usage,
        ..Default::default()
    }
}

fn header<'a>(ctx: &'a RequestContext, name: &str) -> Option<&'a str> {
    ctx.response_headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// The record the gateway hands `on_complete`, with the request's scratch.
fn record(ctx: RequestContext, instance: Option<&str>, usage: Option<Usage>) -> CompletionRecord {
    CompletionRecord {
        request_id: ctx.request_id.clone(),
        // 2026-12-03T08:00:00Z
        started_at: SystemTime::UNIX_EPOCH + Duration::from_millis(1_796_284_800_000),
        api: ctx.api,
        client_key: ctx.client_key.clone(),
        requested_model: ctx.requested_model.clone(),
        instance: instance.map(Arc::from),
        model: Some("gpt-4o".into()),
        attempts: 1,
        fallbacks: 0,
        streamed: ctx.stream,
        answered_by_extension: false,
        usage,
        usage_partial: false,
        output_chars: 0,
        outcome: Outcome::Ok,
        latency: Duration::from_millis(5),
        time_to_first_token: None,
        scratch: ctx.scratch,
    }
}

async fn streamed(ext: &UsageExtension, prompt: &str, events: Vec<ChatEvent>) -> RequestContext {
    let mut ctx = RequestContext::new("s1", InboundApi::OpenAi);
    ctx.stream = true;
    ctx.client_key = Some(ClientKeyInfo {
        id: Arc::from("k1"),
        ..Default::default()
    });
    ext.on_request(&mut ctx, &mut request(prompt))
        .await
        .expect("on_request");
    for e in events {
        let mut out = Vec::new();
        ext.on_event(&mut ctx, e.clone(), &mut out)
            .expect("on_event");
        assert_eq!(out, vec![e], "events pass unchanged");
    }
    ctx
}

fn text(s: &str) -> ChatEvent {
    ChatEvent::TextDelta { text: s.into() }
}

#[tokio::test]
async fn registered_with_its_hooks_mount_and_schema() {
    let d = registered_extensions()
        .find(|d| d.name == "usage")
        .expect("#[extension] registered it");
    assert_eq!(d.mount, "/v1/usage");
    for h in [
        Hooks::REQUEST,
        Hooks::RESPONSE,
        Hooks::EVENT,
        Hooks::COMPLETE,
        Hooks::METHODS,
        Hooks::MODELS,
    ] {
        assert!(d.hooks.contains(h));
    }
    assert!(d.description.contains("Usage and cost"));
    assert!(d.config_schema()["properties"]["prices"].is_object());
    d.validate(&json!({})).expect("an empty table is valid");
    let err = d
        .validate(&json!({"prices": {"m": {"input": -1, "output": 1}}}))
        .expect_err("negative price");
    assert!(err.to_string().contains("prices.\"m\".input"), "{err}");
    let ctx = ExtensionContext {
        name: Arc::from("usage"),
        store: Arc::new(MemoryStore::default()),
        gateway: Arc::new(NoGateway),
        cancel: CancellationToken::new(),
    };
    let ext = d.build(json!({}), ctx).await.expect("builds");
    assert_eq!(ext.status()["store"], json!("memory"));
    assert_eq!(ext.methods()[0].name, "get");
}

#[tokio::test]
async fn a_complete_answer_carries_its_cost() {
    let store = Arc::new(MemoryStore::default());
    let ext = extension(&store);
    let mut ctx = RequestContext::new("r1", InboundApi::OpenAi);
    ext.on_request(&mut ctx, &mut request("hello"))
        .await
        .expect("on_request");
    let mut resp = response("openai", "gpt-4o-2024-08-06", "hi", Usage::new(1_000, 100));
    ext.on_response(&mut ctx, &mut resp)
        .await
        .expect("on_response");
    // 1000 × 2.50 + 100 × 10.00 = 3500 per million.
    assert_eq!(header(&ctx, COST_HEADER), Some("0.0035"));
    assert_eq!(header(&ctx, ESTIMATED_HEADER), None);
}

#[tokio::test]
async fn an_answer_without_usage_is_estimated_and_flagged() {
    let store = Arc::new(MemoryStore::default());
    let ext = extension(&store);
    let mut ctx = RequestContext::new("r2", InboundApi::Anthropic);
    ext.on_request(&mut ctx, &mut request(&"p".repeat(400)))
        .await
        .expect("on_request");
    let mut resp = response("openai", "gpt-4o", &"a".repeat(40), Usage::default());
    ext.on_response(&mut ctx, &mut resp)
        .await
        .expect("on_response");
    // 400/4 = 100 prompt tokens × 2.50 + 40/4 = 10 output tokens × 10.00.
    assert_eq!(header(&ctx, COST_HEADER), Some("0.00035"));
    assert_eq!(header(&ctx, ESTIMATED_HEADER), Some("true"));
    assert_eq!(
        resp.usage,
        Usage::default(),
        "the answer itself is unchanged"
    );
}

#[tokio::test]
async fn an_unpriced_model_costs_unknown_not_zero() {
    let store = Arc::new(MemoryStore::default());
    let ext = extension(&store);
    let mut ctx = RequestContext::new("r3", InboundApi::OpenAi);
    let mut resp = response("openai", "gpt-9-ultra", "hi", Usage::new(10, 10));
    ext.on_response(&mut ctx, &mut resp)
        .await
        .expect("on_response");
    assert_eq!(header(&ctx, COST_HEADER), Some(UNKNOWN_COST));

    // In the ledger: cost 0 (no "unknown" there), counted as unpriced.
    let ctx = streamed(&ext, "hello", vec![text("hi")]).await;
    let mut rec = record(ctx, Some("openai"), Some(Usage::new(10, 10)));
    rec.model = Some("gpt-9-ultra".into());
    ext.on_complete(&rec).await;
    let rows = store.rows();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].cost_usd, 0.0);
    let mut m = String::new();
    ext.metrics(&mut m);
    assert!(
        m.contains("switchboard_usage_unpriced_requests_total 1\n"),
        "{m}"
    );
}

#[tokio::test]
async fn a_stream_with_usage_is_billed_exactly() {
    let store = Arc::new(MemoryStore::default());
    let ext = extension(&store);
    let usage = Usage {
        cached_input_tokens: 1_000,
        ..Usage::new(2_000, 100)
    };
    let ctx = streamed(
        &ext,
        "hello",
        vec![
            text("hi"),
            ChatEvent::Usage(usage),
            ChatEvent::Finish {
                reason: FinishReason::Stop,
            },
        ],
    )
    .await;
    ext.on_complete(&record(ctx, Some("openai"), Some(usage)))
        .await;
    let rows = store.rows();
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    assert_eq!(
        (r.input_tokens, r.cached_input_tokens, r.output_tokens),
        (2_000, 1_000, 100)
    );
    assert!(!r.estimated && !r.partial);
    assert_eq!(r.key_id.as_deref(), Some("k1"));
    assert_eq!(
        (r.instance.as_str(), r.model.as_str()),
        ("openai", "gpt-4o")
    );
    assert_eq!(r.at_ms, 1_796_284_800_000);
    // 1000 × 2.50 + 1000 × 1.25 + 100 × 10.00 = 4750 per million.
    assert!((r.cost_usd - 0.004_75).abs() < 1e-12, "{}", r.cost_usd);
    let mut m = String::new();
    ext.metrics(&mut m);
    assert!(m.contains(
        "switchboard_tokens_total{instance=\"openai\",model=\"gpt-4o\",key=\"k1\",type=\"cached_input\"} 1000\n"
    ), "{m}");
    assert!(
        m.contains(
            "switchboard_cost_usd_total{instance=\"openai\",model=\"gpt-4o\",key=\"k1\"} 0.00475\n"
        ),
        "{m}"
    );
}

#[tokio::test]
async fn a_stream_without_usage_is_estimated_in_the_ledger() {
    let store = Arc::new(MemoryStore::default());
    let ext = extension(&store);
    let ctx = streamed(
        &ext,
        &"p".repeat(400),
        vec![
            text(&"a".repeat(30)),
            text(&"é".repeat(10)),
            ChatEvent::Finish {
                reason: FinishReason::Stop,
            },
        ],
    )
    .await;
    ext.on_complete(&record(ctx, Some("openai"), None)).await;
    let r = &store.rows()[0];
    // 400 chars → 100 tokens; 40 streamed chars (not bytes) → 10 tokens.
    assert_eq!((r.input_tokens, r.output_tokens), (100, 10));
    assert!(r.estimated && !r.partial);
    assert!((r.cost_usd - 0.000_35).abs() < 1e-12);
    let mut m = String::new();
    ext.metrics(&mut m);
    assert!(m.contains("switchboard_usage_estimated_requests_total 1\n"));
}

#[tokio::test]
async fn a_cancelled_stream_is_billed_for_what_was_received() {
    let store = Arc::new(MemoryStore::default());
    let ext = extension(&store);
    // Usage came before the client left: exact, but partial.
    let ctx = streamed(
        &ext,
        "hello",
        vec![text("par"), ChatEvent::Usage(Usage::new(5, 3))],
    )
    .await;
    let mut rec = record(ctx, Some("openai"), Some(Usage::new(5, 3)));
    rec.outcome = Outcome::Cancelled;
    rec.usage_partial = true;
    ext.on_complete(&rec).await;
    // No usage at all: an estimate of what was received, partial.
    let ctx = streamed(&ext, &"p".repeat(8), vec![text(&"a".repeat(12))]).await;
    let mut rec = record(ctx, Some("openai"), None);
    rec.outcome = Outcome::Cancelled;
    ext.on_complete(&rec).await;
    let rows = store.rows();
    assert_eq!(rows.len(), 2);
    assert_eq!((rows[0].input_tokens, rows[0].output_tokens), (5, 3));
    assert!(rows[0].partial && !rows[0].estimated);
    assert_eq!((rows[1].input_tokens, rows[1].output_tokens), (2, 3));
    assert!(rows[1].partial && rows[1].estimated);
}

#[tokio::test]
async fn nothing_is_billed_when_no_provider_answered() {
    let store = Arc::new(MemoryStore::default());
    let ext = extension(&store);
    // Refused before routing: no instance.
    let ctx = streamed(&ext, "hello", vec![]).await;
    ext.on_complete(&record(ctx, None, None)).await;
    // Failed upstream with neither usage nor any answer.
    let ctx = streamed(&ext, "hello", vec![]).await;
    let mut rec = record(ctx, Some("openai"), None);
    rec.outcome = Outcome::Error {
        kind: "unavailable",
        status: 503,
    };
    ext.on_complete(&rec).await;
    // Answered by an extension (a cache hit).
    let ctx = streamed(&ext, "hello", vec![text("cached")]).await;
    let mut rec = record(ctx, Some("openai"), Some(Usage::new(1, 1)));
    rec.answered_by_extension = true;
    ext.on_complete(&rec).await;
    assert!(store.rows().is_empty());
    // A stream that failed part-way is billed for what came, partial.
    let ctx = streamed(&ext, "hello", vec![text("half an ans")]).await;
    let mut rec = record(ctx, Some("openai"), None);
    rec.outcome = Outcome::Error {
        kind: "upstream",
        status: 502,
    };
    rec.usage_partial = true;
    ext.on_complete(&rec).await;
    let rows = store.rows();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].partial && rows[0].estimated);
}

#[tokio::test]
async fn local_instances_cost_zero_and_overrides_apply() {
    let store = Arc::new(MemoryStore::default());
    let config: UsageConfig = serde_json::from_value(json!({
        "prices": {"work/*": {"input": 10.0, "output": 20.0}},
        "estimate_chars_per_token": 2.0
    }))
    .expect("config");
    let ext = UsageExtension::new(config, store.clone()).expect("builds");
    let mut ctx = RequestContext::new("r", InboundApi::OpenAi);
    ext.on_response(
        &mut ctx,
        &mut response("ollama", "llama3.2", "hi", Usage::new(100, 100)),
    )
    .await
    .expect("on_response");
    assert_eq!(header(&ctx, COST_HEADER), Some("0"));
    ext.on_response(
        &mut ctx,
        &mut response("work", "anything", "hi", Usage::new(100, 50)),
    )
    .await
    .expect("on_response");
    // 100 × 10 + 50 × 20 = 2000 per million.
    assert_eq!(header(&ctx, COST_HEADER), Some("0.002"));
    // Estimates use the configured characters per token.
    let mut ctx = RequestContext::new("r", InboundApi::OpenAi);
    ext.on_request(&mut ctx, &mut request("abcd"))
        .await
        .expect("on_request");
    ext.on_response(
        &mut ctx,
        &mut response("work", "m", "abcdef", Usage::default()),
    )
    .await
    .expect("on_response");
    // 2 prompt tokens × 10 + 3 output tokens × 20 = 80 per million.
    assert_eq!(header(&ctx, COST_HEADER), Some("0.00008"));
}

#[tokio::test]
async fn ledger_write_failures_are_counted_not_fatal() {
    let store = Arc::new(MemoryStore {
        fail_appends: true,
        ..MemoryStore::default()
    });
    let ext = extension(&store);
    let ctx = streamed(&ext, "hello", vec![text("hi")]).await;
    ext.on_complete(&record(ctx, Some("openai"), Some(Usage::new(1, 1))))
        .await;
    assert_eq!(ext.status()["ledger_write_errors"], json!(1));
    let mut m = String::new();
    ext.metrics(&mut m);
    assert!(m.contains("key=\"k1\""), "metrics still count it");
}

#[test]
fn scratch_is_keyed_by_the_extensions_own_type() {
    let mut s = Scratch::default();
    let t = s.get_or_default::<switchboard_ext_usage::RequestTally>();
    t.observe(&ChatEvent::ToolCallDelta {
        index: 0,
        arguments: "{\"a\":1}".into(),
    });
    t.observe(&ChatEvent::Usage(Usage::new(1, 1)));
    assert_eq!(t.output_chars_seen, 7);
    assert!(t.saw_usage);
}

#[tokio::test]
async fn a_complete_answer_without_usage_is_estimated_in_the_ledger_too() {
    let store = Arc::new(MemoryStore::default());
    let ext = extension(&store);
    let mut ctx = RequestContext::new("r4", InboundApi::OpenAi);
    ext.on_request(&mut ctx, &mut request(&"p".repeat(400)))
        .await
        .expect("on_request");
    let mut resp = response("openai", "gpt-4o", &"a".repeat(40), Usage::default());
    ext.on_response(&mut ctx, &mut resp)
        .await
        .expect("on_response");
    assert_eq!(header(&ctx, COST_HEADER), Some("0.00035"));
    // The record carries the zero usage of the answer and no output_chars.
    ext.on_complete(&record(ctx, Some("openai"), Some(Usage::default())))
        .await;
    let r = &store.rows()[0];
    assert_eq!((r.input_tokens, r.output_tokens), (100, 10));
    assert!(r.estimated);
    assert!((r.cost_usd - 0.000_35).abs() < 1e-12);
}

/// A gateway whose instance `east` is a Bedrock instance.
struct BedrockEast;

#[async_trait]
impl Gateway for BedrockEast {
    async fn chat(&self, _: RequestContext, _: ChatRequest) -> Result<ChatResponse, Error> {
        Err(Error::unavailable("no gateway in this test"))
    }

    fn provider_kind(&self, instance: &str) -> Option<&'static str> {
        (instance == "east").then_some("bedrock")
    }
}

#[tokio::test]
async fn prices_follow_the_instance_kind_for_answers_and_model_lists() {
    let d = registered_extensions()
        .find(|d| d.name == "usage")
        .expect("registered");
    let ctx = ExtensionContext {
        name: Arc::from("usage"),
        store: Arc::new(MemoryStore::default()),
        gateway: Arc::new(BedrockEast),
        cancel: CancellationToken::new(),
    };
    let ext = d.build(json!({}), ctx).await.expect("builds");
    // 1M input and 1M output tokens of Nova Pro: $0.80 + $3.20.
    let usage = Usage {
        input_tokens: 1_000_000,
        output_tokens: 1_000_000,
        total_tokens: 2_000_000,
        ..Default::default()
    };
    let mut rctx = RequestContext::new("r1", InboundApi::OpenAi);
    let mut req = request("hi");
    ext.on_request(&mut rctx, &mut req)
        .await
        .expect("continues");
    let mut answer = response("east", "us.amazon.nova-pro-v1:0", "hello", usage);
    ext.on_response(&mut rctx, &mut answer)
        .await
        .expect("priced");
    assert_eq!(header(&rctx, COST_HEADER), Some("4"));

    let mut models = vec![switchboard_core::ModelInfo {
        id: "east/amazon.nova-lite-v1:0".into(),
        provider: "east".into(),
        ..Default::default()
    }];
    ext.on_models(&mut models);
    assert_eq!(models[0].input_price_per_million, Some(0.06));
    assert_eq!(models[0].output_price_per_million, Some(0.24));
}

#[tokio::test]
async fn an_answer_from_an_extension_costs_nothing() {
    let store = Arc::new(MemoryStore::default());
    let ext = extension(&store);
    let mut ctx = RequestContext::new("hit", InboundApi::OpenAi);
    let mut req = request("hi");
    ext.on_request(&mut ctx, &mut req).await.expect("continues");
    // The cache answered from its stored copy, usage and all.
    ctx.answered_by = Some(Arc::from("cache"));
    let mut answer = response("openai", "gpt-4o", "hello", Usage::new(1000, 1000));
    ext.on_response(&mut ctx, &mut answer).await.expect("fine");
    assert_eq!(header(&ctx, COST_HEADER), Some("0"));
    assert_eq!(header(&ctx, ESTIMATED_HEADER), None);
}
