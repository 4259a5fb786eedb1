//! `#[extension]` registers the extension with its mount, hooks and a
//! config whose every key has a default.

use std::sync::Arc;

use serde_json::json;
use switchboard_core::extension::{ExtensionContext, Gateway, Hooks, extension_catalog};
use switchboard_ext_functions::Functions;
use tokio_util::sync::CancellationToken;

use crate::fakes::{FakeGateway, MemoryStore};

#[tokio::test]
async fn registered_with_its_mount_and_a_defaulted_config() {
    let catalog = extension_catalog().expect("no duplicate names or mounts");
    let descriptor = catalog.get("functions").expect("registered");
    assert_eq!(descriptor.type_path, Functions::DESCRIPTOR.type_path);
    assert_eq!(descriptor.mount, "/v1/functions");
    assert_eq!(descriptor.hooks, Hooks::METHODS);
    assert!(descriptor.description.contains("Self-defining functions"));

    descriptor
        .validate(&json!({}))
        .expect("every key has a default");
    let err = descriptor
        .validate(&json!({"max_functions": 0}))
        .expect_err("zero functions is useless");
    assert!(err.message().contains("max_functions"), "{err}");
    descriptor
        .validate(&json!({"no_such_key": 1}))
        .expect_err("unknown keys are refused");
    let schema = descriptor.config_schema();
    assert!(
        schema["properties"]["admin_only_define"].is_object(),
        "{schema}"
    );

    let ctx = ExtensionContext {
        name: Arc::from("functions"),
        store: Arc::new(MemoryStore::default()),
        gateway: FakeGateway::answering(&[]) as Arc<dyn Gateway>,
        cancel: CancellationToken::new(),
    };
    let built = descriptor.build(json!({}), ctx).await.expect("builds");
    assert_eq!(built.methods().len(), 4);
    assert_eq!(built.status(), json!({"functions": 0}));
}
