//! The inputs the conformance check feeds an extension's hooks: requests,
//! answers, streams and completion records, ordinary and awkward.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::json;
use switchboard_core::extension::{
    ClientKeyInfo, CompletionRecord, InboundApi, Outcome, RequestContext, Scratch,
};
use switchboard_core::{
    ChatEvent, ChatRequest, ChatResponse, ContentPart, FinishReason, Message, Usage,
    response_to_events,
};

/// Size of the "huge" texts: 1 MiB.
pub(crate) const HUGE: usize = 1 << 20;

/// About [`HUGE`] bytes of mixed text (ASCII, accents, emoji, an address
/// and digits: what redaction patterns look at).
pub(crate) fn huge_text() -> String {
    const UNIT: &str = "lorem ipsum é 🙂 someone@example.com 4111 1111 1111 1111 sk-abc123 ";
    UNIT.repeat(HUGE / UNIT.len() + 1)
}

/// A context for one request on `api`, streamed or not, from a client key.
pub(crate) fn context(label: &str, api: InboundApi, stream: bool) -> RequestContext {
    let mut ctx = RequestContext::new(format!("conformance-{label}"), api);
    ctx.stream = stream;
    ctx.requested_model = Arc::from("mock/echo");
    ctx.client_key = Some(ClientKeyInfo {
        id: Arc::from("conformance-key"),
        team: Some(Arc::from("conformance-team")),
        metadata: json!({"purpose": "conformance"}),
    });
    ctx.headers = vec![
        ("user-agent".into(), "switchboard-testkit".into()),
        ("x-request-id".into(), format!("conformance-{label}")),
    ];
    ctx
}

/// Requests `on_request` is called with: label, context, request.
pub(crate) fn requests() -> Vec<(&'static str, RequestContext, ChatRequest)> {
    let plain = ChatRequest::new("mock/echo", vec![Message::user("Hello!")]);
    let with_system = ChatRequest::new(
        "mock/echo",
        vec![Message::system("Be brief."), Message::user("Hello!")],
    );
    vec![
        (
            "plain",
            context("plain", InboundApi::OpenAi, false),
            plain.clone(),
        ),
        (
            "anthropic",
            context("anthropic", InboundApi::Anthropic, false),
            with_system,
        ),
        (
            "streamed",
            context("streamed", InboundApi::OpenAi, true),
            plain,
        ),
        (
            "empty messages",
            context("empty", InboundApi::OpenAi, false),
            ChatRequest::new("mock/echo", Vec::new()),
        ),
        (
            "huge text",
            context("huge", InboundApi::Anthropic, true),
            ChatRequest::new("mock/echo", vec![Message::user(huge_text())]),
        ),
    ]
}

fn response(text: &str) -> ChatResponse {
    ChatResponse {
        id: "conformance-1".into(),
        model: "echo".into(),
        provider: "mock".into(),
        content: if text.is_empty() {
            Vec::new()
        } else {
            vec![ContentPart::text(text)]
        },
        finish_reason: FinishReason::Stop,
        usage: Usage::new(12, 7),
        ..ChatResponse::default()
    }
}

/// Answers `on_response` is called with: label, answer.
pub(crate) fn responses() -> Vec<(&'static str, ChatResponse)> {
    vec![
        ("plain", response("Hello there!")),
        ("empty", response("")),
        ("huge text", response(&huge_text())),
    ]
}

/// Streams `on_event` is fed, event by event: label, events.
pub(crate) fn streams() -> Vec<(&'static str, Vec<ChatEvent>)> {
    let start = ChatEvent::Start {
        id: "conformance-1".into(),
        model: "echo".into(),
        created: None,
    };
    let finish = ChatEvent::Finish {
        reason: FinishReason::Stop,
    };
    let mut chunked = vec![start.clone()];
    let huge = huge_text();
    let mut rest = huge.as_str();
    while !rest.is_empty() {
        // 4 KiB chunks cut at character boundaries (what upstreams send).
        let mut cut = rest.len().min(4096);
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        chunked.push(ChatEvent::TextDelta {
            text: rest[..cut].to_owned(),
        });
        rest = &rest[cut..];
    }
    chunked.push(ChatEvent::Usage(Usage::new(12, 300_000)));
    chunked.push(finish.clone());
    vec![
        ("plain", response_to_events(&response("Hello there!"))),
        ("empty", vec![start, finish]),
        ("huge text in chunks", chunked),
    ]
}

fn record(label: &str, outcome: Outcome, usage: Option<Usage>, streamed: bool) -> CompletionRecord {
    CompletionRecord {
        request_id: Arc::from(format!("conformance-{label}")),
        started_at: SystemTime::now(),
        api: InboundApi::OpenAi,
        client_key: None,
        requested_model: Arc::from("mock/echo"),
        instance: Some(Arc::from("mock")),
        model: Some("echo".into()),
        attempts: 1,
        fallbacks: 0,
        streamed,
        answered_by_extension: false,
        usage_partial: matches!(outcome, Outcome::Cancelled),
        usage,
        output_chars: 12,
        outcome,
        latency: Duration::from_millis(40),
        time_to_first_token: streamed.then(|| Duration::from_millis(10)),
        scratch: Scratch::default(),
    }
}

/// Records `on_complete` is called with: label, record.
pub(crate) fn records() -> Vec<(&'static str, CompletionRecord)> {
    vec![
        (
            "answered",
            record("ok", Outcome::Ok, Some(Usage::new(12, 7)), false),
        ),
        (
            "failed",
            record(
                "error",
                Outcome::Error {
                    kind: "unavailable",
                    status: 503,
                },
                None,
                false,
            ),
        ),
        (
            "cancelled stream, usage unknown",
            record("cancelled", Outcome::Cancelled, None, true),
        ),
        (
            "streamed, no instance",
            CompletionRecord {
                instance: None,
                model: None,
                ..record("no-instance", Outcome::Ok, Some(Usage::default()), true)
            },
        ),
    ]
}
