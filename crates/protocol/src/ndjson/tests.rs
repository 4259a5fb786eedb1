//! Tests of the NDJSON line decoder and its stream adapters.

use bytes::Bytes;
use futures::StreamExt;
use switchboard_core::{ChatEvent, Error, ErrorKind, FinishReason};

use super::*;

fn lines_of(decoder: NdjsonDecoder, input: &[u8], split: usize) -> Result<Vec<String>, Error> {
    let mut decoder = decoder;
    let mut out = Vec::new();
    for piece in input.chunks(split.max(1)) {
        for line in decoder.feed(piece) {
            out.push(String::from_utf8_lossy(&line?).into_owned());
        }
    }
    for line in decoder.finish() {
        out.push(String::from_utf8_lossy(&line?).into_owned());
    }
    Ok(out)
}

fn lines(input: &[u8], split: usize) -> Result<Vec<String>, Error> {
    lines_of(NdjsonDecoder::new(), input, split)
}

#[test]
fn every_split_point_and_line_end_gives_the_same_lines() {
    let lf = "{\"a\":1}\n\n  \n{\"b\":\"é😀\"}\n{\"c\":[1,2]}\n";
    let crlf = lf.replace('\n', "\r\n");
    let mixed = "{\"a\":1}\r\n\n \t\r\n{\"b\":\"é😀\"}\n{\"c\":[1,2]}\r\n";
    for input in [lf.to_owned(), crlf, mixed.to_owned()] {
        for split in 1..=input.len() {
            assert_eq!(
                lines(input.as_bytes(), split).expect("well-formed"),
                ["{\"a\":1}", "{\"b\":\"é😀\"}", "{\"c\":[1,2]}"],
                "split {split}, input {input:?}"
            );
        }
    }
}

#[test]
fn a_cr_alone_is_part_of_the_line() {
    assert_eq!(lines(b"a\rb\n", 1).expect("ok"), ["a\rb"]);
}

#[test]
fn a_trailing_line_without_a_line_end_is_an_error_unless_accepted() {
    for split in 1..=9 {
        let err = lines(b"{\"a\":1}\n{\"b\"", split).expect_err("cut off");
        assert_eq!(err.kind(), &ErrorKind::Protocol);
        assert_eq!(err.message(), "the stream closed in the middle of a line");
        let accepted = lines_of(
            NdjsonDecoder::new().accept_unterminated_last_line(),
            b"{\"a\":1}\n{\"b\":2}\r",
            split,
        )
        .expect("accepted");
        assert_eq!(accepted, ["{\"a\":1}", "{\"b\":2}"], "split {split}");
    }
    // Trailing whitespace is not a line.
    for input in [&b"x\n"[..], b"x\n  ", b"x\n\r\n", b"x\r\n\r"] {
        assert_eq!(lines(input, 1).expect("clean end"), ["x"]);
    }
    // Complete lines before the cut are delivered, then the error; then nothing.
    let mut decoder = NdjsonDecoder::new();
    assert_eq!(decoder.feed(b"a\nb").count(), 1);
    let rest: Vec<_> = decoder.finish().collect();
    assert_eq!(rest.len(), 1);
    assert!(rest[0].is_err());
    assert_eq!(decoder.finish().count(), 0);
    assert_eq!(decoder.feed(b"c\n").count(), 0);
}

#[test]
fn over_long_lines_are_rejected() {
    // Exactly the limit is fine, CR LF not counted.
    assert_eq!(
        lines_of(
            NdjsonDecoder::new().with_max_line_size(4),
            b"abcd\r\nefgh\n",
            1
        )
        .expect("ok"),
        ["abcd", "efgh"]
    );
    // A complete line over the limit, in one piece.
    let mut decoder = NdjsonDecoder::new().with_max_line_size(4);
    let results: Vec<_> = decoder.feed(b"ab\nabcde\nok\n").collect();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0].as_deref().ok(), Some(&b"ab"[..]));
    let err = results[1].as_ref().expect_err("too long");
    assert_eq!(err.kind(), &ErrorKind::Protocol);
    assert_eq!(err.message(), "an NDJSON line is longer than 4 bytes");
    assert_eq!(decoder.feed(b"x\n").count(), 0, "closed after the error");
    // A line without its end is caught before it completes, whatever the split.
    for split in 1..=3 {
        let mut decoder = NdjsonDecoder::new().with_max_line_size(4);
        let mut results = Vec::new();
        for piece in b"abcdefgh".chunks(split) {
            results.extend(decoder.feed(piece));
        }
        assert_eq!(results.len(), 1, "split {split}");
        assert!(results[0].is_err());
    }
    // A pending CR may be the start of CR LF: not counted yet.
    let mut decoder = NdjsonDecoder::new().with_max_line_size(4);
    assert_eq!(decoder.feed(b"abcd\r").count(), 0);
    let tail: Vec<_> = decoder.feed(b"\n").collect::<Result<_, _>>().expect("ok");
    assert_eq!(tail, [Bytes::from_static(b"abcd")]);
}

/// Decodes lines `"t:<text>"` as text, `"done"` as the end, `"bad"` as an error.
#[derive(Debug, Default)]
struct TestLines {
    done: bool,
    finished: bool,
}

