//! What a stream keeps of its upstream through decode and encode: every
//! chunk the upstream's `created`, and no field the upstream did not send.

use crate::common;

use std::collections::BTreeSet;

use common::fixture;
use serde_json::{Value, json};
use switchboard_core::{ChatEvent, FinishReason};
use switchboard_protocol::openai::{OpenAiStreamEncoder, decode_chat_events};
use switchboard_protocol::sse::SseDecoder;

/// The JSON chunks of an SSE body, without `[DONE]`.
fn chunks(body: &[u8]) -> Vec<Value> {
    let mut sse = SseDecoder::new();
    let mut events: Vec<_> = sse.feed(body).collect();
    events.extend(sse.finish());
    events
        .into_iter()
        .map(|e| e.expect("well-formed SSE"))
        .filter(|e| !e.is_done())
        .map(|e| serde_json::from_str(&e.data).expect("chunk JSON"))
        .collect()
}

/// The key paths of a chunk: `id`, `choices[].delta.content`, ...
fn key_paths(value: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let path = format!("{prefix}{k}");
                key_paths(v, &format!("{path}."), out);
                out.insert(path);
            }
        }
        Value::Array(items) => {
            let prefix = format!("{}[].", prefix.trim_end_matches('.'));
            for v in items {
                key_paths(v, &prefix, out);
            }
        }
        _ => {}
    }
}

fn encode(events: &[ChatEvent], clock: u64, include_usage: bool) -> Vec<u8> {
    let mut enc = OpenAiStreamEncoder::new(clock, include_usage);
    let mut body = Vec::new();
    for e in events {
        body.extend_from_slice(&enc.encode(e).expect("encodes"));
    }
    body.extend_from_slice(&enc.finish().expect("finishes"));
    body
}

#[test]
fn a_recorded_stream_keeps_created_and_gains_no_fields() {
    for name in [
        "openai/chat_stream_text.sse",
        "openai/chat_stream_tool_call.sse",
        "openai/chat_stream_refusal.sse",
    ] {
        let upstream = fixture(name);
        let sent = chunks(&upstream);
        let created = sent[0]["created"].clone();
        let mut sent_keys = BTreeSet::new();
        for c in &sent {
            key_paths(c, "", &mut sent_keys);
        }
        let events = decode_chat_events(&upstream).expect("decodes");
        let ours = chunks(&encode(&events, 5, true));
        assert!(ours.len() >= 3, "{name}: {ours:?}");
        for c in &ours {
            assert_eq!(c["created"], created, "{name}: {c}");
            let mut keys = BTreeSet::new();
            key_paths(c, "", &mut keys);
            // The usage chunk is the gateway's own count, in the current
            // shape (`prompt_tokens_details` always, as the SPEC's answers
            // have it; these 2024 recordings lack it).
            let invented: Vec<_> = keys
                .difference(&sent_keys)
                .filter(|k| !k.starts_with("usage."))
                .collect();
            assert!(invented.is_empty(), "{name}: {invented:?} invented in {c}");
        }
    }
}

#[test]
fn the_clock_is_used_only_without_an_upstream_created() {
    let events = |created| {
        [
            ChatEvent::Start {
                id: "c".into(),
                model: "m".into(),
                created,
            },
            ChatEvent::TextDelta { text: "x".into() },
            ChatEvent::Finish {
                reason: FinishReason::Stop,
            },
        ]
    };
    for (created, expected) in [
        (Some(1_727_346_168), 1_727_346_168),
        (None, 5),
        // Azure's leading chunk says `created: 0`: that is no answer.
        (Some(0), 5),
    ] {
        let ours = chunks(&encode(&events(created), 5, false));
        assert_eq!(ours.len(), 3, "{ours:?}");
        for c in &ours {
            assert_eq!(c["created"], json!(expected), "{created:?}: {c}");
        }
    }
}
