//! `[providers.<instance>]`: the runtime's keys, then the provider's own
//! config type, with "build with `--features x`" hints for unknown kinds.

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json};
use switchboard_core::ProviderDescriptor;

use super::Validator;
use crate::config::diagnostics::{closest, coerce, list};
use crate::config::key_path::KeyPath;
use crate::config::types::{InstanceConfig, ProviderFeature};

/// The property names of a provider's config schema.
fn schema_properties(d: &ProviderDescriptor) -> Vec<String> {
    d.config_schema()
        .get("properties")
        .and_then(Json::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

impl Validator<'_> {
    pub(super) fn providers(
        &mut self,
        value: Option<Json>,
    ) -> (BTreeMap<String, InstanceConfig>, Vec<String>) {
        let base = KeyPath::root().key("providers");
        let map = match value {
            None | Some(Json::Null) => return Default::default(),
            Some(Json::Object(m)) => m,
            Some(other) => {
                let message = format!(
                    "expected a table of provider instances, found {}",
                    self.found(&base, &other)
                );
                self.issue(&base, message);
                return Default::default();
            }
        };
        let names: Vec<String> = map.keys().cloned().collect();
        let mut out = BTreeMap::new();
        for (name, value) in map {
            if let Some(instance) = self.instance(&name, value) {
                out.insert(name, instance);
            }
        }
        (out, names)
    }

    fn instance(&mut self, name: &str, value: Json) -> Option<InstanceConfig> {
        let base = KeyPath::root().key("providers").key(name);
        if name.contains('/') {
            self.issue(
                &base,
                "an instance name cannot contain `/` (targets are written `instance/model`)"
                    .to_owned(),
            );
        }
        let mut settings = match value {
            Json::Null => Map::new(),
            Json::Object(m) => m,
            other => {
                let message = format!(
                    "expected a table of provider settings, found {}",
                    self.found(&base, &other)
                );
                self.issue(&base, message);
                return None;
            }
        };
        let kind = match settings.remove("kind") {
            None => Ok(None),
            Some(Json::String(k)) => Ok(Some(k)),
            Some(other) => {
                let path = base.key("kind");
                let message = format!(
                    "expected a string (a provider name), found {}",
                    self.found(&path, &other)
                );
                self.issue(&path, message);
                Err(())
            }
        };
        let enabled = match settings.remove("enabled") {
            None => true,
            Some(v) => {
                let path = base.key("enabled");
                match (&v, self.coercible(&path)) {
                    (Json::Bool(b), _) => *b,
                    (Json::String(_), Some(_)) if coerce(&v, "a boolean").is_some() => {
                        coerce(&v, "a boolean")
                            .and_then(|b| b.as_bool())
                            .unwrap_or(true)
                    }
                    _ => {
                        let message =
                            format!("expected a boolean, found {}", self.found(&path, &v));
                        self.issue(&path, message);
                        true
                    }
                }
            }
        };
        let kind = kind.ok()?;
        let kind_name = kind.as_deref().unwrap_or(name);
        let Some(descriptor) = self.catalog.get(kind_name) else {
            let (path, message) = self.unknown_kind(name, kind.is_some(), kind_name);
            self.issue(&path, message);
            return None;
        };
        let props = schema_properties(descriptor);
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
        Some(InstanceConfig {
            kind,
            enabled,
            settings,
        })
    }

    fn unknown_kind(&self, instance: &str, explicit: bool, kind: &str) -> (KeyPath, String) {
        let base = KeyPath::root().key("providers").key(instance);
        let linked = self.catalog.names();
        let linked_text = if linked.is_empty() {
            "no provider is linked into this build".to_owned()
        } else {
            format!("linked providers: {}", list(&linked))
        };
        let (path, mut message) = if explicit {
            (
                base.key("kind"),
                format!("unknown provider kind `{kind}` ({linked_text})"),
            )
        } else {
            (
                base,
                format!(
                    "no `kind`, and the instance name `{kind}` is not a provider kind \
                     ({linked_text})"
                ),
            )
        };
        let feature_hint = |k: &ProviderFeature| {
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
        let unlinked = self
            .known
            .iter()
            .filter(|k| !linked.contains(&k.provider))
            .map(|k| k.provider);
        if let Some(k) = self.known.iter().find(|k| k.provider == kind) {
            message.push_str(&format!("; {}", feature_hint(k)));
        } else if let Some(c) = closest(kind, linked.iter().copied()) {
            message.push_str(&format!("; did you mean `{c}`?"));
        } else if let Some(c) = closest(kind, unlinked)
            && let Some(k) = self.known.iter().find(|k| k.provider == c)
        {
            message.push_str(&format!("; did you mean `{c}`? {}", feature_hint(k)));
        } else if !explicit && !linked.is_empty() {
            message.push_str("; set `kind` to one of them");
        }
        (path, message)
    }
}
