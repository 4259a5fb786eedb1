//! For the features this test was built with: every enabled provider is in
//! the catalog, and no disabled one is. CI runs it with each provider
//! feature alone, so a provider never depends on another being linked.

use switchboard::{PROVIDER_FEATURES, catalog};

#[test]
fn enabled_features_and_catalog_agree() {
    let catalog = catalog().expect("no two linked providers share a name");
    for f in PROVIDER_FEATURES {
        let linked = catalog.get(f.provider).is_some();
        assert_eq!(
            linked,
            f.enabled,
            "provider `{}`: feature `{}` is {} but the provider is {} the catalog",
            f.provider,
            f.feature,
            if f.enabled { "on" } else { "off" },
            if linked { "in" } else { "missing from" },
        );
    }
    // Nothing is linked that the facade does not know about.
    for d in catalog.iter() {
        assert!(
            PROVIDER_FEATURES.iter().any(|f| f.provider == d.name),
            "provider `{}` from crate `{}` is linked but has no entry in PROVIDER_FEATURES",
            d.name,
            d.crate_name
        );
    }
}

#[test]
fn every_linked_descriptor_is_complete() {
    for d in catalog().expect("catalog").iter() {
        assert!(!d.description.is_empty(), "{} has no description", d.name);
        assert!(!d.version.is_empty(), "{} has no version", d.name);
        let schema = d.config_schema();
        assert!(
            schema.get("$schema").is_some(),
            "{}: config schema is not a JSON Schema document: {schema}",
            d.name
        );
    }
}

#[test]
fn unknown_kind_names_linked_providers_and_features() {
    let catalog = catalog().expect("catalog");
    let msg = switchboard::unknown_kind(catalog, "nope").to_string();
    assert!(msg.contains("unknown provider kind `nope`"), "{msg}");
    for name in catalog.names() {
        assert!(msg.contains(name), "{msg}");
    }
}

#[test]
fn enabled_extension_features_and_extension_catalog_agree() {
    let catalog = switchboard::extension::extension_catalog()
        .expect("no two linked extensions share a name or a mount");
    for f in switchboard::EXTENSION_FEATURES {
        let linked = catalog.get(f.provider).is_some();
        assert_eq!(
            linked,
            f.enabled,
            "extension `{}`: feature `{}` is {} but the extension is {} the catalog",
            f.provider,
            f.feature,
            if f.enabled { "on" } else { "off" },
            if linked { "in" } else { "missing from" },
        );
    }
    for d in catalog.iter() {
        assert!(
            switchboard::EXTENSION_FEATURES
                .iter()
                .any(|f| f.provider == d.name),
            "extension `{}` from crate `{}` is linked but has no entry in EXTENSION_FEATURES",
            d.name,
            d.crate_name
        );
        assert!(!d.description.is_empty(), "{} has no description", d.name);
    }
}
