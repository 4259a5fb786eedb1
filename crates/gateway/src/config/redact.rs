//! Credentials out of configuration values, for status views and `Debug`.

use serde_json::{Map, Value};

/// Key names that always hold credentials, whatever the schema says. Broader
/// than the diagnostics' `is_secret_key`: a redacted view errs on hiding.
fn looks_like_credential(key: &str) -> bool {
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

fn schema_is_secret(schema: &Value, root: &Value) -> bool {
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

/// Replaces credentials in `value` by `***`: fields whose schema is
/// `writeOnly` (every [`Secret`](switchboard_core::Secret)) and fields whose
/// name says key/token/secret/password.
pub fn redact(value: &Value, schema: Option<&Value>, root: Option<&Value>) -> Value {
    match value {
        Value::Object(map) => {
            let props = schema
                .zip(root)
                .map(|(s, r)| resolve(s, r))
                .and_then(|s| s.get("properties"));
            let mut out = Map::new();
            for (k, v) in map {
                let field_schema = props.and_then(|p| p.get(k));
                let secret = looks_like_credential(k)
                    || field_schema
                        .zip(root)
                        .is_some_and(|(s, r)| schema_is_secret(s, r));
                let redacted = if secret && !v.is_null() {
                    Value::String(switchboard_core::Secret::REDACTED.into())
                } else {
                    redact(v, field_schema, root)
                };
                out.insert(k.clone(), redacted);
            }
            Value::Object(out)
        }
        Value::Array(items) => {
            let item_schema = schema
                .zip(root)
                .map(|(s, r)| resolve(s, r))
                .and_then(|s| s.get("items"));
            Value::Array(items.iter().map(|v| redact(v, item_schema, root)).collect())
        }
        other => other.clone(),
    }
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
}
