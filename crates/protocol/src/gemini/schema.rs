//! Tool parameter schemas rewritten into what Gemini accepts.
//!
//! Gemini's `functionDeclarations[].parameters` is not JSON Schema but the
//! OpenAPI 3.0 subset of Google's `Schema` message (`type`, `format`,
//! `title`, `description`, `nullable`, `enum`, `items`, `properties`,
//! `required`, `minItems`, `maxItems`, `minLength`, `maxLength`,
//! `minProperties`, `maxProperties`, `minimum`, `maximum`, `pattern`,
//! `example`, `anyOf`, `propertyOrdering`), and the API rejects a request
//! with any other keyword (`Invalid JSON payload received. Unknown name
//! "additionalProperties"`, `"$schema"`, `"$ref"`, ...). Tool schemas written
//! for OpenAI (Pydantic, zod, MCP servers) use those keywords freely, so
//! [`sanitize_schema`] rewrites them by this rule, applied at every level:
//!
//! 1. **`$ref`** to a local definition (`#/$defs/X`, `#/definitions/X`, or any
//!    JSON pointer into the schema) is replaced by the definition, with the
//!    referencing object's other keywords (e.g. its `description`) taking
//!    precedence. A reference that recurs on its own path (a tree type) is
//!    expanded [`RECURSION_LIMIT`] times and then cut to a schema with only its
//!    `type` (or `object`) and `description`; at most [`MAX_REF_DEPTH`]
//!    references are expanded along one path. A `$ref` that does not resolve
//!    (a remote URL, a missing definition) is an `invalid_request` error.
//! 2. **`type` arrays**: `["string", "null"]` → `type: "string"` +
//!    `nullable: true`; several non-null types → `anyOf` with one branch per type.
//! 3. **`oneOf`** is merged into `anyOf`; an `anyOf` branch that is only
//!    `{"type": "null"}` is removed and sets `nullable: true`; a single
//!    remaining branch is merged into its parent. **`allOf`** branches are
//!    merged into their parent (properties and `required` united, other
//!    keywords: the parent's first, then the first branch's).
//! 4. **`const`** → `enum` with one value. `enum` values are strings in
//!    Gemini: other values are written as their JSON text; `null` is
//!    removed and sets `nullable: true`.
//! 5. **`format`** is kept only where Gemini supports it: `enum` and
//!    `date-time` for strings, `float` and `double` for numbers, `int32` and
//!    `int64` for integers; other formats (`uri`, `email`, `uuid`, ...) are dropped.
//! 6. **`examples`** → `example` (the first one), when there is no `example`.
//! 7. **`items`** given as an array (tuple form) or `prefixItems` → the first
//!    item schema.
//! 8. `required` names that are not in `properties` are removed (Gemini rejects
//!    them); an empty `properties` object is removed; a schema without `type`
//!    gets `object` if it has `properties` and `array` if it has `items`.
//! 9. **Every other keyword is dropped**: `$schema`, `$id`, `$comment`,
//!    `$defs`, `definitions`, `additionalProperties`, `unevaluatedProperties`,
//!    `patternProperties`, `propertyNames`, `default`, `const` (after rule 4),
//!    `not`, `if`/`then`/`else`, `dependentRequired`, `dependentSchemas`,
//!    `exclusiveMinimum`, `exclusiveMaximum`, `multipleOf`, `uniqueItems`,
//!    `contains`, `readOnly`, `writeOnly`, `deprecated`, `contentEncoding`,
//!    `contentMediaType`, and anything unknown. `default` is dropped because
//!    older API versions reject it.
//! 10. A boolean schema (`true`/`false`) is treated as "anything" and written `{}`.
//!
//! A tool whose parameters are an object with no properties (a function that
//! takes no arguments) is declared without `parameters`: Gemini rejects an
//! `OBJECT` with empty `properties`.

use serde_json::{Map, Value, json};
use switchboard_core::Error;

/// How many times one `$ref` may be expanded on one path (recursive schemas).
pub const RECURSION_LIMIT: usize = 2;

/// How many `$ref`s may be expanded along one path in total.
pub const MAX_REF_DEPTH: usize = 16;

/// The deepest nesting accepted.
const MAX_DEPTH: usize = 64;

/// The most schema objects one sanitized schema may have (inlining can
/// multiply them).
const MAX_NODES: usize = 20_000;

