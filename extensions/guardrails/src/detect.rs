//! Input detectors: e-mail addresses, phone numbers, payment card numbers
//! (Luhn-checked), API-key-like strings and custom patterns, each replacing
//! what it finds with a placeholder or refusing the request.

use std::borrow::Cow;
use std::ops::Range;

use regex::{Regex, RegexBuilder};
use switchboard_core::Error;

use crate::config::{DetectorMode, MAX_PATTERNS, RedactConfig};

/// The most memory one compiled pattern may take (`RegexBuilder::size_limit`).
pub(crate) const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// Longest custom pattern source accepted, in bytes.
const MAX_PATTERN_LEN: usize = 4096;

const EMAIL: &str = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}";

/// International (`+` and 7–15 digits with light punctuation), North
/// American (`(415) 555-2671`, `415-555-2671`), national numbers with a
/// trunk `0` (`030 1234 5678`) and French-style pairs (`06 12 34 56 78`).
/// National formats need separators, so plain long numbers are left alone.
const PHONE: &str = concat!(
    r"\+[0-9](?:[ .()-]{0,2}[0-9]){6,14}",
    r"|\(?[0-9]{3}\)?[ .-]?[0-9]{3}[ .-][0-9]{4}",
    r"|0[0-9]{1,4}[ .-][0-9]{3,4}[ .-]?[0-9]{3,4}",
    r"|0[1-9](?:[ .-][0-9]{2}){4}",
);

/// 13–19 digits, optionally grouped by single spaces or dashes.
const CARD: &str = r"\b[0-9](?:[ -]?[0-9]){12,18}\b";

const API_KEY: &str = concat!(
    r"\b(?:sk-[A-Za-z0-9_-]{16,}",
    r"|(?:AKIA|ASIA)[0-9A-Z]{16}\b",
    r"|gh[pousr]_[A-Za-z0-9]{30,}",
    r"|github_pat_[A-Za-z0-9_]{20,}",
    r"|AIza[0-9A-Za-z_-]{35}",
    r"|xox[abprs]-[A-Za-z0-9-]{10,})",
);

/// How a built-in detector checks a regex candidate.
#[derive(Debug, Clone, Copy)]
enum Check {
    /// Every match counts.
    None,
    /// Luhn, trying shorter groupings when the whole candidate fails.
    Card,
    /// Digit count and that the number is not part of a longer one.
    Phone,
}

/// One detector, compiled.
#[derive(Debug)]
struct Detector {
    name: String,
    what: String,
    placeholder: String,
    regex: Regex,
    check: Check,
    block: bool,
}

/// Every enabled input detector, in the order they run.
#[derive(Debug)]
pub(crate) struct Redactor {
    detectors: Vec<Detector>,
}

/// A block-mode detector found something: its name and what it looks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Blocked {
    pub(crate) detector: String,
    pub(crate) what: String,
}

/// Compiles `pattern` with the size limits hostile config cannot exceed.
pub(crate) fn compile(pattern: &str, what: &str) -> Result<Regex, Error> {
    if pattern.len() > MAX_PATTERN_LEN {
        return Err(Error::config(format!(
            "guardrails: {what} is longer than {MAX_PATTERN_LEN} bytes"
        )));
    }
    RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| Error::config(format!("guardrails: {what} is not a valid regex: {e}")))
}

fn placeholder_for(name: &str) -> String {
    let upper: String = name
        .chars()
        .map(|c| match c {
            '-' | ' ' => '_',
            c => c.to_ascii_uppercase(),
        })
        .collect();
    format!("[REDACTED_{upper}]")
}

impl Redactor {
    /// Compiles the enabled detectors of `config`.
    pub(crate) fn new(config: &RedactConfig) -> Result<Self, Error> {
        if config.patterns.len() > MAX_PATTERNS {
            return Err(Error::config(format!(
                "guardrails: at most {MAX_PATTERNS} `redact.patterns` are allowed"
            )));
        }
        let builtin = [
            (
                "api_key",
                "an API key",
                API_KEY,
                Check::None,
                config.api_key,
            ),
            (
                "card",
                "a payment card number",
                CARD,
                Check::Card,
                config.card,
            ),
            (
                "email",
                "an e-mail address",
                EMAIL,
                Check::None,
                config.email,
            ),
            ("phone", "a phone number", PHONE, Check::Phone, config.phone),
        ];
        let mut detectors = Vec::new();
        for (name, what, pattern, check, mode) in builtin {
            if mode == DetectorMode::Off {
                continue;
            }
            detectors.push(Detector {
                name: name.to_owned(),
                what: what.to_owned(),
                placeholder: placeholder_for(name),
                regex: compile(pattern, name)?,
                check,
                block: mode == DetectorMode::Block,
            });
        }
        for custom in &config.patterns {
            let name = custom.name.trim();
            if name.is_empty() || name.len() > 64 {
                return Err(Error::config(
                    "guardrails: each `redact.patterns` entry needs a `name` of 1 to 64 characters",
                ));
            }
            if custom.mode == DetectorMode::Off {
                continue;
            }
            let regex = compile(&custom.regex, &format!("redact pattern `{name}`"))?;
            if regex.is_match("") {
                return Err(Error::config(format!(
                    "guardrails: redact pattern `{name}` matches the empty string"
                )));
            }
            detectors.push(Detector {
                name: name.to_owned(),
                what: format!("text matching pattern `{name}`"),
                placeholder: placeholder_for(name),
                regex,
                check: Check::None,
                block: custom.mode == DetectorMode::Block,
            });
        }
        Ok(Redactor { detectors })
    }

