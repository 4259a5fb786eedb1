//! The streaming model: a chat answer as a sequence of [`ChatEvent`]s.

use std::pin::Pin;

use futures::{Stream, StreamExt};
use serde::{Deserialize, Serialize};

use crate::{ChatResponse, ContentPart, Error, FinishReason, ToolCall, Usage};

/// One step of a streamed chat answer. Wire formats (OpenAI chunks, Anthropic
/// events) are produced from these at the edge, in `switchboard-protocol`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ChatEvent {
    /// The answer began.
    Start {
        /// The provider's completion id.
        id: String,
        /// The model producing the answer.
        model: String,
        /// When the provider says the answer was created (Unix seconds), so
        /// that the edge can repeat it; `None` when it did not say (the edge
        /// then uses its own clock).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        created: Option<u64>,
    },
    /// More answer text.
    TextDelta {
        /// The new text.
        text: String,
    },
    /// More reasoning text.
    ReasoningDelta {
        /// The new reasoning text.
        text: String,
    },
    /// The signature closing a reasoning block (Anthropic, Gemini), to be sent back next turn.
    ReasoningSignature {
        /// The signature (empty: the block is closed unsigned).
        signature: String,
        /// The provider family that produced the signature (see
        /// [`ContentPart::Reasoning`]'s `origin`); `None` means unknown.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        origin: Option<String>,
    },
    /// A whole block of provider-encrypted reasoning (Anthropic
    /// `redacted_thinking`), to be sent back next turn.
    RedactedReasoning {
        /// The encrypted data.
        data: String,
        /// The provider family that produced the data; `None` means unknown.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        origin: Option<String>,
    },
    /// More refusal text (OpenAI structured-output refusals).
    RefusalDelta {
        /// The new refusal text.
        text: String,
    },
    /// A tool call began.
    ToolCallStart {
        /// The call's position among this answer's tool calls (0-based).
        index: u32,
        /// The provider's id for the call.
        id: String,
        /// The tool's name.
        name: String,
    },
    /// More of a tool call's JSON arguments.
    ToolCallDelta {
        /// Which call (matches [`ChatEvent::ToolCallStart::index`]).
        index: u32,
        /// The next fragment of the arguments' JSON text.
        arguments: String,
    },
    /// A provider-specific field of the answer that has no event of its
    /// own (Cohere's citations, its billed units): kept in
    /// [`ChatResponse::extra`] under `key` when the stream is collected (a
    /// later one with the same key replaces it). Not progress for the idle
    /// guard. Providers send it before [`ChatEvent::Usage`] and
    /// [`ChatEvent::Finish`].
    Extra {
        /// The key in [`ChatResponse::extra`].
        key: String,
        /// The value, as the provider sent it.
        value: serde_json::Value,
    },
    /// Token counts (usually once, near the end).
    Usage(Usage),
    /// The answer ended.
    Finish {
        /// Why.
        reason: FinishReason,
    },
}

/// A stream of chat events; an `Err` item ends the stream.
pub type ChatStream = Pin<Box<dyn Stream<Item = Result<ChatEvent, Error>> + Send + 'static>>;

