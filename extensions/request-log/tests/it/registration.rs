//! What `#[extension]` generated: the descriptor, its registration, the
//! config schema and validation.

use serde_json::json;
use switchboard_core::extension::{Hooks, extension_catalog};

#[test]
fn registered_with_its_hooks_and_schema() {
    let catalog = extension_catalog().expect("catalog");
    let descriptor = catalog.get("request-log").expect("registered");
    assert_eq!(
        descriptor.hooks,
        Hooks::REQUEST
            .union(Hooks::RESPONSE)
            .union(Hooks::EVENT)
            .union(Hooks::COMPLETE)
    );
    let schema = descriptor.config_schema();
    for key in [
        "path",
        "max_bytes",
        "max_files",
        "bodies",
        "sample_rate",
        "queue_capacity",
    ] {
        assert!(
            schema["properties"].get(key).is_some(),
            "schema has `{key}`"
        );
    }
    descriptor
        .validate(&json!({}))
        .expect("every key has a default");
    descriptor
        .validate(&json!({"sample_rate": 2.0}))
        .expect_err("out of range");
}
