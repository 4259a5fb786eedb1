//! The rule that keeps a stored credential from following a new host: an
//! update that changes where an instance connects (a URL, host, endpoint,
//! proxy, region or preset) must carry the credentials itself.
//!
//! Without it, whoever holds the admin token could point `base_url` at a
//! host they control and receive the stored API key with the next request,
//! a key they cannot read through the API (it is redacted).

use serde_json::{Map, Value};
use switchboard_core::Error;

use crate::config::{is_headers_key, looks_like_credential, schema_is_secret};

/// Whether `key` decides which host the instance connects to.
fn is_host_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    [
        "url", "host", "endpoint", "proxy", "domain", "region", "location",
    ]
    .iter()
    .any(|s| k.contains(s))
        || k == "preset"
        || k == "deployment"
        || k == "account_id"
        || k == "resource_name"
}

fn looks_like_url(v: &Value) -> bool {
    v.as_str().is_some_and(|s| s.contains("://"))
}

/// The first host-bearing key whose value differs between `current` and
/// `next` (nested keys included, as a dotted path).
fn changed_host_key(
    current: &Map<String, Value>,
    next: &Map<String, Value>,
    path: &str,
) -> Option<String> {
    let keys = current.keys().chain(next.keys());
    for k in keys {
        let (a, b) = (current.get(k), next.get(k));
        if a == b {
            continue;
        }
        let here = if path.is_empty() {
            k.clone()
        } else {
            format!("{path}.{k}")
        };
        if let (Some(Value::Object(a)), Some(Value::Object(b))) = (a, b) {
            if let Some(found) = changed_host_key(a, b, &here) {
                return Some(found);
            }
            continue;
        }
        if is_host_key(k) || a.is_some_and(looks_like_url) || b.is_some_and(looks_like_url) {
            return Some(here);
        }
    }
    None
}

fn is_set(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Object(m) => !m.is_empty(),
        Value::Array(a) => !a.is_empty(),
        _ => true,
    }
}

/// Checks a config change of instance `name` from `current` to `next`
/// settings. `patch` is the merge patch that made `next` (a runtime update),
/// or `None` for a whole new config (a reload with a body).
///
/// When a host-bearing setting changes and the instance has credentials
/// configured (a secret field, a `*_env` reference to one, or headers), the
/// change must supply a credential value itself (not a `*_env` reference),
/// and a patch must also re-send (or remove with `null`) every credential
/// and headers map currently set. Otherwise: `invalid_request`, naming the
/// keys to send.
pub(crate) fn check_host_change(
    name: &str,
    current: &Map<String, Value>,
    next: &Map<String, Value>,
    patch: Option<&Map<String, Value>>,
    schema: Option<&Value>,
) -> Result<(), Error> {
    let Some(host_key) = changed_host_key(current, next, "") else {
        return Ok(());
    };
    let secret_by_schema = |k: &str| {
        schema
            .and_then(|s| s.get("properties"))
            .and_then(|p| p.get(k))
            .zip(schema)
            .is_some_and(|(f, root)| schema_is_secret(f, root))
    };
    let credential_value = |k: &str| {
        !k.ends_with("_env")
            && !is_headers_key(k)
            && (looks_like_credential(k) || secret_by_schema(k))
    };
    let credential_ref = |k: &str| {
        credential_value(k)
            || is_headers_key(k)
            || (k.ends_with("_env") && looks_like_credential(k.trim_end_matches("_env")))
    };
    let stored: Vec<&str> = current
        .iter()
        .filter(|(k, v)| credential_ref(k) && is_set(v))
        .map(|(k, _)| k.as_str())
        .collect();
    if stored.is_empty() {
        return Ok(());
    }
    let sent = patch.unwrap_or(next);
    let missing: Vec<&str> = match patch {
        Some(patch) => stored
            .iter()
            .copied()
            .filter(|k| !patch.contains_key(*k))
            .collect(),
        None => Vec::new(),
    };
    let supplied = sent.iter().any(|(k, v)| credential_value(k) && is_set(v));
    if missing.is_empty() && supplied {
        return Ok(());
    }
    let list = |keys: &[&str]| {
        keys.iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut message = format!(
        "changing `{host_key}` of `{name}` would send its stored credentials to another host: \
         send the credentials in the same update"
    );
    if !missing.is_empty() {
        message.push_str(&format!(
            " (re-send {} with their values, or remove them with null)",
            list(&missing)
        ));
    }
    if !supplied {
        message.push_str("; a credential value (not a `*_env` reference) is required");
    }
    Err(Error::invalid_param(host_key, message).with_instance(name.to_owned()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn map(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    fn check(current: Value, patch: Value) -> Result<(), Error> {
        let current = map(current);
        let patch = map(patch);
        let mut next = Value::Object(current.clone());
        crate::config::merge_patch(&mut next, &Value::Object(patch.clone()));
        check_host_change("up", &current, &map(next), Some(&patch), None)
    }

    #[test]
    fn a_new_host_needs_the_credentials() {
        let cur = json!({"base_url": "http://a/v1", "api_key": "sk-1", "headers": {"X-Auth": "h"}});
        let err = check(cur.clone(), json!({"base_url": "http://evil/v1"})).expect_err("400");
        assert!(
            err.message().contains("`api_key`") && err.message().contains("`headers`"),
            "{err}"
        );
        assert_eq!(err.param(), Some("base_url"));
        check(
            cur.clone(),
            json!({"base_url": "http://b/v1", "api_key": "sk-2", "headers": null}),
        )
        .expect("credentials sent");
        check(cur.clone(), json!({"model_map": {"a": "b"}})).expect("no host change");
        let err = check(
            json!({"preset": "groq", "api_key_env": "GROQ_API_KEY"}),
            json!({"preset": "openrouter", "api_key_env": "GROQ_API_KEY"}),
        )
        .expect_err("an env reference is not a credential value");
        assert!(err.message().contains("not a `*_env`"), "{err}");
        check(
            json!({"base_url": "http://localhost:11434"}),
            json!({"base_url": "http://other:11434"}),
        )
        .expect("nothing stored, nothing to leak");
    }
}
