//! The testkit's extension conformance check.

use serde_json::json;
use switchboard_ext_cache::Cache;

/// The contract every extension keeps (config schema, hooks on awkward
/// inputs, refusal statuses, method schemas, unknown methods), on the
/// defaults and on a config that uses every key.
#[test]
fn conformance() {
    switchboard_testkit::assert_extension_conforms(Cache::DESCRIPTOR, json!({}));
    switchboard_testkit::assert_extension_conforms(
        Cache::DESCRIPTOR,
        json!({
            "ttl_secs": 60,
            "max_bytes": 100_000,
            "max_entry_bytes": 1000,
            "per_key": true,
            "all_models": false,
            "models": {"fast": {"ttl_secs": 5}, "gpt-x": {"enabled": false}}
        }),
    );
}

#[test]
fn registered_in_the_extension_catalog() {
    let catalog = switchboard_core::extension::extension_catalog().expect("unique names");
    let d = catalog.get("cache").expect("registered");
    assert!(!d.description.is_empty());
}

#[test]
fn config_errors_name_the_key() {
    let d = Cache::DESCRIPTOR;
    assert!(d.validate(&json!({})).is_ok());
    let err = d
        .validate(&json!({"max_bytes": 100, "max_entry_bytes": 1000}))
        .expect_err("entry larger than the cache");
    assert_eq!(err.param(), Some("max_entry_bytes"));
    let err = d
        .validate(&json!({"models": {"fast": {"ttl_secs": 0}}}))
        .expect_err("zero TTL");
    assert_eq!(err.param(), Some("models.\"fast\".ttl_secs"));
    assert!(d.validate(&json!({"ttl": 5})).is_err(), "unknown key");
    assert!(
        d.validate(&json!({"models": {"fast": {"ttl": 5}}}))
            .is_err(),
        "unknown model key"
    );
}