/// The keywords Gemini's `Schema` accepts and that are copied unchanged.
const COPIED: &[&str] = &[
    "title",
    "description",
    "nullable",
    "minItems",
    "maxItems",
    "minLength",
    "maxLength",
    "minProperties",
    "maxProperties",
    "minimum",
    "maximum",
    "pattern",
    "example",
    "propertyOrdering",
];

/// Rewrites `schema` into the subset Gemini accepts; see the [module
/// docs](self) for the rule. The result has the same meaning wherever Gemini
/// can express it.
pub fn sanitize_schema(schema: &Value) -> Result<Value, Error> {
    let mut s = Sanitizer {
        root: schema,
        nodes: 0,
    };
    let mut path = Vec::new();
    Ok(s.node(schema, 0, &mut path)?
        .unwrap_or_else(|| Value::Object(Map::new())))
}

/// The `parameters` of a function declaration: the sanitized schema, or
/// `None` for a function without parameters.
pub fn function_parameters(schema: &Value) -> Result<Option<Value>, Error> {
    let sanitized = sanitize_schema(schema)?;
    let no_properties = sanitized
        .get("properties")
        .is_none_or(|p| p.as_object().is_none_or(Map::is_empty));
    let is_object = sanitized
        .get("type")
        .and_then(Value::as_str)
        .is_none_or(|t| t.eq_ignore_ascii_case("object"));
    if is_object && no_properties && sanitized.get("anyOf").is_none() {
        return Ok(None);
    }
    Ok(Some(sanitized))
}

struct Sanitizer<'a> {
    root: &'a Value,
    nodes: usize,
}

