//! NDJSON decoding and the `/api/chat` stream → [`ChatEvent`]s.
//!
//! [`NdjsonEventStream`] frames a byte stream into lines ([`NdjsonDecoder`])
//! and hands each to a [`ChatDecoder`] (`push_line` / `finish` /
//! `is_done`, the shape of the protocol crate's `EventDecoder`). The idle
//! timeout and cancellation are the byte stream's own (core's
//! `GuardedBody`).

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt};
use switchboard_core::{ChatEvent, Error};

use crate::convert;
use crate::error::error_from_stream_line;
use crate::wire::ChatChunk;

/// The longest line the decoder buffers: 16 MiB.
pub(crate) const MAX_LINE: usize = 16 * 1024 * 1024;

/// An incremental newline-delimited JSON splitter: push bytes in pieces of
/// any size, take complete lines out. Lines end with `\n` (a `\r` before it
/// is dropped); blank lines are skipped. Input that ends in the middle of a
/// line is a protocol error, so a cut-off answer never looks complete.
#[derive(Debug, Default)]
pub(crate) struct NdjsonDecoder {
    buf: BytesMut,
    /// Bytes at the front of `buf` known to hold no `\n`.
    scanned: usize,
}

impl NdjsonDecoder {
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete, non-blank line (without its terminator).
    pub(crate) fn next_line(&mut self) -> Result<Option<BytesMut>, Error> {
        loop {
            let Some(pos) = self.buf[self.scanned..]
                .iter()
                .position(|&b| b == b'\n')
                .map(|p| p + self.scanned)
            else {
                self.scanned = self.buf.len();
                if self.buf.len() > MAX_LINE {
                    self.buf.clear();
                    self.scanned = 0;
                    return Err(Error::protocol(format!(
                        "an NDJSON line is longer than {MAX_LINE} bytes"
                    )));
                }
                return Ok(None);
            };
            let mut line = self.buf.split_to(pos + 1);
            self.scanned = 0;
            line.truncate(pos);
            if line.last() == Some(&b'\r') {
                line.truncate(pos - 1);
            }
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return Ok(Some(line));
        }
    }

    /// Ends the input: anything but whitespace left over is a cut-off line.
    pub(crate) fn finish(&mut self) -> Result<(), Error> {
        let rest = std::mem::take(&mut self.buf);
        self.scanned = 0;
        if rest.iter().all(u8::is_ascii_whitespace) {
            Ok(())
        } else {
            Err(Error::protocol("the stream closed in the middle of a line"))
        }
    }

    /// Drops buffered input (after the end of the answer).
    pub(crate) fn clear(&mut self) {
        self.buf.clear();
        self.scanned = 0;
    }
}

/// Turns the chunks of an `/api/chat` stream into [`ChatEvent`]s:
///
/// - the first chunk gives [`ChatEvent::Start`] (a generated id, the chunk's
///   model, or the requested one when the chunk names none);
/// - `message.thinking` → [`ChatEvent::ReasoningDelta`], `message.content`
///   → [`ChatEvent::TextDelta`] (empty strings give nothing);
/// - each tool call (Ollama sends a call whole, in one chunk, its arguments
///   an object) → [`ChatEvent::ToolCallStart`] with the server's id or a
///   generated one (see [`convert::tool_call_id`]) and one
///   [`ChatEvent::ToolCallDelta`] with the complete arguments;
/// - the `done: true` chunk → [`ChatEvent::Usage`] (`prompt_eval_count`,
///   `eval_count`) then [`ChatEvent::Finish`];
/// - an `{"error": ...}` line → `Err`, and the decoder is done;
/// - the end of the input before `done: true` → a protocol error.
#[derive(Debug)]
pub(crate) struct ChatDecoder {
    id: String,
    /// The requested model, for a `Start` whose chunk names none.
    model: String,
    started: bool,
    tool_calls: usize,
    done: bool,
}

impl ChatDecoder {
    /// A decoder for an answer to a request for `model`.
    pub(crate) fn new(model: &str) -> Self {
        ChatDecoder {
            id: convert::new_id(),
            model: model.to_owned(),
            started: false,
            tool_calls: 0,
            done: false,
        }
    }

    pub(crate) fn is_done(&self) -> bool {
        self.done
    }

    /// Handles one NDJSON line.
    pub(crate) fn push_line(&mut self, line: &[u8], out: &mut Vec<ChatEvent>) -> Result<(), Error> {
        if self.done {
            return Ok(());
        }
        let chunk: ChatChunk = serde_json::from_slice(line).map_err(|e| {
            self.done = true;
            Error::protocol(format!("invalid NDJSON line in the chat stream: {e}")).with_source(e)
        })?;
        self.push_chunk(chunk, out)
    }

