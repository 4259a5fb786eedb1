//! switchboard-protocol, Anthropic half: decoding a realistic 1,000-delta
//! Messages stream (with the live API's whitespace padding) to `ChatEvent`s,
//! encoding events back into Anthropic SSE, and request/response
//! translation (ns per request).
//!
//! Run with `cargo bench -p switchboard-benches --bench protocol_anthropic`.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use serde_json::json;
use switchboard::{ChatEvent, ChatRequest, ContentPart, Message, Role, Tool, ToolCall};
use switchboard_protocol::anthropic::{
    self, AnthropicStreamDecoder, AnthropicStreamEncoder, RequestOptions, chat_event_stream,
};
use switchboard_protocol::sse::SseDecoder;

/// Text pieces as Claude streams them: a word or two each, with escapes and non-ASCII.
const WORDS: &[&str] = &[
    "I'll",
    " check",
    " the",
    " weather",
    " in",
    " San",
    " Francisco",
    ",",
    " then",
    " summarize",
    ".\n\n",
    "Here",
    "'s",
    " a",
    " \"quick\"",
    " summary",
    ":",
    " café",
    " – ",
    "naïve",
    " résumé",
    " 🌤",
    "\n- ",
    "Item",
    " one",
];

const DELTAS: usize = 1_000;

/// One named event; `pad` spaces before the closing brace, as the live API sends them.
fn event(name: &str, data: &serde_json::Value, pad: usize) -> String {
    let mut json = data.to_string();
    json.insert_str(json.len() - 1, &" ".repeat(pad));
    format!("event: {name}\ndata: {json}\n\n")
}

/// `message_start`, a text block of 900 deltas, a `tool_use` block of 100
/// `input_json_delta`s, `message_delta` and `message_stop`, with a `ping`.
fn anthropic_stream() -> Vec<u8> {
    let mut body = String::new();
    body += &event(
        "message_start",
        &json!({"type": "message_start", "message": {
            "model": "claude-sonnet-4-5-20250929", "id": "msg_013nnniYDrJDocdy5nrMU7cH",
            "type": "message", "role": "assistant", "content": [], "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": 135, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 1024,
                      "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
                      "output_tokens": 1, "service_tier": "standard"}}}),
        3,
    );
    body += &event(
        "content_block_start",
        &json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        5,
    );
    body += "event: ping\ndata: {\"type\": \"ping\"}\n\n";
    let text_deltas = DELTAS * 9 / 10;
    for i in 0..text_deltas {
        body += &event(
            "content_block_delta",
            &json!({"type": "content_block_delta", "index": 0,
                    "delta": {"type": "text_delta", "text": WORDS[i % WORDS.len()]}}),
            i % 16,
        );
    }
    body += &event(
        "content_block_stop",
        &json!({"type": "content_block_stop", "index": 0}),
        8,
    );
    body += &event(
        "content_block_start",
        &json!({"type": "content_block_start", "index": 1, "content_block": {
            "type": "tool_use", "id": "toolu_01TJoxvFknVdnV9XpWFPaRmY", "name": "get_weather",
            "input": {}, "caller": {"type": "direct"}}}),
        14,
    );
    body += &event(
        "content_block_delta",
        &json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": "{\"notes\": \""}}),
        2,
    );
    for i in 0..DELTAS - text_deltas - 2 {
        body += &event(
            "content_block_delta",
            &json!({"type": "content_block_delta", "index": 1,
                    "delta": {"type": "input_json_delta", "partial_json": WORDS[i % WORDS.len()].replace(['"', '\n'], "")}}),
            i % 16,
        );
    }
    body += &event(
        "content_block_delta",
        &json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": "\"}"}}),
        2,
    );
    body += &event(
        "content_block_stop",
        &json!({"type": "content_block_stop", "index": 1}),
        6,
    );
    body += &event(
        "message_delta",
        &json!({"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": null},
                "usage": {"input_tokens": 135, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 1024, "output_tokens": 1010}}),
        13,
    );
    body += &event("message_stop", &json!({"type": "message_stop"}), 14);
    body.into_bytes()
}

/// Typical network reads of a streamed HTTP body.
const READ_SIZE: usize = 1_400;

fn bench_stream(c: &mut Criterion) {
    let body = anthropic_stream();
    let mut group = c.benchmark_group("protocol_anthropic/stream");
    group.throughput(Throughput::Bytes(body.len() as u64));

    // Start + 1,000 deltas (the tool's first fragment included) + ToolCallStart + Usage + Finish.
    let expected = DELTAS + 4;
    group.bench_function(BenchmarkId::new("to_chat_events_reads", READ_SIZE), |b| {
        let mut out: Vec<ChatEvent> = Vec::with_capacity(expected);
        b.iter(|| {
            out.clear();
            let mut sse = SseDecoder::new();
            let mut decoder = AnthropicStreamDecoder::new();
            for piece in black_box(&body).chunks(READ_SIZE) {
                for event in sse.feed(piece).flatten() {
                    let _ = decoder.push_event(&event, &mut out);
                }
            }
            let _ = decoder.finish(&mut out);
            assert_eq!(out.len(), expected);
            black_box(out.len())
        });
    });

    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a tokio runtime");
    let pieces: Vec<Vec<u8>> = body.chunks(READ_SIZE).map(<[u8]>::to_vec).collect();
    group.bench_function(
        BenchmarkId::new("chat_event_stream_reads", READ_SIZE),
        |b| {
            b.to_async(&runtime).iter(|| async {
                use futures::StreamExt;
                let items = pieces.clone().into_iter().map(Ok::<_, switchboard::Error>);
                let mut stream = chat_event_stream(futures::stream::iter(items));
                let mut n = 0usize;
                while let Some(event) = stream.next().await {
                    n += usize::from(event.is_ok());
                }
                black_box(n)
            });
        },
    );

    // The gateway's direction: the same answer encoded back into Anthropic events.
    let events = anthropic::decode_chat_events(&body).expect("the bench stream decodes");
    group.bench_function("encode_chat_events", |b| {
        b.iter(|| {
            let mut encoder = AnthropicStreamEncoder::new();
            let mut n = 0usize;
            for event in black_box(&events) {
                n += encoder.encode(event).map(|frame| frame.len()).unwrap_or(0);
            }
            n += encoder.finish().map(|frame| frame.len()).unwrap_or(0);
            black_box(n)
        });
    });
    group.finish();
}

