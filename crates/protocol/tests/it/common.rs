//! Helpers shared by the integration tests.
#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;

use serde_json::{Value, json};
use switchboard_core::{ChatEvent, Error};
use switchboard_protocol::openai::OpenAiStreamDecoder;
use switchboard_protocol::sse::SseDecoder;

/// The bytes of `tests/data/<path>`.
pub fn fixture(path: &str) -> Vec<u8> {
    let full = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(path);
    std::fs::read(&full).unwrap_or_else(|e| panic!("reading {}: {e}", full.display()))
}

/// `tests/data/<path>` as JSON.
pub fn fixture_json(path: &str) -> Value {
    serde_json::from_slice(&fixture(path)).unwrap_or_else(|e| panic!("{path} is not JSON: {e}"))
}

/// JSON compared by meaning: every number as an f64 (so `1` equals `1.0`,
/// and an f32 written back compares equal to its decimal), and an object key
/// whose value is `null` the same as an absent key.
pub fn normalize(v: &Value) -> Value {
    match v {
        Value::Number(n) => n
            .as_f64()
            .and_then(|f| serde_json::Number::from_f64(f).map(Value::Number))
            .unwrap_or_else(|| v.clone()),
        Value::Array(a) => Value::Array(a.iter().map(normalize).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), normalize(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Asserts two JSON values are equal by [`normalize`], printing both on failure.
#[track_caller]
pub fn assert_json_eq(actual: &Value, expected: &Value) {
    let (a, e) = (normalize(actual), normalize(expected));
    assert!(
        a == e,
        "JSON differs\n--- actual\n{}\n--- expected\n{}",
        serde_json::to_string_pretty(&a).unwrap_or_default(),
        serde_json::to_string_pretty(&e).unwrap_or_default()
    );
}

/// Decodes an OpenAI SSE body fed in pieces of `split` bytes (0 = all at
/// once) through the SSE decoder and the stream decoder. Returns the events
/// produced before the first error, and that error.
pub fn decode_split(body: &[u8], split: usize) -> (Vec<ChatEvent>, Option<Error>) {
    let mut sse = SseDecoder::new();
    let mut decoder = OpenAiStreamDecoder::new();
    let mut out = Vec::new();
    let pieces: Vec<&[u8]> = if split == 0 {
        vec![body]
    } else {
        body.chunks(split).collect()
    };
    for piece in pieces {
        for event in sse.feed(piece) {
            let step = event.and_then(|e| decoder.push_event(&e, &mut out));
            if let Err(err) = step {
                return (out, Some(err));
            }
        }
    }
    for event in sse.finish() {
        if let Err(err) = event.and_then(|e| decoder.push_event(&e, &mut out)) {
            return (out, Some(err));
        }
    }
    if let Err(err) = decoder.finish(&mut out) {
        return (out, Some(err));
    }
    (out, None)
}

/// Splits `body` into pieces of pseudo-random sizes 1..=max (deterministic per `seed`).
pub fn random_pieces(body: &[u8], seed: u64, max: usize) -> Vec<Vec<u8>> {
    let mut rng = Rng(seed | 1);
    let mut out = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        let n = (rng.next_u64() as usize % max.max(1)) + 1;
        let n = n.min(rest.len());
        out.push(rest[..n].to_vec());
        rest = &rest[n..];
    }
    out
}

/// A tiny xorshift generator for deterministic "random" inputs.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

/// The text, refusal, reasoning, and per-index tool arguments in `events`.
#[derive(Debug, Default, PartialEq)]
pub struct Summary {
    pub text: String,
    pub refusal: String,
    pub reasoning: String,
    pub tools: Vec<(u32, String, String, String)>,
    pub usage: Option<switchboard_core::Usage>,
    pub finish: Option<switchboard_core::FinishReason>,
}

pub fn summarize(events: &[ChatEvent]) -> Summary {
    let mut s = Summary::default();
    for e in events {
        match e {
            ChatEvent::TextDelta { text } => s.text.push_str(text),
            ChatEvent::RefusalDelta { text } => s.refusal.push_str(text),
            ChatEvent::ReasoningDelta { text } => s.reasoning.push_str(text),
            ChatEvent::ToolCallStart { index, id, name } => {
                s.tools
                    .push((*index, id.clone(), name.clone(), String::new()));
            }
            ChatEvent::ToolCallDelta { index, arguments } => {
                if let Some(t) = s.tools.iter_mut().find(|t| t.0 == *index) {
                    t.3.push_str(arguments);
                } else {
                    panic!("arguments for index {index} before its ToolCallStart");
                }
            }
            ChatEvent::Usage(u) => s.usage = Some(*u),
            ChatEvent::Finish { reason } => s.finish = Some(reason.clone()),
            ChatEvent::Start { .. }
            | ChatEvent::Extra { .. }
            | ChatEvent::ReasoningSignature { .. }
            | ChatEvent::RedactedReasoning { .. } => {}
        }
    }
    s
}

/// The JSON of every SSE event in `body` (`"[DONE]"` for the end marker).
pub fn chunks_of(body: &[u8]) -> Vec<Value> {
    let mut sse = SseDecoder::new();
    let mut events: Vec<_> = sse.feed(body).collect();
    events.extend(sse.finish());
    events
        .into_iter()
        .map(|e| {
            let e = e.expect("well-formed SSE");
            if e.is_done() {
                json!("[DONE]")
            } else {
                serde_json::from_str(&e.data).expect("chunk JSON")
            }
        })
        .collect()
}
