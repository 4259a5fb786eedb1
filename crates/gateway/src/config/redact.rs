//! Credentials out of configuration values, for status views, `Debug`,
//! log lines and errors.
//!
//! What is hidden (each replaced by [`Secret::REDACTED`]):
//!
//! 1. fields whose schema is `writeOnly` (every [`Secret`]) or whose name
//!    says key/token/secret/password/authorization/credential (by name, only
//!    values that can hold one: not a number or boolean such as
//!    `token_delay_ms` or `max_tokens`);
//! 2. every value under a headers map (a key whose name contains `header`):
//!    configured header values are as good as keys (`Helicone-Auth`);
//! 3. the userinfo, query values and fragment of every URL, in any string
//!    (`https://user:pass@host/v1?key=abc` → `https://***@host/v1?key=***`);
//! 4. any other string equal to, or containing, one of the values hidden by
//!    1–3 (by value, wherever it appears).
//!
//! [`secret_values`] lists the values of 1–3, for scrubbing errors and log
//! lines with [`redact_text`].

use std::borrow::Cow;

use serde_json::{Map, Value};
use switchboard_core::Secret;
use switchboard_core::upstream::Scrubber;

/// Key names that always hold credentials, whatever the schema says. Broader
/// than the diagnostics' `is_secret_key`: a redacted view errs on hiding.
pub(crate) fn looks_like_credential(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    [
        "key",
        "token",
        "secret",
        "password",
        "authorization",
        "credential",
    ]
    .iter()
    .any(|s| k.contains(s))
        && !k.ends_with("_env")
}

/// Whether `key` names a map of HTTP headers (`headers`, `extra_headers`).
pub(crate) fn is_headers_key(key: &str) -> bool {
    key.to_ascii_lowercase().contains("header")
}

/// Resolves a local `$ref` (`#/$defs/X`) against `root`.
fn resolve<'a>(schema: &'a Value, root: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => r
            .strip_prefix('#')
            .and_then(|p| root.pointer(p))
            .unwrap_or(schema),
        None => schema,
    }
}

pub(crate) fn schema_is_secret(schema: &Value, root: &Value) -> bool {
    let s = resolve(schema, root);
    if s.get("writeOnly").and_then(Value::as_bool) == Some(true) {
        return true;
    }
    ["anyOf", "oneOf", "allOf"].iter().any(|k| {
        s.get(*k)
            .and_then(Value::as_array)
            .is_some_and(|alts| alts.iter().any(|a| schema_is_secret(a, root)))
    })
}

/// The schema of property `key` of an object whose schema is `schema`.
fn property<'a>(
    schema: Option<&'a Value>,
    root: Option<&'a Value>,
    key: &str,
) -> Option<&'a Value> {
    schema
        .zip(root)
        .map(|(s, r)| resolve(s, r))
        .and_then(|s| s.get("properties"))
        .and_then(|p| p.get(key))
}

/// The item schema of an array whose schema is `schema`.
fn items<'a>(schema: Option<&'a Value>, root: Option<&'a Value>) -> Option<&'a Value> {
    schema
        .zip(root)
        .map(|(s, r)| resolve(s, r))
        .and_then(|s| s.get("items"))
}

/// Whether field `key` (with schema `field`) holds a whole credential.
fn is_secret_field(key: &str, field: Option<&Value>, root: Option<&Value>, value: &Value) -> bool {
    field.zip(root).is_some_and(|(s, r)| schema_is_secret(s, r))
        || (looks_like_credential(key) && !is_count_or_flag(value))
}

/// A number or a boolean: under a name like `max_tokens` or
/// `token_delay_ms` it is a count or a flag, not a credential (hiding it
/// would also scrub every message that mentions the same digits). A
/// `writeOnly` schema still hides any value.
fn is_count_or_flag(value: &Value) -> bool {
    matches!(value, Value::Number(_) | Value::Bool(_))
}

fn leaves(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) if !s.is_empty() => out.push(s.clone()),
        Value::Number(n) => out.push(n.to_string()),
        Value::Object(map) => map.values().for_each(|v| leaves(v, out)),
        Value::Array(a) => a.iter().for_each(|v| leaves(v, out)),
        _ => {}
    }
}

/// Every secret value of `value`: credential fields (by schema or name),
/// header values, and URL userinfo and query values. For by-value scrubbing.
pub fn secret_values(value: &Value, schema: Option<&Value>, root: Option<&Value>) -> Vec<String> {
    let mut out = Vec::new();
    collect(value, schema, root, &mut out);
    out.sort();
    out.dedup();
    out
}

fn collect(value: &Value, schema: Option<&Value>, root: Option<&Value>, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let field = property(schema, root, k);
                if is_secret_field(k, field, root, v) || is_headers_key(k) {
                    leaves(v, out);
                } else {
                    collect(v, field, root, out);
                }
            }
        }
        Value::Array(a) => {
            let item = items(schema, root);
            a.iter().for_each(|v| collect(v, item, root, out));
        }
        Value::String(s) => url_secrets(s, out),
        _ => {}
    }
}

