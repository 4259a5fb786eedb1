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

/// The most values one generation makes or copies: every array item, object
/// member, scalar and `$ref` hop counts, and so does every value copied from
/// the schema (`const`, `enum`, `default`, `allOf` branches). Past it the
/// value is cut short (arrays end, objects stop gaining members, the rest
/// is `null`), so any schema — `{"items": {"$ref": "#"}, "minItems": 64}`
/// included — finishes in bounded time and memory.
pub const MAX_NODES: usize = 10_000;

/// The most bytes of text one generation makes or copies (strings, object
/// keys, text in copied values).
pub const MAX_TEXT_BYTES: usize = 256 * 1024;

/// `minItems` is honoured up to this many items.
pub(crate) const MAX_MIN_ITEMS: u64 = 64;

/// `minProperties` is honoured up to this many members.
pub(crate) const MAX_MIN_PROPERTIES: u64 = 64;

/// `minLength` is honoured up to this many characters.
pub(crate) const MAX_MIN_LENGTH: u64 = 4096;

/// A value valid against `schema` (unless it exceeds the budgets above),
/// deterministic for a given schema.
pub fn generate(schema: &Value) -> Value {
    Generator {
        root: schema,
        nodes_left: MAX_NODES,
        text_left: MAX_TEXT_BYTES,
    }
    .value(schema, 0)
}

struct Generator<'a> {
    root: &'a Value,
    nodes_left: usize,
    text_left: usize,
}

impl<'a> Generator<'a> {
    /// Takes one node from the budget; `false` when it is spent.
    fn node(&mut self) -> bool {
        match self.nodes_left.checked_sub(1) {
            Some(left) => {
                self.nodes_left = left;
                true
            }
            None => false,
        }
    }

    /// Takes `bytes` of text from the budget; `false` (and nothing taken)
    /// when there is not that much left.
    fn text(&mut self, bytes: usize) -> bool {
        match self.text_left.checked_sub(bytes) {
            Some(left) => {
                self.text_left = left;
                true
            }
            None => false,
        }
    }

    /// Charges copying `value` (its nodes and text) to the budget; `false`
    /// when it does not fit (the budget is then spent). Stops walking as
    /// soon as the budget runs out, so measuring is bounded too.
    fn charge(&mut self, value: &Value) -> bool {
        if !self.node() {
            return false;
        }
        match value {
            Value::String(s) => self.text(s.len()) || self.spend(),
            Value::Array(items) => items.iter().all(|v| self.charge(v)),
            Value::Object(map) => map
                .iter()
                .all(|(k, v)| (self.text(k.len()) || self.spend()) && self.charge(v)),
            _ => true,
        }
    }

    /// Spends the whole budget; always `false`.
    fn spend(&mut self) -> bool {
        self.nodes_left = 0;
        self.text_left = 0;
        false
    }

    /// A copy of `value` from the schema, or `null` when it does not fit.
    fn copy(&mut self, value: &Value) -> Value {
        self.copy_or_fail(value).unwrap_or(Value::Null)
    }

    /// A copy of `value` from the schema, or `None` when it does not fit.
    fn copy_or_fail(&mut self, value: &Value) -> Option<Value> {
        self.charge(value).then(|| value.clone())
    }

    fn value(&mut self, schema: &Value, depth: usize) -> Value {
        if !self.node() || depth > MAX_DEPTH {
            return Value::Null;
        }
        let obj = match schema {
            Value::Object(obj) => obj,
            // `true` accepts anything, `false` nothing: either way a string is as good as it gets.
            _ => return self.string(&Map::new()),
        };
        if let Some(Value::String(reference)) = obj.get("$ref") {
            return match self.resolve(reference) {
                Some(target) => self.value(target, depth + 1),
                None => Value::Null,
            };
        }
        if let Some(c) = obj.get("const") {
            return self.copy(c);
        }
        if let Some(first) = obj
            .get("enum")
            .and_then(Value::as_array)
            .and_then(|e| e.first())
        {
            return self.copy(first);
        }
        if let Some(default) = obj.get("default") {
            return self.copy(default);
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
            return match merge_all_of(obj, all, self) {
                Some(merged) => self.value(&Value::Object(merged), depth + 1),
                None => Value::Null,
            };
        }
        match schema_type(obj) {
            "object" => self.object(obj, depth),
            "array" => self.array(obj, depth),
            "integer" => integer(obj),
            "number" => number(obj),
            "boolean" => Value::Bool(true),
            "null" => Value::Null,
            _ => self.string(obj),
        }
    }

