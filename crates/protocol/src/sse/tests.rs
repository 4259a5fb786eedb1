//! Tests of the SSE decoder, encoder and stream adapter.

use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use switchboard_core::{Error, ErrorKind};

use super::*;

fn decode_all(input: &[u8], split: usize) -> Result<Vec<SseEvent>, Error> {
    let mut decoder = SseDecoder::new();
    let mut out = Vec::new();
    for piece in input.chunks(split.max(1)) {
        for event in decoder.feed(piece) {
            out.push(event?);
        }
    }
    for event in decoder.finish() {
        out.push(event?);
    }
    Ok(out)
}

fn datas(events: &[SseEvent]) -> Vec<&str> {
    events.iter().map(|e| e.data.as_str()).collect()
}

#[test]
fn every_line_ending_and_split_gives_the_same_events() {
    let lf = "data: one\n\n: comment\ndata: two\ndata: lines\n\nevent: ping\ndata: é€😀\n\ndata: [DONE]\n\n";
    let crlf = lf.replace('\n', "\r\n");
    let cr = lf.replace('\n', "\r");
    for input in [lf.to_owned(), crlf, cr] {
        for split in 1..=9 {
            let events = decode_all(input.as_bytes(), split).expect("well-formed");
            assert_eq!(
                datas(&events),
                ["one", "two\nlines", "é€😀", "[DONE]"],
                "split {split}, input {input:?}"
            );
            assert_eq!(events[2].event_type(), "ping");
            assert_eq!(events[0].event_type(), "message");
            assert!(events[3].is_done());
            assert!(!events[0].is_done());
        }
    }
}

#[test]
fn crlf_split_between_cr_and_lf_is_one_line_end() {
    let mut decoder = SseDecoder::new();
    assert_eq!(decoder.feed(b"data: a\r").count(), 0);
    // The LF completes the CR line end; the next CR LF is the blank line.
    let events: Vec<_> = decoder
        .feed(b"\n\r\n")
        .collect::<Result<_, _>>()
        .expect("ok");
    assert_eq!(datas(&events), ["a"]);
    assert_eq!(decoder.finish().count(), 0);
}

#[test]
fn bom_is_skipped_even_when_split() {
    let input = b"\xEF\xBB\xBFdata: x\n\n";
    for split in 1..=4 {
        let events = decode_all(input, split).expect("ok");
        assert_eq!(datas(&events), ["x"], "split {split}");
    }
    // Only one BOM is skipped; a second one is part of the field name.
    let events = decode_all(b"\xEF\xBB\xBF\xEF\xBB\xBFdata: x\n\ndata: y\n\n", 1).expect("ok");
    assert_eq!(datas(&events), ["y"]);
}

#[test]
fn fields_follow_the_spec() {
    let input = b"id: 7\nretry: 1500\nevent: delta\ndata:no-space\ndata:  two-spaces\nfoo: ignored\ndata\n\nretry: x\ndata: next\n\n";
    let events = decode_all(input, 3).expect("ok");
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].data, "no-space\n two-spaces\n");
    assert_eq!(events[0].event.as_deref(), Some("delta"));
    assert_eq!(events[0].id.as_deref(), Some("7"));
    assert_eq!(events[0].retry, Some(1500));
    // The id persists, the event type and retry do not.
    assert_eq!(events[1].id.as_deref(), Some("7"));
    assert_eq!(events[1].event, None);
    assert_eq!(events[1].retry, None);
}

#[test]
fn blocks_without_data_are_not_dispatched() {
    let events = decode_all(b"event: ping\n\n: hi\n\nid: 3\n\ndata:\n\n", 2).expect("ok");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].data, "");
    assert_eq!(
        events[0].event, None,
        "the event type was reset by the empty block"
    );
    assert_eq!(events[0].id.as_deref(), Some("3"));
}

#[test]
fn utf8_split_inside_a_character_survives() {
    let input = "data: 😀 ünïcödé\n\n".as_bytes();
    for split in 1..=5 {
        assert_eq!(
            datas(&decode_all(input, split).expect("ok")),
            ["😀 ünïcödé"]
        );
    }
    let events = decode_all(b"data: \xFFok\n\n", 1).expect("lossy, not an error");
    assert_eq!(events[0].data, "\u{FFFD}ok");
}

#[test]
fn closing_mid_event_is_an_error() {
    for input in [
        &b"data: {\"partial\":"[..],
        b"data: complete line\n",
        b"event: x\n",
        b"data: a\n\ndata: b",
    ] {
        for split in [1, 4, 100] {
            let err = decode_all(input, split).expect_err("mid-event");
            assert_eq!(err.kind(), &ErrorKind::Protocol);
            assert_eq!(err.message(), "stream closed mid-event");
        }
    }
    // Trailing noise that is not part of an event is fine.
    for input in [
        &b"data: a\n\n"[..],
        b"data: a\n\n\n",
        b"data: a\n\n: ping",
        b"data: a\n\n  ",
    ] {
        assert_eq!(datas(&decode_all(input, 2).expect("clean end")), ["a"]);
    }
}

