//! switchboard-protocol hot paths: SSE decoding throughput (MB/s) on a
//! realistic 1,000-chunk OpenAI stream, the full decode to `ChatEvent`s, the
//! same-format fast path's read of the same stream, and
//! request/response translation (ns per request).
//!
//! Run with `cargo bench -p switchboard-benches --bench protocol`.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use serde_json::json;
use switchboard::{ChatEvent, ChatRequest, Message, Tool, ToolCall};
use switchboard_protocol::openai::{
    self, ForwardedChunks, OpenAiStreamDecoder, OpenAiStreamEncoder, RequestOptions,
    chat_event_stream,
};
use switchboard_protocol::sse::SseDecoder;

/// Content pieces as a model streams them: mostly one short word each, some
/// punctuation, escapes and non-ASCII, like real answers.
const WORDS: &[&str] = &[
    "I'm",
    " unable",
    " to",
    " provide",
    " real",
    "-time",
    " weather",
    " updates",
    ".",
    " To",
    " get",
    " the",
    " current",
    " weather",
    " in",
    " San",
    " Francisco",
    ",",
    " I",
    " recommend",
    " checking",
    " a",
    " reliable",
    " weather",
    " website",
    " or",
    " app",
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

const CHUNKS: usize = 1_000;

/// One `data:` event in the shape of OpenAI's recorded streams.
fn chunk_event(delta: &serde_json::Value, finish: Option<&str>) -> String {
    let chunk = json!({
        "id": "chatcmpl-ABfw031mOJeYCSHe4yI2ZjOA6kMJL",
        "object": "chat.completion.chunk",
        "created": 1_727_346_168,
        "model": "gpt-4o-2024-08-06",
        "system_fingerprint": "fp_5050236cbd",
        "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}],
    });
    format!("data: {chunk}\n\n")
}

/// A 1,000-chunk stream: role chunk, 997 content chunks, finish chunk, usage
/// chunk (`choices: []`), then `[DONE]`.
fn openai_stream() -> Vec<u8> {
    let mut body = String::new();
    body += &chunk_event(
        &json!({"role": "assistant", "content": "", "refusal": null}),
        None,
    );
    for i in 0..CHUNKS - 3 {
        body += &chunk_event(&json!({"content": WORDS[i % WORDS.len()]}), None);
    }
    body += &chunk_event(&json!({}), Some("stop"));
    let usage = json!({
        "id": "chatcmpl-ABfw031mOJeYCSHe4yI2ZjOA6kMJL",
        "object": "chat.completion.chunk",
        "created": 1_727_346_168,
        "model": "gpt-4o-2024-08-06",
        "system_fingerprint": "fp_5050236cbd",
        "choices": [],
        "usage": {"prompt_tokens": 14, "completion_tokens": 997, "total_tokens": 1011,
                  "completion_tokens_details": {"reasoning_tokens": 0}},
    });
    body += &format!("data: {usage}\n\ndata: [DONE]\n\n");
    body.into_bytes()
}

/// Typical network reads of a streamed HTTP body.
const READ_SIZE: usize = 1_400;

fn bench_sse(c: &mut Criterion) {
    let body = openai_stream();
    let mut group = c.benchmark_group("protocol/sse");
    group.throughput(Throughput::Bytes(body.len() as u64));

    group.bench_function("decode_events_whole_body", |b| {
        b.iter(|| {
            let mut decoder = SseDecoder::new();
            let mut n = 0usize;
            for event in decoder.feed(black_box(&body)) {
                n += event.map(|e| e.data.len()).unwrap_or(0);
            }
            black_box(n)
        });
    });

    group.bench_function(BenchmarkId::new("decode_events_reads", READ_SIZE), |b| {
        b.iter(|| {
            let mut decoder = SseDecoder::new();
            let mut n = 0usize;
            for piece in black_box(&body).chunks(READ_SIZE) {
                for event in decoder.feed(piece) {
                    n += event.map(|e| e.data.len()).unwrap_or(0);
                }
            }
            black_box(n)
        });
    });

    group.bench_function(BenchmarkId::new("to_chat_events_reads", READ_SIZE), |b| {
        let mut out: Vec<ChatEvent> = Vec::with_capacity(CHUNKS + 4);
        b.iter(|| {
            out.clear();
            let mut sse = SseDecoder::new();
            let mut decoder = OpenAiStreamDecoder::new();
            for piece in black_box(&body).chunks(READ_SIZE) {
                for event in sse.feed(piece).flatten() {
                    let _ = decoder.push_event(&event, &mut out);
                }
            }
            let _ = decoder.finish(&mut out);
            assert_eq!(out.len(), CHUNKS, "Start + 997 deltas + Usage + Finish");
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

    // The same-format fast path's whole work on the answer: each chunk read
    // (content, finish, usage) and passed on as it came; compare with
    // `chat_event_stream_reads` + `encode_chat_events`, the full path's.
    group.bench_function(BenchmarkId::new("forwarded_chunks_reads", READ_SIZE), |b| {
        b.to_async(&runtime).iter(|| async {
            use futures::StreamExt;
            let items = pieces.clone().into_iter().map(Ok::<_, switchboard::Error>);
            let mut frames = ForwardedChunks::new(futures::stream::iter(items), false);
            let mut n = 0usize;
            while let Some(frame) = frames.next().await {
                n += frame.map(|f| f.bytes.len()).unwrap_or(0);
            }
            black_box(n)
        });
    });

    // The gateway's direction: the same answer encoded back into chunks.
    let mut events = Vec::new();
    let mut decoder = OpenAiStreamDecoder::new();
    let mut sse = SseDecoder::new();
    for event in sse.feed(&body).flatten() {
        let _ = decoder.push_event(&event, &mut events);
    }
    group.bench_function("encode_chat_events", |b| {
        b.iter(|| {
            let mut encoder = OpenAiStreamEncoder::new(1_727_346_168, true);
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

/// A realistic agent turn: system prompt, a few turns, two tools, one tool round trip.
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
        "gpt-4o-mini",
        vec![
            Message::system(
                "You are a helpful assistant. Answer briefly and cite sources when you search.",
            ),
            Message::user("What's the weather like in Boston today?"),
            Message::assistant_tool_calls(vec![ToolCall {
                id: "call_abc123".into(),
                name: "get_weather".into(),
                arguments: "{\"location\":\"Boston, MA\",\"unit\":\"celsius\"}".into(),
            }]),
            Message::tool_result(
                "call_abc123",
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
  "id": "chatcmpl-abc123",
  "object": "chat.completion",
  "created": 1699896916,
  "model": "gpt-4o-mini",
  "choices": [{
    "index": 0,
    "message": {
      "role": "assistant",
      "content": "Here is what I found for this weekend at the Museum of Fine Arts: a \"Monet and Boston\" retrospective, late openings on Friday, and a family art-making day on Sunday.",
      "refusal": null,
      "tool_calls": [{"id": "call_def456", "type": "function", "function": {"name": "web_search", "arguments": "{\"query\":\"MFA Boston events this weekend\",\"limit\":5}"}}],
      "annotations": []
    },
    "logprobs": null,
    "finish_reason": "tool_calls"
  }],
  "usage": {
    "prompt_tokens": 182, "completion_tokens": 57, "total_tokens": 239,
    "prompt_tokens_details": {"cached_tokens": 128, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
  },
  "service_tier": "default",
  "system_fingerprint": "fp_44709d6fcb"
}"#;

fn bench_translate(c: &mut Criterion) {
    let mut group = c.benchmark_group("protocol/translate");
    group.throughput(Throughput::Elements(1));

    let request = chat_request();
    let options = RequestOptions::default();
    group.bench_function("chat_request_to_wire_json", |b| {
        let mut buf = Vec::with_capacity(4096);
        b.iter(|| {
            buf.clear();
            let wire = openai::to_wire_request(black_box(&request), &options).expect("converts");
            serde_json::to_writer(&mut buf, &wire).expect("serializes");
            black_box(buf.len())
        });
    });

    let request_body =
        serde_json::to_vec(&openai::to_wire_request(&request, &options).expect("converts"))
            .expect("serializes");
    group.bench_function("wire_json_to_chat_request", |b| {
        b.iter(|| black_box(openai::parse_chat_request(black_box(&request_body)).expect("parses")));
    });

    // `cargo xtask bench-load`'s request: what the gateway parses and
    // validates per request, and the fast path's rewrite of its model.
    let small = br#"{"model":"up/gpt-4o","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Hello!"}]}"#;
    group.bench_function("wire_json_to_chat_request_small", |b| {
        b.iter(|| {
            let request = openai::parse_chat_request(black_box(small)).expect("parses");
            request.request.validate().expect("valid");
            black_box(request)
        });
    });
    let small = bytes::Bytes::from_static(small);
    group.bench_function("retarget_request_small", |b| {
        b.iter(|| {
            black_box(openai::retarget_request(black_box(&small), "gpt-4o").expect("object"))
        });
    });

    group.bench_function("wire_response_to_chat_response", |b| {
        b.iter(|| black_box(openai::parse_chat_response(black_box(RESPONSE)).expect("parses")));
    });

    let response = openai::parse_chat_response(RESPONSE).expect("parses");
    group.bench_function("chat_response_to_wire_json", |b| {
        let mut buf = Vec::with_capacity(2048);
        b.iter(|| {
            buf.clear();
            serde_json::to_writer(&mut buf, &openai::to_wire_response(black_box(&response)))
                .expect("serializes");
            black_box(buf.len())
        });
    });
    group.finish();
}

criterion_group!(benches, bench_sse, bench_translate);
criterion_main!(benches);
