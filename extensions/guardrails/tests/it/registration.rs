//! What `#[extension]` generated: the descriptor, its registration, the
//! config schema and validation.

use serde_json::json;
use switchboard_core::extension::{Hooks, extension_catalog};
use switchboard_ext_guardrails::Guardrails;

#[test]
fn registered_with_its_hooks_and_schema() {
    let catalog = extension_catalog().expect("catalog");
    let descriptor = catalog.get("guardrails").expect("registered");
    assert_eq!(descriptor.name, Guardrails::DESCRIPTOR.name);
    assert_eq!(
        descriptor.hooks,
        Hooks::REQUEST.union(Hooks::RESPONSE).union(Hooks::EVENT)
    );
    let schema = descriptor.config_schema();
    for key in ["redact", "deny", "deny_case_insensitive", "max_match_chars"] {
        assert!(
            schema["properties"].get(key).is_some(),
            "schema has `{key}`"
        );
    }
    descriptor
        .validate(&json!({}))
        .expect("every key has a default");
    descriptor
        .validate(&json!({"deny": ["(unclosed"]}))
        .expect_err("a bad pattern is refused at validation");
}
