//! What both backends share about values: JSON text in and out, the size
//! limit, key-prefix ranges and the clock.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;
use switchboard_core::Error;

use crate::MAX_VALUE_BYTES;

/// `value` as JSON text, refused (`invalid_request`) over [`MAX_VALUE_BYTES`].
pub(crate) fn encode(namespace: &str, key: &str, value: &Value) -> Result<String, Error> {
    let json = serde_json::to_string(value).map_err(|e| {
        Error::invalid_request(format!("state store: cannot serialize the value: {e}"))
            .with_source(e)
    })?;
    if json.len() > MAX_VALUE_BYTES {
        return Err(Error::invalid_request(format!(
            "state store: the value for {namespace}/{key} is {} bytes of JSON, over the limit of {MAX_VALUE_BYTES} bytes (1 MiB)",
            json.len()
        )));
    }
    Ok(json)
}

/// The stored JSON text of (`namespace`, `key`) as a value.
pub(crate) fn decode(namespace: &str, key: &str, text: &str) -> Result<Value, Error> {
    serde_json::from_str(text).map_err(|e| {
        Error::unavailable(format!(
            "state store: the value of {namespace}/{key} is not valid JSON: {e}"
        ))
        .with_source(e)
    })
}

/// The smallest string greater than every string that starts with `prefix`
/// (UTF-8 byte order is code point order): drop trailing `char::MAX`es and
/// step the last character up. `None` when there is no such bound (an
/// empty prefix, or only `char::MAX`es). A prefix is then the key range
/// `prefix <= key < successor(prefix)`, so `%`, `_` and case mean themselves
/// and the primary key index serves it.
pub(crate) fn successor(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = match last {
            char::MAX => continue,
            '\u{D7FF}' => '\u{E000}',
            c => char::from_u32(u32::from(c) + 1)?,
        };
        chars.push(next);
        return Some(chars.into_iter().collect());
    }
    None
}

/// Now, in milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A token count as a signed 64-bit SQL integer (saturating at `i64::MAX`).
pub(crate) fn count_to_sql(count: u64) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

/// A summed SQL count as a token count (a negative sum, impossible, is 0).
pub(crate) fn count_from_sql(sum: i64) -> u64 {
    u64::try_from(sum).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::successor;

    #[test]
    fn successors() {
        assert_eq!(successor(""), None);
        assert_eq!(successor("ab").as_deref(), Some("ac"));
        assert_eq!(successor("a%").as_deref(), Some("a&"));
        assert_eq!(successor("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(successor("\u{10FFFF}"), None);
        assert_eq!(successor("x\u{D7FF}").as_deref(), Some("x\u{E000}"));
    }
}
