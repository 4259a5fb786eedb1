//! Streams: recorded SSE bodies → `ChatEvent`s, and `ChatEvent`s → chunks → events.

use crate::common;

use bytes::Bytes;
use common::{Summary, chunks_of, decode_split, fixture, random_pieces, summarize};
use futures::StreamExt;
use serde_json::{Value, json};
use switchboard_core::{
    ChatEvent, ChatResponse, ChatStream, ContentPart, Error, ErrorKind, FinishReason,
    ResponseAccumulator, ToolCall, Usage, response_to_events,
};
use switchboard_protocol::openai::{
    OpenAiStreamEncoder, chat_event_stream, decode_chat_events, encode_chat_stream,
};
use switchboard_protocol::sse::SseDecoder;

const TEXT: &str = "I'm unable to provide real-time weather updates. To get the current weather in San Francisco, I recommend checking a reliable weather website or a weather app.";

fn usage(input: u64, output: u64, total: u64) -> Usage {
    Usage {
        input_tokens: input,
        output_tokens: output,
        total_tokens: total,
        ..Default::default()
    }
}

/// Decodes `body` whole and in every split size 1..=7 and asserts all give the same events.
fn decode_every_way(body: &[u8]) -> Vec<ChatEvent> {
    let (whole, err) = decode_split(body, 0);
    assert!(err.is_none(), "{err:?}");
    for split in 1..=7 {
        let (events, err) = decode_split(body, split);
        assert!(err.is_none(), "split {split}: {err:?}");
        assert_eq!(events, whole, "split {split}");
    }
    whole
}

#[track_caller]
fn assert_ends_with_usage_then_finish(events: &[ChatEvent], usage: Usage, reason: FinishReason) {
    let n = events.len();
    assert!(n >= 3);
    assert_eq!(events[n - 2], ChatEvent::Usage(usage));
    assert_eq!(events[n - 1], ChatEvent::Finish { reason });
}

#[test]
fn text_stream() {
    let events = decode_every_way(&fixture("openai/chat_stream_text.sse"));
    assert_eq!(
        events[0],
        ChatEvent::Start {
            id: "chatcmpl-ABfw031mOJeYCSHe4yI2ZjOA6kMJL".into(),
            model: "gpt-4o-2024-08-06".into(),
            created: Some(1727346168),
        }
    );
    let s = summarize(&events);
    assert_eq!(s.text, TEXT);
    assert!(s.refusal.is_empty() && s.tools.is_empty());
    // The first chunk's empty content makes no delta: one event per word chunk.
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, ChatEvent::TextDelta { .. }))
            .count(),
        30
    );
    assert_ends_with_usage_then_finish(&events, usage(14, 30, 44), FinishReason::Stop);
}

#[test]
fn tool_call_stream() {
    let events = decode_every_way(&fixture("openai/chat_stream_tool_call.sse"));
    let s = summarize(&events);
    assert_eq!(
        s.tools,
        vec![(
            0,
            "call_4XzlGBLtUe9dy3GVNV4jhq7h".to_owned(),
            "get_weather".to_owned(),
            r#"{"city":"New York City"}"#.to_owned()
        )]
    );
    assert!(s.text.is_empty(), "content: null is no text");
    assert_eq!(
        events[1],
        ChatEvent::ToolCallStart {
            index: 0,
            id: "call_4XzlGBLtUe9dy3GVNV4jhq7h".into(),
            name: "get_weather".into()
        },
        "the start comes right after Start, before any argument fragment"
    );
    assert_ends_with_usage_then_finish(&events, usage(44, 16, 60), FinishReason::ToolCalls);
}

#[test]
fn refusal_stream() {
    let events = decode_every_way(&fixture("openai/chat_stream_refusal.sse"));
    let s = summarize(&events);
    assert_eq!(s.refusal, "I'm sorry, I can't assist with that request.");
    assert!(s.text.is_empty());
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, ChatEvent::TextDelta { .. }))
    );
    assert_ends_with_usage_then_finish(&events, usage(79, 11, 90), FinishReason::Stop);
}