/// Turns a complete response into the events that would have streamed it.
/// Each [`ChatResponse::extra`] entry becomes a [`ChatEvent::Extra`] before
/// the usage.
///
/// A reasoning part becomes a [`ChatEvent::ReasoningDelta`] with its text
/// (also when empty, so that it starts a part of its own) and, when signed,
/// a [`ChatEvent::ReasoningSignature`] with the signature and origin; a part
/// with encrypted data becomes one [`ChatEvent::RedactedReasoning`]. The
/// origin of unsigned reasoning has no event and is not carried.
pub fn response_to_events(resp: &ChatResponse) -> Vec<ChatEvent> {
    let mut events = Vec::with_capacity(4 + resp.content.len() + 2 * resp.tool_calls.len());
    events.push(ChatEvent::Start {
        id: resp.id.clone(),
        model: resp.model.clone(),
        created: (resp.created > 0).then_some(resp.created),
    });
    for part in &resp.content {
        match part {
            ContentPart::Text { text } => events.push(ChatEvent::TextDelta { text: text.clone() }),
            ContentPart::Reasoning {
                redacted: Some(data),
                origin,
                ..
            } => events.push(ChatEvent::RedactedReasoning {
                data: data.clone(),
                origin: origin.clone(),
            }),
            ContentPart::Reasoning {
                text,
                signature,
                redacted: None,
                origin,
            } => {
                events.push(ChatEvent::ReasoningDelta { text: text.clone() });
                if let Some(signature) = signature {
                    events.push(ChatEvent::ReasoningSignature {
                        signature: signature.clone(),
                        origin: origin.clone(),
                    });
                }
            }
            ContentPart::Refusal { text } => {
                events.push(ChatEvent::RefusalDelta { text: text.clone() })
            }
            ContentPart::Image { .. } => {}
        }
    }
    for (i, call) in resp.tool_calls.iter().enumerate() {
        let index = u32::try_from(i).unwrap_or(u32::MAX);
        events.push(ChatEvent::ToolCallStart {
            index,
            id: call.id.clone(),
            name: call.name.clone(),
        });
        events.push(ChatEvent::ToolCallDelta {
            index,
            arguments: call.arguments.clone(),
        });
    }
    for (key, value) in &resp.extra {
        events.push(ChatEvent::Extra {
            key: key.clone(),
            value: value.clone(),
        });
    }
    events.push(ChatEvent::Usage(resp.usage));
    events.push(ChatEvent::Finish {
        reason: resp.finish_reason.clone(),
    });
    events
}

/// Folds [`ChatEvent`]s back into a [`ChatResponse`]: text and reasoning
/// deltas are concatenated, tool-call fragments are joined per index in
/// order, [`ChatEvent::Extra`] entries go to `extra`.
///
/// Reasoning deltas extend the last part while it is an open reasoning part
/// (no signature, no encrypted data). A [`ChatEvent::ReasoningSignature`]
/// closes the last reasoning part if it is still open, recording the
/// signature and its origin; otherwise it becomes a part of its own with
/// empty text. A [`ChatEvent::RedactedReasoning`] is always a part of its own.
#[derive(Debug, Default, Clone)]
pub struct ResponseAccumulator {
    response: ChatResponse,
    tool_calls: Vec<(u32, ToolCall)>,
    finished: bool,
}

impl ResponseAccumulator {
    /// An empty accumulator.
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies one event.
    pub fn push(&mut self, event: &ChatEvent) {
        let resp = &mut self.response;
        match event {
            ChatEvent::Start { id, model, created } => {
                resp.id.clone_from(id);
                resp.model.clone_from(model);
                if let Some(created) = created {
                    resp.created = *created;
                }
            }
            ChatEvent::TextDelta { text } => match resp.content.last_mut() {
                Some(ContentPart::Text { text: t }) => t.push_str(text),
                _ => resp.content.push(ContentPart::text(text.clone())),
            },
            ChatEvent::ReasoningDelta { text } => match resp.content.last_mut() {
                Some(ContentPart::Reasoning {
                    text: t,
                    signature: None,
                    redacted: None,
                    ..
                }) => t.push_str(text),
                _ => resp.content.push(ContentPart::Reasoning {
                    text: text.clone(),
                    signature: None,
                    redacted: None,
                    origin: None,
                }),
            },
            ChatEvent::ReasoningSignature { signature, origin } => {
                let last_reasoning = resp.content.iter_mut().rev().find_map(|p| match p {
                    ContentPart::Reasoning {
                        signature: s,
                        redacted,
                        origin: o,
                        ..
                    } => Some((s, redacted, o)),
                    _ => None,
                });
                match last_reasoning {
                    Some((s, None, o)) if s.is_none() => {
                        *s = Some(signature.clone());
                        o.clone_from(origin);
                    }
                    _ => resp.content.push(ContentPart::Reasoning {
                        text: String::new(),
                        signature: Some(signature.clone()),
                        redacted: None,
                        origin: origin.clone(),
                    }),
                }
            }
            ChatEvent::RedactedReasoning { data, origin } => {
                resp.content.push(ContentPart::Reasoning {
                    text: String::new(),
                    signature: None,
                    redacted: Some(data.clone()),
                    origin: origin.clone(),
                });
            }
            ChatEvent::RefusalDelta { text } => match resp.content.last_mut() {
                Some(ContentPart::Refusal { text: t }) => t.push_str(text),
                _ => resp
                    .content
                    .push(ContentPart::Refusal { text: text.clone() }),
            },
            ChatEvent::ToolCallStart { index, id, name } => {
                self.tool_calls.push((
                    *index,
                    ToolCall {
                        id: id.clone(),
                        name: name.clone(),
                        arguments: String::new(),
                    },
                ));
            }
            ChatEvent::ToolCallDelta { index, arguments } => {
                if let Some((_, call)) = self.tool_calls.iter_mut().rev().find(|(i, _)| i == index)
                {
                    call.arguments.push_str(arguments);
                } else {
                    // Arguments without a start: keep them rather than lose them.
                    self.tool_calls.push((
                        *index,
                        ToolCall {
                            id: String::new(),
                            name: String::new(),
                            arguments: arguments.clone(),
                        },
                    ));
                }
            }
            ChatEvent::Extra { key, value } => {
                resp.extra.insert(key.clone(), value.clone());
            }
            ChatEvent::Usage(u) => resp.usage = *u,
            ChatEvent::Finish { reason } => {
                resp.finish_reason = reason.clone();
                self.finished = true;
            }
        }
    }

