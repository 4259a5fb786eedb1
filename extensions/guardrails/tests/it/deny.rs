//! Output deny patterns, on complete answers and across streamed chunks.

use serde_json::json;
use switchboard_core::extension::RequestContext;
use switchboard_core::{
    ChatEvent, ChatResponse, ContentPart, Error, ErrorKind, Extension, FinishReason, Usage,
};
use switchboard_ext_guardrails::Guardrails;

use crate::{ctx, guardrails};

fn delta(text: &str) -> ChatEvent {
    ChatEvent::TextDelta { text: text.into() }
}

fn finish() -> ChatEvent {
    ChatEvent::Finish {
        reason: FinishReason::Stop,
    }
}

/// Runs `events` through `on_event`, collecting what is sent, up to the
/// first error.
fn run(
    ext: &Guardrails,
    ctx: &mut RequestContext,
    events: Vec<ChatEvent>,
) -> (Vec<ChatEvent>, Option<Error>) {
    let mut sent = Vec::new();
    for event in events {
        let mut out = Vec::new();
        let result = ext.on_event(ctx, event, &mut out);
        sent.extend(out);
        if let Err(e) = result {
            return (sent, Some(e));
        }
    }
    (sent, None)
}

fn joined(events: &[ChatEvent]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            ChatEvent::TextDelta { text } => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

fn answer(text: &str) -> ChatResponse {
    ChatResponse {
        content: vec![ContentPart::text(text)],
        finish_reason: FinishReason::Stop,
        ..ChatResponse::default()
    }
}

#[tokio::test]
async fn a_complete_answer_matching_a_deny_pattern_is_refused() {
    let ext = guardrails(json!({"deny": ["forbidden word", "secret-[0-9]+"]}));
    let err = ext
        .on_response(&mut ctx(), &mut answer("here is the forbidden word, sorry"))
        .await
        .expect_err("refused");
    assert_eq!(err.kind(), &ErrorKind::ContentFilter);
    assert!(!err.message().contains("forbidden word"));
    ext.on_response(&mut ctx(), &mut answer("a Forbidden Word in other case"))
        .await
        .expect("case-sensitive by default");
    ext.on_response(&mut ctx(), &mut answer("all fine"))
        .await
        .expect("no match");
}

#[tokio::test]
async fn case_insensitive_deny() {
    let ext = guardrails(json!({"deny": ["forbidden word"], "deny_case_insensitive": true}));
    ext.on_response(&mut ctx(), &mut answer("a FORBIDDEN Word"))
        .await
        .expect_err("refused regardless of case");
}

#[test]
fn a_match_split_across_chunks_is_refused() {
    // The hold-back is exactly the pattern's length: the tightest bound.
    let ext = guardrails(json!({"deny": ["forbidden word"], "max_match_chars": 14}));
    let mut ctx = ctx();
    let (sent, err) = run(
        &ext,
        &mut ctx,
        vec![
            ChatEvent::Start {
                id: "c1".into(),
                model: "m".into(),
                created: None,
            },
            delta("this is the forbid"),
            delta("den word and more"),
            finish(),
        ],
    );
    let err = err.expect("refused mid-stream");
    assert_eq!(err.kind(), &ErrorKind::ContentFilter);
    // What could not be part of a match was released; nothing of the match was.
    assert_eq!(joined(&sent), "this", "{sent:?}");
    assert!(!sent.iter().any(|e| matches!(e, ChatEvent::Finish { .. })));
}

#[test]
fn text_that_never_matches_flows_through_unchanged_and_in_order() {
    let ext = guardrails(json!({"deny": ["forbidden word"], "max_match_chars": 8}));
    let mut ctx = ctx();
    let chunks = [
        "Hello, ",
        "wörld! ",
        "This is ",
        "a long",
        "er answer ",
        "that never ",
        "matches.",
    ];
    let mut events = vec![ChatEvent::Start {
        id: "c1".into(),
        model: "m".into(),
        created: None,
    }];
    events.extend(chunks.iter().map(|c| delta(c)));
    events.push(ChatEvent::Usage(Usage::default()));
    events.push(finish());
    let (sent, err) = run(&ext, &mut ctx, events);
    assert!(err.is_none());
    assert_eq!(joined(&sent), chunks.concat());
    assert!(matches!(sent.first(), Some(ChatEvent::Start { .. })));
    assert!(matches!(sent.last(), Some(ChatEvent::Finish { .. })));
    // Text is released progressively, not only at the end.
    let before_usage: String = joined(&sent[..sent.len() - 3]);
    assert!(before_usage.len() >= chunks.concat().len() - 8 - 1);
}

#[test]
fn held_text_is_released_before_finish() {
    let ext = guardrails(json!({"deny": ["forbidden word"]}));
    let mut ctx = ctx();
    let mut out = Vec::new();
    ext.on_event(&mut ctx, delta("short answer"), &mut out)
        .expect("no match");
    assert!(out.is_empty(), "held back: shorter than max_match_chars");
    ext.on_event(&mut ctx, finish(), &mut out).expect("finish");
    assert_eq!(out, vec![delta("short answer"), finish()]);
    assert!(
        ctx.scratch.is_empty(),
        "the hold-back state is dropped at Finish"
    );
}

#[test]
fn held_text_is_released_before_a_tool_call() {
    let ext = guardrails(json!({"deny": ["forbidden word"]}));
    let mut ctx = ctx();
    let call = ChatEvent::ToolCallStart {
        index: 0,
        id: "t1".into(),
        name: "lookup".into(),
    };
    let (sent, err) = run(
        &ext,
        &mut ctx,
        vec![delta("Let me check."), call.clone(), finish()],
    );
    assert!(err.is_none());
    assert_eq!(sent, vec![delta("Let me check."), call, finish()]);
}

#[test]
fn without_deny_patterns_events_pass_untouched() {
    let ext = guardrails(json!({}));
    let mut ctx = ctx();
    let (sent, err) = run(&ext, &mut ctx, vec![delta("forbidden word"), finish()]);
    assert!(err.is_none());
    assert_eq!(sent, vec![delta("forbidden word"), finish()]);
    assert!(ctx.scratch.is_empty());
}