#[test]
fn line_endings_do_not_matter() {
    let lf = fixture("openai/chat_stream_text.sse");
    let expected = decode_every_way(&lf);
    let text = String::from_utf8(lf).expect("utf-8");
    for ending in ["\r\n", "\r"] {
        let converted = text.replace('\n', ending);
        assert_eq!(
            decode_every_way(converted.as_bytes()),
            expected,
            "{ending:?}"
        );
    }
    let mut with_bom = b"\xEF\xBB\xBF".to_vec();
    with_bom.extend_from_slice(text.as_bytes());
    assert_eq!(decode_every_way(&with_bom), expected);
}

#[test]
fn random_splits_give_the_same_events() {
    let body = fixture("openai/chat_stream_tool_call.sse");
    let (expected, _) = decode_split(&body, 0);
    for seed in 1..=50 {
        let mut sse = SseDecoder::new();
        let mut decoder = switchboard_protocol::openai::OpenAiStreamDecoder::new();
        let mut out = Vec::new();
        for piece in random_pieces(&body, seed, 64) {
            for event in sse.feed(&piece) {
                decoder
                    .push_event(&event.expect("well-formed"), &mut out)
                    .expect("valid chunk");
            }
        }
        assert_eq!(out, expected, "seed {seed}");
    }
}

#[test]
fn openrouter_comments_usage_chunk_and_no_done() {
    // A stream shaped as OpenRouter documents it: keep-alive comments before the
    // first data line, and usage in the last message (with cost and cache writes).
    let comment =
        String::from_utf8(fixture("openai-compatible/openrouter_sse_comment.txt")).expect("utf-8");
    let usage_chunk: Value =
        serde_json::from_slice(&fixture("openai-compatible/openrouter_usage_chunk.json"))
            .expect("json");
    let body = format!(
        "{comment}\n{comment}{comment}\
         data: {{\"id\":\"gen-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"openai/gpt-4o\",\"provider\":\"OpenAI\",\"choices\":[{{\"index\":0,\"delta\":{{\"role\":\"assistant\",\"content\":\"Hi\"}},\"finish_reason\":null,\"native_finish_reason\":null}}]}}\n\n\
         {comment}\n\
         data: {{\"id\":\"gen-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"openai/gpt-4o\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"\"}},\"finish_reason\":\"stop\",\"native_finish_reason\":\"stop\"}}]}}\n\n\
         data: {usage_chunk}\n\n\
         data: [DONE]\n\n"
    );
    let events = decode_every_way(body.as_bytes());
    assert_eq!(
        events[0],
        ChatEvent::Start {
            id: "gen-1".into(),
            model: "openai/gpt-4o".into(),
            created: Some(1),
        }
    );
    assert_eq!(summarize(&events).text, "Hi");
    let expected_usage = Usage {
        input_tokens: 194,
        output_tokens: 2,
        cache_write_input_tokens: 100,
        total_tokens: 196,
        ..Default::default()
    };
    assert_ends_with_usage_then_finish(&events, expected_usage, FinishReason::Stop);

    // Without `[DONE]`, a clean end after the finish still finishes.
    let cut = body.replace("data: [DONE]\n\n", "");
    assert_eq!(decode_every_way(cut.as_bytes()), events);
}