impl Sanitizer<'_> {
    /// Sanitizes one schema. `refs` holds the `$ref`s being expanded on the
    /// current path. `None` means "no constraint" (a boolean schema).
    fn node(
        &mut self,
        schema: &Value,
        depth: usize,
        refs: &mut Vec<String>,
    ) -> Result<Option<Value>, Error> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(Error::invalid_request(format!(
                "the tool schema has more than {MAX_NODES} subschemas once its references are inlined"
            )));
        }
        if depth > MAX_DEPTH {
            return Err(Error::invalid_request(format!(
                "the tool schema is nested deeper than {MAX_DEPTH} levels"
            )));
        }
        let Value::Object(obj) = schema else {
            return Ok(None);
        };
        if let Some(reference) = obj.get("$ref") {
            return self.reference(obj, reference, depth, refs);
        }
        let mut out = Map::new();
        let mut nullable = false;

        // Rule 2: type arrays.
        let mut type_branches = Vec::new();
        match obj.get("type") {
            Some(Value::String(t)) => {
                out.insert("type".into(), Value::String(t.clone()));
            }
            Some(Value::Array(types)) => {
                let names: Vec<&str> = types.iter().filter_map(Value::as_str).collect();
                nullable |= names.iter().any(|t| t.eq_ignore_ascii_case("null"));
                let others: Vec<&str> = names
                    .into_iter()
                    .filter(|t| !t.eq_ignore_ascii_case("null"))
                    .collect();
                match others.as_slice() {
                    [] if nullable => {
                        out.insert("type".into(), Value::String("null".into()));
                        nullable = false;
                    }
                    [] => {}
                    [one] => {
                        out.insert("type".into(), Value::String((*one).to_owned()));
                    }
                    many => type_branches = many.iter().map(|t| json!({ "type": t })).collect(),
                }
            }
            _ => {}
        }

        if let Some(Value::String(format)) = obj.get("format") {
            // Kept or dropped by `finish` (rule 5), once the type is known.
            out.insert("format".into(), Value::String(format.clone()));
        }
        for key in COPIED {
            if let Some(v) = obj.get(*key) {
                out.insert((*key).to_owned(), v.clone());
            }
        }
        if !out.contains_key("example")
            && let Some(first) = obj
                .get("examples")
                .and_then(Value::as_array)
                .and_then(|a| a.first())
        {
            out.insert("example".into(), first.clone());
        }

        // Rule 4: enum and const.
        let enum_values = match (obj.get("enum"), obj.get("const")) {
            (Some(Value::Array(values)), _) => Some(values.clone()),
            (None, Some(c)) => Some(vec![c.clone()]),
            _ => None,
        };
        if let Some(values) = enum_values {
            let mut strings = Vec::with_capacity(values.len());
            for v in values {
                match v {
                    Value::Null => nullable = true,
                    Value::String(s) => strings.push(Value::String(s)),
                    other => strings.push(Value::String(other.to_string())),
                }
            }
            if !strings.is_empty() {
                out.insert("enum".into(), Value::Array(strings));
            }
        }

        // Objects.
        if let Some(Value::Object(props)) = obj.get("properties") {
            let mut sanitized = Map::new();
            for (name, sub) in props {
                let s = self
                    .node(sub, depth + 1, refs)?
                    .unwrap_or_else(|| json!({}));
                sanitized.insert(name.clone(), s);
            }
            if !sanitized.is_empty() {
                out.insert("properties".into(), Value::Object(sanitized));
            }
        }
        if let Some(Value::Array(required)) = obj.get("required") {
            out.insert("required".into(), Value::Array(required.clone()));
        }

        // Rule 7: arrays.
        let items = match obj.get("items") {
            Some(Value::Array(tuple)) => tuple.first(),
            Some(other) => Some(other),
            None => obj
                .get("prefixItems")
                .and_then(Value::as_array)
                .and_then(|a| a.first()),
        };
        if let Some(items) = items {
            let s = self
                .node(items, depth + 1, refs)?
                .unwrap_or_else(|| json!({}));
            out.insert("items".into(), s);
        }

        // Rule 3: anyOf / oneOf / allOf.
        let mut branches = type_branches;
        for key in ["anyOf", "oneOf"] {
            if let Some(Value::Array(list)) = obj.get(key) {
                for b in list {
                    match self.node(b, depth + 1, refs)? {
                        Some(Value::Object(m)) if is_null_only(&m) => nullable = true,
                        Some(s) => branches.push(s),
                        None => {}
                    }
                }
            }
        }
        if let Some(Value::Array(list)) = obj.get("allOf") {
            for b in list {
                if let Some(Value::Object(m)) = self.node(b, depth + 1, refs)? {
                    merge_into(&mut out, m);
                }
            }
        }
        match branches.len() {
            0 => {}
            1 => {
                if let Some(Value::Object(m)) = branches.pop() {
                    merge_into(&mut out, m);
                }
            }
            _ => {
                out.insert("anyOf".into(), Value::Array(branches));
            }
        }

        if nullable {
            out.insert("nullable".into(), Value::Bool(true));
        }
        finish(&mut out);
        Ok(Some(Value::Object(out)))
    }

    fn reference(
        &mut self,
        obj: &Map<String, Value>,
        reference: &Value,
        depth: usize,
        refs: &mut Vec<String>,
    ) -> Result<Option<Value>, Error> {
        let Some(r) = reference.as_str() else {
            return Err(Error::invalid_request(
                "a `$ref` in the tool schema is not a string",
            ));
        };
        let target = r
            .strip_prefix('#')
            .and_then(|pointer| self.root.pointer(&percent_decode(pointer)))
            .ok_or_else(|| {
                Error::invalid_request(format!(
                    "the tool schema's `$ref` {r:?} does not point into the schema (only local references can be inlined)"
                ))
            })?;
        let seen = refs.iter().filter(|x| *x == r).count();
        if seen >= RECURSION_LIMIT || refs.len() >= MAX_REF_DEPTH {
            // Cut the recursion: keep the type and the description.
            let kind = target
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("object");
            let mut stub = Map::new();
            stub.insert("type".into(), Value::String(kind.to_owned()));
            if let Some(d) = obj.get("description").or_else(|| target.get("description")) {
                stub.insert("description".into(), d.clone());
            }
            return Ok(Some(Value::Object(stub)));
        }
        // The referencing object's own keywords win over the definition's.
        let mut merged = match target {
            Value::Object(t) => t.clone(),
            Value::Bool(_) => Map::new(),
            _ => {
                return Err(Error::invalid_request(format!(
                    "the tool schema's `$ref` {r:?} does not point to a schema"
                )));
            }
        };
        for (k, v) in obj {
            if k != "$ref" {
                merged.insert(k.clone(), v.clone());
            }
        }
        refs.push(r.to_owned());
        let result = self.node(&Value::Object(merged), depth + 1, refs);
        refs.pop();
        result
    }
}

fn is_null_only(m: &Map<String, Value>) -> bool {
    m.len() == 1
        && m.get("type")
            .and_then(Value::as_str)
            .is_some_and(|t| t.eq_ignore_ascii_case("null"))
}

