//! Gemini's schema subset (OpenAPI 3.0 style, upper-case `type`) → JSON Schema.

use serde_json::{Map, Value};

/// Converts a `parameters` / `responseSchema` schema written in Gemini's
/// subset to JSON Schema: `type` names are lower-cased (`OBJECT` →
/// `object`), `nullable: true` adds `"null"` to the type, and
/// `propertyOrdering` (Gemini-only) is dropped; everything else (properties,
/// items, anyOf, enum, format, description, bounds) is kept. Applied to
/// every nested schema. Nesting deeper than 64 levels is left as it is.
pub fn to_json_schema(schema: Value) -> Value {
    convert(schema, 0)
}

const MAX_DEPTH: usize = 64;

fn convert(schema: Value, depth: usize) -> Value {
    let Value::Object(map) = schema else {
        return schema;
    };
    if depth > MAX_DEPTH {
        return Value::Object(map);
    }
    let mut out = Map::with_capacity(map.len());
    let mut nullable = false;
    for (key, value) in map {
        match key.as_str() {
            "type" => {
                let value = match value {
                    Value::String(t) => Value::String(t.to_ascii_lowercase()),
                    other => other,
                };
                out.insert(key, value);
            }
            "nullable" => nullable = value.as_bool().unwrap_or(false),
            "propertyOrdering" => {}
            "properties" | "$defs" | "definitions" => {
                let value = match value {
                    Value::Object(props) => Value::Object(
                        props
                            .into_iter()
                            .map(|(k, v)| (k, convert(v, depth + 1)))
                            .collect(),
                    ),
                    other => other,
                };
                out.insert(key, value);
            }
            "items" | "additionalProperties" | "not" => {
                out.insert(key, convert(value, depth + 1));
            }
            "anyOf" | "oneOf" | "allOf" | "prefixItems" => {
                let value = match value {
                    Value::Array(items) => {
                        Value::Array(items.into_iter().map(|v| convert(v, depth + 1)).collect())
                    }
                    other => other,
                };
                out.insert(key, value);
            }
            _ => {
                out.insert(key, value);
            }
        }
    }
    if nullable && let Some(Value::String(t)) = out.get("type").cloned() {
        out.insert("type".into(), serde_json::json!([t, "null"]));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn gemini_types_become_json_schema() {
        let schema = json!({
            "type": "OBJECT",
            "properties": {
                "city": {"type": "STRING", "description": "a city"},
                "days": {"type": "ARRAY", "items": {"type": "INTEGER"}},
                "note": {"type": "STRING", "nullable": true},
            },
            "required": ["city"],
            "propertyOrdering": ["city", "days", "note"],
        });
        assert_eq!(
            to_json_schema(schema),
            json!({
                "type": "object",
                "properties": {
                    "city": {"type": "string", "description": "a city"},
                    "days": {"type": "array", "items": {"type": "integer"}},
                    "note": {"type": ["string", "null"]},
                },
                "required": ["city"],
            })
        );
    }
}