#[test]
fn openrouter_midstream_error() {
    let error_event = String::from_utf8(fixture(
        "openai-compatible/openrouter_stream_midstream_error.sse",
    ))
    .expect("utf-8");
    let body = format!(
        "data: {{\"id\":\"cmpl-abc123\",\"object\":\"chat.completion.chunk\",\"created\":1234567890,\"model\":\"openai/gpt-4o\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"Once upon\"}},\"finish_reason\":null}}]}}\n\n{error_event}"
    );
    for split in [0, 1, 3, 7] {
        let (events, err) = decode_split(body.as_bytes(), split);
        assert_eq!(summarize(&events).text, "Once upon");
        assert!(
            !events.iter().any(|e| matches!(e, ChatEvent::Finish { .. })),
            "no Finish after an error"
        );
        let err = err.expect("the error chunk is an error");
        assert_eq!(err.message(), "Provider disconnected unexpectedly");
        assert_eq!(err.kind(), &ErrorKind::Upstream { status: 500 });
        assert!(err.is_retryable());
    }
    // The error file alone: an error before anything else.
    let (events, err) = decode_split(error_event.as_bytes(), 0);
    assert!(events.is_empty());
    assert_eq!(
        err.map(|e| e.message().to_owned()).as_deref(),
        Some("Provider disconnected unexpectedly")
    );
}

#[test]
fn groq_usage_in_x_groq() {
    let last: Value = serde_json::from_slice(&fixture(
        "openai-compatible/groq_stream_final_chunk_x_groq.json",
    ))
    .expect("json");
    let body = format!(
        "data: {{\"id\":\"chatcmpl-e7f8e220-656c-4455-a132-dacfc1370798\",\"object\":\"chat.completion.chunk\",\"created\":1729171479,\"model\":\"gemma2-9b-it\",\"system_fingerprint\":\"fp_10c08bf97d\",\"choices\":[{{\"index\":0,\"delta\":{{\"role\":\"assistant\",\"content\":null}},\"logprobs\":null,\"finish_reason\":null}}],\"x_groq\":{{\"id\":\"req_01jadadp0femyae9kav1gpkhe8\"}}}}\n\n\
         data: {{\"id\":\"chatcmpl-e7f8e220-656c-4455-a132-dacfc1370798\",\"object\":\"chat.completion.chunk\",\"created\":1729171479,\"model\":\"gemma2-9b-it\",\"system_fingerprint\":\"fp_10c08bf97d\",\"choices\":[{{\"index\":0,\"delta\":{{\"tool_calls\":[{{\"id\":\"call_yrfy\",\"type\":\"function\",\"function\":{{\"name\":\"test-tool\",\"arguments\":\"{{\\\"value\\\":\\\"Sparkle Day\\\"}}\"}},\"index\":0}}]}},\"logprobs\":null,\"finish_reason\":null}}]}}\n\n\
         data: {last}\n\ndata: [DONE]\n\n"
    );
    let events = decode_every_way(body.as_bytes());
    let s = summarize(&events);
    assert_eq!(
        s.tools,
        vec![(
            0,
            "call_yrfy".into(),
            "test-tool".into(),
            r#"{"value":"Sparkle Day"}"#.into()
        )]
    );
    assert_ends_with_usage_then_finish(&events, usage(18, 439, 457), FinishReason::ToolCalls);
}

#[test]
fn null_usage_obfuscation_and_reasoning_fields() {
    // Per the SPEC: intermediate chunks may carry `usage: null` and `obfuscation`.
    let body = concat!(
        "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}],\"usage\":null,\"obfuscation\":\"a1b2\"}\n\n",
        "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\"think \"},\"finish_reason\":null}],\"usage\":null,\"obfuscation\":\"x\"}\n\n",
        "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"reasoning\":\"more\"},\"finish_reason\":null}],\"usage\":null}\n\n",
        "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"answer\"},\"finish_reason\":null}],\"usage\":null}\n\n",
        "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"length\"}],\"usage\":null}\n\n",
        "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":7,\"total_tokens\":12,\"prompt_tokens_details\":{\"cached_tokens\":4},\"completion_tokens_details\":{\"reasoning_tokens\":3}}}\n\n",
        "data: [DONE]\n\n",
    );
    let events = decode_every_way(body.as_bytes());
    assert_eq!(
        events[1..4],
        [
            ChatEvent::ReasoningDelta {
                text: "think ".into()
            },
            ChatEvent::ReasoningDelta {
                text: "more".into()
            },
            ChatEvent::TextDelta {
                text: "answer".into()
            },
        ]
    );
    let expected = Usage {
        input_tokens: 5,
        output_tokens: 7,
        cached_input_tokens: 4,
        reasoning_tokens: 3,
        total_tokens: 12,
        ..Default::default()
    };
    assert_ends_with_usage_then_finish(&events, expected, FinishReason::Length);
}