    /// Whether no detector is enabled.
    pub(crate) fn is_empty(&self) -> bool {
        self.detectors.is_empty()
    }

    /// `text` with every finding replaced by its placeholder (borrowed when
    /// nothing was found), or which block-mode detector found something.
    pub(crate) fn redact<'t>(&self, text: &'t str) -> Result<Cow<'t, str>, Blocked> {
        let mut current = Cow::Borrowed(text);
        for d in &self.detectors {
            let spans = d.spans(&current);
            if spans.is_empty() {
                continue;
            }
            if d.block {
                return Err(Blocked {
                    detector: d.name.clone(),
                    what: d.what.clone(),
                });
            }
            let mut out = String::with_capacity(current.len());
            let mut last = 0;
            for span in spans {
                out.push_str(&current[last..span.start]);
                out.push_str(&d.placeholder);
                last = span.end;
            }
            out.push_str(&current[last..]);
            current = Cow::Owned(out);
        }
        Ok(current)
    }
}

impl Detector {
    /// The byte ranges of `text` this detector flags, in order, disjoint.
    fn spans(&self, text: &str) -> Vec<Range<usize>> {
        let mut spans = Vec::new();
        let mut pos = 0;
        while pos <= text.len() {
            let Some(m) = self.regex.find_at(text, pos) else {
                break;
            };
            let accepted = match self.check {
                Check::None => Some(m.end()),
                // `+` starts a phone number in international format.
                Check::Card if text[..m.start()].ends_with('+') => None,
                Check::Card => card_end(m.as_str()).map(|len| m.start() + len),
                Check::Phone => phone_ok(text, m.range()).then_some(m.end()),
            };
            match accepted {
                Some(end) if end > m.start() => {
                    spans.push(m.start()..end);
                    pos = end;
                }
                // Not a finding: look again from the next character, so a
                // finding overlapping this candidate is still seen.
                _ => {
                    pos = m.start() + text[m.start()..].chars().next().map_or(1, char::len_utf8);
                }
            }
        }
        spans
    }
}

/// Whether the ASCII digits of `s` pass the Luhn check.
pub(crate) fn luhn_valid(s: &str) -> bool {
    let mut sum = 0u32;
    let mut count = 0usize;
    for (i, b) in s.bytes().rev().filter(u8::is_ascii_digit).enumerate() {
        let mut d = u32::from(b - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
        count += 1;
    }
    count > 0 && sum.is_multiple_of(10)
}

fn digit_count(s: &str) -> usize {
    s.bytes().filter(u8::is_ascii_digit).count()
}

/// The length of the card number at the start of candidate `s`: all of it,
/// or its longest prefix ending at a group separator, with 13–19 digits
/// passing Luhn. `None` when no such number is there.
fn card_end(s: &str) -> Option<usize> {
    let ok = |p: &str| (13..=19).contains(&digit_count(p)) && luhn_valid(p);
    if ok(s) {
        return Some(s.len());
    }
    s.char_indices()
        .rev()
        .filter(|(_, c)| *c == ' ' || *c == '-')
        .map(|(i, _)| i)
        .find(|&i| ok(&s[..i]))
}

/// Whether candidate `range` of `text` is a phone number on its own: 7–15
/// digits, not glued to letters or digits, nor (unless it starts with `+`
/// or `(`) part of a longer number: a digit one separator away.
fn phone_ok(text: &str, range: Range<usize>) -> bool {
    if !(7..=15).contains(&digit_count(&text[range.clone()])) {
        return false;
    }
    let is_sep = |c: char| matches!(c, ' ' | '-' | '.');
    let starts_with_digit = text[range.start..].starts_with(|c: char| c.is_ascii_digit());
    let mut before = text[..range.start].chars().rev();
    match before.next() {
        Some(c) if c.is_alphanumeric() || c == '+' => return false,
        Some(c)
            if starts_with_digit
                && is_sep(c)
                && before.next().is_some_and(|c| c.is_ascii_digit()) =>
        {
            return false;
        }
        _ => {}
    }
    let mut after = text[range.end..].chars();
    match after.next() {
        Some(c) if c.is_alphanumeric() => false,
        Some(c) if is_sep(c) && after.next().is_some_and(|c| c.is_ascii_digit()) => false,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_known_values() {
        assert!(luhn_valid("4111111111111111"));
        assert!(luhn_valid("4111-1111-1111-1111"));
        assert!(!luhn_valid("4111111111111112"));
        assert!(!luhn_valid(""));
    }

    #[test]
    fn card_end_falls_back_to_a_grouped_prefix() {
        assert_eq!(card_end("4111 1111 1111 1111 12"), Some(19));
        assert_eq!(card_end("4111 1111 1111 1112"), None);
    }

    #[test]
    fn placeholders_are_upper_snake_case() {
        assert_eq!(placeholder_for("api_key"), "[REDACTED_API_KEY]");
        assert_eq!(placeholder_for("employee-id"), "[REDACTED_EMPLOYEE_ID]");
    }
}
