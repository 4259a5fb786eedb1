//! The `bodies` modes: hash (stable) and full (truncated at the cap),
//! for complete and streamed answers.

use serde_json::json;
use switchboard_core::extension::{InboundApi, RequestContext};
use switchboard_core::{ChatEvent, Extension, FinishReason};

use crate::{chat_request, complete, read_lines, record, start};

#[tokio::test]
async fn hash_mode_is_stable_and_hides_the_text() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (ext, path) = start(dir.path(), json!({"bodies": "hash"})).await;
    complete(&ext, "r1", "my secret question", "the answer").await;
    complete(&ext, "r2", "my secret question", "the answer").await;
    complete(&ext, "r3", "another question", "the answer").await;
    ext.shutdown().await;
    let lines = read_lines(&path);
    assert_eq!(lines.len(), 3);
    let hash = |i: usize, key: &str| lines[i][key].as_str().expect(key).to_owned();
    assert_eq!(hash(0, "request_sha256"), hash(1, "request_sha256"));
    assert_ne!(hash(0, "request_sha256"), hash(2, "request_sha256"));
    assert_eq!(hash(0, "response_sha256"), hash(2, "response_sha256"));
    // SHA-256 of "the answer" (`printf 'the answer' | sha256sum`).
    assert_eq!(
        hash(0, "response_sha256"),
        "a7c9985d46ca5719357525cc365641e45d6882fb66949d4c08989883f8148c8b"
    );
    assert_eq!(hash(0, "request_sha256").len(), 64);
    assert!(
        hash(0, "request_sha256")
            .bytes()
            .all(|b| b.is_ascii_hexdigit())
    );
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(!text.contains("secret"));
    assert!(lines[0].get("request_body").is_none());
}

#[tokio::test]
async fn full_mode_keeps_messages_and_answer_truncated_at_the_cap() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (ext, path) = start(dir.path(), json!({"bodies": "full", "max_body_bytes": 100})).await;
    complete(&ext, "r1", "short question", "short answer").await;
    let long = "x".repeat(500);
    complete(&ext, "r2", &long, &long).await;
    ext.shutdown().await;
    let lines = read_lines(&path);
    let body = |i: usize, key: &str| lines[i][key].as_str().expect(key).to_owned();
    let messages: serde_json::Value =
        serde_json::from_str(&body(0, "request_body")).expect("the messages' JSON");
    assert_eq!(messages[0]["role"], "user");
    assert_eq!(messages[0]["content"][0]["text"], "short question");
    assert_eq!(body(0, "response_body"), "short answer");
    let request = body(1, "request_body");
    let response = body(1, "response_body");
    assert!(request.contains("…[truncated: "), "{request}");
    assert_eq!(
        response,
        format!("{}…[truncated: 500 bytes in all]", "x".repeat(100))
    );
    assert!(lines[1].get("request_sha256").is_none());
}

#[tokio::test]
async fn streamed_answers_are_captured_from_events() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (ext, path) = start(dir.path(), json!({"bodies": "full"})).await;
    let mut ctx = RequestContext::new("s1", InboundApi::Anthropic);
    ext.on_request(&mut ctx, &mut chat_request("stream please"))
        .await
        .expect("on_request");
    let mut out = Vec::new();
    for event in [
        ChatEvent::TextDelta {
            text: "Hello, ".into(),
        },
        ChatEvent::TextDelta {
            text: "world".into(),
        },
        ChatEvent::Finish {
            reason: FinishReason::Stop,
        },
    ] {
        ext.on_event(&mut ctx, event.clone(), &mut out)
            .expect("on_event");
        assert_eq!(out.pop(), Some(event), "events pass unchanged");
    }
    let mut rec = record("s1", ctx.scratch);
    rec.streamed = true;
    ext.on_complete(&rec).await;
    ext.shutdown().await;
    let lines = read_lines(&path);
    assert_eq!(lines[0]["response_body"], "Hello, world");
    assert_eq!(lines[0]["streamed"], true);
}