    /// Adds member `name` generated from `sub`, when the budget allows.
    fn member(&mut self, out: &mut Map<String, Value>, name: &str, sub: &Value, depth: usize) {
        if self.nodes_left == 0 || !self.text(name.len()) {
            return;
        }
        let value = self.value(sub, depth + 1);
        out.insert(name.to_owned(), value);
    }

    fn object(&mut self, obj: &Map<String, Value>, depth: usize) -> Value {
        let mut out = Map::new();
        let empty = Map::new();
        let props = obj
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        match obj.get("required").and_then(Value::as_array) {
            Some(required) => {
                for name in required.iter().filter_map(Value::as_str) {
                    if self.nodes_left == 0 {
                        break;
                    }
                    let sub = props.get(name).unwrap_or(&Value::Bool(true));
                    self.member(&mut out, name, sub, depth);
                }
            }
            None => {
                for (name, sub) in props {
                    if self.nodes_left == 0 {
                        break;
                    }
                    self.member(&mut out, name, sub, depth);
                }
            }
        }
        let min = obj
            .get("minProperties")
            .and_then(Value::as_u64)
            .unwrap_or(0)
            .min(MAX_MIN_PROPERTIES);
        let min = usize::try_from(min).unwrap_or(0);
        // More members for `minProperties`: the other declared ones, then
        // `mock_<n>` ones unless `additionalProperties` is `false`.
        for (name, sub) in props {
            if out.len() >= min || self.nodes_left == 0 {
                break;
            }
            if !out.contains_key(name) {
                self.member(&mut out, name, sub, depth);
            }
        }
        let extra = match obj.get("additionalProperties") {
            Some(Value::Bool(false)) => None,
            Some(schema @ Value::Object(_)) => Some(schema),
            _ => Some(&Value::Bool(true)),
        };
        if let Some(extra) = extra {
            let mut n = 0;
            while out.len() < min && self.nodes_left > 0 && n < MAX_MIN_PROPERTIES {
                let name = format!("mock_{n}");
                if !out.contains_key(&name) {
                    self.member(&mut out, &name, extra, depth);
                }
                n += 1;
            }
        }
        Value::Object(out)
    }