/// Merges a sanitized branch into `out`: properties and `required` are
/// united, other keys are only added where `out` has none.
fn merge_into(out: &mut Map<String, Value>, branch: Map<String, Value>) {
    for (k, v) in branch {
        match (k.as_str(), out.get_mut(&k), v) {
            ("properties", Some(Value::Object(have)), Value::Object(add)) => {
                for (name, s) in add {
                    have.entry(name).or_insert(s);
                }
            }
            ("required", Some(Value::Array(have)), Value::Array(add)) => {
                for name in add {
                    if !have.contains(&name) {
                        have.push(name);
                    }
                }
            }
            (_, Some(_), _) => {}
            (_, None, v) => {
                out.insert(k, v);
            }
        }
    }
}

/// Rules 5 and 8: formats, `required`, implied types.
fn finish(out: &mut Map<String, Value>) {
    if !out.contains_key("type") && !out.contains_key("anyOf") {
        if out.contains_key("properties") {
            out.insert("type".into(), Value::String("object".into()));
        } else if out.contains_key("items") {
            out.insert("type".into(), Value::String("array".into()));
        }
    }
    let kind = out
        .get("type")
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase);
    if let Some(format) = out.get("format").and_then(Value::as_str) {
        let allowed = match kind.as_deref() {
            Some("string") => matches!(format, "enum" | "date-time"),
            Some("number") => matches!(format, "float" | "double"),
            Some("integer") => matches!(format, "int32" | "int64"),
            _ => false,
        };
        if !allowed {
            out.remove("format");
        }
    }
    let names: Option<Vec<String>> = out
        .get("properties")
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect());
    if let Some(Value::Array(required)) = out.get_mut("required") {
        match &names {
            Some(names) => {
                required.retain(|r| r.as_str().is_some_and(|r| names.iter().any(|n| n == r)))
            }
            None => required.clear(),
        }
        if required.is_empty() {
            out.remove("required");
        }
    }
}

