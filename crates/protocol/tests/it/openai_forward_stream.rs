//! The same-format fast path for streams: the request sent upstream
//! (`stream_request`) and the chunks passed back (`ForwardedChunks`), on
//! the official recorded streams.

use bytes::Bytes;
use futures::{FutureExt, StreamExt};
use serde_json::Value;
use switchboard_core::{Error, ErrorKind, ForwardedFrame, Usage};
use switchboard_protocol::openai::{ForwardedChunks, stream_request};

use crate::common::fixture;

/// The frames `ForwardedChunks` makes of `body`, read in pieces of `piece`
/// bytes.
fn frames(body: &[u8], piece: usize, usage_asked: bool) -> Vec<Result<ForwardedFrame, Error>> {
    let pieces: Vec<Result<Bytes, Error>> = body
        .chunks(piece)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let chunks = ForwardedChunks::new(futures::stream::iter(pieces), usage_asked);
    chunks
        .collect()
        .now_or_never()
        .expect("in memory: always ready")
}

/// The bytes of the frames, and the last usage read; panics on an error.
fn passed(body: &[u8], piece: usize, usage_asked: bool) -> (Vec<u8>, Option<Usage>) {
    let mut out = Vec::new();
    let mut usage = None;
    for frame in frames(body, piece, usage_asked) {
        let frame = frame.expect("a frame");
        out.extend_from_slice(&frame.bytes);
        usage = frame.usage.or(usage);
    }
    (out, usage)
}

#[test]
fn recorded_streams_pass_through_byte_for_byte_when_the_client_asked_for_usage() {
    for name in [
        "openai/chat_stream_text.sse",
        "openai/chat_stream_tool_call.sse",
        "openai/chat_stream_refusal.sse",
    ] {
        let body = fixture(name);
        for piece in [1, 7, body.len()] {
            let (out, usage) = passed(&body, piece, true);
            assert_eq!(
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(&body),
                "{name} in pieces of {piece}"
            );
            assert!(
                usage.is_some_and(|u| u.total_tokens > 0),
                "{name}: usage read"
            );
        }
    }
}

#[test]
fn the_usage_chunk_the_gateway_asked_for_is_read_and_not_passed_on() {
    let body = fixture("openai/chat_stream_text.sse");
    let (out, usage) = passed(&body, body.len(), false);
    let usage = usage.expect("usage read");
    assert_eq!(
        (usage.input_tokens, usage.output_tokens, usage.total_tokens),
        (14, 30, 44)
    );
    let text = String::from_utf8(out).expect("utf-8");
    assert!(!text.contains("usage"), "{text}");
    // Everything else is as it came: the recorded body minus its usage event.
    let expected: String = String::from_utf8(body)
        .expect("utf-8")
        .split_inclusive("\n\n")
        .filter(|e| !e.contains("\"usage\""))
        .collect();
    assert_eq!(text, expected);
}

#[test]
fn a_null_usage_member_is_removed_when_the_client_did_not_ask() {
    let body = b"data: {\"id\":\"c\",\"created\":7,\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":\"stop\"}],\"usage\":null,\"x\":[1, 2]}\n\ndata: [DONE]\n\n";
    let (out, usage) = passed(body, body.len(), false);
    assert_eq!(usage, None);
    assert_eq!(
        String::from_utf8(out).expect("utf-8"),
        "data: {\"id\":\"c\",\"created\":7,\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":\"stop\"}],\"x\":[1, 2]}\n\ndata: [DONE]\n\n"
    );
    // Asked: kept as it came.
    let (out, _) = passed(body, body.len(), true);
    assert_eq!(out, body);
}

#[test]
fn progress_marks_content_finish_and_usage_not_the_role_chunk() {
    let body = fixture("openai/chat_stream_text.sse");
    let got: Vec<bool> = frames(&body, body.len(), true)
        .into_iter()
        .map(|f| f.expect("frame").progress)
        .collect();
    // Role chunk, 9 content chunks, finish, usage, [DONE].
    assert!(!got[0], "the role chunk with empty content is not progress");
    assert!(got[1..].iter().all(|p| *p), "{got:?}");
    // Keep-alive style chunks are not progress either.
    let idle = b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\",\"tool_calls\":[]}}]}\n\n: ping\n\n";
    let got = frames(idle, idle.len(), true);
    assert!(!got[0].as_ref().expect("frame").progress);
}

#[test]
fn a_midstream_error_ends_the_stream_with_that_error() {
    let body = fixture("openai-compatible/openrouter_stream_midstream_error.sse");
    let got = frames(&body, body.len(), true);
    assert_eq!(got.len(), 1, "{got:?}");
    let err = got[0].as_ref().expect_err("an error");
    assert!(err.to_string().contains("Provider disconnected"), "{err}");
    // `event: error`, whatever its data.
    let body = b"event: error\ndata: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}\n\n";
    let err = frames(body, body.len(), true)
        .remove(0)
        .expect_err("an error");
    assert!(err.to_string().contains("overloaded"), "{err}");
}

