//! Diagnostics for configuration issues: serde's error messages turned into
//! "expected X, found Y; did you mean Z?", and the wording helpers they use.

use serde_json::Value as Json;

/// A deserialization error, classified from serde's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Problem {
    /// `invalid type: <found>, expected <expected>`.
    InvalidType {
        /// What serde expected (`u64`, `a boolean`, ...).
        expected: String,
    },
    /// `invalid value: <found>, expected <expected>`.
    InvalidValue {
        /// What serde expected.
        expected: String,
    },
    /// `invalid length <n>, expected <expected>`.
    InvalidLength {
        /// What serde expected.
        expected: String,
    },
    /// `unknown field `x`, expected one of `a`, `b``.
    UnknownField {
        /// The unknown key.
        name: String,
        /// The keys the table takes.
        expected: Vec<String>,
    },
    /// `unknown variant `x`, expected one of `a`, `b``.
    UnknownVariant {
        /// The unknown value.
        name: String,
        /// The accepted values.
        expected: Vec<String>,
    },
    /// `missing field `x``.
    MissingField(String),
    /// `duplicate field `x``.
    DuplicateField(String),
    /// Anything else (a provider's own validation message, ...).
    Other(String),
}

/// The text between the first pair of backticks in `s`, and what follows.
fn backticked(s: &str) -> Option<(&str, &str)> {
    let start = s.find('`')? + 1;
    let len = s[start..].find('`')?;
    Some((&s[start..start + len], &s[start + len + 1..]))
}

/// Every backticked word in `s`.
fn all_backticked(mut s: &str) -> Vec<String> {
    let mut out = Vec::new();
    while let Some((word, rest)) = backticked(s) {
        out.push(word.to_owned());
        s = rest;
    }
    out
}

impl Problem {
    /// Classifies one of serde's messages.
    pub(crate) fn parse(msg: &str) -> Problem {
        let expected_after = |s: &str| {
            s.rfind(", expected ")
                .map(|i| s[i + ", expected ".len()..].to_owned())
        };
        if let Some(rest) = msg.strip_prefix("invalid type: ")
            && let Some(expected) = expected_after(rest)
        {
            return Problem::InvalidType { expected };
        }
        if let Some(rest) = msg.strip_prefix("invalid value: ")
            && let Some(expected) = expected_after(rest)
        {
            return Problem::InvalidValue { expected };
        }
        if let Some(rest) = msg.strip_prefix("invalid length ")
            && let Some(expected) = expected_after(rest)
        {
            return Problem::InvalidLength { expected };
        }
        for (prefix, field) in [("unknown field ", true), ("unknown variant ", false)] {
            if let Some(rest) = msg.strip_prefix(prefix)
                && let Some((name, tail)) = backticked(rest)
            {
                let name = name.to_owned();
                let expected = all_backticked(tail);
                return if field {
                    Problem::UnknownField { name, expected }
                } else {
                    Problem::UnknownVariant { name, expected }
                };
            }
        }
        if let Some(rest) = msg.strip_prefix("missing field ")
            && let Some((name, "")) = backticked(rest)
        {
            return Problem::MissingField(name.to_owned());
        }
        if let Some(rest) = msg.strip_prefix("duplicate field ")
            && let Some((name, "")) = backticked(rest)
        {
            return Problem::DuplicateField(name.to_owned());
        }
        Problem::Other(msg.to_owned())
    }
}