/// Decodes `%XX` escapes in a URI-fragment JSON pointer.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = s.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: Value) -> Value {
        sanitize_schema(&v).expect("sanitizes")
    }

    #[test]
    fn plain_schemas_are_unchanged() {
        let v = json!({"type": "object", "properties": {"city": {"type": "string", "description": "City"},
            "days": {"type": "integer", "minimum": 1, "maximum": 7}}, "required": ["city"]});
        assert_eq!(s(v.clone()), v);
        let upper = json!({"type": "OBJECT", "properties": {"n": {"type": "NUMBER"}}});
        assert_eq!(s(upper.clone()), upper);
    }

    #[test]
    fn unsupported_keywords_are_dropped() {
        let v = json!({
            "$schema": "http://json-schema.org/draft-07/schema#", "$id": "x", "$comment": "c",
            "type": "object", "additionalProperties": false, "title": "Args",
            "properties": {
                "url": {"type": "string", "format": "uri", "default": "https://x", "examples": ["https://a"]},
                "when": {"type": "string", "format": "date-time"},
                "n": {"type": "number", "exclusiveMinimum": 0, "multipleOf": 2, "format": "double"},
                "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": true, "minItems": 1}
            },
            "required": ["url", "missing"],
            "patternProperties": {"^x": {}}, "not": {"type": "null"}
        });
        assert_eq!(
            s(v),
            json!({
                "type": "object", "title": "Args",
                "properties": {
                    "url": {"type": "string", "example": "https://a"},
                    "when": {"type": "string", "format": "date-time"},
                    "n": {"type": "number", "format": "double"},
                    "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1}
                },
                "required": ["url"]
            })
        );
    }

    #[test]
    fn refs_are_inlined_with_sibling_keywords_winning() {
        let v = json!({
            "type": "object",
            "$defs": {"Unit": {"type": "string", "enum": ["c", "f"], "description": "unit"}},
            "definitions": {"Point": {"type": "object", "properties": {"x": {"type": "number"}}, "required": ["x"]}},
            "properties": {
                "unit": {"$ref": "#/$defs/Unit", "description": "Temperature unit"},
                "at": {"$ref": "#/definitions/Point"},
                "same": {"$ref": "#/properties/at"}
            }
        });
        assert_eq!(
            s(v),
            json!({"type": "object", "properties": {
                "unit": {"type": "string", "enum": ["c", "f"], "description": "Temperature unit"},
                "at": {"type": "object", "properties": {"x": {"type": "number"}}, "required": ["x"]},
                "same": {"type": "object", "properties": {"x": {"type": "number"}}, "required": ["x"]}
            }})
        );
    }

    #[test]
    fn recursive_refs_are_cut_at_the_limit() {
        let v = json!({
            "$defs": {"Node": {"type": "object", "description": "a node", "properties": {
                "name": {"type": "string"},
                "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}
            }}},
            "$ref": "#/$defs/Node"
        });
        let out = s(v);
        let level2 = &out["properties"]["children"]["items"];
        assert_eq!(level2["properties"]["name"], json!({"type": "string"}));
        assert_eq!(
            level2["properties"]["children"]["items"],
            json!({"type": "object", "description": "a node"}),
            "the third expansion is cut"
        );
        // Self-reference through the root.
        let root = json!({"type": "object", "properties": {"next": {"$ref": "#"}}});
        let out = s(root);
        assert_eq!(
            out["properties"]["next"]["properties"]["next"]["properties"]["next"],
            json!({"type": "object"})
        );
    }

    #[test]
    fn unresolvable_refs_are_errors() {
        for r in [
            "#/$defs/Missing",
            "https://example.com/schema.json",
            "other.json#/x",
        ] {
            let err = sanitize_schema(&json!({"type": "object", "properties": {"a": {"$ref": r}}}))
                .expect_err(r);
            assert_eq!(err.kind(), &switchboard_core::ErrorKind::InvalidRequest);
        }
    }

    #[test]
    fn nullability_and_unions() {
        let v = json!({"type": "object", "properties": {
            "a": {"type": ["string", "null"]},
            "b": {"anyOf": [{"type": "integer"}, {"type": "null"}], "description": "B"},
            "c": {"oneOf": [{"type": "string"}, {"type": "number"}]},
            "d": {"type": ["string", "integer"]},
            "e": {"const": "fixed"},
            "f": {"enum": [1, 2, null]},
            "g": {"allOf": [{"type": "object", "properties": {"x": {"type": "string"}}, "required": ["x"]},
                            {"properties": {"y": {"type": "string"}}, "required": ["y"]}]},
            "h": true
        }});
        assert_eq!(
            s(v),
            json!({"type": "object", "properties": {
                "a": {"type": "string", "nullable": true},
                "b": {"type": "integer", "description": "B", "nullable": true},
                "c": {"anyOf": [{"type": "string"}, {"type": "number"}]},
                "d": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                "e": {"enum": ["fixed"]},
                "f": {"enum": ["1", "2"], "nullable": true},
                "g": {"type": "object", "properties": {"x": {"type": "string"}, "y": {"type": "string"}}, "required": ["x", "y"]},
                "h": {}
            }})
        );
    }

    #[test]
    fn implied_types_tuples_and_empty_objects() {
        assert_eq!(
            s(json!({"properties": {"a": {"items": [{"type": "string"}, {"type": "number"}]}}})),
            json!({"type": "object", "properties": {"a": {"type": "array", "items": {"type": "string"}}}})
        );
        assert_eq!(
            s(json!({"type": "object", "properties": {}, "required": ["a"]})),
            json!({"type": "object"})
        );
        assert_eq!(
            function_parameters(&json!({"type": "object", "properties": {}})).ok(),
            Some(None)
        );
        assert_eq!(function_parameters(&json!({})).ok(), Some(None));
        assert!(matches!(
            function_parameters(
                &json!({"type": "object", "properties": {"a": {"type": "string"}}})
            ),
            Ok(Some(_))
        ));
    }

    #[test]
    fn hostile_schemas_do_not_panic_or_explode() {
        // Deep nesting.
        let mut deep = json!({"type": "string"});
        for _ in 0..200 {
            deep = json!({"type": "array", "items": deep});
        }
        assert!(sanitize_schema(&deep).is_err());
        // A diamond of references that doubles at every level.
        let mut defs = Map::new();
        for i in 0..30 {
            defs.insert(format!("D{i}"), json!({"type": "object", "properties": {
                "l": {"$ref": format!("#/$defs/D{}", i + 1)}, "r": {"$ref": format!("#/$defs/D{}", i + 1)}}}));
        }
        defs.insert("D30".into(), json!({"type": "string"}));
        let diamond = json!({"$defs": defs, "$ref": "#/$defs/D0"});
        assert!(
            sanitize_schema(&diamond).is_err(),
            "too many nodes once inlined"
        );
        // Odd values everywhere.
        for odd in [
            json!(null),
            json!(3),
            json!("x"),
            json!([1]),
            json!({"type": 5, "properties": [], "items": 3, "required": "a", "$ref": 7}),
        ] {
            let _ = sanitize_schema(&odd);
        }
    }
}
