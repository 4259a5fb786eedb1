//! The schema checks: the config's and every method's.

use serde_json::{Value, json};
use switchboard_core::extension::{ExtensionDescriptor, MethodInfo};

/// Whether `name` is a valid method name: `[a-z0-9_-]+`.
pub(crate) fn valid_method_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// Compiles `schema` as a JSON Schema (draft detected from `$schema`).
pub(crate) fn compile(schema: &Value) -> Result<jsonschema::Validator, String> {
    if !schema.is_object() && !schema.is_boolean() {
        return Err(format!(
            "a JSON Schema is an object or a boolean, not `{schema}`"
        ));
    }
    jsonschema::validator_for(schema).map_err(|e| format!("not a valid JSON Schema: {e}"))
}

/// The config schema is a compilable object schema, `{}` validates against
/// it and passes the extension's own validation, and so does `config`.
pub(crate) fn check_config(descriptor: &ExtensionDescriptor, config: &Value) -> Result<(), String> {
    let schema = descriptor.config_schema();
    if !schema.is_object() {
        return Err(format!(
            "the config schema is not a JSON object: `{schema}`"
        ));
    }
    let validator = compile(&schema).map_err(|e| format!("the config schema is {e}"))?;
    let empty = json!({});
    if let Some(e) = validator.iter_errors(&empty).next() {
        return Err(format!(
            "`{{}}` does not validate against the config schema ({e} at `{}`): \
             every key must have a default so that `enabled = true` alone works",
            e.instance_path()
        ));
    }
    descriptor
        .validate(&empty)
        .map_err(|e| format!("`{{}}` is refused by the extension's config validation: {e}"))?;
    if let Some(e) = validator.iter_errors(config).next() {
        return Err(format!(
            "the test config does not validate against the config schema: {e} at `{}`",
            e.instance_path()
        ));
    }
    Ok(())
}

/// Every method: a valid unique name, an object schema for its arguments
/// and a valid schema for its result.
pub(crate) fn check_methods(methods: &[MethodInfo]) -> Result<(), String> {
    let mut problems = Vec::new();
    for (i, m) in methods.iter().enumerate() {
        if !valid_method_name(&m.name) {
            problems.push(format!(
                "method name `{}` must match `[a-z0-9_-]+` (it is a URL path segment)",
                m.name
            ));
        }
        if methods[..i].iter().any(|p| p.name == m.name) {
            problems.push(format!("method `{}` is listed twice", m.name));
        }
        if m.description.trim().is_empty() {
            problems.push(format!("method `{}` has no description", m.name));
        }
        if let Err(e) = compile(&m.arguments) {
            problems.push(format!("method `{}`: its arguments schema is {e}", m.name));
        } else if m.arguments.get("type").is_some_and(|t| t != "object") {
            problems.push(format!(
                "method `{}`: its arguments schema must describe an object, not `{}`",
                m.name, m.arguments["type"]
            ));
        }
        if let Err(e) = compile(&m.result) {
            problems.push(format!("method `{}`: its result schema is {e}", m.name));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_names() {
        for ok in ["define", "list_all", "a-1"] {
            assert!(valid_method_name(ok), "{ok}");
        }
        for bad in ["", "Define", "a.b", "a/b", "é"] {
            assert!(!valid_method_name(bad), "{bad}");
        }
    }

    #[test]
    fn method_schemas() {
        let good = MethodInfo::new("m", "does m", json!({"type": "object"}), json!(true));
        assert!(check_methods(std::slice::from_ref(&good)).is_ok());
        let bad_schema = MethodInfo::new("m", "x", json!({"type": 12}), json!({}));
        let e = check_methods(&[bad_schema]).expect_err("invalid schema");
        assert!(
            e.contains("arguments schema is not a valid JSON Schema"),
            "{e}"
        );
        let not_object = MethodInfo::new("m", "x", json!({"type": "string"}), json!({}));
        assert!(check_methods(&[not_object]).is_err());
        let e = check_methods(&[good.clone(), good]).expect_err("twice");
        assert!(e.contains("listed twice"), "{e}");
        let bad_result = MethodInfo::new("m", "x", json!({}), json!("string"));
        assert!(check_methods(&[bad_result]).is_err());
    }
}