    fn array(&mut self, obj: &Map<String, Value>, depth: usize) -> Value {
        let min = obj
            .get("minItems")
            .and_then(Value::as_u64)
            .unwrap_or(1)
            .max(1);
        let max = obj
            .get("maxItems")
            .and_then(Value::as_u64)
            .unwrap_or(u64::MAX);
        let count = usize::try_from(min.min(max).min(MAX_MIN_ITEMS)).unwrap_or(1);
        let prefix = obj.get("prefixItems").and_then(Value::as_array);
        let items = obj.get("items");
        let mut out = Vec::with_capacity(count);
        for i in 0..count {
            if self.nodes_left == 0 {
                break;
            }
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

    /// A string for the schema's `format`, padded to `minLength` (up to
    /// [`MAX_MIN_LENGTH`]) and cut to `maxLength`, within the text budget.
    fn string(&mut self, obj: &Map<String, Value>) -> Value {
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
        let max = usize::try_from(max).unwrap_or(usize::MAX);
        let min = usize::try_from(min.min(MAX_MIN_LENGTH))
            .unwrap_or(0)
            .min(max);
        let mut s: String = base.chars().take(max).collect();
        // The base is ASCII: its length in bytes is its length in characters.
        let len = s.len().max(min).min(self.text_left);
        if !self.text(len) {
            return Value::String(String::new());
        }
        s.truncate(len);
        while s.len() < len {
            s.push('x');
        }
        Value::String(s)
    }

    /// Resolves a local JSON pointer reference like `#/$defs/Address`.
    fn resolve(&self, reference: &str) -> Option<&'a Value> {
        let pointer = reference.strip_prefix('#')?;
        if pointer.is_empty() {
            return Some(self.root);
        }
        self.root.pointer(pointer)
    }
}

/// `allOf` as one schema: the parent's keys, then each branch's, with
/// `properties` and `required` unioned. Every copied value is charged to the
/// budget; `None` when it is spent.
fn merge_all_of(
    parent: &Map<String, Value>,
    all: &[Value],
    g: &mut Generator<'_>,
) -> Option<Map<String, Value>> {
    let mut merged = Map::new();
    for (key, value) in parent {
        if key != "allOf" {
            merged.insert(key.clone(), g.copy_or_fail(value)?);
        }
    }
    for branch in all {
        let branch = match branch.get("$ref").and_then(Value::as_str) {
            Some(r) => g.resolve(r).unwrap_or(branch),
            None => branch,
        };
        let Some(branch) = branch.as_object() else {
            continue;
        };
        for (key, value) in branch {
            let value = g.copy_or_fail(value)?;
            match (key.as_str(), merged.get_mut(key), value) {
                ("properties", Some(Value::Object(into)), Value::Object(from)) => {
                    into.extend(from);
                }
                ("required", Some(Value::Array(into)), Value::Array(from)) => {
                    into.extend(from);
                }
                (_, _, value) => {
                    merged.insert(key.clone(), value);
                }
            }
        }
    }
    Some(merged)
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

    /// Nodes in a generated value, counted as the budget counts them.
    fn nodes(v: &Value) -> usize {
        1 + match v {
            Value::Array(items) => items.iter().map(nodes).sum(),
            Value::Object(map) => map.values().map(nodes).sum(),
            _ => 0,
        }
    }

    fn bounded(schema: &Value) -> Value {
        let started = std::time::Instant::now();
        let v = generate(schema);
        let took = started.elapsed();
        assert!(took < std::time::Duration::from_secs(2), "{took:?}");
        assert!(nodes(&v) <= MAX_NODES, "{}: {schema}", nodes(&v));
        let text = serde_json::to_string(&v).unwrap();
        assert!(text.len() < 2 * MAX_TEXT_BYTES, "{}", text.len());
        v
    }

    /// Found in issue 13: this schema grew the process by 4.6 GiB and
    /// never answered.
    #[test]
    fn a_self_referencing_schema_is_bounded() {
        let v = bounded(&json!({"type": "array", "items": {"$ref": "#"}, "minItems": 64}));
        // Cut short depth first: the first items are nested deepest.
        assert!(!v.as_array().unwrap().is_empty());
        bounded(&json!({"type": "object", "properties": {"a": {"$ref": "#"}, "b": {"$ref": "#"}}}));
        bounded(
            &json!({"allOf": [{"$ref": "#"}], "type": "array", "items": {"$ref": "#"}, "minItems": 64}),
        );
        bounded(
            &json!({"type": "object", "minProperties": 1_000_000_000u64, "additionalProperties": {"$ref": "#"}}),
        );
    }

    #[test]
    fn copies_and_text_are_bounded() {
        let big = "x".repeat(100_000);
        let v = bounded(&json!({"type": "array", "minItems": 64, "items": {
            "type": "array", "minItems": 64, "items": {"const": big}}}));
        assert!(serde_json::to_string(&v).unwrap().len() <= MAX_TEXT_BYTES + 100_000);
        bounded(&json!({"type": "array", "minItems": 64, "items": {
            "type": "array", "minItems": 64, "items": {"type": "string", "minLength": 4_000_000_000u64}}}));
        let many: Vec<u32> = (0..50_000).collect();
        bounded(&json!({"type": "array", "minItems": 64, "items": {"enum": [many]}}));
    }

    #[test]
    fn min_properties_and_caps_are_honoured() {
        let v = generate(
            &json!({"type": "object", "properties": {"a": {"type": "integer"}},
            "required": [], "minProperties": 3}),
        );
        assert_eq!(v, json!({"a": 1, "mock_0": "mock", "mock_1": "mock"}));
        let closed = generate(
            &json!({"type": "object", "properties": {"a": {"type": "integer"}},
            "required": [], "minProperties": 3, "additionalProperties": false}),
        );
        assert_eq!(closed, json!({"a": 1}));
        let long = generate(&json!({"type": "string", "minLength": 1_000_000}));
        assert_eq!(long.as_str().unwrap().len(), 4096);
        let wide = generate(&json!({"type": "array", "minItems": 1_000_000}));
        assert_eq!(wide.as_array().unwrap().len(), 64);
    }
}
