//! What a finished request is billed as: exact, estimated or partial usage,
//! its price, and the ledger row.

use std::time::UNIX_EPOCH;

use switchboard_core::extension::{CompletionRecord, LedgerRow, Outcome};
use switchboard_core::{ChatEvent, ChatRequest, ChatResponse, ContentPart, Usage};

use crate::catalog::PriceBook;
use crate::cost::{cost_usd, estimate_usage, usage_is_missing};

/// What the extension keeps in a request's scratch map: the text lengths
/// an estimate needs, and whether the stream reported usage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestTally {
    /// Characters of the prompt (messages, tool definitions).
    pub prompt_chars: u64,
    /// Characters of the answer seen so far (text, reasoning, refusal, tool
    /// names and arguments): streamed events, or a complete answer.
    pub output_chars_seen: u64,
    /// Whether a [`ChatEvent::Usage`] came by.
    pub saw_usage: bool,
}

impl RequestTally {
    /// Adds what `event` carries.
    pub fn observe(&mut self, event: &ChatEvent) {
        let n = match event {
            ChatEvent::TextDelta { text }
            | ChatEvent::ReasoningDelta { text }
            | ChatEvent::RefusalDelta { text } => chars(text),
            ChatEvent::ToolCallStart { name, .. } => chars(name),
            ChatEvent::ToolCallDelta { arguments, .. } => chars(arguments),
            ChatEvent::Usage(_) => {
                self.saw_usage = true;
                0
            }
            _ => 0,
        };
        self.output_chars_seen = self.output_chars_seen.saturating_add(n);
    }
}

fn chars(s: &str) -> u64 {
    u64::try_from(s.chars().count()).unwrap_or(u64::MAX)
}

fn parts_chars(parts: &[ContentPart]) -> u64 {
    parts.iter().fold(0u64, |n, p| {
        n.saturating_add(match p {
            ContentPart::Text { text }
            | ContentPart::Reasoning { text, .. }
            | ContentPart::Refusal { text } => chars(text),
            _ => 0,
        })
    })
}

/// The prompt's length in characters: message text, tool calls and results,
/// and tool definitions (names, descriptions, parameter schemas).
pub fn prompt_chars(request: &ChatRequest) -> u64 {
    let mut n = 0u64;
    for m in &request.messages {
        n = n.saturating_add(parts_chars(&m.content));
        for c in &m.tool_calls {
            n = n
                .saturating_add(chars(&c.name))
                .saturating_add(chars(&c.arguments));
        }
    }
    for t in &request.tools {
        n = n
            .saturating_add(chars(&t.name))
            .saturating_add(t.description.as_deref().map_or(0, chars));
        if !t.parameters.is_null() {
            n = n.saturating_add(chars(&t.parameters.to_string()));
        }
    }
    n
}

/// A complete answer's length in characters (content and tool calls).
pub fn response_chars(response: &ChatResponse) -> u64 {
    response
        .tool_calls
        .iter()
        .fold(parts_chars(&response.content), |n, c| {
            n.saturating_add(chars(&c.name))
                .saturating_add(chars(&c.arguments))
        })
}

/// The usage a request is billed with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Billed {
    /// Token counts (reported, or estimated).
    pub usage: Usage,
    /// Whether they were estimated.
    pub estimated: bool,
}

/// The reported usage, or an estimate when none (or all zeros for an answer
/// with text) was reported.
pub fn billed_usage(
    reported: Option<&Usage>,
    prompt_chars: u64,
    output_chars: u64,
    chars_per_token: f64,
) -> Billed {
    match reported {
        Some(u) if !usage_is_missing(u, output_chars) => Billed {
            usage: *u,
            estimated: false,
        },
        _ => Billed {
            usage: estimate_usage(prompt_chars, output_chars, chars_per_token),
            estimated: true,
        },
    }
}

/// A finished request as the ledger has it, and its cost (`None`: the model
/// has no known price; the row then says 0).
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The ledger row.
    pub row: LedgerRow,
    /// The cost, if the price is known.
    pub cost_usd: Option<f64>,
}

/// The ledger entry of a finished request, or `None` when nothing was
/// billed: no provider answered (refused, answered by an extension), or the
/// request failed with neither usage nor any answer received. `kind` is the
/// answering instance's provider kind, when known (for the price lookup).
pub fn entry(
    record: &CompletionRecord,
    book: &PriceBook,
    kind: Option<&str>,
    chars_per_token: f64,
) -> Option<Entry> {
    if record.answered_by_extension {
        return None;
    }
    let instance = record.instance.as_deref()?;
    let tally = record
        .scratch
        .get::<RequestTally>()
        .copied()
        .unwrap_or_default();
    let output_chars = record.output_chars.max(tally.output_chars_seen);
    let failed = matches!(record.outcome, Outcome::Error { .. });
    if failed && record.usage.is_none() && output_chars == 0 {
        return None;
    }
    let model = record
        .model
        .clone()
        .unwrap_or_else(|| record.requested_model.to_string());
    let billed = billed_usage(
        record.usage.as_ref(),
        tally.prompt_chars,
        output_chars,
        chars_per_token,
    );
    let cost = book
        .lookup_kind(instance, kind, &model)
        .map(|p| cost_usd(&billed.usage, &p.price));
    let at_ms = record
        .started_at
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    let u = billed.usage;
    Some(Entry {
        row: LedgerRow {
            at_ms,
            request_id: record.request_id.to_string(),
            key_id: record.client_key.as_ref().map(|k| k.id.to_string()),
            instance: instance.to_owned(),
            model,
            input_tokens: u.input_tokens,
            output_tokens: u.output_tokens,
            cached_input_tokens: u.cached_input_tokens,
            cache_write_input_tokens: u.cache_write_input_tokens,
            reasoning_tokens: u.reasoning_tokens,
            cost_usd: cost.unwrap_or(0.0),
            cost_unknown: cost.is_none(),
            estimated: billed.estimated,
            partial: record.usage_partial || record.outcome == Outcome::Cancelled,
        },
        cost_usd: cost,
    })
}
