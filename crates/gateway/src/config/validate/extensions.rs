//! `[extensions.<name>]`: the gateway's keys (`enabled`, `order`), then the
//! extension's own config type, with "build with `--features x`" hints for
//! extensions this build does not link; and the names that narrow which
//! extensions apply (`[models.<alias>] extensions`, client keys' `extensions`).

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json};
use switchboard_core::extension::ExtensionCatalog;

use super::Validator;
use crate::config::diagnostics::{closest, list};
use crate::config::key_path::KeyPath;
use crate::config::types::{Config, ExtensionConfig, ProviderFeature};

/// The property names of an extension's config schema.
fn schema_properties(schema: &Json) -> Vec<String> {
    schema
        .get("properties")
        .and_then(Json::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

impl Validator<'_> {
    pub(super) fn extensions(&mut self, value: Option<Json>) -> BTreeMap<String, ExtensionConfig> {
        let base = KeyPath::root().key("extensions");
        let map = match value {
            None | Some(Json::Null) => return BTreeMap::new(),
            Some(Json::Object(m)) => m,
            Some(other) => {
                let message = format!(
                    "expected a table of extensions, found {}",
                    self.found(&base, &other)
                );
                self.issue(&base, message);
                return BTreeMap::new();
            }
        };
        let catalog = match switchboard_core::extension::extension_catalog() {
            Ok(c) => c,
            Err(e) => {
                self.issue(&base, e.to_string());
                return BTreeMap::new();
            }
        };
        let mut out = BTreeMap::new();
        for (name, value) in map {
            if let Some(ext) = self.extension(catalog, &name, value) {
                out.insert(name, ext);
            }
        }
        out
    }

    fn extension(
        &mut self,
        catalog: &ExtensionCatalog,
        name: &str,
        value: Json,
    ) -> Option<ExtensionConfig> {
        let base = KeyPath::root().key("extensions").key(name);
        let mut settings = match value {
            Json::Null => Map::new(),
            Json::Object(m) => m,
            other => {
                let message = format!(
                    "expected a table of extension settings, found {}",
                    self.found(&base, &other)
                );
                self.issue(&base, message);
                return None;
            }
        };
        let enabled = match settings.remove("enabled") {
            None => false,
            Some(v) => self.typed::<bool>(&base.key("enabled"), v).unwrap_or(false),
        };
        let order = match settings.remove("order") {
            None => 0,
            Some(v) => self.typed::<i32>(&base.key("order"), v).unwrap_or(0),
        };
        let Some(descriptor) = catalog.get(name) else {
            let message = self.unknown_extension(catalog, name);
            self.issue(&base, message);
            return None;
        };
        let props = schema_properties(&descriptor.config_schema());
        let (_, checked) = self.repair(&base, Json::Object(settings), &props, |v| {
            descriptor.validate(v).map_err(|e| {
                (
                    KeyPath::parse(e.param().unwrap_or(".")),
                    e.message().to_owned(),
                )
            })
        })?;
        let Json::Object(settings) = checked else {
            return None;
        };
        Some(ExtensionConfig {
            enabled,
            order,
            settings,
        })
    }

    fn unknown_extension(&self, catalog: &ExtensionCatalog, name: &str) -> String {
        let linked = catalog.names();
        let linked_text = if linked.is_empty() {
            "no extension is linked into this build".to_owned()
        } else {
            format!("linked extensions: {}", list(&linked))
        };
        let mut message = format!("unknown extension `{name}` ({linked_text})");
        let hint = |k: &ProviderFeature| {
            if k.enabled {
                format!(
                    "`{}` should be linked by the `{}` feature, which is on, but it is not in \
                     the catalog",
                    k.provider, k.feature
                )
            } else {
                format!(
                    "`{}` is in the `{}` feature: build with `--features {}`",
                    k.provider, k.feature, k.feature
                )
            }
        };
        if let Some(k) = self.known_extensions.iter().find(|k| k.provider == name) {
            message.push_str(&format!("; {}", hint(k)));
        } else if let Some(c) = closest(name, linked.iter().copied()) {
            message.push_str(&format!("; did you mean `{c}`?"));
        } else if let Some(c) = closest(name, self.known_extensions.iter().map(|k| k.provider))
            && let Some(k) = self.known_extensions.iter().find(|k| k.provider == c)
        {
            message.push_str(&format!("; did you mean `{c}`? {}", hint(k)));
        }
        message
    }

    /// Every name in an alias's or a client key's `extensions` must be a
    /// configured extension.
    pub(super) fn extension_narrowing(&mut self, config: &Config) {
        let configured: Vec<&str> = config.extensions.keys().map(String::as_str).collect();
        let check = |this: &mut Self, path: KeyPath, names: &[String]| {
            for (i, n) in names.iter().enumerate() {
                if configured.contains(&n.as_str()) {
                    continue;
                }
                let mut message = format!(
                    "unknown extension `{n}` (configured extensions: {})",
                    if configured.is_empty() {
                        "none".to_owned()
                    } else {
                        list(&configured)
                    }
                );
                if let Some(c) = closest(n, configured.iter().copied()) {
                    message.push_str(&format!("; did you mean `{c}`?"));
                }
                this.issue(&path.index(i), message);
            }
        };
        for (alias, a) in &config.models {
            if let Some(names) = &a.extensions {
                let path = KeyPath::root().key("models").key(alias).key("extensions");
                check(self, path, names);
            }
        }
        for (i, k) in config.server.api_keys.iter().enumerate() {
            if let Some(names) = &k.extensions {
                let path = KeyPath::root()
                    .key("server")
                    .key("api_keys")
                    .index(i)
                    .key("extensions");
                check(self, path, names);
            }
        }
    }
}