    pub(crate) fn push_chunk(
        &mut self,
        mut chunk: ChatChunk,
        out: &mut Vec<ChatEvent>,
    ) -> Result<(), Error> {
        if self.done {
            return Ok(());
        }
        if let Some(error) = chunk.error.take().filter(|e| !e.is_null()) {
            self.done = true;
            return Err(error_from_stream_line(&error, chunk.status));
        }
        if !self.started {
            self.started = true;
            let model = if chunk.model.is_empty() {
                &self.model
            } else {
                &chunk.model
            };
            out.push(ChatEvent::Start {
                id: self.id.clone(),
                model: model.clone(),
            });
        }
        if let Some(message) = chunk.message.take() {
            if !message.thinking.is_empty() {
                out.push(ChatEvent::ReasoningDelta {
                    text: message.thinking,
                });
            }
            if !message.content.is_empty() {
                out.push(ChatEvent::TextDelta {
                    text: message.content,
                });
            }
            for call in &message.tool_calls {
                let n = self.tool_calls;
                self.tool_calls += 1;
                let index = u32::try_from(n).unwrap_or(u32::MAX);
                out.push(ChatEvent::ToolCallStart {
                    index,
                    id: call
                        .id
                        .clone()
                        .filter(|s| !s.is_empty())
                        .unwrap_or_else(|| convert::tool_call_id(&self.id, n)),
                    name: call.function.name.clone(),
                });
                out.push(ChatEvent::ToolCallDelta {
                    index,
                    arguments: call.function.arguments_text(),
                });
            }
        }
        if chunk.done {
            self.done = true;
            out.push(ChatEvent::Usage(convert::usage(&chunk)));
            out.push(ChatEvent::Finish {
                reason: convert::finish_reason(chunk.done_reason.as_deref(), self.tool_calls > 0),
            });
        }
        Ok(())
    }

    /// The input ended: without a `done: true` chunk the answer is cut off
    /// (nothing is held back, so `out` stays as it is).
    pub(crate) fn finish(&mut self, out: &mut Vec<ChatEvent>) -> Result<(), Error> {
        let _ = out;
        if self.done {
            return Ok(());
        }
        self.done = true;
        Err(Error::protocol(
            "the stream ended before the answer finished (no `done: true` line)",
        ))
    }
}

/// The [`Stream`] of [`ChatEvent`]s a [`ChatDecoder`] makes of an NDJSON
/// byte stream. Stops reading (dropping the body, which releases the
/// connection) once the answer is complete; any error ends the stream, and
/// events decoded in the same step as the error are dropped.
pub(crate) struct NdjsonEventStream<S> {
    body: Option<S>,
    lines: NdjsonDecoder,
    decoder: ChatDecoder,
    pending: VecDeque<ChatEvent>,
    scratch: Vec<ChatEvent>,
}

impl<S> NdjsonEventStream<S> {
    /// Decodes `body` with `decoder`.
    pub(crate) fn new(body: S, decoder: ChatDecoder) -> Self {
        NdjsonEventStream {
            body: Some(body),
            lines: NdjsonDecoder::default(),
            decoder,
            pending: VecDeque::new(),
            scratch: Vec::new(),
        }
    }
}

impl<S> Stream for NdjsonEventStream<S>
where
    S: Stream<Item = Result<Bytes, Error>> + Unpin,
{
    type Item = Result<ChatEvent, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(event) = this.pending.pop_front() {
                return Poll::Ready(Some(Ok(event)));
            }
            let Some(body) = this.body.as_mut() else {
                return Poll::Ready(None);
            };
            let result = match this.lines.next_line() {
                Err(e) => Err(e),
                Ok(Some(line)) => this.decoder.push_line(&line, &mut this.scratch),
                Ok(None) => match body.poll_next_unpin(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Some(Ok(bytes))) => {
                        this.lines.push(&bytes);
                        continue;
                    }
                    Poll::Ready(Some(Err(e))) => Err(e),
                    Poll::Ready(None) => this
                        .lines
                        .finish()
                        .and_then(|()| this.decoder.finish(&mut this.scratch)),
                },
            };
            this.pending.extend(this.scratch.drain(..));
            match result {
                Ok(()) if this.decoder.is_done() => {
                    this.body = None;
                    this.lines.clear();
                }
                Ok(()) => {}
                Err(e) => {
                    this.body = None;
                    this.lines.clear();
                    this.pending.clear();
                    return Poll::Ready(Some(Err(e)));
                }
            }
        }
    }
}

