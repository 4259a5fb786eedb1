//! An answer on its way to the cache: what the request carries in its
//! scratch map from `on_request` (a miss, or `no-cache`) to `on_complete`,
//! which stores it only when the request finished normally.
//!
//! A complete answer is copied in `on_response`; a stream is assembled
//! event by event in `on_event` (never blocking: appending to buffers) and
//! is complete once its `Finish` event passed. Text past `max_entry_bytes`
//! stops the copy (the answer is then not stored), so what is held stays
//! bounded.

use std::io::Write;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use serde::Serialize;
use switchboard_core::{ChatEvent, ChatResponse, ContentPart, ResponseAccumulator};

use crate::key::CacheKey;

/// The answer so far.
#[derive(Debug)]
pub(crate) enum Answer {
    /// Nothing seen yet (a complete answer comes in `on_response`).
    Waiting,
    /// A stream being assembled, with the bytes of text seen.
    Streaming(Box<ResponseAccumulator>, u64),
    /// A whole answer, ready to store.
    Done(Box<ChatResponse>),
    /// Larger than `max_entry_bytes`: dropped.
    TooLarge,
}

/// What the cache keeps in a request's scratch map when the answer may be
/// stored. A `Mutex` so `on_complete`, which sees the record's scratch map
/// shared, can take it out.
#[derive(Debug)]
pub(crate) struct Pending(Mutex<PendingAnswer>);

/// The key, the TTL and the answer of a [`Pending`].
#[derive(Debug)]
pub(crate) struct PendingAnswer {
    pub(crate) key: CacheKey,
    pub(crate) ttl: Duration,
    pub(crate) answer: Answer,
}

/// The bytes of text an event adds (the part of the answer that grows).
fn event_bytes(event: &ChatEvent) -> u64 {
    let n = match event {
        ChatEvent::TextDelta { text }
        | ChatEvent::ReasoningDelta { text }
        | ChatEvent::RefusalDelta { text } => text.len(),
        ChatEvent::ReasoningSignature { signature, .. } => signature.len(),
        ChatEvent::RedactedReasoning { data, .. } => data.len(),
        ChatEvent::ToolCallStart { id, name, .. } => id.len() + name.len(),
        ChatEvent::ToolCallDelta { arguments, .. } => arguments.len(),
        ChatEvent::Start { id, model, .. } => id.len() + model.len(),
        // Rare (provider data such as citations): its JSON size.
        ChatEvent::Extra { key, value } => key.len() + value.to_string().len(),
        ChatEvent::Usage(_) | ChatEvent::Finish { .. } => 0,
    };
    n as u64
}

/// A cheap lower bound of an answer's JSON size: its text.
fn response_text_bytes(response: &ChatResponse) -> u64 {
    let parts: usize = response
        .content
        .iter()
        .map(|p| match p {
            ContentPart::Text { text } | ContentPart::Refusal { text } => text.len(),
            ContentPart::Reasoning {
                text,
                signature,
                redacted,
                ..
            } => {
                text.len()
                    + signature.as_ref().map_or(0, String::len)
                    + redacted.as_ref().map_or(0, String::len)
            }
            _ => 0,
        })
        .sum();
    let calls: usize = response
        .tool_calls
        .iter()
        .map(|c| c.arguments.len() + c.name.len() + c.id.len())
        .sum();
    (parts + calls) as u64
}

/// Counts what is written.
struct CountingWriter(u64);

impl Write for CountingWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 = self.0.saturating_add(buf.len() as u64);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The length of `value`'s JSON, without building it.
pub(crate) fn json_len<T: Serialize>(value: &T) -> Option<u64> {
    let mut w = CountingWriter(0);
    serde_json::to_writer(&mut w, value).ok()?;
    Some(w.0)
}

impl Pending {
    /// A pending answer for `key`, streamed or complete.
    pub(crate) fn new(key: CacheKey, ttl: Duration, stream: bool) -> Self {
        let answer = if stream {
            Answer::Streaming(Box::default(), 0)
        } else {
            Answer::Waiting
        };
        Pending(Mutex::new(PendingAnswer { key, ttl, answer }))
    }

    fn answer_mut(&mut self) -> &mut Answer {
        &mut self
            .0
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .answer
    }

    /// Keeps a copy of a complete answer (unless it is plainly too large).
    pub(crate) fn complete(&mut self, response: &ChatResponse, max_entry_bytes: u64) {
        let answer = self.answer_mut();
        *answer = if response_text_bytes(response) > max_entry_bytes {
            Answer::TooLarge
        } else {
            Answer::Done(Box::new(response.clone()))
        };
    }

    /// Adds a streamed event; `Finish` completes the answer.
    pub(crate) fn event(&mut self, event: &ChatEvent, max_entry_bytes: u64) {
        let answer = self.answer_mut();
        let Answer::Streaming(acc, bytes) = answer else {
            return;
        };
        *bytes = bytes.saturating_add(event_bytes(event));
        if *bytes > max_entry_bytes {
            *answer = Answer::TooLarge;
            return;
        }
        acc.push(event);
        if acc.is_finished() {
            let acc = std::mem::take(acc);
            *answer = Answer::Done(Box::new(acc.finish()));
        }
    }

    /// Takes the pending answer out (once).
    pub(crate) fn take(&self) -> Option<PendingAnswer> {
        let mut state = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let answer = std::mem::replace(&mut state.answer, Answer::Waiting);
        if matches!(answer, Answer::Waiting) {
            return None;
        }
        Some(PendingAnswer {
            key: state.key,
            ttl: state.ttl,
            answer,
        })
    }
}
