//! Generates a JSON value that validates against a JSON Schema, for tool-call
//! arguments and `json_schema` response formats.
//!
//! Covers what tool and response schemas use in practice: `type` (also as a
//! list), `const`, `enum`, `default`, `properties`/`required`, `items`/
//! `prefixItems`/`minItems`/`maxItems`, `minLength`/`maxLength`, common string
//! `format`s, `minimum`/`maximum`/`exclusiveMinimum`, `anyOf`/`oneOf` (first
//! branch), `allOf` (merged) and local `$ref`s (`#/$defs/..`, `#/definitions/..`).

use serde_json::{Map, Value, json};

/// Nesting deeper than this (e.g. a recursive `$ref`) produces `null`.
const MAX_DEPTH: usize = 32;

/// A value valid against `schema`, deterministic for a given schema.
pub fn generate(schema: &Value) -> Value {
    Generator { root: schema }.value(schema, 0)
}

struct Generator<'a> {
    root: &'a Value,
}

impl Generator<'_> {
    fn value(&self, schema: &Value, depth: usize) -> Value {
        if depth > MAX_DEPTH {
            return Value::Null;
        }
        let obj = match schema {
            Value::Object(obj) => obj,
            // `true` accepts anything, `false` nothing: either way a string is as good as it gets.
            _ => return Value::String("mock".into()),
        };
        if let Some(Value::String(reference)) = obj.get("$ref") {
            return match self.resolve(reference) {
                Some(target) => self.value(target, depth + 1),
                None => Value::Null,
            };
        }
        if let Some(c) = obj.get("const") {
            return c.clone();
        }
        if let Some(first) = obj
            .get("enum")
            .and_then(Value::as_array)
            .and_then(|e| e.first())
        {
            return first.clone();
        }
        if let Some(default) = obj.get("default") {
            return default.clone();
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(first) = obj
                .get(key)
                .and_then(Value::as_array)
                .and_then(|a| a.first())
            {
                return self.value(first, depth + 1);
            }
        }
        if let Some(all) = obj.get("allOf").and_then(Value::as_array) {
            return self.value(&Value::Object(merge_all_of(obj, all, self)), depth + 1);
        }
        match schema_type(obj) {
            "object" => self.object(obj, depth),
            "array" => self.array(obj, depth),
            "integer" => integer(obj),
            "number" => number(obj),
            "boolean" => Value::Bool(true),
            "null" => Value::Null,
            _ => string(obj),
        }
    }

    fn object(&self, obj: &Map<String, Value>, depth: usize) -> Value {
        let mut out = Map::new();
        let Some(props) = obj.get("properties").and_then(Value::as_object) else {
            return Value::Object(out);
        };
        match obj.get("required").and_then(Value::as_array) {
            Some(required) => {
                for name in required.iter().filter_map(Value::as_str) {
                    let sub = props.get(name).unwrap_or(&Value::Bool(true));
                    out.insert(name.to_owned(), self.value(sub, depth + 1));
                }
            }
            None => {
                for (name, sub) in props {
                    out.insert(name.clone(), self.value(sub, depth + 1));
                }
            }
        }
        Value::Object(out)
    }

    fn array(&self, obj: &Map<String, Value>, depth: usize) -> Value {
        let min = obj
            .get("minItems")
            .and_then(Value::as_u64)
            .unwrap_or(1)
            .max(1);
        let max = obj
            .get("maxItems")
            .and_then(Value::as_u64)
            .unwrap_or(u64::MAX);
        let count = usize::try_from(min.min(max).min(64)).unwrap_or(1);
        let prefix = obj.get("prefixItems").and_then(Value::as_array);
        let items = obj.get("items");
        let mut out = Vec::with_capacity(count);
        for i in 0..count {
            let sub = match (prefix.and_then(|p| p.get(i)), items) {
                (Some(p), _) => p,
                (None, Some(items @ Value::Object(_))) => items,
                // Draft 4 tuple form: `items` is an array of schemas.
                (None, Some(Value::Array(tuple))) => tuple.get(i).unwrap_or(&Value::Bool(true)),
                _ => &Value::Bool(true),
            };
            out.push(self.value(sub, depth + 1));
        }
        Value::Array(out)
    }

    /// Resolves a local JSON pointer reference like `#/$defs/Address`.
    fn resolve(&self, reference: &str) -> Option<&Value> {
        let pointer = reference.strip_prefix('#')?;
        if pointer.is_empty() {
            return Some(self.root);
        }
        self.root.pointer(pointer)
    }
}

