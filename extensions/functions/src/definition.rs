//! A function's definition (what `define` takes and the store keeps), its
//! checks, and the compiled form calls use.

use jsonschema::Validator;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use switchboard_core::Error;

use crate::template;

/// The names of the built-in methods; no function may take one.
pub const BUILT_IN_METHODS: [&str; 4] = ["define", "list", "remove", "get"];

/// The longest function name.
pub const MAX_NAME_LEN: usize = 64;

/// The largest `description` or `system` prompt, in bytes.
pub const MAX_TEXT_BYTES: usize = 16 * 1024;

/// The largest `parameters` or `output_schema`, serialized, in bytes.
pub const MAX_SCHEMA_BYTES: usize = 64 * 1024;

/// A function as defined by `define`: stored as JSON under its name in the
/// `functions` namespace of the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionDefinition {
    /// The function's name (`[a-z0-9_-]`): the method it is called as.
    pub name: String,
    /// What it does.
    #[serde(default)]
    pub description: String,
    /// The prompt template, with `{{param}}` placeholders.
    pub template: String,
    /// The JSON Schema of its arguments (an object schema).
    pub parameters: Value,
    /// The model or alias it runs on (`fast`, `openai/gpt-4o-mini`).
    pub model: String,
    /// An optional system prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// The JSON Schema its answer must match; without one it answers
    /// `{"text": "..."}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<Value>,
}

impl FunctionDefinition {
    /// The JSON Schema of what calling it returns.
    pub fn result_schema(&self) -> Value {
        self.output_schema
            .clone()
            .unwrap_or_else(text_result_schema)
    }
}

/// The result schema of a function without an output schema.
pub fn text_result_schema() -> Value {
    json!({
        "type": "object",
        "properties": {"text": {"type": "string"}},
        "required": ["text"]
    })
}

/// Whether `name` may name a function: `[a-z0-9_-]`, 1 to 64 characters.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// Checks `name` for `define`, `get` and `remove`.
pub(crate) fn check_name(name: &str) -> Result<(), Error> {
    if !is_valid_name(name) {
        return Err(Error::invalid_param(
            "name",
            format!(
                "`name` must be 1 to {MAX_NAME_LEN} characters of lowercase letters, digits, \
                 `_` or `-` (got {name:?})"
            ),
        ));
    }
    Ok(())
}

/// Compiles `schema`, naming `field` when it is not a valid JSON Schema.
fn compile(field: &'static str, schema: &Value) -> Result<Validator, Error> {
    if serde_json::to_string(schema).map_or(0, |s| s.len()) > MAX_SCHEMA_BYTES {
        return Err(Error::invalid_param(
            field,
            format!("`{field}` is larger than {MAX_SCHEMA_BYTES} bytes"),
        ));
    }
    jsonschema::validator_for(schema).map_err(|e| {
        Error::invalid_param(
            field,
            format!(
                "`{field}` is not a valid JSON Schema: {e} (at `{}`)",
                e.instance_path()
            ),
        )
    })
}

/// A definition checked and compiled, ready to be called.
#[derive(Debug)]
pub struct CompiledFunction {
    /// The definition.
    pub definition: FunctionDefinition,
    /// Its `parameters`, compiled.
    pub(crate) parameters: Validator,
    /// Its `output_schema`, compiled.
    pub(crate) output: Option<Validator>,
}

