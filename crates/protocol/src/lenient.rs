//! Lenient and borrowing deserialization helpers for wire types, to use
//! with `#[serde(deserialize_with = "...")]`.
//!
//! Upstream answers are read leniently: a count that arrives as a float or
//! a string, a list that arrives as `null`, or tool-call arguments sent as
//! an object instead of a JSON text are accepted rather than failing the
//! whole answer. The OpenAI and Anthropic types use these, and so can
//! providers with their own wire types.
//!
//! | helper | field type | accepts |
//! |---|---|---|
//! | [`null_as_default`] | `T: Default` | `null` as `T::default()` |
//! | [`opt_cow`] | `Option<Cow<str>>` | a string (borrowed when it can be) or `null` |
//! | [`u64`](fn@u64) | `u64` | an integer, float, numeric string; `null` and negatives are 0; other values are an error |
//! | [`opt_u64`] | `Option<u64>` | as [`u64`](fn@u64), `null` is `None` |
//! | [`opt_u64_or_none`] | `Option<u64>` | an integer, float or integer string (negatives are 0); anything else is `None`, never an error |
//! | [`str_or_json`] | `Cow<str>` | a string, or any JSON value kept as its JSON text |
//! | [`opt_str_or_json`] | `Option<Cow<str>>` | as [`str_or_json`], `null` is `None` |
//!
//! ```
//! use serde::Deserialize;
//! use switchboard_protocol::lenient;
//!
//! #[derive(Deserialize)]
//! struct Usage {
//!     #[serde(default, deserialize_with = "lenient::u64")]
//!     input_tokens: u64,
//!     #[serde(default, deserialize_with = "lenient::opt_u64_or_none")]
//!     eval_count: Option<u64>,
//!     #[serde(default, deserialize_with = "lenient::null_as_default")]
//!     tags: Vec<String>,
//! }
//!
//! let u: Usage = serde_json::from_str(r#"{"input_tokens": "12", "eval_count": "n/a", "tags": null}"#)?;
//! assert_eq!((u.input_tokens, u.eval_count, u.tags.len()), (12, None, 0));
//! # Ok::<(), serde_json::Error>(())
//! ```

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IntoDeserializer, Visitor};
use serde_json::Value;

/// `Option<Cow<str>>` that borrows from the input when it can. (Serde only
/// borrows a `Cow<str>` that is the field's type itself, not one inside an `Option`.)
pub fn opt_cow<'de: 'a, 'a, D>(d: D) -> Result<Option<Cow<'a, str>>, D::Error>
where
    D: Deserializer<'de>,
{
    #[derive(Deserialize)]
    struct Borrowed<'b>(#[serde(borrow)] Cow<'b, str>);
    Ok(Option::<Borrowed<'de>>::deserialize(d)?.map(|b| b.0))
}

/// `null` as `T::default()`.
pub fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A token count or timestamp: an unsigned integer, or leniently a negative
/// integer (0), a float (truncated), a numeric string, or `null` (0).
pub fn u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = u64;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a non-negative integer")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
            Ok(v)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
            Ok(u64::try_from(v).unwrap_or(0))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<u64, E> {
            // `as` saturates and maps NaN to 0, which is what we want here.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            Ok(v as u64)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
            v.trim()
                .parse::<f64>()
                .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
                .and_then(|f| self.visit_f64(f))
        }
        fn visit_unit<E: de::Error>(self) -> Result<u64, E> {
            Ok(0)
        }
        fn visit_none<E: de::Error>(self) -> Result<u64, E> {
            Ok(0)
        }
    }
    d.deserialize_any(V)
}

/// Like [`u64`](fn@u64), for optional values (`null` stays `None`).
pub fn opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(v) => self::u64(v.into_deserializer())
            .map(Some)
            .map_err(de::Error::custom),
    }
}

/// A count that never fails the answer: an unsigned integer, leniently a
/// float (truncated) or a negative number (0), or a string holding an
/// unsigned integer; anything else (`null`, another string, a boolean, an
/// array, an object) is `None`. (Gemini's and Ollama's usage counters.)
pub fn opt_u64_or_none<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Number(n)) => n.as_u64().or_else(|| {
            n.as_f64().map(|f| {
                // `as` saturates and maps NaN to 0, which is what we want here.
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let v = f as u64;
                v
            })
        }),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