/// `allOf` as one schema: the parent's keys, then each branch's, with
/// `properties` and `required` unioned.
fn merge_all_of(
    parent: &Map<String, Value>,
    all: &[Value],
    g: &Generator<'_>,
) -> Map<String, Value> {
    let mut merged: Map<String, Value> = parent.clone();
    merged.remove("allOf");
    for branch in all {
        let branch = match branch.get("$ref").and_then(Value::as_str) {
            Some(r) => g.resolve(r).unwrap_or(branch),
            None => branch,
        };
        let Some(branch) = branch.as_object() else {
            continue;
        };
        for (key, value) in branch {
            match (key.as_str(), merged.get_mut(key), value) {
                ("properties", Some(Value::Object(into)), Value::Object(from)) => {
                    into.extend(from.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
                ("required", Some(Value::Array(into)), Value::Array(from)) => {
                    into.extend(from.iter().cloned());
                }
                _ => {
                    merged.insert(key.clone(), value.clone());
                }
            }
        }
    }
    merged
}

/// The schema's type: the first non-null entry of `type`, else inferred from its keywords.
fn schema_type(obj: &Map<String, Value>) -> &str {
    match obj.get("type") {
        Some(Value::String(t)) => t,
        Some(Value::Array(types)) => {
            let mut names = types.iter().filter_map(Value::as_str);
            let first = names.clone().next().unwrap_or("string");
            names.find(|t| *t != "null").unwrap_or(first)
        }
        _ if obj.contains_key("properties") || obj.contains_key("required") => "object",
        _ if obj.contains_key("items") || obj.contains_key("prefixItems") => "array",
        _ => "string",
    }
}

fn string(obj: &Map<String, Value>) -> Value {
    let base = match obj.get("format").and_then(Value::as_str) {
        Some("date-time") => "2024-01-01T00:00:00Z",
        Some("date") => "2024-01-01",
        Some("time") => "00:00:00Z",
        Some("email") => "mock@example.com",
        Some("uri" | "url") => "https://example.com/mock",
        Some("uuid") => "00000000-0000-4000-8000-000000000000",
        Some("ipv4") => "127.0.0.1",
        _ => "mock",
    };
    let min = obj.get("minLength").and_then(Value::as_u64).unwrap_or(0);
    let max = obj
        .get("maxLength")
        .and_then(Value::as_u64)
        .unwrap_or(u64::MAX);
    let mut s: String = base
        .chars()
        .take(usize::try_from(max).unwrap_or(usize::MAX))
        .collect();
    let min = usize::try_from(min.min(max).min(4096)).unwrap_or(0);
    while s.chars().count() < min {
        s.push('x');
    }
    Value::String(s)
}

fn integer(obj: &Map<String, Value>) -> Value {
    let min = match (bound(obj, "minimum"), bound(obj, "exclusiveMinimum")) {
        (_, Some(ex)) => Some(ex.floor() + 1.0),
        (Some(m), None) => Some(m.ceil()),
        (None, None) => None,
    };
    let max = match (bound(obj, "maximum"), bound(obj, "exclusiveMaximum")) {
        (_, Some(ex)) => Some(ex.ceil() - 1.0),
        (Some(m), None) => Some(m.floor()),
        (None, None) => None,
    };
    let v = min.unwrap_or_else(|| max.map_or(1.0, |m| m.min(1.0)));
    // Saturating float-to-int conversion; the bounds came from JSON numbers.
    #[allow(clippy::cast_possible_truncation)]
    let v = v as i64;
    json!(v)
}

fn number(obj: &Map<String, Value>) -> Value {
    let v = match (
        bound(obj, "minimum"),
        bound(obj, "exclusiveMinimum"),
        bound(obj, "maximum"),
    ) {
        (_, Some(ex), _) => ex + 1.0,
        (Some(m), None, _) => m,
        (None, None, Some(max)) => max.min(1.0),
        (None, None, None) => 1.0,
    };
    serde_json::Number::from_f64(v).map_or(json!(1), Value::Number)
}

fn bound(obj: &Map<String, Value>, key: &str) -> Option<f64> {
    obj.get(key).and_then(Value::as_f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars() {
        assert_eq!(generate(&json!({"type": "string"})), json!("mock"));
        assert_eq!(
            generate(&json!({"type": "string", "minLength": 6})),
            json!("mockxx")
        );
        assert_eq!(
            generate(&json!({"type": "string", "maxLength": 2})),
            json!("mo")
        );
        assert_eq!(
            generate(&json!({"type": "string", "enum": ["c", "f"]})),
            json!("c")
        );
        assert_eq!(generate(&json!({"const": 7})), json!(7));
        assert_eq!(
            generate(&json!({"type": "string", "default": "d"})),
            json!("d")
        );
        assert_eq!(
            generate(&json!({"type": "string", "format": "email"})),
            json!("mock@example.com")
        );
        assert_eq!(generate(&json!({"type": "integer"})), json!(1));
        assert_eq!(
            generate(&json!({"type": "integer", "minimum": 5})),
            json!(5)
        );
        assert_eq!(
            generate(&json!({"type": "integer", "exclusiveMinimum": 5})),
            json!(6)
        );
        assert_eq!(
            generate(&json!({"type": "integer", "maximum": -3})),
            json!(-3)
        );
        assert_eq!(
            generate(&json!({"type": "number", "minimum": 0.5})),
            json!(0.5)
        );
        assert_eq!(generate(&json!({"type": "boolean"})), json!(true));
        assert_eq!(generate(&json!({"type": "null"})), json!(null));
        assert_eq!(generate(&json!({"type": ["null", "integer"]})), json!(1));
        assert_eq!(generate(&json!({})), json!("mock"));
    }

    #[test]
    fn structures() {
        let schema = json!({
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 2},
                "optional": {"type": "boolean"}
            },
            "required": ["city", "unit", "days"]
        });
        assert_eq!(
            generate(&schema),
            json!({"city": "mock", "unit": "celsius", "days": [1, 1]})
        );
        let all = json!({"properties": {"a": {"type": "integer"}, "b": {"anyOf": [{"type": "null"}, {"type": "string"}]}}});
        assert_eq!(generate(&all), json!({"a": 1, "b": null}));
        let tuple = json!({"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}], "minItems": 2});
        assert_eq!(generate(&tuple), json!(["mock", 1]));
        assert_eq!(
            generate(&json!({"type": "array", "maxItems": 0})),
            json!([])
        );
    }

    #[test]
    fn refs_and_all_of() {
        let schema = json!({
            "$defs": {
                "Address": {"type": "object", "properties": {"street": {"type": "string"}}, "required": ["street"]},
                "Node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/Node"}}, "required": ["next"]}
            },
            "type": "object",
            "properties": {
                "home": {"$ref": "#/$defs/Address"},
                "both": {"allOf": [{"$ref": "#/$defs/Address"}, {"properties": {"zip": {"type": "string"}}, "required": ["zip"]}]},
                "list": {"$ref": "#/$defs/Node"}
            },
            "required": ["home", "both", "list"]
        });
        let v = generate(&schema);
        assert_eq!(v["home"], json!({"street": "mock"}));
        assert_eq!(v["both"], json!({"street": "mock", "zip": "mock"}));
        // A recursive schema stops at the depth limit instead of overflowing the stack.
        let mut node = &v["list"];
        let mut levels = 0;
        while let Some(next) = node.get("next") {
            node = next;
            levels += 1;
        }
        assert!(levels > 3 && levels <= MAX_DEPTH, "{levels}");
        assert_eq!(generate(&json!({"$ref": "#/$defs/Missing"})), json!(null));
    }
}
