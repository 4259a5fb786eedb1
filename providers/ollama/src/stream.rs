//! The `/api/chat` stream → [`ChatEvent`]s.
//!
//! [`ChatDecoder`] is the [`LineDecoder`] for Ollama's NDJSON chunks; the
//! protocol crate's [`DecodedLineStream`](switchboard_protocol::ndjson::DecodedLineStream)
//! frames the byte stream into lines and drives it. The idle timeout and
//! cancellation are the byte stream's own (core's `GuardedBody`).

use switchboard_core::{ChatEvent, Error};
use switchboard_protocol::ndjson::LineDecoder;

use crate::convert;
use crate::error::error_from_stream_line;
use crate::wire::ChatChunk;

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

    /// Handles one parsed chunk.
    fn push_chunk(&mut self, mut chunk: ChatChunk, out: &mut Vec<ChatEvent>) -> Result<(), Error> {
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
                created: None,
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
}

impl LineDecoder for ChatDecoder {
    /// Handles one NDJSON line.
    fn push_line(&mut self, line: &[u8], out: &mut Vec<ChatEvent>) -> Result<(), Error> {
        if self.done {
            return Ok(());
        }
        let chunk: ChatChunk = serde_json::from_slice(line).map_err(|e| {
            self.done = true;
            Error::protocol(format!("invalid NDJSON line in the chat stream: {e}")).with_source(e)
        })?;
        self.push_chunk(chunk, out)
    }

    /// The input ended: without a `done: true` chunk the answer is cut off
    /// (nothing is held back, so `out` stays as it is).
    fn finish(&mut self, _out: &mut Vec<ChatEvent>) -> Result<(), Error> {
        if self.done {
            return Ok(());
        }
        self.done = true;
        Err(Error::protocol(
            "the stream ended before the answer finished (no `done: true` line)",
        ))
    }

    fn is_done(&self) -> bool {
        self.done
    }
}

/// Decodes a whole NDJSON body held in memory, fed in pieces of `split`
/// bytes through the same stream adapter as `chat_stream` (tests).
#[cfg(test)]
pub(crate) fn decode_all(body: &[u8], split: usize) -> Result<Vec<ChatEvent>, Error> {
    use futures::{FutureExt, StreamExt};
    use switchboard_protocol::ndjson::DecodedLineStream;

    let pieces = body.chunks(split.max(1)).map(Ok::<_, Error>);
    let mut events =
        DecodedLineStream::with_decoder(futures::stream::iter(pieces), ChatDecoder::new(""));
    let mut out = Vec::new();
    while let Some(event) = events
        .next()
        .now_or_never()
        .expect("an in-memory body never waits")
    {
        out.push(event?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_core::{ErrorKind, FinishReason, Usage};
    use switchboard_protocol::ndjson::{DEFAULT_MAX_LINE_SIZE as MAX_LINE, NdjsonDecoder};

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
    fn reading_stops_at_done() {
        let body = b"{\"model\":\"m\",\"done\":true}\nnot json\n{\"cut";
        for split in 1..=body.len() {
            let events = decode_all(body, split).expect("done before the garbage");
            assert!(
                matches!(&events[0], ChatEvent::Start { model, .. } if model == "m"),
                "split {split}: {events:?}"
            );
            assert_eq!(events.len(), 3, "split {split}: {events:?}");
        }
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