struct StrOrJson;

impl<'de> Visitor<'de> for StrOrJson {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or a JSON value")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_string()))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Cow::Owned(Value::from(v).to_string()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(""))
    }
    fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let v = Value::deserialize(de::value::MapAccessDeserializer::new(map))?;
        Ok(Cow::Owned(v.to_string()))
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        let v = Value::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
        Ok(Cow::Owned(v.to_string()))
    }
}

/// Tool-call `arguments`: a JSON text per the spec; some compatible servers
/// send the arguments object itself, which is kept as its JSON text.
pub fn str_or_json<'de: 'a, 'a, D: Deserializer<'de>>(d: D) -> Result<Cow<'a, str>, D::Error> {
    d.deserialize_any(StrOrJson)
}

/// Optional [`str_or_json`]; `null` is `None`.
pub fn opt_str_or_json<'de: 'a, 'a, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Cow<'a, str>>, D::Error> {
    struct Wrapped<'b>(Cow<'b, str>);
    impl<'de> Deserialize<'de> for Wrapped<'de> {
        fn deserialize<D2: Deserializer<'de>>(d: D2) -> Result<Self, D2::Error> {
            d.deserialize_any(StrOrJson).map(Wrapped)
        }
    }
    Ok(Option::<Wrapped<'de>>::deserialize(d)?.map(|w| w.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct T<'a> {
        #[serde(default, deserialize_with = "self::u64")]
        n: u64,
        #[serde(borrow, default, deserialize_with = "opt_cow")]
        s: Option<Cow<'a, str>>,
        #[serde(borrow, default, deserialize_with = "opt_str_or_json")]
        a: Option<Cow<'a, str>>,
    }

    #[test]
    fn lenient_numbers() {
        for (json, n) in [
            (r#"{"n": 5}"#, 5),
            (r#"{"n": -3}"#, 0),
            (r#"{"n": 2.9}"#, 2),
            (r#"{"n": "12"}"#, 12),
            (r#"{"n": null}"#, 0),
            (r#"{}"#, 0),
        ] {
            let t: T<'_> = serde_json::from_str(json).expect(json);
            assert_eq!(t.n, n, "{json}");
        }
        assert!(serde_json::from_str::<T<'_>>(r#"{"n": "x"}"#).is_err());
        assert!(serde_json::from_str::<T<'_>>(r#"{"n": [1]}"#).is_err());
    }

    #[test]
    fn forgiving_counts_never_fail() {
        #[derive(Deserialize)]
        struct C {
            #[serde(default, deserialize_with = "opt_u64_or_none")]
            c: Option<u64>,
        }
        for (json, c) in [
            (r#"{"c": 5}"#, Some(5)),
            (r#"{"c": 2.9}"#, Some(2)),
            (r#"{"c": -3}"#, Some(0)),
            (r#"{"c": " 12 "}"#, Some(12)),
            (r#"{"c": "1.5"}"#, None),
            (r#"{"c": "x"}"#, None),
            (r#"{"c": null}"#, None),
            (r#"{"c": [1]}"#, None),
            (r#"{"c": {"a": 1}}"#, None),
            (r#"{"c": true}"#, None),
            (r#"{}"#, None),
        ] {
            let t: C = serde_json::from_str(json).expect(json);
            assert_eq!(t.c, c, "{json}");
        }
    }

    #[test]
    fn borrows_when_possible() {
        let t: T<'_> = serde_json::from_str(r#"{"s": "plain", "a": "{\"x\":1}"}"#).expect("ok");
        assert!(matches!(t.s, Some(Cow::Borrowed("plain"))));
        assert_eq!(t.a.as_deref(), Some("{\"x\":1}"));
        let t: T<'_> =
            serde_json::from_str(r#"{"s": "esc\naped", "a": {"x": [1, 2]}}"#).expect("ok");
        assert_eq!(t.s.as_deref(), Some("esc\naped"));
        assert_eq!(t.a.as_deref(), Some("{\"x\":[1,2]}"));
        let t: T<'_> = serde_json::from_str(r#"{"s": null, "a": null}"#).expect("ok");
        assert!(t.s.is_none() && t.a.is_none());
    }
}