/// A realistic agent turn: system prompt, signed thinking, a tool round trip, two tools.
fn chat_request() -> ChatRequest {
    let weather = Tool::new(
        "get_weather",
        "Get the current weather in a given location",
        json!({"type": "object", "properties": {
            "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
            "required": ["location"]}),
    );
    let search = Tool::new(
        "web_search",
        "Search the web and return the top results",
        json!({"type": "object", "properties": {"query": {"type": "string"}, "limit": {"type": "integer", "minimum": 1}},
               "required": ["query"], "additionalProperties": false}),
    );
    ChatRequest::new(
        "claude-sonnet-4-5",
        vec![
            Message::system(
                "You are a helpful assistant. Answer briefly and cite sources when you search.",
            ),
            Message::user("What's the weather like in Boston today?"),
            Message {
                role: Role::Assistant,
                content: vec![ContentPart::Reasoning {
                    text: "The user wants Boston's weather; call the tool.".into(),
                    signature: Some("EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds".into()),
                    redacted: None,
                    origin: None,
                }],
                tool_calls: vec![ToolCall {
                    id: "toolu_01A09q90qw90lq917835lq9".into(),
                    name: "get_weather".into(),
                    arguments: "{\"location\":\"Boston, MA\",\"unit\":\"celsius\"}".into(),
                }],
                tool_call_id: None,
                name: None,
                is_error: false,
            },
            Message::tool_result(
                "toolu_01A09q90qw90lq917835lq9",
                "{\"temperature\":22,\"conditions\":\"sunny\"}",
            ),
            Message::assistant("It's 22 °C and sunny in Boston."),
            Message::user("And is there anything on at the Museum of Fine Arts this weekend?"),
        ],
    )
    .temperature(0.7)
    .max_tokens(512)
    .tool(weather)
    .tool(search)
}

const RESPONSE: &[u8] = br#"{
  "model": "claude-sonnet-4-5-20250929",
  "id": "msg_01UBZt9MX63Tk3v1gKvgxk3A",
  "type": "message",
  "role": "assistant",
  "content": [
    {"type": "thinking", "thinking": "I should search for MFA events.", "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"},
    {"type": "text", "text": "Let me look up this weekend's events at the Museum of Fine Arts: exhibitions, late openings and family days."},
    {"type": "tool_use", "id": "toolu_01LRanfq6DmHn1yDTB4d1SAh", "name": "web_search", "input": {"query": "MFA Boston events this weekend", "limit": 5}, "caller": {"type": "direct"}}
  ],
  "stop_reason": "tool_use",
  "stop_sequence": null,
  "usage": {
    "input_tokens": 701, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 1024,
    "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
    "output_tokens": 93, "service_tier": "standard", "inference_geo": "not_available"
  }
}"#;

fn bench_translate(c: &mut Criterion) {
    let mut group = c.benchmark_group("protocol_anthropic/translate");
    group.throughput(Throughput::Elements(1));

    let request = chat_request();
    let options = RequestOptions::default();
    group.bench_function("chat_request_to_wire_json", |b| {
        let mut buf = Vec::with_capacity(4096);
        b.iter(|| {
            buf.clear();
            let wire = anthropic::to_wire_request(black_box(&request), &options).expect("converts");
            serde_json::to_writer(&mut buf, &wire).expect("serializes");
            black_box(buf.len())
        });
    });

    let request_body =
        serde_json::to_vec(&anthropic::to_wire_request(&request, &options).expect("converts"))
            .expect("serializes");
    group.bench_function("wire_json_to_chat_request", |b| {
        b.iter(|| {
            black_box(anthropic::parse_messages_request(black_box(&request_body)).expect("parses"))
        });
    });

    group.bench_function("wire_response_to_chat_response", |b| {
        b.iter(|| {
            black_box(anthropic::parse_messages_response(black_box(RESPONSE)).expect("parses"))
        });
    });

    let response = anthropic::parse_messages_response(RESPONSE).expect("parses");
    group.bench_function("chat_response_to_wire_json", |b| {
        let mut buf = Vec::with_capacity(2048);
        b.iter(|| {
            buf.clear();
            serde_json::to_writer(&mut buf, &anthropic::to_wire_response(black_box(&response)))
                .expect("serializes");
            black_box(buf.len())
        });
    });
    group.finish();
}

criterion_group!(benches, bench_stream, bench_translate);
criterion_main!(benches);