#[test]
fn azure_style_empty_first_chunk_does_not_start_the_answer() {
    let body = concat!(
        "data: {\"choices\":[],\"created\":0,\"id\":\"\",\"model\":\"\",\"object\":\"\",\"prompt_filter_results\":[{\"prompt_index\":0}]}\n\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"x\"},\"finish_reason\":\"stop\"}],\"id\":\"az-1\",\"model\":\"gpt-4o\"}\n\n",
        "data: [DONE]\n\n",
    );
    let events = decode_every_way(body.as_bytes());
    assert_eq!(
        events,
        vec![
            ChatEvent::Start {
                id: "az-1".into(),
                model: "gpt-4o".into(),
                created: None,
            },
            ChatEvent::TextDelta { text: "x".into() },
            ChatEvent::Finish {
                reason: FinishReason::Stop
            },
        ]
    );
}

fn tool_chunk(calls: &str) -> String {
    format!(
        "data: {{\"id\":\"t\",\"model\":\"m\",\"choices\":[{{\"index\":0,\"delta\":{{\"tool_calls\":{calls}}},\"finish_reason\":null}}]}}\n\n"
    )
}

#[test]
fn parallel_and_irregular_tool_calls() {
    let mut body = String::new();
    // Two parallel calls interleaved, as OpenAI sends them.
    body += &tool_chunk(
        r#"[{"index":0,"id":"a","type":"function","function":{"name":"f","arguments":""}}]"#,
    );
    body += &tool_chunk(r#"[{"index":0,"function":{"arguments":"{\"x\":"}}]"#);
    body += &tool_chunk(
        r#"[{"index":1,"id":"b","type":"function","function":{"name":"g","arguments":"{}"}}]"#,
    );
    body += &tool_chunk(r#"[{"index":0,"function":{"arguments":"1}"}}]"#);
    // A server that reuses index 0 for a new call (new id) gets the next free index.
    body += &tool_chunk(
        r#"[{"index":0,"id":"c","type":"function","function":{"name":"h","arguments":"[]"}}]"#,
    );
    // No index at all: matched by id, else the last call continues.
    body += &tool_chunk(
        r#"[{"id":"d","type":"function","function":{"name":"k","arguments":{"y":2}}}]"#,
    );
    body += &tool_chunk(r#"[{"id":"a","function":{"arguments":""}}]"#);
    body += "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\ndata: [DONE]\n\n";
    let events = decode_every_way(body.as_bytes());
    let s = summarize(&events);
    assert_eq!(
        s.tools,
        vec![
            (0, "a".into(), "f".into(), r#"{"x":1}"#.into()),
            (1, "b".into(), "g".into(), "{}".into()),
            (2, "c".into(), "h".into(), "[]".into()),
            (3, "d".into(), "k".into(), r#"{"y":2}"#.into()),
        ]
    );
    assert_eq!(s.finish, Some(FinishReason::ToolCalls));
    assert_eq!(
        events.last(),
        Some(&ChatEvent::Finish {
            reason: FinishReason::ToolCalls
        }),
        "no usage, still finishes"
    );
}

#[test]
fn truncated_streams_are_errors() {
    let body = fixture("openai/chat_stream_text.sse");
    // Cut in the middle of the 5th event.
    let cut_at = body
        .windows(2)
        .enumerate()
        .filter(|(_, w)| w == b"\n\n")
        .nth(4)
        .map(|(i, _)| i - 20)
        .expect("has events");
    for split in [0, 1, 5] {
        let (events, err) = decode_split(&body[..cut_at], split);
        let err = err.expect("mid-event close");
        assert_eq!(err.kind(), &ErrorKind::Protocol);
        assert_eq!(err.message(), "stream closed mid-event");
        assert_eq!(
            summarize(&events).text,
            "I'm unable to",
            "the complete events came first"
        );
    }
    // Cut cleanly between events, before the finish: no finish_reason.
    let clean = cut_at + 20 + 2;
    let (events, err) = decode_split(&body[..clean], 3);
    let err = err.expect("no finish");
    assert_eq!(err.kind(), &ErrorKind::Protocol);
    assert!(err.message().contains("no finish_reason"));
    assert!(!events.iter().any(|e| matches!(e, ChatEvent::Finish { .. })));
    // `[DONE]` without a finish_reason is no better.
    let (_, err) = decode_split(
        b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}]}\n\ndata: [DONE]\n\n",
        0,
    );
    assert!(err.is_some());
}

#[test]
fn garbage_chunks_are_protocol_errors_not_panics() {
    for body in [
        &b"data: {not json}\n\n"[..],
        b"data: [1,2,3]\n\n",
        b"data: {\"choices\":\"x\"}\n\n",
        b"data: {\"choices\":[{\"delta\":{\"content\":5}}]}\n\n",
    ] {
        let (_, err) = decode_split(body, 2);
        assert_eq!(
            err.map(|e| e.kind().clone()),
            Some(ErrorKind::Protocol),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
    // Random mutations of a real stream never panic.
    let body = fixture("openai/chat_stream_tool_call.sse");
    let mut rng = common::Rng(99);
    for _ in 0..300 {
        let mut mutated = body.clone();
        for _ in 0..(1 + rng.next_u64() % 6) {
            let at = (rng.next_u64() as usize) % mutated.len();
            mutated[at] = rng.next_u64() as u8;
        }
        let split = 1 + (rng.next_u64() % 9) as usize;
        let _ = decode_split(&mutated, split);
    }
}

#[tokio::test]
async fn byte_stream_adapter_matches_the_sync_decoder() {
    let body = fixture("openai/chat_stream_text.sse");
    let (expected, _) = decode_split(&body, 0);
    for seed in [1, 2, 3] {
        let pieces: Vec<Result<Bytes, Error>> = random_pieces(&body, seed, 40)
            .into_iter()
            .map(|p| Ok(Bytes::from(p)))
            .collect();
        let stream = chat_event_stream(futures::stream::iter(pieces));
        let events: Vec<ChatEvent> = stream.map(|e| e.expect("ok")).collect().await;
        assert_eq!(events, expected, "seed {seed}");
    }
    // A transport error mid-stream ends it with that error.
    let pieces: Vec<Result<Bytes, Error>> = vec![
        Ok(Bytes::from(body[..400].to_vec())),
        Err(Error::timeout("read timed out")),
    ];
    let items: Vec<_> = chat_event_stream(futures::stream::iter(pieces))
        .collect()
        .await;
    let last = items
        .last()
        .expect("items")
        .as_ref()
        .expect_err("error last");
    assert_eq!(last.kind(), &ErrorKind::Timeout);
    // Data after `[DONE]` is never read.
    let mut after = body.clone();
    after.extend_from_slice(b"data: {garbage\n\n");
    let pieces: Vec<Result<Bytes, Error>> = vec![Ok(Bytes::from(after))];
    let items: Vec<_> = chat_event_stream(futures::stream::iter(pieces))
        .collect()
        .await;
    assert!(items.iter().all(Result::is_ok));
}

// ---------------------------------------------------------------------------
// Encoder
// ---------------------------------------------------------------------------

fn sample_events() -> Vec<ChatEvent> {
    vec![
        ChatEvent::Start {
            id: "chatcmpl-1".into(),
            model: "gpt-4o".into(),
            created: Some(1_700_000_000),
        },
        ChatEvent::ReasoningDelta { text: "hmm".into() },
        ChatEvent::TextDelta {
            text: "Hello".into(),
        },
        ChatEvent::TextDelta {
            text: ", \"world\"\n😀".into(),
        },
        ChatEvent::RefusalDelta { text: "no".into() },
        ChatEvent::ToolCallStart {
            index: 0,
            id: "call_a".into(),
            name: "f".into(),
        },
        ChatEvent::ToolCallDelta {
            index: 0,
            arguments: "{\"a\":".into(),
        },
        ChatEvent::ToolCallStart {
            index: 1,
            id: "call_b".into(),
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
        ChatEvent::Usage(Usage {
            input_tokens: 3,
            output_tokens: 4,
            cached_input_tokens: 1,
            reasoning_tokens: 2,
            total_tokens: 7,
            ..Default::default()
        }),
        ChatEvent::Finish {
            reason: FinishReason::ToolCalls,
        },
    ]
}

fn encode_all(events: &[ChatEvent], include_usage: bool) -> Vec<u8> {
    let mut encoder = OpenAiStreamEncoder::new(1_700_000_000, include_usage);
    let mut out = Vec::new();
    for e in events {
        out.extend_from_slice(&encoder.encode(e).expect("encodes"));
    }
    out.extend_from_slice(&encoder.finish().expect("finishes"));
    out
}

#[test]
fn encoder_round_trips_through_the_decoder() {
    let events = sample_events();
    let body = encode_all(&events, true);
    assert_eq!(decode_every_way(&body), events);
    // Without include_usage, the usage is not sent.
    let body = encode_all(&events, false);
    let back = decode_every_way(&body);
    let mut without_usage = events.clone();
    without_usage.retain(|e| !matches!(e, ChatEvent::Usage(_)));
    assert_eq!(back, without_usage);
}

#[test]
fn encoder_chunks_have_openai_shape() {
    let body = encode_all(&sample_events(), true);
    assert!(body.ends_with(b"data: [DONE]\n\n"));
    let chunks = chunks_of(&body);
    let (last, rest) = chunks.split_last().expect("chunks");
    assert_eq!(last, &json!("[DONE]"));
    for c in rest {
        assert_eq!(c["id"], json!("chatcmpl-1"));
        assert_eq!(c["object"], json!("chat.completion.chunk"));
        assert_eq!(c["created"], json!(1_700_000_000));
        assert_eq!(c["model"], json!("gpt-4o"));
    }
    assert_eq!(
        rest[0]["choices"][0]["delta"],
        json!({"role": "assistant", "content": ""})
    );
    assert_eq!(rest[0]["choices"][0]["finish_reason"], Value::Null);
    // Each choice has what OpenAI's chunk schema requires, and nothing the
    // events did not carry (no `logprobs: null`).
    for c in &rest[..rest.len() - 1] {
        let choice = c["choices"][0].as_object().expect("a choice");
        let keys: Vec<&str> = choice.keys().map(String::as_str).collect();
        assert_eq!(keys, ["delta", "finish_reason", "index"], "{c}");
    }
    assert_eq!(
        rest[1]["choices"][0]["delta"],
        json!({"reasoning_content": "hmm"})
    );
    assert_eq!(
        rest[3]["choices"][0]["delta"],
        json!({"content": ", \"world\"\n😀"})
    );
    assert_eq!(rest[4]["choices"][0]["delta"], json!({"refusal": "no"}));
    assert_eq!(
        rest[5]["choices"][0]["delta"]["tool_calls"],
        json!([{"index": 0, "id": "call_a", "type": "function", "function": {"name": "f", "arguments": ""}}])
    );
    assert_eq!(
        rest[6]["choices"][0]["delta"]["tool_calls"],
        json!([{"index": 0, "function": {"arguments": "{\"a\":"}}])
    );
    let finish = &rest[rest.len() - 2];
    assert_eq!(finish["choices"][0]["delta"], json!({}));
    assert_eq!(finish["choices"][0]["finish_reason"], json!("tool_calls"));
    let usage = &rest[rest.len() - 1];
    assert_eq!(usage["choices"], json!([]));
    assert_eq!(usage["usage"]["prompt_tokens"], json!(3));
    assert_eq!(usage["usage"]["total_tokens"], json!(7));
    assert_eq!(
        usage["usage"]["prompt_tokens_details"]["cached_tokens"],
        json!(1)
    );
    assert_eq!(
        usage["usage"]["completion_tokens_details"]["reasoning_tokens"],
        json!(2)
    );
}

#[test]
fn encoder_overrides_fallbacks_and_late_usage() {
    let mut enc = OpenAiStreamEncoder::new(5, true)
        .with_id("chatcmpl-gw")
        .with_model("my-alias");
    let mut body = Vec::new();
    for e in [
        ChatEvent::Start {
            id: "upstream-id".into(),
            model: "upstream-model".into(),
            created: None,
        },
        ChatEvent::TextDelta { text: "x".into() },
        ChatEvent::Finish {
            reason: FinishReason::Stop,
        },
        ChatEvent::TextDelta {
            text: "ignored after finish".into(),
        },
        ChatEvent::Usage(Usage::new(1, 1)),
    ] {
        body.extend_from_slice(&enc.encode(&e).expect("ok"));
    }
    body.extend_from_slice(&enc.finish().expect("ok"));
    assert!(
        enc.finish().expect("ok").is_empty(),
        "finish twice sends nothing"
    );
    let chunks = chunks_of(&body);
    assert!(
        chunks[..chunks.len() - 1]
            .iter()
            .all(|c| c["id"] == json!("chatcmpl-gw") && c["model"] == json!("my-alias"))
    );
    let events = decode_every_way(&body);
    assert_eq!(
        events,
        vec![
            ChatEvent::Start {
                id: "chatcmpl-gw".into(),
                model: "my-alias".into(),
                // No `created` from upstream: the encoder's own.
                created: Some(5),
            },
            ChatEvent::TextDelta { text: "x".into() },
            ChatEvent::Usage(Usage::new(1, 1)),
            ChatEvent::Finish {
                reason: FinishReason::Stop
            },
        ]
    );
    // No Start at all: a role chunk with the fallback id still comes first.
    let mut enc = OpenAiStreamEncoder::new(5, false);
    let first = enc
        .encode(&ChatEvent::TextDelta { text: "y".into() })
        .expect("ok");
    let chunks = chunks_of(&first);
    assert_eq!(chunks.len(), 2);
    assert_eq!(chunks[0]["id"], json!("chatcmpl-switchboard"));
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], json!("assistant"));
    assert_eq!(chunks[1]["choices"][0]["delta"]["content"], json!("y"));
}

#[test]
fn a_whole_response_survives_events_chunks_events() {
    let resp = ChatResponse {
        id: "chatcmpl-9".into(),
        model: "m".into(),
        content: vec![
            ContentPart::Reasoning {
                text: "r".into(),
                signature: None,
                redacted: None,
                origin: None,
            },
            ContentPart::text("answer"),
        ],
        tool_calls: vec![ToolCall {
            id: "c".into(),
            name: "f".into(),
            arguments: "{\"k\":[1,2]}".into(),
        }],
        finish_reason: FinishReason::ToolCalls,
        usage: Usage::new(10, 20),
        created: 1_650_000_000,
        ..Default::default()
    };
    let body = encode_all(&response_to_events(&resp), true);
    let mut acc = ResponseAccumulator::new();
    for e in decode_chat_events(&body).expect("decodes") {
        acc.push(&e);
    }
    assert!(acc.is_finished());
    assert_eq!(acc.finish(), resp);
}

fn stream_of(items: Vec<Result<ChatEvent, Error>>) -> ChatStream {
    Box::pin(futures::stream::iter(items))
}

async fn body_of(stream: ChatStream) -> Vec<u8> {
    let frames: Vec<Bytes> = encode_chat_stream(stream, OpenAiStreamEncoder::new(1, true))
        .collect()
        .await;
    frames.concat()
}

#[tokio::test]
async fn encoded_streams_end_with_done_or_an_error_frame() {
    let ok = body_of(stream_of(sample_events().into_iter().map(Ok).collect())).await;
    assert_eq!(decode_chat_events(&ok).expect("decodes"), sample_events());

    let failing = stream_of(vec![
        Ok(ChatEvent::Start {
            id: "i".into(),
            model: "m".into(),
            created: None,
        }),
        Ok(ChatEvent::TextDelta { text: "par".into() }),
        Err(Error::rate_limited(None, "slow down")),
        Ok(ChatEvent::TextDelta {
            text: "never sent".into(),
        }),
    ]);
    let body = body_of(failing).await;
    assert!(!body.ends_with(b"data: [DONE]\n\n"));
    let chunks = chunks_of(&body);
    let last = chunks.last().expect("frames");
    assert_eq!(last["error"]["message"], json!("slow down"));
    assert_eq!(last["error"]["type"], json!("rate_limit_error"));
    let (events, err) = decode_split(&body, 0);
    assert_eq!(
        summarize(&events),
        Summary {
            text: "par".into(),
            ..Default::default()
        }
    );
    assert!(matches!(
        err.map(|e| e.kind().clone()),
        Some(ErrorKind::RateLimited { .. })
    ));

    let unfinished = stream_of(vec![Ok(ChatEvent::TextDelta { text: "x".into() })]);
    let body = body_of(unfinished).await;
    let chunks = chunks_of(&body);
    assert_eq!(
        chunks.last().expect("frames")["error"]["type"],
        json!("server_error")
    );
}

#[test]
fn named_error_events_are_errors() {
    let body = b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\n\nevent: error\ndata: {\"message\":\"The server is overloaded\",\"type\":\"overloaded_error\"}\n\n";
    let (events, err) = decode_split(body, 4);
    assert_eq!(summarize(&events).text, "a");
    let err = err.expect("error event");
    assert_eq!(err.kind(), &ErrorKind::Unavailable);
    assert_eq!(err.message(), "The server is overloaded");
    let (_, err) = decode_split(b"event: error\ndata: plain text failure\n\n", 0);
    assert_eq!(
        err.map(|e| e.message().to_owned()).as_deref(),
        Some("plain text failure")
    );
}

#[test]
fn unknown_usage_is_left_out_not_sent_as_zeros() {
    // A stream without any `ChatEvent::Usage`: with `include_usage` the
    // client gets no usage chunk at all (the SDK's `usage` stays None).
    let events = [
        ChatEvent::Start {
            id: "c".into(),
            model: "m".into(),
            created: None,
        },
        ChatEvent::TextDelta { text: "hi".into() },
        ChatEvent::Finish {
            reason: FinishReason::Stop,
        },
    ];
    let chunks = chunks_of(&encode_all(&events, true));
    assert_eq!(chunks.last(), Some(&json!("[DONE]")));
    assert!(
        chunks
            .iter()
            .all(|c| c.get("usage").is_none_or(Value::is_null)),
        "no chunk reports usage: {chunks:?}"
    );
    assert!(chunks.iter().all(|c| c.get("choices") != Some(&json!([]))));
    // With usage, the usage chunk comes back (zeros included, when they are real).
    let mut with_usage = events.to_vec();
    with_usage.push(ChatEvent::Usage(Usage::new(0, 0)));
    let chunks = chunks_of(&encode_all(&with_usage, true));
    let usage = &chunks[chunks.len() - 2];
    assert_eq!(usage["choices"], json!([]));
    assert_eq!(usage["usage"]["prompt_tokens"], json!(0));
}