/// The closest of `candidates` to `word`, if it is close enough to suggest.
pub(crate) fn closest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let word_lower = word.to_lowercase();
    candidates
        .into_iter()
        .filter(|c| *c != word)
        .filter_map(|c| {
            let c_lower = c.to_lowercase();
            let jw = strsim::jaro_winkler(&word_lower, &c_lower);
            let dl = strsim::damerau_levenshtein(&word_lower, &c_lower);
            // A distance of 2 is a lot for a 3-letter word: scale it.
            let near = dl <= 2 && dl * 3 <= word.chars().count().max(c.chars().count());
            (jw > 0.8 || near).then_some((jw, c))
        })
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// "`a`, `b`, `c`".
pub(crate) fn list(items: impl IntoIterator<Item = impl AsRef<str>>) -> String {
    items
        .into_iter()
        .map(|i| format!("`{}`", i.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether a key holds a credential, whose value must never be printed:
/// `api_key`, `admin_token`, `client_secret`, `password` (but not
/// `token_delay_ms` or `max_tokens`).
pub(crate) fn is_secret_key(key: &str) -> bool {
    let last = key
        .rsplit(['_', '-', '.'])
        .next()
        .unwrap_or(key)
        .to_ascii_lowercase();
    matches!(
        last.as_str(),
        "key" | "apikey" | "token" | "secret" | "password" | "credential" | "credentials"
    )
}

/// What a value is, for "found ...": `string "slow"`, `integer 5`, `a table`.
pub(crate) fn describe(v: &Json, secret: bool) -> String {
    match v {
        Json::String(_) if secret => "a string".to_owned(),
        Json::String(s) => {
            const MAX: usize = 80;
            if s.chars().count() > MAX {
                let cut: String = s.chars().take(MAX).collect();
                format!("string {cut:?}...")
            } else {
                format!("string {s:?}")
            }
        }
        Json::Number(_) if secret => "a number".to_owned(),
        Json::Number(n) if n.is_f64() => format!("number {n}"),
        Json::Number(n) => format!("integer {n}"),
        Json::Bool(b) => format!("boolean {b}"),
        Json::Null => "an empty value".to_owned(),
        Json::Array(a) if a.is_empty() => "an empty array".to_owned(),
        Json::Array(_) => "an array".to_owned(),
        Json::Object(_) => "a table".to_owned(),
    }
}

const UNSIGNED: &[(&str, u64)] = &[
    ("u8", u8::MAX as u64),
    ("u16", u16::MAX as u64),
    ("u32", u32::MAX as u64),
];
const SIGNED: &[(&str, i64, i64)] = &[
    ("i8", i8::MIN as i64, i8::MAX as i64),
    ("i16", i16::MIN as i64, i16::MAX as i64),
    ("i32", i32::MIN as i64, i32::MAX as i64),
];

/// Whether serde's `expected` names an integer type.
pub(crate) fn expects_integer(expected: &str) -> bool {
    matches!(
        expected,
        "u8" | "u16"
            | "u32"
            | "u64"
            | "u128"
            | "usize"
            | "i8"
            | "i16"
            | "i32"
            | "i64"
            | "i128"
            | "isize"
    )
}

/// Whether serde's `expected` names a float type.
pub(crate) fn expects_float(expected: &str) -> bool {
    matches!(expected, "f32" | "f64")
}

/// serde's `expected` in words. `ranged` adds the bounds of small integer types
/// (for out-of-range values).
pub(crate) fn expected_phrase(expected: &str, ranged: bool) -> String {
    if ranged {
        if let Some((_, max)) = UNSIGNED.iter().find(|(t, _)| *t == expected) {
            return format!("an integer from 0 to {max}");
        }
        if let Some((_, min, max)) = SIGNED.iter().find(|(t, _, _)| *t == expected) {
            return format!("an integer from {min} to {max}");
        }
    }
    match expected {
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => "a non-negative integer".to_owned(),
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "an integer".to_owned(),
        "f32" | "f64" => "a number".to_owned(),
        "a borrowed string" | "a string" => "a string".to_owned(),
        "a sequence" => "an array".to_owned(),
        "a map" => "a table".to_owned(),
        "socket address" => "a socket address such as `127.0.0.1:8080`".to_owned(),
        e if e.starts_with("struct ") => "a table".to_owned(),
        e => e.to_owned(),
    }
}

/// Turns a string into the number or boolean serde asked for, if it reads as one.
pub(crate) fn coerce(v: &Json, expected: &str) -> Option<Json> {
    match v {
        Json::String(s) => {
            let t = s.trim();
            if expects_integer(expected) || expects_float(expected) {
                if let Ok(n) = t.parse::<u64>() {
                    return Some(Json::from(n));
                }
                if let Ok(n) = t.parse::<i64>() {
                    return Some(Json::from(n));
                }
                return t
                    .parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                    .map(Json::Number);
            }
            if expected == "a boolean" {
                if t.eq_ignore_ascii_case("true") {
                    return Some(Json::Bool(true));
                }
                if t.eq_ignore_ascii_case("false") {
                    return Some(Json::Bool(false));
                }
            }
            None
        }
        Json::Number(n) if matches!(expected, "a string" | "a borrowed string") => {
            Some(Json::String(n.to_string()))
        }
        Json::Bool(b) if matches!(expected, "a string" | "a borrowed string") => {
            Some(Json::String(b.to_string()))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn classifies_serde_messages() {
        assert_eq!(
            Problem::parse("invalid type: string \"a, expected b\", expected u64"),
            Problem::InvalidType {
                expected: "u64".into()
            }
        );
        assert_eq!(
            Problem::parse("unknown field `timout`, expected one of `a`, `timeout`"),
            Problem::UnknownField {
                name: "timout".into(),
                expected: vec!["a".into(), "timeout".into()]
            }
        );
        assert_eq!(
            Problem::parse("unknown field `x`, there are no fields"),
            Problem::UnknownField {
                name: "x".into(),
                expected: vec![]
            }
        );
        assert_eq!(
            Problem::parse("unknown variant `fallbak`, expected `fallback`"),
            Problem::UnknownVariant {
                name: "fallbak".into(),
                expected: vec!["fallback".into()]
            }
        );
        assert_eq!(
            Problem::parse("missing field `targets`"),
            Problem::MissingField("targets".into())
        );
        assert_eq!(
            Problem::parse("`models` must list at least one model"),
            Problem::Other("`models` must list at least one model".into())
        );
    }

    #[test]
    fn suggests_close_names() {
        let keys = ["server", "router", "health", "providers", "models"];
        assert_eq!(closest("sever", keys), Some("server"));
        assert_eq!(closest("provider", keys), Some("providers"));
        assert_eq!(closest("xyz", keys), None);
        assert_eq!(
            closest("token_dealy_ms", ["token_delay_ms", "mode"]),
            Some("token_delay_ms")
        );
    }

    #[test]
    fn coerces_only_what_reads_as_the_type() {
        assert_eq!(coerce(&json!("3"), "u32"), Some(json!(3)));
        assert_eq!(coerce(&json!("-3"), "i64"), Some(json!(-3)));
        assert_eq!(coerce(&json!("0.5"), "f64"), Some(json!(0.5)));
        assert_eq!(coerce(&json!("TRUE"), "a boolean"), Some(json!(true)));
        assert_eq!(coerce(&json!("slow"), "u64"), None);
        assert_eq!(coerce(&json!("yes"), "a boolean"), None);
        assert_eq!(coerce(&json!(12), "a string"), Some(json!("12")));
    }

    #[test]
    fn recognizes_secret_keys() {
        for k in ["api_key", "admin_token", "client_secret", "password", "key"] {
            assert!(is_secret_key(k), "{k}");
        }
        for k in ["token_delay_ms", "max_tokens", "keys", "model"] {
            assert!(!is_secret_key(k), "{k}");
        }
    }

    #[test]
    fn describes_values() {
        assert_eq!(describe(&json!("slow"), false), "string \"slow\"");
        assert_eq!(describe(&json!("sk-1"), true), "a string");
        assert_eq!(describe(&json!(5), false), "integer 5");
        assert_eq!(describe(&json!(0.5), false), "number 0.5");
        assert_eq!(describe(&json!({}), false), "a table");
        assert_eq!(
            expected_phrase("u32", true),
            "an integer from 0 to 4294967295"
        );
        assert_eq!(expected_phrase("u64", false), "a non-negative integer");
    }
}