impl CompiledFunction {
    /// Checks every rule `define` enforces and compiles both schemas;
    /// `max_template_bytes` bounds the template. Errors name the field.
    pub fn new(
        definition: FunctionDefinition,
        max_template_bytes: usize,
    ) -> Result<CompiledFunction, Error> {
        let d = &definition;
        check_name(&d.name)?;
        if BUILT_IN_METHODS.contains(&d.name.as_str()) {
            return Err(Error::invalid_param(
                "name",
                format!(
                    "`{}` is a built-in method of this extension; choose another name \
                     (reserved: {})",
                    d.name,
                    BUILT_IN_METHODS.join(", ")
                ),
            ));
        }
        if d.model.trim().is_empty() {
            return Err(Error::invalid_param(
                "model",
                "`model` must name a model or alias",
            ));
        }
        if d.template.trim().is_empty() {
            return Err(Error::invalid_param("template", "`template` is empty"));
        }
        if d.template.len() > max_template_bytes {
            return Err(Error::invalid_param(
                "template",
                format!(
                    "`template` is {} bytes, more than max_template_bytes ({max_template_bytes})",
                    d.template.len()
                ),
            ));
        }
        for (field, text) in [
            ("description", Some(&d.description)),
            ("system", d.system.as_ref()),
        ] {
            if text.is_some_and(|t| t.len() > MAX_TEXT_BYTES) {
                return Err(Error::invalid_param(
                    field,
                    format!("`{field}` is larger than {MAX_TEXT_BYTES} bytes"),
                ));
            }
        }
        let properties = check_parameters_shape(&d.parameters)?;
        let used = template::placeholders(&d.template)
            .map_err(|msg| Error::invalid_param("template", format!("`template`: {msg}")))?;
        let undeclared: Vec<&str> = used
            .iter()
            .map(String::as_str)
            .filter(|p| !properties.contains_key(*p))
            .collect();
        if !undeclared.is_empty() {
            return Err(Error::invalid_param(
                "template",
                format!(
                    "`template` uses {} not declared in `parameters.properties`: {}",
                    if undeclared.len() == 1 {
                        "a placeholder"
                    } else {
                        "placeholders"
                    },
                    undeclared
                        .iter()
                        .map(|p| format!("{{{{{p}}}}}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        let parameters = compile("parameters", &d.parameters)?;
        let output = match &d.output_schema {
            Some(schema) => Some(compile("output_schema", schema)?),
            None => None,
        };
        Ok(CompiledFunction {
            definition,
            parameters,
            output,
        })
    }

    /// Checks `arguments` against `parameters`: an `invalid_request` error
    /// naming the first bad argument.
    pub fn check_arguments(&self, arguments: &Value) -> Result<(), Error> {
        if !arguments.is_object() {
            return Err(Error::invalid_request(format!(
                "function `{}` takes an object of arguments, got {}",
                self.definition.name,
                kind_of(arguments)
            )));
        }
        let Some(error) = self.parameters.iter_errors(arguments).next() else {
            return Ok(());
        };
        let argument = match error.kind() {
            jsonschema::error::ValidationErrorKind::Required { property } => {
                property.as_str().map(str::to_owned)
            }
            jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } => {
                unexpected.first().cloned()
            }
            _ => None,
        }
        .or_else(|| {
            error
                .instance_path()
                .iter()
                .next()
                .map(|segment| segment.to_string())
        });
        Err(match argument {
            Some(arg) => Error::invalid_param(
                arg.clone(),
                format!(
                    "function `{}`: argument `{arg}` is invalid: {error}",
                    self.definition.name
                ),
            ),
            None => Error::invalid_request(format!(
                "function `{}`: invalid arguments: {error}",
                self.definition.name
            )),
        })
    }
}

/// `parameters` must be an object schema with a `properties` object (which
/// may be empty); returns the properties.
fn check_parameters_shape(parameters: &Value) -> Result<&serde_json::Map<String, Value>, Error> {
    let Some(schema) = parameters.as_object() else {
        return Err(Error::invalid_param(
            "parameters",
            "`parameters` must be a JSON Schema object like \
             {\"type\": \"object\", \"properties\": {...}}",
        ));
    };
    if let Some(t) = schema.get("type")
        && t != "object"
    {
        return Err(Error::invalid_param(
            "parameters",
            format!("`parameters.type` must be \"object\" (got {t})"),
        ));
    }
    static EMPTY: std::sync::OnceLock<serde_json::Map<String, Value>> = std::sync::OnceLock::new();
    match schema.get("properties") {
        None => Ok(EMPTY.get_or_init(serde_json::Map::new)),
        Some(Value::Object(props)) => Ok(props),
        Some(other) => Err(Error::invalid_param(
            "parameters",
            format!(
                "`parameters.properties` must be an object, got {}",
                kind_of(other)
            ),
        )),
    }
}

/// A JSON value's kind, for messages.
pub(crate) fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