#[test]
fn groq_usage_is_read_from_x_groq() {
    let chunk: Value = serde_json::from_slice(&fixture(
        "openai-compatible/groq_stream_final_chunk_x_groq.json",
    ))
    .expect("JSON");
    let body = format!("data: {chunk}\n\ndata: [DONE]\n\n");
    let (out, usage) = passed(body.as_bytes(), 5, false);
    assert_eq!(usage.map(|u| u.total_tokens), Some(457));
    assert_eq!(out, body.as_bytes(), "no top-level usage: nothing removed");
}

#[test]
fn a_cut_or_broken_stream_is_an_error_and_a_finished_one_gets_its_done() {
    let body = fixture("openai/chat_stream_text.sse");
    // Cut before the finish chunk.
    let cut = &body[..body.len() / 2];
    let last = frames(cut, 64, true).pop().expect("frames");
    assert_eq!(last.expect_err("cut").kind(), &ErrorKind::Protocol);
    // [DONE] without any finish.
    let early =
        b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\n\ndata: [DONE]\n\n";
    let last = frames(early, early.len(), true).pop().expect("frames");
    assert_eq!(last.expect_err("no finish").kind(), &ErrorKind::Protocol);
    // Not JSON.
    let bad = b"data: {not json\n\n";
    let last = frames(bad, bad.len(), true).pop().expect("frames");
    assert_eq!(last.expect_err("bad").kind(), &ErrorKind::Protocol);
    // Finished, then the body ends without [DONE]: the client gets one.
    let no_done =
        b"data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n";
    let (out, _) = passed(no_done, 3, true);
    assert!(
        out.ends_with(b"data: [DONE]\n\n"),
        "{}",
        String::from_utf8_lossy(&out)
    );
    // A transport error is passed on.
    let failing: Vec<Result<Bytes, Error>> = vec![
        Ok(Bytes::from_static(b"data: {\"choices\":[]}\n\n")),
        Err(Error::timeout("idle")),
    ];
    let got: Vec<_> = ForwardedChunks::new(futures::stream::iter(failing), true)
        .collect()
        .now_or_never()
        .expect("ready");
    assert_eq!(
        got.last()
            .expect("items")
            .as_ref()
            .expect_err("timeout")
            .kind(),
        &ErrorKind::Timeout
    );
}

#[test]
fn the_request_asks_for_usage_and_names_the_target_model() {
    let body = Bytes::from_static(
        br#"{"model":"alias","messages":[{"role":"user","content":"Hi"}],"stream":true,"temperature":0.50}"#,
    );
    let (out, asked) = stream_request(&body, Some("gpt-4o")).expect("object");
    assert!(!asked);
    assert_eq!(
        std::str::from_utf8(&out).expect("utf-8"),
        r#"{"model":"gpt-4o","messages":[{"role":"user","content":"Hi"}],"stream":true,"temperature":0.50,"stream_options":{"include_usage":true}}"#
    );
    // The client's other stream options are kept.
    let body = Bytes::from_static(
        br#"{"model":"m","stream":true,"stream_options":{"include_obfuscation":false,"include_usage":false}}"#,
    );
    let (out, asked) = stream_request(&body, None).expect("object");
    assert!(!asked);
    assert_eq!(
        std::str::from_utf8(&out).expect("utf-8"),
        r#"{"model":"m","stream":true,"stream_options":{"include_obfuscation":false,"include_usage":true}}"#
    );
    // Asked already, same model: the very same bytes.
    let body = Bytes::from_static(
        br#"{"model":"m", "stream":true, "stream_options": {"include_usage": true}}"#,
    );
    let (out, asked) = stream_request(&body, Some("m")).expect("object");
    assert!(asked);
    assert_eq!(out.as_ptr(), body.as_ptr());
    // `null` options.
    let body = Bytes::from_static(br#"{"model":"m","stream":true,"stream_options":null}"#);
    let (out, _) = stream_request(&body, None).expect("object");
    let v: Value = serde_json::from_slice(&out).expect("JSON");
    assert_eq!(v["stream_options"]["include_usage"], true);
    assert!(stream_request(&Bytes::from_static(b"[1]"), None).is_err());
}

#[test]
fn a_request_that_says_a_member_twice_is_refused_before_it_could_be_forwarded() {
    // The fast path sends the client's own bytes: a body whose gateway
    // reading and upstream reading could differ (first or last of two
    // `model`, `stream_options`, `max_tokens`) must never get that far.
    for body in [
        r#"{"model":"a","model":"b","messages":[{"role":"user","content":"x"}]}"#,
        r#"{"model":"a","mod\u0065l":"b","messages":[{"role":"user","content":"x"}]}"#,
        r#"{"model":"a","messages":[{"role":"user","content":"x"}],"stream":true,"stream_options":{"include_usage":false},"stream_options":{"include_usage":true}}"#,
        r#"{"model":"a","messages":[{"role":"user","content":"x"}],"max_tokens":5,"max_tokens":500000}"#,
    ] {
        let err =
            switchboard_protocol::openai::parse_chat_request(body.as_bytes()).expect_err(body);
        assert_eq!(err.kind(), &ErrorKind::InvalidRequest, "{body}");
        assert!(err.to_string().contains("duplicate field"), "{err}");
    }
}