    /// Whether a [`ChatEvent::Finish`] was seen.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// The response so far.
    pub fn finish(mut self) -> ChatResponse {
        self.tool_calls.sort_by_key(|(i, _)| *i);
        self.response.tool_calls = self.tool_calls.into_iter().map(|(_, c)| c).collect();
        self.response
    }
}

/// Drains a stream into a [`ChatResponse`]. A stream that ends without a
/// [`ChatEvent::Finish`] is a [protocol error](crate::ErrorKind::Protocol).
pub async fn collect_stream(mut stream: ChatStream) -> Result<ChatResponse, Error> {
    let mut acc = ResponseAccumulator::new();
    while let Some(event) = stream.next().await {
        acc.push(&event?);
    }
    if !acc.is_finished() {
        return Err(Error::protocol("stream ended before the answer finished"));
    }
    Ok(acc.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Message, Role};

    #[tokio::test]
    async fn events_round_trip_through_accumulator() {
        let resp = ChatResponse {
            id: "id1".into(),
            model: "m".into(),
            content: vec![
                ContentPart::Reasoning {
                    text: "think".into(),
                    signature: Some("sig".into()),
                    redacted: None,
                    origin: Some("anthropic".into()),
                },
                ContentPart::Reasoning {
                    text: String::new(),
                    signature: None,
                    redacted: Some("ENCRYPTED".into()),
                    origin: Some("anthropic".into()),
                },
                ContentPart::Reasoning {
                    text: "more".into(),
                    signature: Some("sig2".into()),
                    redacted: None,
                    origin: None,
                },
                ContentPart::text("hello"),
                // A signature carrier: empty text, signed by another family.
                ContentPart::Reasoning {
                    text: String::new(),
                    signature: Some("GEMINI_SIG".into()),
                    redacted: None,
                    origin: Some("gemini".into()),
                },
            ],
            tool_calls: vec![
                ToolCall {
                    id: "a".into(),
                    name: "f".into(),
                    arguments: "{\"x\":1}".into(),
                },
                ToolCall {
                    id: "b".into(),
                    name: "g".into(),
                    arguments: "{}".into(),
                },
            ],
            finish_reason: FinishReason::ToolCalls,
            usage: Usage::new(1, 2),
            extra: serde_json::json!({"citations": [{"start": 0, "end": 5}], "billed_units": {"input_tokens": 3}})
                .as_object()
                .cloned()
                .unwrap_or_default(),
            ..Default::default()
        };
        let events = response_to_events(&resp);
        assert!(events.contains(&ChatEvent::Extra {
            key: "citations".into(),
            value: serde_json::json!([{"start": 0, "end": 5}]),
        }));
        let stream: ChatStream = Box::pin(futures::stream::iter(events.into_iter().map(Ok)));
        let back = collect_stream(stream).await.expect("complete stream");
        assert_eq!(back, resp);
        assert_eq!(back.to_message().role, Role::Assistant);
        let _ = Message::user("x");
    }

    #[test]
    fn reasoning_events_carry_their_origin() {
        let resp = ChatResponse {
            content: vec![
                ContentPart::Reasoning {
                    text: String::new(),
                    signature: None,
                    redacted: Some("DATA".into()),
                    origin: Some("anthropic".into()),
                },
                ContentPart::Reasoning {
                    text: "t".into(),
                    signature: Some("S".into()),
                    redacted: None,
                    origin: Some("gemini".into()),
                },
            ],
            ..Default::default()
        };
        let events = response_to_events(&resp);
        assert_eq!(
            events[1..4],
            [
                ChatEvent::RedactedReasoning {
                    data: "DATA".into(),
                    origin: Some("anthropic".into())
                },
                ChatEvent::ReasoningDelta { text: "t".into() },
                ChatEvent::ReasoningSignature {
                    signature: "S".into(),
                    origin: Some("gemini".into())
                },
            ]
        );
        // The origin is optional on the wire of the event JSON, both ways.
        let old: ChatEvent =
            serde_json::from_str(r#"{"type":"reasoning_signature","signature":"S"}"#)
                .expect("an event without origin still parses");
        assert_eq!(
            old,
            ChatEvent::ReasoningSignature {
                signature: "S".into(),
                origin: None
            }
        );
        assert_eq!(
            serde_json::to_value(&events[1]).expect("serializes"),
            serde_json::json!({"type": "redacted_reasoning", "data": "DATA", "origin": "anthropic"})
        );
    }

    #[test]
    fn a_signature_never_lands_on_a_closed_or_redacted_part() {
        let mut acc = ResponseAccumulator::new();
        acc.push(&ChatEvent::RedactedReasoning {
            data: "DATA".into(),
            origin: Some("anthropic".into()),
        });
        // Deltas after a redacted block start a new part.
        acc.push(&ChatEvent::ReasoningDelta { text: "a".into() });
        acc.push(&ChatEvent::ReasoningSignature {
            signature: "S1".into(),
            origin: Some("anthropic".into()),
        });
        // A signature with no open part (a thinking block with no text) is its own part.
        acc.push(&ChatEvent::ReasoningSignature {
            signature: "S2".into(),
            origin: Some("anthropic".into()),
        });
        let resp = acc.finish();
        let sigs: Vec<_> = resp
            .content
            .iter()
            .map(|p| match p {
                ContentPart::Reasoning {
                    text,
                    signature,
                    redacted,
                    origin,
                } => (
                    text.as_str(),
                    signature.as_deref(),
                    redacted.as_deref(),
                    origin.as_deref(),
                ),
                other => panic!("unexpected part {other:?}"),
            })
            .collect();
        assert_eq!(
            sigs,
            [
                ("", None, Some("DATA"), Some("anthropic")),
                ("a", Some("S1"), None, Some("anthropic")),
                ("", Some("S2"), None, Some("anthropic")),
            ]
        );
    }

    #[test]
    fn split_tool_arguments_join_in_order() {
        let mut acc = ResponseAccumulator::new();
        acc.push(&ChatEvent::ToolCallStart {
            index: 1,
            id: "b".into(),
            name: "g".into(),
        });
        acc.push(&ChatEvent::ToolCallStart {
            index: 0,
            id: "a".into(),
            name: "f".into(),
        });
        for (i, frag) in [(0, "{\"ci"), (1, "{}"), (0, "ty\":"), (0, "\"Paris\"}")] {
            acc.push(&ChatEvent::ToolCallDelta {
                index: i,
                arguments: frag.into(),
            });
        }
        let resp = acc.finish();
        assert_eq!(resp.tool_calls[0].arguments, "{\"city\":\"Paris\"}");
        assert_eq!(resp.tool_calls[0].id, "a");
        assert_eq!(resp.tool_calls[1].arguments, "{}");
    }

    #[tokio::test]
    async fn unfinished_stream_is_an_error() {
        let stream: ChatStream = Box::pin(futures::stream::iter(vec![Ok(ChatEvent::TextDelta {
            text: "hi".into(),
        })]));
        let err = collect_stream(stream).await.expect_err("no finish");
        assert_eq!(err.kind(), &crate::ErrorKind::Protocol);
    }
}