#[test]
fn complete_events_before_a_mid_event_close_are_delivered() {
    let mut decoder = SseDecoder::new();
    assert_eq!(decoder.feed(b"data: a\n\ndata: b").count(), 1);
    let rest: Vec<_> = decoder.finish().collect();
    assert_eq!(rest.len(), 1);
    assert!(rest[0].is_err());
    // Closed for good afterwards.
    assert_eq!(decoder.finish().count(), 0);
    assert_eq!(decoder.feed(b"data: c\n\n").count(), 0);
}

#[test]
fn finish_yields_events_left_undrained() {
    let mut decoder = SseDecoder::new();
    decoder.push(b"data: a\n\ndata: b\r");
    let err = decoder
        .finish()
        .collect::<Result<Vec<_>, _>>()
        .expect_err("b is cut");
    assert_eq!(err.kind(), &ErrorKind::Protocol);
    let mut decoder = SseDecoder::new();
    decoder.push(b"data: a\n\ndata: b\n\r");
    let events: Vec<_> = decoder
        .finish()
        .collect::<Result<_, _>>()
        .expect("complete");
    assert_eq!(datas(&events), ["a", "b"]);
}

#[test]
fn oversized_events_are_rejected() {
    let mut decoder = SseDecoder::new().with_max_event_size(16);
    let results: Vec<_> = decoder.feed(b"data: 0123456789abcdef\n\n").collect();
    assert_eq!(results.len(), 1);
    let err = results[0].as_ref().expect_err("too big");
    assert_eq!(err.kind(), &ErrorKind::Protocol);
    // A huge line without a terminator is caught before it completes.
    let mut decoder = SseDecoder::new().with_max_event_size(16);
    let results: Vec<_> = decoder.feed(&[b'x'; 64]).collect();
    assert!(results[0].is_err());
    let mut decoder = SseDecoder::new().with_max_event_size(16);
    let ok: Vec<_> = decoder.feed(b"data: 0123\n\ndata: 4567\n\n").collect();
    assert_eq!(ok.len(), 2, "the limit is per event");
    assert!(ok.iter().all(Result::is_ok));
}

#[test]
fn encoder_frames_decode_back() {
    let mut wire = BytesMut::new();
    wire.extend_from_slice(&encode_data("plain"));
    wire.extend_from_slice(&encode_data("two\nlines\r\nand\rthree"));
    wire.extend_from_slice(&encode_event("message_start", "{\"a\":1}"));
    wire.extend_from_slice(&encode_event("bad\r\nname", "x"));
    wire.extend_from_slice(&encode_comment("keep-alive"));
    wire.extend_from_slice(
        &encode_json(Some("delta"), &serde_json::json!({"t": "a\nb"})).expect("json"),
    );
    wire.extend_from_slice(&done_frame());
    assert_eq!(&encode_data("x")[..], b"data: x\n\n");
    assert_eq!(&encode_event("e", "x")[..], b"event: e\ndata: x\n\n");
    let events = decode_all(&wire, 5).expect("ok");
    assert_eq!(
        datas(&events),
        [
            "plain",
            "two\nlines\nand\nthree",
            "{\"a\":1}",
            "x",
            "{\"t\":\"a\\nb\"}",
            "[DONE]"
        ]
    );
    assert_eq!(events[2].event_type(), "message_start");
    assert_eq!(events[3].event_type(), "badname");
    assert_eq!(events[4].event_type(), "delta");
}

#[derive(Debug)]
struct Boom;
impl From<Boom> for Error {
    fn from(_: Boom) -> Error {
        Error::unavailable("connection reset")
    }
}

#[tokio::test]
async fn stream_adapter_decodes_and_reports_errors() {
    let pieces: Vec<Result<Vec<u8>, Boom>> = vec![
        Ok(b"da".to_vec()),
        Ok(b"ta: a\n".to_vec()),
        Ok(b"\ndata: b\n\n".to_vec()),
    ];
    let events: Vec<_> = SseStream::new(futures::stream::iter(pieces))
        .collect()
        .await;
    let events: Vec<SseEvent> = events.into_iter().collect::<Result<_, _>>().expect("ok");
    assert_eq!(datas(&events), ["a", "b"]);

    let cut: Vec<Result<Bytes, Boom>> = vec![Ok(Bytes::from_static(b"data: a\n\ndata: {"))];
    let items: Vec<_> = SseStream::new(futures::stream::iter(cut)).collect().await;
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].as_ref().map(|e| e.data.as_str()).ok(), Some("a"));
    let err = items[1].as_ref().expect_err("cut mid-event");
    assert_eq!(err.message(), "stream closed mid-event");

    let broken: Vec<Result<Bytes, Boom>> = vec![
        Ok(Bytes::from_static(b"data: a\n\n")),
        Err(Boom),
        Ok(Bytes::from_static(b"data: late\n\n")),
    ];
    let items: Vec<_> = SseStream::new(futures::stream::iter(broken))
        .collect()
        .await;
    assert_eq!(items.len(), 2, "the stream ends after the transport error");
    assert_eq!(
        items[1].as_ref().expect_err("transport").kind(),
        &ErrorKind::Unavailable
    );
}
