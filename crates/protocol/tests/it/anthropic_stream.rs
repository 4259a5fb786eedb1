//! Anthropic streams: every fixture through the decoder at every split,
//! error events, truncation, and the encoder (alone and into the decoder).

use crate::common;

use bytes::BytesMut;
use common::{fixture, random_pieces, summarize};
use futures::StreamExt;
use serde_json::{Value, json};
use switchboard_core::{
    ChatEvent, ChatResponse, ChatStream, ContentPart, Error, ErrorKind, FinishReason,
    ResponseAccumulator, ToolCall, Usage, response_to_events,
};
use switchboard_protocol::anthropic::{
    self, AnthropicStreamDecoder, AnthropicStreamEncoder, chat_event_stream, encode_chat_stream,
};
use switchboard_protocol::sse::{SseDecoder, SseEvent};

const STREAMS: &[&str] = &[
    "stream_text.sse",
    "stream_text_recorded.sse",
    "stream_tool_use.sse",
    "stream_tool_use_recorded.sse",
    "stream_thinking.sse",
    "stream_parallel_tool_use_constructed.sse",
    "stream_redacted_thinking_constructed.sse",
];

fn path(name: &str) -> String {
    format!("anthropic/{name}")
}

/// Decodes `body` fed in pieces of `split` bytes (0 = all at once). Returns
/// the events before the first error, and that error.
fn decode_split(body: &[u8], split: usize) -> (Vec<ChatEvent>, Option<Error>) {
    let mut sse = SseDecoder::new();
    let mut decoder = AnthropicStreamDecoder::new();
    let mut out = Vec::new();
    let pieces: Vec<&[u8]> = if split == 0 {
        vec![body]
    } else {
        body.chunks(split).collect()
    };
    for piece in pieces {
        for event in sse.feed(piece) {
            if let Err(err) = event.and_then(|e| decoder.push_event(&e, &mut out)) {
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

fn decode_ok(body: &[u8]) -> Vec<ChatEvent> {
    match decode_split(body, 0) {
        (events, None) => events,
        (events, Some(err)) => panic!("decoding failed after {events:?}: {err}"),
    }
}

fn collect(events: &[ChatEvent]) -> ChatResponse {
    let mut acc = ResponseAccumulator::new();
    for e in events {
        acc.push(e);
    }
    assert!(acc.is_finished(), "no Finish in {events:?}");
    acc.finish()
}

/// Usage (if any) comes right before Finish, and Finish is last.
fn assert_well_formed(events: &[ChatEvent]) {
    assert!(
        matches!(events.first(), Some(ChatEvent::Start { .. })),
        "first event: {:?}",
        events.first()
    );
    assert!(
        matches!(events.last(), Some(ChatEvent::Finish { .. })),
        "last event: {:?}",
        events.last()
    );
    let finishes = events
        .iter()
        .filter(|e| matches!(e, ChatEvent::Finish { .. }))
        .count();
    assert_eq!(finishes, 1);
    if let Some(pos) = events.iter().position(|e| matches!(e, ChatEvent::Usage(_))) {
        assert_eq!(pos, events.len() - 2, "usage must come right before finish");
    }
}

#[tokio::test]
async fn every_fixture_decodes_the_same_at_every_split() {
    for name in STREAMS {
        let body = fixture(&path(name));
        let whole = decode_ok(&body);
        assert_well_formed(&whole);
        for split in 1..=7 {
            let (events, err) = decode_split(&body, split);
            assert!(err.is_none(), "{name} split {split}: {err:?}");
            assert_eq!(events, whole, "{name} split {split}");
        }
        for seed in 1..=20 {
            let pieces = random_pieces(&body, seed, 64);
            let stream = chat_event_stream(futures::stream::iter(
                pieces.into_iter().map(Ok::<_, Error>),
            ));
            let events: Vec<ChatEvent> = stream
                .collect::<Vec<_>>()
                .await
                .into_iter()
                .collect::<Result<_, _>>()
                .unwrap_or_else(|e| panic!("{name} seed {seed}: {e}"));
            assert_eq!(events, whole, "{name} seed {seed}");
        }
    }
}

#[test]
fn docs_text_stream() {
    let events = decode_ok(&fixture(&path("stream_text.sse")));
    assert_eq!(
        events,
        vec![
            ChatEvent::Start {
                id: "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY".into(),
                model: "claude-sonnet-4-5-20250929".into(),
                created: None,
            },
            ChatEvent::TextDelta {
                text: "Hello".into()
            },
            ChatEvent::TextDelta { text: "!".into() },
            ChatEvent::Usage(Usage::new(25, 15)),
            ChatEvent::Finish {
                reason: FinishReason::Stop
            },
        ]
    );
}

#[test]
fn recorded_text_stream_with_padding() {
    let events = decode_ok(&fixture(&path("stream_text_recorded.sse")));
    let s = summarize(&events);
    assert_eq!(s.text, "[12345,67890]");
    assert_eq!(s.usage, Some(Usage::new(135, 10)));
    assert_eq!(s.finish, Some(FinishReason::Stop));
    assert_eq!(
        events[0],
        ChatEvent::Start {
            id: "msg_013nnniYDrJDocdy5nrMU7cH".into(),
            model: "claude-sonnet-4-5-20250929".into(),
            created: None,
        }
    );
}

#[test]
fn tool_use_streams() {
    let s = summarize(&decode_ok(&fixture(&path("stream_tool_use.sse"))));
    assert_eq!(
        s.text,
        "Okay, let's check the weather for San Francisco, CA:"
    );
    assert_eq!(s.tools.len(), 1);
    let (index, id, name, args) = &s.tools[0];
    assert_eq!(*index, 0, "the tool_use block at wire index 1 is call 0");
    assert_eq!(id, "toolu_01T1x1fJ34qAmk2tNTrN7Up6");
    assert_eq!(name, "get_weather");
    assert_eq!(
        args,
        r#"{"location": "San Francisco, CA", "unit": "fahrenheit"}"#
    );
    assert_eq!(s.usage, Some(Usage::new(472, 89)));
    assert_eq!(s.finish, Some(FinishReason::ToolCalls));

    let events = decode_ok(&fixture(&path("stream_tool_use_recorded.sse")));
    let fragments = events
        .iter()
        .filter(|e| matches!(e, ChatEvent::ToolCallDelta { .. }))
        .count();
    assert_eq!(fragments, 6, "the empty first fragment produces nothing");
    let s = summarize(&events);
    assert_eq!(s.tools[0].1, "toolu_01TJoxvFknVdnV9XpWFPaRmY");
    let args: Value = serde_json::from_str(&s.tools[0].3).expect("complete JSON");
    assert_eq!(args, json!({"location": "San Francisco, CA", "units": "f"}));
    assert_eq!(s.usage, Some(Usage::new(656, 74)));
}

#[test]
fn parallel_tool_calls_get_dense_indices_in_order() {
    let events = decode_ok(&fixture(&path("stream_parallel_tool_use_constructed.sse")));
    let s = summarize(&events);
    assert_eq!(s.text, "Checking both cities.");
    let ids: Vec<(u32, &str)> = s.tools.iter().map(|t| (t.0, t.1.as_str())).collect();
    assert_eq!(ids, [(0, "toolu_01SF"), (1, "toolu_01NYC")]);
    let r = collect(&events);
    let expected = anthropic::parse_messages_response(&fixture(&path(
        "messages_response_parallel_tool_use_constructed.json",
    )))
    .expect("parses");
    for (streamed, whole) in r.tool_calls.iter().zip(&expected.tool_calls) {
        assert_eq!(streamed.id, whole.id);
        let a: Value = serde_json::from_str(&streamed.arguments).expect("json");
        let b: Value = serde_json::from_str(&whole.arguments).expect("json");
        assert_eq!(a, b);
    }
    assert_eq!(r.usage, expected.usage);
    assert_eq!(r.text(), expected.text());
}

#[test]
fn thinking_stream_keeps_the_signature() {
    let events = decode_ok(&fixture(&path("stream_thinking.sse")));
    assert!(
        !events.iter().any(|e| matches!(e, ChatEvent::Usage(_))),
        "the docs' example has no usage"
    );
    let r = collect(&events);
    assert_eq!(r.id, "msg_01...");
    let ContentPart::Reasoning {
        text, signature, ..
    } = &r.content[0]
    else {
        panic!("{:?}", r.content);
    };
    assert!(text.starts_with("Let me solve this step by step:"));
    assert!(text.ends_with("10,800 + 1,350 + 81 = 12,231"));
    assert_eq!(
        signature.as_deref(),
        Some("EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds...")
    );
    assert_eq!(r.content[1], ContentPart::text("27 * 453 = 12,231"));
}

#[test]
fn redacted_thinking_is_not_lost_in_a_stream() {
    const DATA: &str = "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpPkNRj2YfWXGmKDxH4mPnZ5sQ7vB5URj";
    let events = decode_ok(&fixture(&path("stream_redacted_thinking_constructed.sse")));
    assert!(
        events.contains(&ChatEvent::RedactedReasoning {
            data: DATA.into(),
            origin: Some(anthropic::ORIGIN.into()),
        }),
        "{events:?}"
    );
    assert!(events.contains(&ChatEvent::ReasoningSignature {
        signature: "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds".into(),
        origin: Some(anthropic::ORIGIN.into()),
    }));
    // Collected, the stream has the parts of the same answer not streamed.
    let whole = anthropic::parse_messages_response(&fixture(&path(
        "messages_response_prompt_caching_constructed.json",
    )))
    .expect("parses");
    assert_eq!(collect(&events).content, whole.content);

    // And the encoder sends the block whole, in its place.
    let body = encode_all(&events, AnthropicStreamEncoder::new());
    let data: Vec<Value> = sse_events(&body)
        .iter()
        .map(|e| serde_json::from_str(&e.data).expect("json"))
        .collect();
    let at = data
        .iter()
        .position(|d| d["content_block"]["type"] == "redacted_thinking")
        .expect("a redacted_thinking block");
    assert_eq!(
        data[at],
        json!({"type": "content_block_start", "index": 1,
               "content_block": {"type": "redacted_thinking", "data": DATA}})
    );
    assert_eq!(
        data[at + 1],
        json!({"type": "content_block_stop", "index": 1})
    );
}

#[test]
fn another_familys_signatures_are_tagged_in_the_stream() {
    let gemini = || Some("gemini".to_owned());
    let events = vec![
        ChatEvent::Start {
            id: "r".into(),
            model: "gemini-3-pro".into(),
            created: None,
        },
        ChatEvent::ReasoningDelta {
            text: "Need weather.".into(),
        },
        ChatEvent::ReasoningSignature {
            signature: "SIG_THOUGHT".into(),
            origin: gemini(),
        },
        // A Gemini signature carrier: no text, its own block.
        ChatEvent::ReasoningDelta {
            text: String::new(),
        },
        ChatEvent::ReasoningSignature {
            signature: "SIG_TEXT".into(),
            origin: gemini(),
        },
        ChatEvent::RedactedReasoning {
            data: "OPAQUE".into(),
            origin: Some("openai".into()),
        },
        // An origin that cannot be written: the data is withheld.
        ChatEvent::RedactedReasoning {
            data: "LOST".into(),
            origin: Some("bad:origin".into()),
        },
        ChatEvent::TextDelta {
            text: "Sunny.".into(),
        },
        ChatEvent::Finish {
            reason: FinishReason::Stop,
        },
    ];
    let body = encode_all(&events, AnthropicStreamEncoder::new());
    let blocks: Vec<Value> = sse_events(&body)
        .iter()
        .map(|e| serde_json::from_str::<Value>(&e.data).expect("json"))
        .filter_map(|d| match d["type"].as_str() {
            Some("content_block_start") => Some(d["content_block"].clone()),
            Some("content_block_delta") => Some(d["delta"].clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        blocks,
        [
            json!({"type": "thinking", "thinking": "", "signature": ""}),
            json!({"type": "thinking_delta", "thinking": "Need weather."}),
            json!({"type": "signature_delta", "signature": "sb1:gemini:SIG_THOUGHT"}),
            json!({"type": "thinking", "thinking": "", "signature": ""}),
            json!({"type": "signature_delta", "signature": "sb1:gemini:SIG_TEXT"}),
            json!({"type": "redacted_thinking", "data": "sb1:openai:OPAQUE"}),
            json!({"type": "text", "text": ""}),
            json!({"type": "text_delta", "text": "Sunny."}),
        ]
    );
    // What a client keeps from the stream and sends back is read with its origins.
    let collected = collect(&decode_ok(&body));
    let client = anthropic::to_wire_response(&collected);
    let request = json!({
        "model": "m", "max_tokens": 100,
        "messages": [
            {"role": "user", "content": "Weather?"},
            {"role": "assistant", "content": client.content},
            {"role": "user", "content": "Thanks"},
        ],
    });
    let core = anthropic::parse_messages_request(request.to_string().as_bytes())
        .expect("parses")
        .request;
    let origins: Vec<_> = core.messages[1]
        .content
        .iter()
        .filter_map(|p| match p {
            ContentPart::Reasoning {
                signature,
                redacted,
                origin,
                ..
            } => Some((signature.clone().or(redacted.clone()), origin.as_deref())),
            _ => None,
        })
        .collect();
    assert_eq!(
        origins,
        [
            (Some("SIG_THOUGHT".into()), Some("gemini")),
            (Some("SIG_TEXT".into()), Some("gemini")),
            (Some("OPAQUE".into()), Some("openai")),
        ]
    );
}

#[test]
fn error_event_ends_the_stream() {
    let (events, err) = decode_split(&fixture(&path("stream_error_overloaded.sse")), 0);
    assert!(events.is_empty());
    let err = err.expect("error event");
    assert_eq!(err.kind(), &ErrorKind::Unavailable);
    assert!(err.is_retryable());
    assert_eq!(err.message(), "Overloaded");

    // An error after some text: the text arrives, then the error, and no Finish.
    let text = String::from_utf8(fixture(&path("stream_text.sse"))).expect("utf8");
    let cut = text.find("event: content_block_stop").expect("has a stop");
    let error = String::from_utf8(fixture(&path("stream_error_overloaded.sse"))).expect("utf8");
    let body = format!("{}{}", &text[..cut], error);
    for split in [0, 1, 3, 7] {
        let (events, err) = decode_split(body.as_bytes(), split);
        assert_eq!(summarize(&events).text, "Hello!");
        assert!(!events.iter().any(|e| matches!(e, ChatEvent::Finish { .. })));
        assert_eq!(err.expect("error").kind(), &ErrorKind::Unavailable);
    }
    for (kind, expected) in [
        ("api_error", ErrorKind::Upstream { status: 500 }),
        (
            "rate_limit_error",
            ErrorKind::RateLimited { retry_after: None },
        ),
        ("invalid_request_error", ErrorKind::InvalidRequest),
    ] {
        let body = format!(
            "event: error\ndata: {{\"type\":\"error\",\"error\":{{\"type\":\"{kind}\",\"message\":\"m\"}}}}\n\n"
        );
        let (_, err) = decode_split(body.as_bytes(), 0);
        assert_eq!(err.expect("error").kind(), &expected, "{kind}");
    }
}

#[test]
fn truncated_streams_are_protocol_errors() {
    let body = fixture(&path("stream_text_recorded.sse"));
    let text = String::from_utf8(body.clone()).expect("utf8");
    // Cut cleanly between events, before message_delta: no stop reason.
    let cut = text.find("event: message_delta").expect("has a delta");
    let (events, err) = decode_split(&body[..cut], 0);
    assert!(!events.iter().any(|e| matches!(e, ChatEvent::Finish { .. })));
    let err = err.expect("truncated");
    assert_eq!(err.kind(), &ErrorKind::Protocol);
    // Cut in the middle of an event.
    for cut in [cut + 10, body.len() - 20] {
        let (events, err) = decode_split(&body[..cut], 3);
        assert!(!events.iter().any(|e| matches!(e, ChatEvent::Finish { .. })));
        assert_eq!(err.expect("mid-event").kind(), &ErrorKind::Protocol);
    }
    // Cut after message_delta but before message_stop: the stop reason is known.
    let stop = text.find("event: message_stop").expect("has a stop");
    let (events, err) = decode_split(&body[..stop], 0);
    assert!(err.is_none());
    assert_eq!(summarize(&events).finish, Some(FinishReason::Stop));
}

#[test]
fn unknown_events_and_blocks_are_tolerated() {
    let body = concat!(
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"model\":\"c\",\"content\":[],\"usage\":{\"input_tokens\":1,\"output_tokens\":1}}}\n\n",
        "event: brand_new\ndata: {\"type\":\"brand_new\",\"x\":1}\n\n",
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"server_tool_use\",\"id\":\"srvtoolu_1\",\"name\":\"web_search\",\"input\":{}}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"query\\\":\\\"x\\\"}\"}}\n\n",
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"citations_delta\",\"citation\":{\"type\":\"x\"}}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"sparkle_delta\",\"sparkle\":true}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\",\"text\":\"ok\"}}\n\n",
        ": a comment\n\n",
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":2,\"content_block\":{\"type\":\"redacted_thinking\",\"data\":\"xyz\"}}\n\n",
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"pause_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":9}}\n\n",
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
    );
    let events = decode_ok(body.as_bytes());
    let s = summarize(&events);
    assert_eq!(s.text, "ok");
    assert!(
        s.tools.is_empty(),
        "server tool input is not a client tool call"
    );
    assert_eq!(s.finish, Some(FinishReason::Other("pause_turn".into())));
    assert_eq!(s.usage, Some(Usage::new(1, 9)));
}

#[test]
fn cache_counts_in_the_stream() {
    let body = concat!(
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"model\":\"c\",\"content\":[],\"usage\":{\"input_tokens\":10,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":2000,\"output_tokens\":1}}}\n\n",
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"hi\"}}\n\n",
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"max_tokens\"},\"usage\":{\"output_tokens\":50}}\n\n",
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
    );
    let s = summarize(&decode_ok(body.as_bytes()));
    assert_eq!(
        s.usage,
        Some(Usage {
            input_tokens: 2010,
            output_tokens: 50,
            cached_input_tokens: 2000,
            cache_write_input_tokens: 0,
            reasoning_tokens: 0,
            total_tokens: 2060,
        })
    );
    assert_eq!(s.finish, Some(FinishReason::Length));
}

#[test]
fn malformed_events_are_protocol_errors() {
    for body in [
        "event: message_start\ndata: {not json\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":4,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{}\"}}\n\n",
    ] {
        let (_, err) = decode_split(body.as_bytes(), 0);
        assert_eq!(err.expect(body).kind(), &ErrorKind::Protocol, "{body}");
    }
    // Events after the end are ignored.
    let mut decoder = AnthropicStreamDecoder::new();
    let mut out = Vec::new();
    decoder
        .push_event(&SseEvent::data("{\"type\":\"message_stop\"}"), &mut out)
        .expect("ok");
    assert!(decoder.is_done());
    decoder
        .push_event(&SseEvent::data("garbage"), &mut out)
        .expect("ignored");
    assert_eq!(
        out,
        vec![
            ChatEvent::Start {
                id: String::new(),
                model: String::new(),
                created: None,
            },
            ChatEvent::Finish {
                reason: FinishReason::Stop
            }
        ]
    );
}

// ---------------------------------------------------------------------------
// Encoder
// ---------------------------------------------------------------------------

fn sample_response() -> ChatResponse {
    ChatResponse {
        id: "msg_sample".into(),
        model: "claude-sonnet-4-5".into(),
        content: vec![
            ContentPart::Reasoning {
                text: "Two calls.".into(),
                signature: Some("sig==".into()),
                redacted: None,
                origin: Some(anthropic::ORIGIN.into()),
            },
            ContentPart::text("Checking both."),
        ],
        tool_calls: vec![
            ToolCall {
                id: "toolu_a".into(),
                name: "get_weather".into(),
                arguments: r#"{"location":"SF"}"#.into(),
            },
            ToolCall {
                id: "toolu_b".into(),
                name: "get_weather".into(),
                arguments: r#"{"location":"NYC"}"#.into(),
            },
        ],
        finish_reason: FinishReason::ToolCalls,
        usage: Usage {
            input_tokens: 1200,
            output_tokens: 80,
            cached_input_tokens: 1000,
            cache_write_input_tokens: 100,
            reasoning_tokens: 0,
            total_tokens: 1280,
        },
        ..Default::default()
    }
}

fn encode_all(events: &[ChatEvent], mut encoder: AnthropicStreamEncoder) -> Vec<u8> {
    let mut buf = BytesMut::new();
    for e in events {
        encoder.encode_into(e, &mut buf).expect("encodes");
    }
    buf.extend_from_slice(&encoder.finish().expect("finishes"));
    buf.to_vec()
}

fn sse_events(body: &[u8]) -> Vec<SseEvent> {
    let mut d = SseDecoder::new();
    let mut out: Vec<SseEvent> = d.feed(body).collect::<Result<_, _>>().expect("sse");
    out.extend(d.finish().collect::<Result<Vec<_>, _>>().expect("sse"));
    out
}

#[test]
fn encoder_emits_the_api_sequence() {
    let body = encode_all(
        &response_to_events(&sample_response()),
        AnthropicStreamEncoder::new(),
    );
    let events = sse_events(&body);
    let names: Vec<&str> = events.iter().map(SseEvent::event_type).collect();
    assert_eq!(
        names,
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop",
        ]
    );
    let data: Vec<Value> = events
        .iter()
        .map(|e| serde_json::from_str(&e.data).expect("json"))
        .collect();
    for (e, d) in events.iter().zip(&data) {
        assert_eq!(d["type"], e.event_type(), "event name and type agree");
    }
    assert_eq!(
        data[0],
        json!({"type": "message_start", "message": {
            "id": "msg_sample", "type": "message", "role": "assistant", "content": [],
            "model": "claude-sonnet-4-5", "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": 0, "output_tokens": 0},
        }})
    );
    assert_eq!(
        data[1],
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": "", "signature": ""}})
    );
    assert_eq!(
        data[3]["delta"],
        json!({"type": "signature_delta", "signature": "sig=="})
    );
    assert_eq!(
        data[8],
        json!({"type": "content_block_start", "index": 2, "content_block": {"type": "tool_use", "id": "toolu_a", "name": "get_weather", "input": {}}})
    );
    assert_eq!(
        data[9],
        json!({"type": "content_block_delta", "index": 2, "delta": {"type": "input_json_delta", "partial_json": "{\"location\":\"SF\"}"}})
    );
    assert_eq!(data[12]["index"], 3);
    assert_eq!(
        data[14],
        json!({"type": "message_delta",
               "delta": {"stop_reason": "tool_use", "stop_sequence": null},
               "usage": {"input_tokens": 100, "cache_creation_input_tokens": 100, "cache_read_input_tokens": 1000, "output_tokens": 80}})
    );
    assert_eq!(data[15], json!({"type": "message_stop"}));
    // Every line is `event:`, `data:` or blank.
    for line in String::from_utf8(body).expect("utf8").lines() {
        assert!(
            line.is_empty() || line.starts_with("event: ") || line.starts_with("data: "),
            "{line:?}"
        );
    }
}

#[test]
fn encoder_then_decoder_gives_the_response_back() {
    let resp = sample_response();
    let body = encode_all(&response_to_events(&resp), AnthropicStreamEncoder::new());
    for split in [0, 1, 5] {
        let (events, err) = decode_split(&body, split);
        assert!(err.is_none(), "{err:?}");
        assert_well_formed(&events);
        assert_eq!(collect(&events), resp);
    }
}

#[test]
fn every_fixture_survives_decode_encode_decode() {
    for name in STREAMS {
        let events = decode_ok(&fixture(&path(name)));
        let body = encode_all(&events, AnthropicStreamEncoder::new());
        let again = decode_ok(&body);
        let had_usage = events.iter().any(|e| matches!(e, ChatEvent::Usage(_)));
        let strip = |evs: &[ChatEvent]| -> Vec<ChatEvent> {
            evs.iter()
                .filter(|e| had_usage || !matches!(e, ChatEvent::Usage(_)))
                .cloned()
                .collect()
        };
        // Deltas are re-sent one to one, so even the fragments match.
        assert_eq!(strip(&again), events, "{name}");
    }
}

#[test]
fn usage_after_finish_and_late_events() {
    let mut enc = AnthropicStreamEncoder::new()
        .with_model("alias")
        .with_id("msg_fixed");
    let mut buf = BytesMut::new();
    for e in [
        ChatEvent::Start {
            id: "chatcmpl-1".into(),
            model: "gpt-4o".into(),
            created: None,
        },
        ChatEvent::TextDelta { text: "Hi".into() },
        ChatEvent::Finish {
            reason: FinishReason::Length,
        },
        ChatEvent::TextDelta {
            text: "ignored".into(),
        },
        ChatEvent::Usage(Usage::new(5, 7)),
    ] {
        enc.encode_into(&e, &mut buf).expect("encodes");
    }
    buf.extend_from_slice(&enc.finish().expect("finish"));
    assert!(enc.finish().expect("again").is_empty());
    let events = decode_ok(&buf);
    assert_eq!(
        events,
        vec![
            ChatEvent::Start {
                id: "msg_fixed".into(),
                model: "alias".into(),
                created: None,
            },
            ChatEvent::TextDelta { text: "Hi".into() },
            ChatEvent::Usage(Usage::new(5, 7)),
            ChatEvent::Finish {
                reason: FinishReason::Length
            },
        ]
    );
}

#[test]
fn encoder_without_start_and_with_interleaved_tool_arguments() {
    let mut enc = AnthropicStreamEncoder::new();
    let mut buf = BytesMut::new();
    for e in [
        ChatEvent::ToolCallStart {
            index: 0,
            id: "a".into(),
            name: "f".into(),
        },
        ChatEvent::ToolCallDelta {
            index: 0,
            arguments: "{\"x\":".into(),
        },
        ChatEvent::ToolCallStart {
            index: 1,
            id: "b".into(),
            name: "g".into(),
        },
        ChatEvent::ToolCallDelta {
            index: 0,
            arguments: "1}".into(),
        },
        ChatEvent::ToolCallDelta {
            index: 1,
            arguments: "{}".into(),
        },
        ChatEvent::RefusalDelta { text: "no".into() },
        ChatEvent::Finish {
            reason: FinishReason::ToolCalls,
        },
    ] {
        enc.encode_into(&e, &mut buf).expect("encodes");
    }
    buf.extend_from_slice(&enc.finish().expect("finish"));
    let events = sse_events(&buf);
    let first: Value = serde_json::from_str(&events[0].data).expect("json");
    assert_eq!(first["message"]["id"], anthropic::FALLBACK_MESSAGE_ID);
    let r = collect(&decode_ok(&buf));
    assert_eq!(r.tool_calls[0].arguments, "{\"x\":1}");
    assert_eq!(r.tool_calls[1].arguments, "{}");
    assert_eq!(r.text(), "no");
}

#[test]
fn error_frames() {
    let mut enc = AnthropicStreamEncoder::new();
    let frame = enc.error_frame(&Error::unavailable("Overloaded"));
    assert_eq!(
        &frame[..],
        &b"event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n"[..]
    );
    assert!(
        enc.encode(&ChatEvent::TextDelta { text: "x".into() })
            .expect("ok")
            .is_empty(),
        "nothing after an error"
    );
    let (_, err) = decode_split(&frame, 0);
    assert_eq!(err.expect("error").kind(), &ErrorKind::Unavailable);
    assert_eq!(
        &AnthropicStreamEncoder::ping_frame()[..],
        b"event: ping\ndata: {\"type\":\"ping\"}\n\n"
    );
}

async fn run_encode(events: Vec<Result<ChatEvent, Error>>) -> Vec<u8> {
    let stream: ChatStream = Box::pin(futures::stream::iter(events));
    let body = encode_chat_stream(stream, AnthropicStreamEncoder::new());
    body.collect::<Vec<_>>().await.concat()
}

#[tokio::test]
async fn encode_chat_stream_ends_with_message_stop_or_an_error() {
    let ok = run_encode(
        response_to_events(&sample_response())
            .into_iter()
            .map(Ok)
            .collect(),
    )
    .await;
    assert_eq!(collect(&decode_ok(&ok)), sample_response());

    let failed = run_encode(vec![
        Ok(ChatEvent::TextDelta { text: "a".into() }),
        Err(Error::rate_limited(None, "slow down")),
    ])
    .await;
    let names: Vec<String> = sse_events(&failed)
        .iter()
        .map(|e| e.event_type().to_owned())
        .collect();
    assert_eq!(
        names,
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "error"
        ]
    );
    let (_, err) = decode_split(&failed, 0);
    assert_eq!(
        err.expect("error").kind(),
        &ErrorKind::RateLimited { retry_after: None }
    );

    let unfinished = run_encode(vec![Ok(ChatEvent::TextDelta { text: "a".into() })]).await;
    let last = sse_events(&unfinished).pop().expect("frames");
    assert_eq!(last.event_type(), "error");
    assert!(last.data.contains("api_error"));
}

#[test]
fn unknown_usage_sends_only_the_required_output_tokens() {
    let events = [
        ChatEvent::Start {
            id: "msg_1".into(),
            model: "m".into(),
            created: None,
        },
        ChatEvent::TextDelta { text: "hi".into() },
        ChatEvent::Finish {
            reason: FinishReason::Stop,
        },
    ];
    let body = encode_all(&events, AnthropicStreamEncoder::new());
    let delta = sse_events(&body)
        .into_iter()
        .find(|e| e.event_type() == "message_delta")
        .expect("a message_delta");
    let delta: Value = serde_json::from_str(&delta.data).expect("json");
    // `output_tokens` is required by the format; the optional prompt counts
    // are absent (unchanged), never reported as zeros.
    assert_eq!(delta["usage"], json!({"output_tokens": 0}));

    let mut known = events.to_vec();
    known.push(ChatEvent::Usage(Usage::new(7, 3)));
    let body = encode_all(&known, AnthropicStreamEncoder::new());
    let delta = sse_events(&body)
        .into_iter()
        .find(|e| e.event_type() == "message_delta")
        .expect("a message_delta");
    let delta: Value = serde_json::from_str(&delta.data).expect("json");
    assert_eq!(delta["usage"]["input_tokens"], json!(7));
    assert_eq!(delta["usage"]["output_tokens"], json!(3));
}
