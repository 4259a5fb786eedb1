//! Property tests for the format round trips (ISSUE13): a generated core
//! request written in a wire format and parsed back is the same request; SSE
//! frames encoded and decoded, split at any points, give back their data.

use proptest::prelude::*;
use switchboard_core::{ChatRequest, Message};
use switchboard_protocol::sse::{SseDecoder, encode_data, encode_event};
use switchboard_protocol::{anthropic, openai};

/// Text that survives any format: non-empty, not only whitespace.
fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 .,!?'\"é漢🙂\\\\/{}-]{0,40}".prop_map(|s| format!("t{s}"))
}

/// A value in `[lo, hi]` with two decimals (exact through JSON as f32).
fn ratio(lo: i32, hi: i32) -> impl Strategy<Value = f32> {
    (lo * 100..=hi * 100).prop_map(|x| x as f32 / 100.0)
}

/// A conversation: an optional system message, then user and assistant
/// turns alternating, starting and ending with the user.
fn conversation() -> impl Strategy<Value = Vec<Message>> {
    (
        proptest::option::of(text()),
        proptest::collection::vec((text(), text()), 0..4),
        text(),
    )
        .prop_map(|(system, turns, last)| {
            let mut messages = Vec::new();
            if let Some(s) = system {
                messages.push(Message::system(s));
            }
            for (u, a) in turns {
                messages.push(Message::user(u));
                messages.push(Message::assistant(a));
            }
            messages.push(Message::user(last));
            messages
        })
}

fn model() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9.-]{0,20}(/[a-z0-9.-]{1,12})?"
}

prop_compose! {
    fn openai_request()(
        model in model(),
        messages in conversation(),
        temperature in proptest::option::of(ratio(0, 2)),
        top_p in proptest::option::of(ratio(0, 1)),
        max_tokens in proptest::option::of(1u32..1_000_000),
        stop in proptest::collection::vec(text(), 0..4),
        seed in proptest::option::of(any::<i64>()),
        presence_penalty in proptest::option::of(ratio(-2, 2)),
        frequency_penalty in proptest::option::of(ratio(-2, 2)),
        user in proptest::option::of("[a-z0-9-]{1,16}"),
    ) -> ChatRequest {
        let mut req = ChatRequest::new(model, messages);
        req.temperature = temperature;
        req.top_p = top_p;
        req.max_tokens = max_tokens;
        req.stop = stop;
        req.seed = seed;
        req.presence_penalty = presence_penalty;
        req.frequency_penalty = frequency_penalty;
        req.user = user;
        req
    }
}

prop_compose! {
    /// The Anthropic subset that is lossless: no seed or penalties (the
    /// format has none) and always a `max_tokens` (it is required).
    fn anthropic_request()(
        model in model(),
        messages in conversation(),
        temperature in proptest::option::of(ratio(0, 1)),
        top_p in proptest::option::of(ratio(0, 1)),
        max_tokens in 1u32..1_000_000,
        stop in proptest::collection::vec(text(), 0..4),
    ) -> ChatRequest {
        let mut req = ChatRequest::new(model, messages);
        req.temperature = temperature;
        req.top_p = top_p;
        req.max_tokens = Some(max_tokens);
        req.stop = stop;
        req
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn openai_request_round_trips(req in openai_request()) {
        let wire = openai::to_wire_request(&req, &openai::RequestOptions::default())
            .expect("converts to the wire");
        let bytes = serde_json::to_vec(&wire).expect("serializes");
        let back = openai::parse_chat_request(&bytes).expect("parses back");
        prop_assert_eq!(back.request, req);
    }

    #[test]
    fn anthropic_request_round_trips(req in anthropic_request()) {
        let wire = anthropic::to_wire_request(&req, &anthropic::RequestOptions::default())
            .expect("converts to the wire");
        let bytes = serde_json::to_vec(&wire).expect("serializes");
        let back = anthropic::parse_messages_request(&bytes).expect("parses back");
        prop_assert_eq!(back.request, req);
    }

    /// Any data (line breaks included, as `\n`), optionally named, encoded
    /// as SSE frames and fed to the decoder in pieces cut anywhere (inside a
    /// UTF-8 character too) comes back event for event.
    #[test]
    fn sse_round_trips_at_any_split(
        events in proptest::collection::vec(
            (proptest::option::of("[a-z_]{1,12}"), "[^\r]{0,60}"),
            1..8,
        ),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
    ) {
        let mut body = Vec::new();
        for (name, data) in &events {
            let frame = match name {
                Some(n) => encode_event(n, data),
                None => encode_data(data),
            };
            body.extend_from_slice(&frame);
        }
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(body.len() + 1)).collect();
        points.push(0);
        points.push(body.len());
        points.sort_unstable();
        let mut dec = SseDecoder::new();
        let mut got = Vec::new();
        for w in points.windows(2) {
            dec.push(&body[w[0]..w[1]]);
            while let Some(event) = dec.next_event().expect("a valid stream") {
                got.push(event);
            }
        }
        for event in dec.finish() {
            got.push(event.expect("a valid stream"));
        }
        prop_assert_eq!(got.len(), events.len());
        for (event, (name, data)) in got.iter().zip(&events) {
            prop_assert_eq!(&event.data, data);
            prop_assert_eq!(event.event.as_deref(), name.as_deref());
        }
    }
}