impl LineDecoder for TestLines {
    fn push_line(&mut self, line: &[u8], out: &mut Vec<ChatEvent>) -> Result<(), Error> {
        match line {
            b"done" => {
                self.done = true;
                out.push(ChatEvent::Finish {
                    reason: FinishReason::Stop,
                });
            }
            b"bad" => return Err(Error::protocol("bad line")),
            _ => match line.strip_prefix(b"t:") {
                Some(text) => out.push(ChatEvent::TextDelta {
                    text: String::from_utf8_lossy(text).into_owned(),
                }),
                None => return Err(Error::protocol("unknown line")),
            },
        }
        Ok(())
    }

    fn finish(&mut self, _out: &mut Vec<ChatEvent>) -> Result<(), Error> {
        self.finished = true;
        if self.done {
            Ok(())
        } else {
            Err(Error::protocol(
                "the stream ended before the answer finished",
            ))
        }
    }

    fn is_done(&self) -> bool {
        self.done
    }
}

fn texts(events: &[ChatEvent]) -> Vec<&str> {
    events
        .iter()
        .filter_map(|e| match e {
            ChatEvent::TextDelta { text } => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

#[derive(Debug)]
struct Boom;
impl From<Boom> for Error {
    fn from(_: Boom) -> Error {
        Error::unavailable("connection reset")
    }
}

async fn collect(pieces: Vec<Result<&'static [u8], Boom>>) -> Vec<Result<ChatEvent, Error>> {
    DecodedLineStream::<_, TestLines>::new(futures::stream::iter(pieces))
        .collect()
        .await
}

#[tokio::test]
async fn the_adapter_decodes_and_stops_reading_once_done() {
    let items = collect(vec![
        Ok(b"t:he"),
        Ok(b"llo\r\n\nt:wor"),
        Ok(b"ld\ndone\n"),
        // Never read: the answer is complete.
        Err(Boom),
    ])
    .await;
    let events: Vec<ChatEvent> = items.into_iter().collect::<Result<_, _>>().expect("ok");
    assert_eq!(texts(&events), ["hello", "world"]);
    assert!(matches!(events.last(), Some(ChatEvent::Finish { .. })));
}

#[tokio::test]
async fn the_adapter_ends_at_the_first_error() {
    // A decoding error.
    let items = collect(vec![Ok(b"t:a\nbad\nt:b\ndone\n")]).await;
    assert_eq!(items.len(), 2);
    assert_eq!(items[1].as_ref().expect_err("bad").message(), "bad line");
    // A transport error.
    let items = collect(vec![Ok(b"t:a\n"), Err(Boom), Ok(b"done\n")]).await;
    assert_eq!(items.len(), 2);
    assert_eq!(
        items[1].as_ref().expect_err("transport").kind(),
        &ErrorKind::Unavailable
    );
    // A line cut off by the end of the input.
    let items = collect(vec![Ok(b"t:a\nt:b")]).await;
    assert_eq!(items.len(), 2);
    assert_eq!(
        items[1].as_ref().expect_err("cut").message(),
        "the stream closed in the middle of a line"
    );
    // An over-long line, with a configured limit.
    let stream = DecodedLineStream::with_framing(
        futures::stream::iter(vec![Ok::<_, Boom>(&b"t:a\nt:0123456789\ndone\n"[..])]),
        NdjsonDecoder::new().with_max_line_size(8),
        TestLines::default(),
    );
    let items: Vec<_> = stream.collect().await;
    assert_eq!(items.len(), 2);
    assert_eq!(
        items[1].as_ref().expect_err("too long").message(),
        "an NDJSON line is longer than 8 bytes"
    );
}

#[tokio::test]
async fn the_adapter_finishes_the_decoder_at_the_end_of_the_bytes() {
    let items = collect(vec![Ok(b"t:a\n")]).await;
    assert_eq!(items.len(), 2);
    assert_eq!(
        items[1].as_ref().expect_err("unfinished").message(),
        "the stream ended before the answer finished"
    );
    let items = collect(vec![]).await;
    assert_eq!(items.len(), 1, "an empty body still runs finish");
}

#[tokio::test]
async fn the_line_stream_yields_lines() {
    let pieces: Vec<Result<Bytes, Boom>> = vec![
        Ok(Bytes::from_static(b"{\"a\"")),
        Ok(Bytes::from_static(b":1}\n\r\n{\"b\":2}\n")),
    ];
    let lines: Vec<Bytes> = NdjsonStream::new(futures::stream::iter(pieces))
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()
        .expect("ok");
    assert_eq!(lines, [&b"{\"a\":1}"[..], &b"{\"b\":2}"[..]]);
}

#[test]
fn decode_body_stops_at_done_and_finishes_otherwise() {
    let events = decode_body(b"t:a\ndone\nnot even read", TestLines::default()).expect("ok");
    assert_eq!(texts(&events), ["a"]);
    let err = decode_body(b"t:a\n", TestLines::default()).expect_err("unfinished");
    assert_eq!(err.message(), "the stream ended before the answer finished");
}