/// Decodes a whole NDJSON body held in memory (tests, recordings).
#[cfg(test)]
pub(crate) fn decode_all(body: &[u8], split: usize) -> Result<Vec<ChatEvent>, Error> {
    let mut lines = NdjsonDecoder::default();
    let mut decoder = ChatDecoder::new("");
    let mut out = Vec::new();
    for piece in body.chunks(split.max(1)) {
        lines.push(piece);
        while let Some(line) = lines.next_line()? {
            decoder.push_line(&line, &mut out)?;
            if decoder.is_done() {
                return Ok(out);
            }
        }
    }
    lines.finish()?;
    decoder.finish(&mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_core::{ErrorKind, FinishReason, Usage};

    #[test]
    fn lines_split_anywhere_decode_the_same() {
        let body = "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"Hé\"},\"done\":false}\r\n\n{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"llo 😀\"},\"done\":false}\n{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done\":true,\"done_reason\":\"stop\",\"prompt_eval_count\":3,\"eval_count\":2}\n";
        for split in 1..=body.len() {
            let events = decode_all(body.as_bytes(), split).expect("well-formed");
            let text: String = events
                .iter()
                .filter_map(|e| match e {
                    ChatEvent::TextDelta { text } => Some(text.as_str()),
                    _ => None,
                })
                .collect();
            assert_eq!(text, "Héllo 😀", "split {split}");
            assert!(matches!(events[0], ChatEvent::Start { .. }));
            assert_eq!(events[events.len() - 2], ChatEvent::Usage(Usage::new(3, 2)));
            assert_eq!(
                events.last(),
                Some(&ChatEvent::Finish {
                    reason: FinishReason::Stop
                })
            );
        }
    }

    #[test]
    fn a_cut_off_stream_is_a_protocol_error() {
        let full = b"{\"model\":\"m\",\"message\":{\"content\":\"a\"},\"done\":false}\n{\"model\":\"m\",\"done\":true}\n";
        for cut in 1..full.len() - 1 {
            let result = decode_all(&full[..cut], 3);
            let err = result.expect_err("cut");
            assert_eq!(err.kind(), &ErrorKind::Protocol, "cut at {cut}: {err}");
        }
        // Cut exactly after a complete line: no `done`.
        let first_line = full.iter().position(|&b| b == b'\n').expect("newline") + 1;
        let err = decode_all(&full[..first_line], 7).expect_err("no done");
        assert!(err.message().contains("done"), "{err}");
    }

    #[test]
    fn error_lines_end_the_stream() {
        let body = b"{\"model\":\"m\",\"message\":{\"content\":\"a\"},\"done\":false}\n{\"error\":\"an error was encountered while running the model\"}\n";
        let err = decode_all(body, 5).expect_err("error line");
        assert!(err.message().contains("an error was encountered"));
        assert!(err.is_retryable());
    }

    #[test]
    fn garbage_and_huge_lines_are_errors() {
        assert_eq!(
            decode_all(b"not json\n", 4).expect_err("garbage").kind(),
            &ErrorKind::Protocol
        );
        let mut d = NdjsonDecoder::default();
        d.push(&vec![b'x'; MAX_LINE + 1]);
        assert_eq!(
            d.next_line().expect_err("huge").kind(),
            &ErrorKind::Protocol
        );
    }

    #[test]
    fn arbitrary_input_never_panics() {
        let mut rng = fastrand::Rng::with_seed(7);
        let alphabet: &[u8] = b"{}[]\":,\n\r tfnul0123456789.-eE\\abcdone_messagetool_callsfunctionargumentserrorstatusthinkingcontent\xff\xc3";
        for _ in 0..2000 {
            let len = rng.usize(0..200);
            let body: Vec<u8> = (0..len)
                .map(|_| alphabet[rng.usize(0..alphabet.len())])
                .collect();
            let _ = decode_all(&body, rng.usize(1..17));
        }
        // Structurally valid lines with odd values.
        for line in [
            r#"{"message":{"tool_calls":[{"function":{"name":null,"arguments":[1,2]}}]},"done":false}"#,
            r#"{"message":"x","done":"yes"}"#,
            r#"{"done":true,"prompt_eval_count":-5,"eval_count":1e30,"done_reason":7}"#,
            r#"{"error":{"message":"m"},"status":99999}"#,
            r#"{"error":null,"done":true}"#,
            "[]",
            "null",
        ] {
            let _ = decode_all(format!("{line}\n").as_bytes(), 3);
        }
    }

    #[test]
    fn whole_tool_calls_become_start_and_one_delta() {
        let body = b"{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"function\":{\"name\":\"a\",\"arguments\":{\"x\":1}}},{\"id\":\"srv\",\"function\":{\"index\":1,\"name\":\"b\",\"arguments\":{}}}]},\"done\":false}\n{\"model\":\"m\",\"message\":{\"content\":\"\"},\"done\":true,\"done_reason\":\"stop\"}\n";
        let events = decode_all(body, 11).expect("ok");
        let ChatEvent::ToolCallStart { index: 0, id, name } = &events[1] else {
            panic!("{events:?}")
        };
        assert!(id.starts_with("call_") && id.ends_with("_0"), "{id}");
        assert_eq!(name, "a");
        assert_eq!(
            events[2],
            ChatEvent::ToolCallDelta {
                index: 0,
                arguments: "{\"x\":1}".into()
            }
        );
        assert_eq!(
            events[3],
            ChatEvent::ToolCallStart {
                index: 1,
                id: "srv".into(),
                name: "b".into()
            }
        );
        assert_eq!(
            events.last(),
            Some(&ChatEvent::Finish {
                reason: FinishReason::ToolCalls
            })
        );
    }
}