/// Replaces credentials in `value` by `***` (see the [module docs](self)):
/// secret fields, header values, URL userinfo and query values, and every
/// other string holding one of those values.
pub fn redact(value: &Value, schema: Option<&Value>, root: Option<&Value>) -> Value {
    let secrets = secret_values(value, schema, root);
    let scrubber = Scrubber::new(&secrets);
    redact_with(value, schema, root, &secrets, &scrubber)
}

fn hidden() -> Value {
    Value::String(Secret::REDACTED.into())
}

/// `value` with every leaf replaced by `***` (keys kept: header names show).
fn hide_leaves(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), hide_leaves(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(hide_leaves).collect()),
        Value::Null => Value::Null,
        _ => hidden(),
    }
}

fn redact_with(
    value: &Value,
    schema: Option<&Value>,
    root: Option<&Value>,
    secrets: &[String],
    scrubber: &Scrubber,
) -> Value {
    match value {
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                let field = property(schema, root, k);
                let redacted = if is_secret_field(k, field, root, v) && !v.is_null() {
                    hidden()
                } else if is_headers_key(k) {
                    hide_leaves(v)
                } else {
                    redact_with(v, field, root, secrets, scrubber)
                };
                out.insert(k.clone(), redacted);
            }
            Value::Object(out)
        }
        Value::Array(a) => {
            let item = items(schema, root);
            Value::Array(
                a.iter()
                    .map(|v| redact_with(v, item, root, secrets, scrubber))
                    .collect(),
            )
        }
        Value::String(s) if secrets.iter().any(|x| x == s) => hidden(),
        Value::String(s) => Value::String(scrub(s, scrubber).into_owned()),
        other => other.clone(),
    }
}

fn scrub<'a>(text: &'a str, scrubber: &Scrubber) -> Cow<'a, str> {
    let urls = redact_urls(text);
    match scrubber.text(&urls) {
        Some(s) => Cow::Owned(s),
        None => urls,
    }
}

/// `text` (an error message, a log line) with URL userinfo, query values and
/// fragments hidden, and every one of `secrets` (at least four characters
/// long) replaced by `***`.
pub fn redact_text(text: &str, secrets: &[String]) -> String {
    scrub(text, &Scrubber::new(secrets)).into_owned()
}

