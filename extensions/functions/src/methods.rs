//! The built-in methods' descriptions and schemas.

use serde_json::{Value, json};
use switchboard_core::extension::MethodInfo;

use crate::definition::{FunctionDefinition, MAX_NAME_LEN};

/// The JSON Schema of a function name argument.
fn name_schema() -> Value {
    json!({
        "type": "string",
        "pattern": "^[a-z0-9_-]+$",
        "minLength": 1,
        "maxLength": MAX_NAME_LEN,
        "description": "The function's name."
    })
}

/// The JSON Schema of a stored definition, as `get` and `list` return it.
fn definition_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "description": {"type": "string"},
            "template": {"type": "string"},
            "parameters": {"type": "object"},
            "model": {"type": "string"},
            "system": {"type": "string"},
            "output_schema": {"type": "object"},
            "result": {"type": "object", "description": "The JSON Schema of what calling it returns."}
        },
        "required": ["name", "template", "parameters", "model", "result"]
    })
}

/// A definition with its result schema, as `get`, `list` and `define` return it.
pub(crate) fn definition_view(definition: &FunctionDefinition) -> Value {
    let mut value = serde_json::to_value(definition).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.insert("result".to_owned(), definition.result_schema());
    }
    value
}

/// `define`, `list`, `remove` and `get`; `define` and `remove` admin-only
/// when `admin_only_define` is set.
pub(crate) fn built_ins(admin_only_define: bool) -> Vec<MethodInfo> {
    let admin = |m: MethodInfo| if admin_only_define { m.admin_only() } else { m };
    let name_only = json!({
        "type": "object",
        "properties": {"name": name_schema()},
        "required": ["name"],
        "additionalProperties": false
    });
    vec![
        admin(MethodInfo::new(
            "define",
            "Defines (or replaces) a function: a prompt template with `{{param}}` placeholders, \
             its parameters as a JSON Schema, the model or alias to run it on, an optional \
             system prompt and an optional output JSON Schema. The function is then callable \
             as a method of its own name.",
            json!({
                "type": "object",
                "properties": {
                    "name": name_schema(),
                    "description": {"type": "string"},
                    "template": {"type": "string", "minLength": 1},
                    "parameters": {"type": "object"},
                    "model": {"type": "string", "minLength": 1},
                    "system": {"type": "string"},
                    "output_schema": {"type": "object"}
                },
                "required": ["name", "template", "parameters", "model"],
                "additionalProperties": false
            }),
            json!({
                "type": "object",
                "properties": {
                    "function": definition_schema(),
                    "replaced": {"type": "boolean"}
                },
                "required": ["function", "replaced"]
            }),
        )),
        MethodInfo::new(
            "list",
            "Every defined function with its schemas.",
            json!({"type": "object", "properties": {}, "additionalProperties": false}),
            json!({
                "type": "object",
                "properties": {"functions": {"type": "array", "items": definition_schema()}},
                "required": ["functions"]
            }),
        ),
        MethodInfo::new(
            "get",
            "One defined function with its schemas.",
            name_only.clone(),
            definition_schema(),
        ),
        admin(MethodInfo::new(
            "remove",
            "Removes a defined function (404 if there is none of that name).",
            name_only,
            json!({
                "type": "object",
                "properties": {"removed": {"type": "string"}},
                "required": ["removed"]
            }),
        )),
    ]
}

/// The method a defined function is called as.
pub(crate) fn function_method(definition: &FunctionDefinition) -> MethodInfo {
    let description = if definition.description.is_empty() {
        format!("A defined function running on `{}`.", definition.model)
    } else {
        definition.description.clone()
    };
    MethodInfo::new(
        definition.name.clone(),
        description,
        definition.parameters.clone(),
        definition.result_schema(),
    )
}
