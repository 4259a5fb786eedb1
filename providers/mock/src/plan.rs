//! Turning an answer into the timed events that stream it.

use std::time::Duration;

use switchboard_core::{ChatEvent, Error, FinishReason, ToolCall, Usage};

/// The signature on every mock reasoning block.
pub const REASONING_SIGNATURE: &str = "mock-signature";

/// The origin of the mock's signed reasoning: no real provider accepts its
/// signature, so it is sent back to no one but the mock.
pub const ORIGIN: &str = "mock";

/// What the mock answers, before it is split into tokens.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Answer {
    /// Text.
    Text(String),
    /// One tool call.
    Tool(ToolCall),
}

/// One planned stream item and how long to wait before yielding it.
#[derive(Debug)]
pub(crate) struct Step {
    pub(crate) delay: Duration,
    pub(crate) item: Result<ChatEvent, Error>,
}

/// Everything that shapes the events of one answer.
#[derive(Debug)]
pub(crate) struct PlanInput<'a> {
    pub(crate) id: String,
    pub(crate) model: String,
    pub(crate) reasoning: Option<String>,
    pub(crate) answer: &'a Answer,
    /// The most output tokens (reasoning included).
    pub(crate) max_tokens: usize,
    pub(crate) input_tokens: u64,
    pub(crate) first_token_latency: Duration,
    pub(crate) token_delay: Duration,
}

/// The steps of an answer: `Start` after the first-token latency, the tokens
/// (the first at once, each later one after `token_delay`), `Usage` one
/// `token_delay` after the last token, `Finish`. So the whole answer takes
/// `first_token_latency + tokens * token_delay`.
pub(crate) fn plan(input: PlanInput<'_>) -> Vec<Step> {
    let mut p = Planner {
        steps: Vec::new(),
        tokens: 0,
        limit: input.max_tokens,
        truncated: false,
        token_delay: input.token_delay,
    };
    p.push(
        input.first_token_latency,
        ChatEvent::Start {
            id: input.id,
            model: input.model,
            created: Some(crate::MOCK_CREATED),
        },
    );
    if let Some(reasoning) = &input.reasoning {
        let sent = p.tokens(split_words(reasoning), |text| ChatEvent::ReasoningDelta {
            text,
        });
        if sent > 0 {
            p.push(
                Duration::ZERO,
                ChatEvent::ReasoningSignature {
                    signature: REASONING_SIGNATURE.to_owned(),
                    origin: Some(ORIGIN.to_owned()),
                },
            );
        }
    }
    let reasoning_tokens = p.tokens;
    match input.answer {
        Answer::Text(text) => {
            p.tokens(split_words(text), |text| ChatEvent::TextDelta { text });
        }
        Answer::Tool(call) => {
            if p.tokens < p.limit {
                p.push(
                    Duration::ZERO,
                    ChatEvent::ToolCallStart {
                        index: 0,
                        id: call.id.clone(),
                        name: call.name.clone(),
                    },
                );
                p.tokens(split_fragments(&call.arguments), |arguments| {
                    ChatEvent::ToolCallDelta {
                        index: 0,
                        arguments,
                    }
                });
            } else {
                p.truncated = true;
            }
        }
    }
    let output = p.tokens as u64;
    let usage = Usage {
        reasoning_tokens: reasoning_tokens as u64,
        ..Usage::new(input.input_tokens, output)
    };
    let usage_delay = if output > 0 {
        p.token_delay
    } else {
        Duration::ZERO
    };
    p.push(usage_delay, ChatEvent::Usage(usage));
    let reason = match input.answer {
        _ if p.truncated => FinishReason::Length,
        Answer::Tool(_) => FinishReason::ToolCalls,
        Answer::Text(_) => FinishReason::Stop,
    };
    p.push(Duration::ZERO, ChatEvent::Finish { reason });
    p.steps
}

struct Planner {
    steps: Vec<Step>,
    tokens: usize,
    limit: usize,
    truncated: bool,
    token_delay: Duration,
}

impl Planner {
    fn push(&mut self, delay: Duration, event: ChatEvent) {
        self.steps.push(Step {
            delay,
            item: Ok(event),
        });
    }

    /// Pushes token events until the limit; returns how many were pushed.
    fn tokens(&mut self, pieces: Vec<&str>, event: impl Fn(String) -> ChatEvent) -> usize {
        let mut sent = 0;
        for piece in pieces {
            if self.tokens >= self.limit {
                self.truncated = true;
                break;
            }
            let delay = if self.tokens == 0 {
                Duration::ZERO
            } else {
                self.token_delay
            };
            self.push(delay, event(piece.to_owned()));
            self.tokens += 1;
            sent += 1;
        }
        sent
    }
}

/// Splits text into word tokens that concatenate back to it exactly: each
/// token is a word with the whitespace before it (`"You"`, `" said:"`, `" Hi"`).
/// Leading whitespace joins the first word, trailing whitespace the last.
pub(crate) fn split_words(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    // Where the whitespace after the latest word began, once a word was seen.
    let mut gap: Option<usize> = None;
    let mut in_word = false;
    for (i, c) in s.char_indices() {
        if c.is_whitespace() {
            if in_word {
                gap = Some(i);
            }
            in_word = false;
        } else {
            if let (false, Some(g)) = (in_word, gap.take()) {
                out.push(&s[start..g]);
                start = g;
            }
            in_word = true;
        }
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

/// Splits tool-call arguments into fragments of at most 8 characters, and
/// into at least two whenever the text has two characters or more.
pub(crate) fn split_fragments(s: &str) -> Vec<&str> {
    let chars = s.chars().count();
    let size = if chars < 16 {
        chars.div_ceil(2).max(1)
    } else {
        8
    };
    let mut out = Vec::new();
    let mut start = 0;
    for (n, (i, _)) in s.char_indices().enumerate() {
        if n > 0 && n % size == 0 {
            out.push(&s[start..i]);
            start = i;
        }
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

/// The number of whitespace-separated words: the mock's token count.
pub(crate) fn count_words(s: &str) -> u64 {
    s.split_whitespace().count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_concatenate_exactly() {
        for s in [
            "You said: Hello",
            "  lead",
            "trail  ",
            "a\n\nb c",
            "",
            "   ",
            "é ü 漢字",
        ] {
            let parts = split_words(s);
            assert_eq!(parts.concat(), s);
            assert_eq!(
                parts.len() as u64,
                count_words(s).max(u64::from(!s.is_empty()))
            );
        }
        assert_eq!(split_words("You said: Hello"), ["You", " said:", " Hello"]);
    }

    #[test]
    fn fragments_concatenate_and_split() {
        for s in [
            "{}",
            "{\"a\":1}",
            "{\"city\":\"mock\",\"unit\":\"celsius\"}",
            "ü漢",
        ] {
            let parts = split_fragments(s);
            assert_eq!(parts.concat(), s);
            assert!(parts.len() >= 2, "{s}: {parts:?}");
            assert!(parts.iter().all(|p| p.chars().count() <= 8));
        }
        assert_eq!(split_fragments("{}"), ["{", "}"]);
        assert!(split_fragments("").is_empty());
    }
}
