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

const API_KEY: &str = concat!(
    r"\b(?:sk-[A-Za-z0-9_-]{16,}",
    r"|(?:AKIA|ASIA)[0-9A-Z]{16}\b",
    r"|gh[pousr]_[A-Za-z0-9]{30,}",
    r"|github_pat_[A-Za-z0-9_]{20,}",
    r"|AIza[0-9A-Za-z_-]{35}",
    r"|xox[abprs]-[A-Za-z0-9-]{10,})",
);

/// How a detector finds candidates and checks them.
#[derive(Debug)]
enum Matcher {
    /// Every regex match counts.
    Plain(Regex),
    /// Regex candidates with 7–15 digits that are not part of a longer number.
    Phone(Regex),
    /// Runs of 13–19 digits grouped by single spaces or dashes, passing
    /// Luhn (a scanner, linear in the text, rather than a regex).
    Card,
}

/// One detector, compiled.
#[derive(Debug)]
struct Detector {
    name: String,
    what: String,
    placeholder: String,
    matcher: Matcher,
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
            ("api_key", "an API key", Some(API_KEY), config.api_key),
            ("card", "a payment card number", None, config.card),
            ("email", "an e-mail address", Some(EMAIL), config.email),
            ("phone", "a phone number", Some(PHONE), config.phone),
        ];
        let mut detectors = Vec::new();
        for (name, what, pattern, mode) in builtin {
            if mode == DetectorMode::Off {
                continue;
            }
            let matcher = match pattern {
                None => Matcher::Card,
                Some(p) if name == "phone" => Matcher::Phone(compile(p, name)?),
                Some(p) => Matcher::Plain(compile(p, name)?),
            };
            detectors.push(Detector {
                name: name.to_owned(),
                what: what.to_owned(),
                placeholder: placeholder_for(name),
                matcher,
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
                matcher: Matcher::Plain(regex),
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
        match &self.matcher {
            Matcher::Plain(regex) => regex.find_iter(text).map(|m| m.range()).collect(),
            Matcher::Phone(regex) => phone_spans(regex, text),
            Matcher::Card => card_spans(text),
        }
    }
}

/// Phone candidates that pass [`phone_ok`]. A rejected candidate starting
/// with a digit skips its whole number run (every later start in it is
/// part of the same longer number), so the scan stays linear.
fn phone_spans(regex: &Regex, text: &str) -> Vec<Range<usize>> {
    let mut spans = Vec::new();
    let mut pos = 0;
    while pos <= text.len() {
        let Some(m) = regex.find_at(text, pos) else {
            break;
        };
        if phone_ok(text, m.range()) {
            spans.push(m.range());
            pos = m.end().max(m.start() + 1);
        } else if text.as_bytes()[m.start()].is_ascii_digit() {
            pos = number_run_end(text.as_bytes(), m.start(), b" .-");
        } else {
            // `+` or `(`: one byte, ASCII.
            pos = m.start() + 1;
        }
    }
    spans
}

/// Where the run of digits starting at `start` ends, single characters of
/// `separators` between digits included.
fn number_run_end(bytes: &[u8], start: usize, separators: &[u8]) -> usize {
    let mut j = start;
    loop {
        while j < bytes.len() && bytes[j].is_ascii_digit() {
            j += 1;
        }
        if j + 1 < bytes.len() && separators.contains(&bytes[j]) && bytes[j + 1].is_ascii_digit() {
            j += 1;
        } else {
            return j.max(start + 1);
        }
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Card numbers: in each run of digit groups joined by single spaces or
/// dashes, the longest span of whole groups with 13–19 digits that passes
/// Luhn, leftmost first. A run glued to a letter (or after `+`, a phone
/// number) cannot start or end there.
fn card_spans(text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut groups: Vec<Range<usize>> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let run_end = number_run_end(bytes, i, b" -");
        groups.clear();
        let mut g = i;
        while g < run_end {
            let end = g + bytes[g..run_end]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            groups.push(g..end);
            g = end + 1;
        }
        let first_ok = text[..i]
            .chars()
            .next_back()
            .is_none_or(|c| !is_word_char(c) && c != '+');
        let last_ok = text[run_end..]
            .chars()
            .next()
            .is_none_or(|c| !is_word_char(c));
        let mut s = usize::from(!first_ok);
        while s < groups.len() {
            let mut luhn = LuhnSums::default();
            let mut best = None;
            for (e, group) in groups.iter().enumerate().skip(s) {
                bytes[group.clone()].iter().for_each(|&b| luhn.push(b));
                if luhn.count > 19 || (e + 1 == groups.len() && !last_ok) {
                    break;
                }
                if luhn.count >= 13 && luhn.valid() {
                    best = Some(e);
                }
            }
            match best {
                Some(e) => {
                    spans.push(groups[s].start..groups[e].end);
                    s = e + 1;
                }
                None => s += 1,
            }
        }
        i = run_end;
    }
    spans
}

/// The Luhn check of a digit sequence growing to the right, in O(1) per
/// digit: sums of the digits at even and odd positions from the left, plain
/// and doubled, so whichever parity ends up doubled is at hand.
#[derive(Debug, Default)]
struct LuhnSums {
    /// `sums[parity][doubled]`.
    sums: [[u32; 2]; 2],
    count: usize,
}

impl LuhnSums {
    const DOUBLED: [u32; 10] = [0, 2, 4, 6, 8, 1, 3, 5, 7, 9];

    fn push(&mut self, digit: u8) {
        let d = usize::from(digit.wrapping_sub(b'0')).min(9);
        let parity = self.count % 2;
        self.sums[parity][0] += d as u32;
        self.sums[parity][1] += Self::DOUBLED[d];
        self.count += 1;
    }

    /// The rightmost digit is not doubled, every second one from it is.
    fn valid(&self) -> bool {
        if self.count == 0 {
            return false;
        }
        let last = (self.count - 1) % 2;
        (self.sums[last][0] + self.sums[1 - last][1]).is_multiple_of(10)
    }
}

/// Whether the ASCII digits of `s` pass the Luhn check.
#[cfg(test)]
fn luhn_valid(s: &str) -> bool {
    let mut sums = LuhnSums::default();
    s.bytes()
        .filter(u8::is_ascii_digit)
        .for_each(|b| sums.push(b));
    sums.valid()
}

fn digit_count(s: &str) -> usize {
    s.bytes().filter(u8::is_ascii_digit).count()
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

    /// The textbook Luhn check, right to left.
    fn luhn_textbook(digits: &[u8]) -> bool {
        let sum: u32 = digits
            .iter()
            .rev()
            .enumerate()
            .map(|(i, &b)| {
                let d = u32::from(b - b'0');
                if i % 2 == 1 {
                    if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
                } else {
                    d
                }
            })
            .sum();
        !digits.is_empty() && sum.is_multiple_of(10)
    }

    #[test]
    fn incremental_luhn_matches_the_textbook_check() {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..2000 {
            let mut digits = Vec::new();
            let mut sums = LuhnSums::default();
            for _ in 0..20 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let b = b'0' + (seed % 10) as u8;
                digits.push(b);
                sums.push(b);
                assert_eq!(sums.valid(), luhn_textbook(&digits), "{digits:?}");
            }
        }
    }

    #[test]
    fn luhn_known_values() {
        assert!(luhn_valid("4111111111111111"));
        assert!(luhn_valid("4111-1111-1111-1111"));
        assert!(!luhn_valid("4111111111111112"));
        assert!(!luhn_valid(""));
    }

    #[test]
    fn card_spans_pick_whole_groups() {
        assert_eq!(card_spans("4111 1111 1111 1111 12"), vec![0..19]);
        assert_eq!(card_spans("12 4111 1111 1111 1111"), vec![3..22]);
        assert_eq!(card_spans("x 4111111111111111."), vec![2..18]);
        assert!(card_spans("4111 1111 1111 1112").is_empty());
        assert!(card_spans("a4111111111111111").is_empty());
        assert!(card_spans("+4111111111111111").is_empty());
        assert!(card_spans("41111111111111111111").is_empty());
    }

    #[test]
    fn placeholders_are_upper_snake_case() {
        assert_eq!(placeholder_for("api_key"), "[REDACTED_API_KEY]");
        assert_eq!(placeholder_for("employee-id"), "[REDACTED_EMPLOYEE_ID]");
    }
}