/// Where a URL embedded in text ends.
fn ends_url(c: char) -> bool {
    c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`' | ')' | ']' | '}' | ',')
}

/// Every `scheme://` URL in `text`, as (start of what follows `://`, end).
fn url_tails(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = text[from..].find("://").map(|i| i + from) {
        let before = &text[..i];
        let start = before
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-')))
            .map_or(0, |p| p + 1);
        let tail = i + 3;
        let end = text[tail..].find(ends_url).map_or(text.len(), |e| tail + e);
        if before[start..].starts_with(|c: char| c.is_ascii_alphabetic()) {
            out.push((tail, end));
        }
        from = end.max(tail);
    }
    out
}

/// The userinfo, query values and fragment of a URL after its `://`.
fn url_parts(tail: &str) -> (Option<&str>, Vec<&str>, Option<&str>) {
    let auth_end = tail.find(['/', '?', '#']).unwrap_or(tail.len());
    let userinfo = tail[..auth_end].rfind('@').map(|at| &tail[..at]);
    let (before_frag, frag) = match tail.find('#') {
        Some(h) => (&tail[..h], Some(&tail[h + 1..])),
        None => (tail, None),
    };
    let query = before_frag
        .find('?')
        .map(|q| {
            before_frag[q + 1..]
                .split('&')
                .map(|p| p.split_once('=').map_or(p, |(_, v)| v))
                .filter(|v| !v.is_empty())
                .collect()
        })
        .unwrap_or_default();
    (userinfo, query, frag.filter(|f| !f.is_empty()))
}

fn url_secrets(text: &str, out: &mut Vec<String>) {
    for (start, end) in url_tails(text) {
        let (userinfo, query, frag) = url_parts(&text[start..end]);
        if let Some(u) = userinfo {
            out.push(u.to_owned());
            // The password alone, too: it may be quoted elsewhere.
            if let Some((_, pass)) = u.split_once(':')
                && !pass.is_empty()
            {
                out.push(pass.to_owned());
            }
        }
        out.extend(query.into_iter().map(str::to_owned));
        out.extend(frag.map(str::to_owned));
    }
}

fn redact_tail(tail: &str) -> String {
    let auth_end = tail.find(['/', '?', '#']).unwrap_or(tail.len());
    let mut out = String::with_capacity(tail.len());
    match tail[..auth_end].rfind('@') {
        Some(at) => {
            out.push_str(Secret::REDACTED);
            out.push_str(&tail[at..auth_end]);
        }
        None => out.push_str(&tail[..auth_end]),
    }
    let rest = &tail[auth_end..];
    let (before_frag, frag) = match rest.find('#') {
        Some(h) => (&rest[..h], Some(&rest[h + 1..])),
        None => (rest, None),
    };
    match before_frag.find('?') {
        Some(q) => {
            out.push_str(&before_frag[..=q]);
            let params: Vec<String> = before_frag[q + 1..]
                .split('&')
                .map(|p| match p.split_once('=') {
                    Some((k, _)) => format!("{k}={}", Secret::REDACTED),
                    None if p.is_empty() => String::new(),
                    None => Secret::REDACTED.to_owned(),
                })
                .collect();
            out.push_str(&params.join("&"));
        }
        None => out.push_str(before_frag),
    }
    match frag {
        Some(f) if !f.is_empty() => {
            out.push('#');
            out.push_str(Secret::REDACTED);
        }
        Some(_) => out.push('#'),
        None => {}
    }
    out
}

/// `text` with the userinfo, query values and fragment of every URL hidden.
fn redact_urls(text: &str) -> Cow<'_, str> {
    let tails = url_tails(text);
    if tails.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end) in tails {
        out.push_str(&text[at..start]);
        out.push_str(&redact_tail(&text[start..end]));
        at = end;
    }
    out.push_str(&text[at..]);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn redacts_by_schema_and_by_name() {
        let schema = json!({
            "properties": {
                "creds": {"$ref": "#/$defs/Secret"},
                "nested": {"type": "object", "properties": {"inner": {"writeOnly": true}}},
                "plain": {"type": "string"}
            },
            "$defs": {"Secret": {"type": "string", "writeOnly": true}}
        });
        let v = json!({
            "creds": "hunter2", "nested": {"inner": "x", "other": 1},
            "plain": "visible", "api_key": "sk-1", "headers": {"Authorization": "Bearer t"},
            "api_key_env": "OPENAI_API_KEY"
        });
        let r = redact(&v, Some(&schema), Some(&schema));
        assert_eq!(
            r,
            json!({
                "creds": "***", "nested": {"inner": "***", "other": 1},
                "plain": "visible", "api_key": "***", "headers": {"Authorization": "***"},
                "api_key_env": "OPENAI_API_KEY"
            })
        );
        assert!(!r.to_string().contains("hunter2"));
    }

    #[test]
    fn counts_and_flags_named_like_credentials_show() {
        let schema = json!({"properties": {"pin": {"type": "integer", "writeOnly": true}}});
        let v = json!({
            "token_delay_ms": 60, "max_tokens": 100, "use_api_key": true, "pin": 1234,
            "token": "t-60"
        });
        let r = redact(&v, Some(&schema), Some(&schema));
        assert_eq!(
            r,
            json!({
                "token_delay_ms": 60, "max_tokens": 100, "use_api_key": true, "pin": "***",
                "token": "***"
            })
        );
        // A count is no secret value: messages quoting it are not scrubbed.
        let secrets = secret_values(&v, Some(&schema), Some(&schema));
        assert_eq!(secrets, vec!["1234".to_owned(), "t-60".to_owned()]);
    }

    #[test]
    fn every_header_value_is_hidden_and_names_show() {
        let v = json!({
            "headers": {"Helicone-Auth": "Bearer sk-helicone-123", "X-Title": "my app"},
            "extra_headers": [["X-Custom", "v"]]
        });
        let r = redact(&v, None, None);
        assert_eq!(
            r,
            json!({
                "headers": {"Helicone-Auth": "***", "X-Title": "***"},
                "extra_headers": [["***", "***"]]
            })
        );
    }

    #[test]
    fn url_userinfo_query_and_fragment_are_hidden() {
        let v = json!({"base_url": "https://user:pass@host:8443/v1?key=abc&x=1#tok", "other": "http://h/v1"});
        let r = redact(&v, None, None);
        assert_eq!(
            r,
            json!({"base_url": "https://***@host:8443/v1?key=***&x=***#***", "other": "http://h/v1"})
        );
        let text = "error sending request for url (https://u:pw-123456@h/p?k=zzz): refused";
        assert_eq!(
            redact_text(text, &[]),
            "error sending request for url (https://***@h/p?k=***): refused"
        );
        assert_eq!(
            redact_text("no url here :// at all", &[]),
            "no url here :// at all"
        );
    }

    #[test]
    fn secret_values_are_hidden_wherever_they_appear() {
        let v = json!({
            "api_key": "sk-live-123456",
            "organization": "sk-live-123456",
            "note": "key is sk-live-123456 ok",
            "headers": {"X-Auth": "hdr-secret-9"},
            "base_url": "https://u:proxy-pass-7@h/v1",
            "echo": ["hdr-secret-9", "proxy-pass-7", "visible"]
        });
        let r = redact(&v, None, None);
        let shown = r.to_string();
        for s in ["sk-live-123456", "hdr-secret-9", "proxy-pass-7"] {
            assert!(!shown.contains(s), "{s} leaked: {shown}");
        }
        assert_eq!(r["organization"], "***");
        assert_eq!(r["note"], "key is *** ok");
        assert_eq!(r["echo"], json!(["***", "***", "visible"]));
        let secrets = secret_values(&v, None, None);
        assert_eq!(
            redact_text("upstream said: bad key sk-live-123456", &secrets),
            "upstream said: bad key ***"
        );
    }
}
