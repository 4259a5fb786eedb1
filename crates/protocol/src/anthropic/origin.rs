//! Which provider family signed a reasoning block, across the Anthropic API.
//!
//! A reasoning part's signature (or encrypted data) is only valid for the
//! provider family that produced it, its
//! [`origin`](switchboard_core::ContentPart::Reasoning). Anthropic's wire
//! format has no field for that, so when the gateway serves another family's
//! signed reasoning to an Anthropic-format client, it **tags** the signature
//! ([`tag_signature`]): `sb1:<origin>:<signature>`. The client sends the block
//! back unchanged on its next turn, and [`untag_signature`] recovers the
//! origin and the raw signature from it; the encoder of the provider that
//! serves that turn then sends the signature only if it is its own.
//!
//! | core origin | written as | read back as |
//! |---|---|---|
//! | `None` or `"anthropic"` | the signature unchanged | origin `"anthropic"` |
//! | another valid name `o` (see [`is_valid_origin`]) | `sb1:<o>:<signature>` | origin `o`, the signature |
//! | an invalid name | nothing: the signature is withheld (a `thinking` block goes out unsigned, a `redacted_thinking` block is left out) | — |
//!
//! Anything that does not parse as a tag — `sb1:` alone, `sb1::x`,
//! `sb1:gemini:` (no signature), an invalid origin name, an empty string —
//! is taken as a plain Anthropic signature. Empty signatures are never
//! tagged (they mean "unsigned").

use std::borrow::Cow;

/// The origin Anthropic's own reasoning carries:
/// [`ContentPart::Reasoning`](switchboard_core::ContentPart::Reasoning)'s
/// `origin` for thinking and redacted-thinking blocks read from the API.
pub const ORIGIN: &str = "anthropic";

/// The prefix of a tagged signature, versioned so that the scheme can change.
pub const SIGNATURE_TAG_PREFIX: &str = "sb1:";

/// The longest origin name a tag may carry.
const MAX_ORIGIN_LEN: usize = 64;

/// Whether `origin` can be written in a tag: 1 to 64 ASCII letters, digits,
/// `.`, `_` or `-` (no `:`, which ends the name).
pub fn is_valid_origin(origin: &str) -> bool {
    !origin.is_empty()
        && origin.len() <= MAX_ORIGIN_LEN
        && origin
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// The signature (or redacted data) `value` from `origin`, as it is written
/// to an Anthropic-format client: unchanged when the origin is unknown or
/// Anthropic, or empty; `sb1:<origin>:<value>` for another family; `None`
/// when the origin's name cannot be written (then it must not be sent).
pub fn tag_signature<'a>(value: &'a str, origin: Option<&str>) -> Option<Cow<'a, str>> {
    match origin {
        _ if value.is_empty() => Some(Cow::Borrowed(value)),
        None => Some(Cow::Borrowed(value)),
        Some(o) if o == ORIGIN => Some(Cow::Borrowed(value)),
        Some(o) if is_valid_origin(o) => {
            Some(Cow::Owned(format!("{SIGNATURE_TAG_PREFIX}{o}:{value}")))
        }
        Some(_) => None,
    }
}

/// A signature (or redacted data) received from an Anthropic-format client,
/// as `(origin, raw signature)`: the tag's origin and the rest for a
/// well-formed `sb1:<origin>:<signature>`, else [`ORIGIN`] and `value` unchanged.
pub fn untag_signature(value: &str) -> (&str, &str) {
    value
        .strip_prefix(SIGNATURE_TAG_PREFIX)
        .and_then(|rest| rest.split_once(':'))
        .filter(|(origin, raw)| is_valid_origin(origin) && !raw.is_empty())
        .unwrap_or((ORIGIN, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn foreign_signatures_are_tagged_and_untagged() {
        let tagged = tag_signature("CiQB+/sig==", Some("gemini")).expect("valid origin");
        assert_eq!(tagged, "sb1:gemini:CiQB+/sig==");
        assert_eq!(untag_signature(&tagged), ("gemini", "CiQB+/sig=="));
        // The raw signature may itself contain colons.
        let tagged = tag_signature("a:b:c", Some("mock")).expect("valid origin");
        assert_eq!(untag_signature(&tagged), ("mock", "a:b:c"));
    }

    #[test]
    fn anthropic_and_unknown_signatures_are_unchanged() {
        assert_eq!(
            tag_signature("EqQB", None),
            Some(Cow::Borrowed("EqQB")),
            "unknown origin: as is"
        );
        assert_eq!(
            tag_signature("EqQB", Some(ORIGIN)),
            Some(Cow::Borrowed("EqQB"))
        );
        assert_eq!(
            tag_signature("", Some("gemini")),
            Some(Cow::Borrowed("")),
            "empty means unsigned"
        );
        assert_eq!(untag_signature("EqQB"), (ORIGIN, "EqQB"));
    }

    #[test]
    fn an_origin_that_cannot_be_written_withholds_the_signature() {
        for bad in ["", "a:b", "with space", "é", &"x".repeat(65)] {
            assert_eq!(tag_signature("SIG", Some(bad)), None, "{bad:?}");
        }
        assert!(is_valid_origin(&"x".repeat(64)));
    }

    #[test]
    fn malformed_tags_are_plain_anthropic_signatures() {
        for value in [
            "",
            "sb1:",
            "sb1::",
            "sb1::x",
            "sb1:gemini",
            "sb1:gemini:",
            "sb1:bad origin:x",
            "sb2:gemini:x",
            "SB1:gemini:x",
            " sb1:gemini:x",
        ] {
            assert_eq!(untag_signature(value), (ORIGIN, value), "{value:?}");
        }
    }

    #[test]
    fn every_short_input_is_handled() {
        // Every string of up to 7 characters over an alphabet that can form
        // tags: untagging never panics, and a tag read back writes the same.
        let alphabet = ['s', 'b', '1', ':', 'g', ' ', 'é'];
        let mut value = String::new();
        for len in 0..=7u32 {
            for mut n in 0..alphabet.len().pow(len) {
                value.clear();
                for _ in 0..len {
                    value.push(alphabet[n % alphabet.len()]);
                    n /= alphabet.len();
                }
                let (origin, raw) = untag_signature(&value);
                if origin != ORIGIN {
                    assert_eq!(
                        tag_signature(raw, Some(origin)).as_deref(),
                        Some(value.as_str())
                    );
                }
            }
        }
    }
}
