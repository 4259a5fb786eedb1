//! Output deny patterns: checked on complete answers, and on streamed text
//! across chunk boundaries with a bounded hold-back buffer.

use regex::{RegexSet, RegexSetBuilder};
use switchboard_core::{ChatEvent, Error};

use crate::config::{MAX_MATCH_CHARS_LIMIT, MAX_PATTERNS};
use crate::detect::REGEX_SIZE_LIMIT;

/// The compiled deny patterns.
#[derive(Debug)]
pub(crate) struct DenySet {
    set: RegexSet,
    max_match_chars: usize,
}

/// Streamed text not yet released, kept in the request's scratch map.
/// `buf[..context]` is already released (kept so `\b` and the like see the
/// character before the held text); the rest is held back.
#[derive(Debug, Default)]
pub(crate) struct HeldText {
    buf: String,
    context: usize,
}

impl DenySet {
    /// Compiles `patterns`; `None` when there are none.
    pub(crate) fn new(
        patterns: &[String],
        case_insensitive: bool,
        max_match_chars: usize,
    ) -> Result<Option<Self>, Error> {
        if patterns.is_empty() {
            return Ok(None);
        }
        if patterns.len() > MAX_PATTERNS {
            return Err(Error::config(format!(
                "guardrails: at most {MAX_PATTERNS} `deny` patterns are allowed"
            )));
        }
        if !(1..=MAX_MATCH_CHARS_LIMIT).contains(&max_match_chars) {
            return Err(Error::config(format!(
                "guardrails: `max_match_chars` must be between 1 and {MAX_MATCH_CHARS_LIMIT}"
            )));
        }
        for (i, p) in patterns.iter().enumerate() {
            // Compiled one by one first, so an error names the pattern.
            crate::detect::compile(p, &format!("deny pattern {i}"))?;
        }
        let set = RegexSetBuilder::new(patterns)
            .case_insensitive(case_insensitive)
            .size_limit(REGEX_SIZE_LIMIT.saturating_mul(4))
            .dfa_size_limit(REGEX_SIZE_LIMIT.saturating_mul(4))
            .build()
            .map_err(|e| Error::config(format!("guardrails: `deny` patterns: {e}")))?;
        if set.is_match("") {
            return Err(Error::config(
                "guardrails: a `deny` pattern matches the empty string (it would refuse every answer)",
            ));
        }
        Ok(Some(DenySet {
            set,
            max_match_chars,
        }))
    }

    /// The index of the first pattern matching `text` from byte `start` on.
    fn first_match(&self, text: &str, start: usize) -> Option<usize> {
        self.set.matches_at(text, start).iter().next()
    }

    /// Refuses `text` (a complete answer) if a pattern matches it.
    pub(crate) fn check(&self, text: &str) -> Result<(), Error> {
        match self.first_match(text, 0) {
            Some(i) => Err(refusal(i)),
            None => Ok(()),
        }
    }

    /// Adds streamed `text` to `held`, refusing if a pattern now matches,
    /// and pushes onto `out` the text that can no longer be part of a match.
    pub(crate) fn push_text(
        &self,
        held: &mut HeldText,
        text: &str,
        out: &mut Vec<ChatEvent>,
    ) -> Result<(), Error> {
        held.buf.push_str(text);
        if let Some(i) = self.first_match(&held.buf, held.context) {
            *held = HeldText::default();
            return Err(refusal(i));
        }
        let unreleased = &held.buf[held.context..];
        let keep_from = held.context
            + unreleased
                .char_indices()
                .rev()
                .nth(self.max_match_chars - 1)
                .map_or(0, |(i, _)| i);
        if keep_from > held.context {
            out.push(ChatEvent::TextDelta {
                text: held.buf[held.context..keep_from].to_owned(),
            });
            held.keep_context_up_to(keep_from);
        }
        Ok(())
    }

    /// Releases every held character onto `out`.
    pub(crate) fn release(&self, held: &mut HeldText, out: &mut Vec<ChatEvent>) {
        let end = held.buf.len();
        if end > held.context {
            out.push(ChatEvent::TextDelta {
                text: held.buf[held.context..].to_owned(),
            });
            held.keep_context_up_to(end);
        }
    }
}

impl HeldText {
    /// Marks `buf[..released_end]` released, keeping its last character as
    /// context for the next check.
    fn keep_context_up_to(&mut self, released_end: usize) {
        let context_start = self.buf[..released_end]
            .char_indices()
            .next_back()
            .map_or(released_end, |(i, _)| i);
        self.buf.drain(..context_start);
        self.context = released_end - context_start;
    }

    /// The characters held back (not yet released).
    #[cfg(test)]
    pub(crate) fn held(&self) -> &str {
        &self.buf[self.context..]
    }
}

fn refusal(pattern: usize) -> Error {
    Error::content_filter(format!(
        "the answer was refused by the guardrails extension: it matched output deny pattern {pattern}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(events: &[ChatEvent]) -> String {
        events
            .iter()
            .map(|e| match e {
                ChatEvent::TextDelta { text } => text.as_str(),
                _ => "",
            })
            .collect()
    }

    #[test]
    fn holds_back_at_most_max_match_chars() {
        let deny = DenySet::new(&["zzz".into()], false, 4)
            .expect("valid")
            .expect("some");
        let mut held = HeldText::default();
        let mut out = Vec::new();
        deny.push_text(&mut held, "héllo wörld", &mut out)
            .expect("no match");
        assert_eq!(texts(&out), "héllo w");
        assert_eq!(held.held(), "örld");
        deny.release(&mut held, &mut out);
        assert_eq!(texts(&out), "héllo wörld");
        assert_eq!(held.held(), "");
    }

    #[test]
    fn word_boundary_sees_released_context() {
        let deny = DenySet::new(&[r"\bword\b".into()], false, 4)
            .expect("valid")
            .expect("some");
        let mut held = HeldText::default();
        let mut out = Vec::new();
        deny.push_text(&mut held, "a sw", &mut out)
            .expect("no match");
        deny.push_text(&mut held, "ord", &mut out)
            .expect("`sword` is not `word`");
        deny.push_text(&mut held, " word ", &mut out)
            .expect_err("a whole word");
    }
}
