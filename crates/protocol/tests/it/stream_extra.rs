//! [`ChatEvent::Extra`] (provider data such as Cohere's citations) at the
//! gateway's edge: the OpenAI chunk stream puts it at the finish chunk's top
//! level, as a non-streamed answer has it; formats with no place for it send
//! exactly what they send without it.

use crate::common::chunks_of;

use serde_json::json;
use switchboard_core::{ChatEvent, FinishReason, Usage};
use switchboard_protocol::anthropic::AnthropicStreamEncoder;
use switchboard_protocol::gemini::inbound::GeminiStreamEncoder;
use switchboard_protocol::openai::OpenAiStreamEncoder;
use switchboard_protocol::openai_responses::{ResponseTemplate, ResponsesStreamEncoder};
use switchboard_protocol::sse::EventEncoder;

/// A short answer, with `extra` events before its usage when asked.
fn events(with_extra: bool) -> Vec<ChatEvent> {
    let mut events = vec![
        ChatEvent::Start {
            id: "c1".into(),
            model: "command-a".into(),
            created: None,
        },
        ChatEvent::TextDelta {
            text: "Both Nsync".into(),
        },
    ];
    if with_extra {
        events.extend([
            ChatEvent::Extra {
                key: "citations".into(),
                value: json!([{"start": 5, "end": 10, "text": "Nsync"}]),
            },
            // Named like a chunk field: the chunk's own value wins.
            ChatEvent::Extra {
                key: "id".into(),
                value: json!("not-the-id"),
            },
            // Positional in OpenAI's answer: never at the top level.
            ChatEvent::Extra {
                key: "logprobs".into(),
                value: json!({"content": []}),
            },
        ]);
    }
    events.extend([
        ChatEvent::Usage(Usage::new(3, 2)),
        ChatEvent::Finish {
            reason: FinishReason::Stop,
        },
    ]);
    events
}

/// The whole body `encoder` writes for `events`.
fn body(mut encoder: impl EventEncoder, events: &[ChatEvent]) -> Vec<u8> {
    let mut body = Vec::new();
    for e in events {
        body.extend_from_slice(&encoder.encode(e).expect("encodes"));
    }
    body.extend_from_slice(&encoder.finish().expect("finishes"));
    body
}

#[test]
fn openai_chunks_carry_extra_on_the_finish_chunk() {
    let chunks = chunks_of(&body(OpenAiStreamEncoder::new(7, true), &events(true)));
    let finish = chunks
        .iter()
        .find(|c| c["choices"][0]["finish_reason"] == "stop")
        .expect("a finish chunk");
    assert_eq!(finish["citations"][0]["text"], "Nsync");
    assert_eq!(finish["id"], "c1");
    assert!(finish.get("logprobs").is_none(), "{finish}");
    let others = chunks.iter().filter(|c| !std::ptr::eq(*c, finish));
    for chunk in others {
        assert!(
            chunk.get("citations").is_none(),
            "only the finish chunk: {chunk}"
        );
    }
}

#[test]
fn formats_without_a_place_for_extra_send_the_same_bytes() {
    let anthropic = || AnthropicStreamEncoder::new().with_id("msg_1");
    assert_eq!(
        body(anthropic(), &events(true)),
        body(anthropic(), &events(false))
    );
    let gemini = GeminiStreamEncoder::new;
    assert_eq!(
        body(gemini(), &events(true)),
        body(gemini(), &events(false))
    );
    let responses = || {
        ResponsesStreamEncoder::new(ResponseTemplate {
            id: "resp_1".into(),
            created_at: 7,
            model: "command-a".into(),
            echo: Default::default(),
        })
    };
    assert_eq!(
        body(responses(), &events(true)),
        body(responses(), &events(false))
    );
    let openai = || OpenAiStreamEncoder::new(7, true);
    assert_ne!(
        body(openai(), &events(true)),
        body(openai(), &events(false)),
        "the OpenAI stream does carry it"
    );
}
