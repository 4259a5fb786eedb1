//! Integration tests of the request-log extension, driving its hooks
//! directly as the gateway would and reading the files it writes.

mod bodies;
mod conformance;
mod lines;
mod registration;
mod rotation;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde_json::Value;
use switchboard_core::extension::{CompletionRecord, InboundApi, Outcome, RequestContext, Scratch};
use switchboard_core::{
    ChatRequest, ChatResponse, ContentPart, Extension, FinishReason, Message, Usage,
};
use switchboard_ext_request_log::{RequestLog, RequestLogConfig};

/// A started extension writing to `dir/requests.jsonl`, with `config`'s
/// other keys as given.
pub(crate) async fn start(dir: &Path, config: serde_json::Value) -> (RequestLog, PathBuf) {
    let path = dir.join("requests.jsonl");
    let mut config: RequestLogConfig = serde_json::from_value(config).expect("config");
    config.path = path.clone();
    (RequestLog::start(config).await.expect("starts"), path)
}

/// A finished request's record carrying `scratch`.
pub(crate) fn record(request_id: &str, scratch: Scratch) -> CompletionRecord {
    CompletionRecord {
        request_id: request_id.into(),
        started_at: SystemTime::now(),
        api: InboundApi::OpenAi,
        client_key: None,
        requested_model: "fast".into(),
        instance: Some("mock".into()),
        model: Some("echo".into()),
        attempts: 1,
        fallbacks: 0,
        streamed: false,
        answered_by_extension: false,
        usage: Some(Usage {
            input_tokens: 3,
            output_tokens: 2,
            total_tokens: 5,
            ..Usage::default()
        }),
        usage_partial: false,
        output_chars: 5,
        outcome: Outcome::Ok,
        latency: Duration::from_millis(12),
        time_to_first_token: None,
        scratch,
    }
}

pub(crate) fn chat_request(text: &str) -> ChatRequest {
    ChatRequest {
        model: "fast".into(),
        messages: vec![Message::user(text)],
        ..ChatRequest::default()
    }
}

pub(crate) fn chat_response(text: &str) -> ChatResponse {
    ChatResponse {
        content: vec![ContentPart::text(text)],
        finish_reason: FinishReason::Stop,
        ..ChatResponse::default()
    }
}

/// One complete request through every hook, as the gateway runs them.
pub(crate) async fn complete(ext: &RequestLog, id: &str, question: &str, answer: &str) {
    let mut ctx = RequestContext::new(id, InboundApi::OpenAi);
    let mut request = chat_request(question);
    ext.on_request(&mut ctx, &mut request)
        .await
        .expect("on_request");
    ext.on_response(&mut ctx, &mut chat_response(answer))
        .await
        .expect("on_response");
    ext.on_complete(&record(id, ctx.scratch)).await;
}

/// Every line of `path`, parsed.
pub(crate) fn read_lines(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect()
}
