//! `[models.<alias>]`: strategy, targets and weights, each target naming a
//! configured instance.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value as Json;

use super::{Validator, unknown_key};
use crate::config::diagnostics::{closest, list};
use crate::config::key_path::KeyPath;
use crate::config::types::{ModelAlias, Strategy, TargetSpec};

/// An alias target written as a table.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WeightedTarget {
    target: String,
    #[serde(default = "one")]
    weight: u32,
}

fn one() -> u32 {
    1
}

impl Validator<'_> {
    pub(super) fn models(
        &mut self,
        value: Option<Json>,
        instances: &[String],
    ) -> BTreeMap<String, ModelAlias> {
        let base = KeyPath::root().key("models");
        let map = match value {
            None | Some(Json::Null) => return BTreeMap::new(),
            Some(Json::Object(m)) => m,
            Some(other) => {
                let message = format!(
                    "expected a table of model aliases, found {}",
                    self.found(&base, &other)
                );
                self.issue(&base, message);
                return BTreeMap::new();
            }
        };
        let mut out = BTreeMap::new();
        for (name, value) in map {
            if let Some(alias) = self.alias(&base.key(&name), &name, value, instances) {
                out.insert(name, alias);
            }
        }
        out
    }

    fn alias(
        &mut self,
        base: &KeyPath,
        name: &str,
        value: Json,
        instances: &[String],
    ) -> Option<ModelAlias> {
        let before = self.issues.len();
        if name.contains('/') {
            self.issue(
                base,
                "an alias cannot contain `/` (that is how `instance/model` targets are written)"
                    .to_owned(),
            );
        }
        let Json::Object(mut map) = value else {
            let message = format!(
                "expected a table with `targets` (and optionally `strategy`), found {}",
                self.found(base, &value)
            );
            self.issue(base, message);
            return None;
        };
        const KEYS: &[&str] = &["strategy", "targets", "fallback_on", "extensions"];
        let keys: Vec<String> = KEYS.iter().map(|k| (*k).to_owned()).collect();
        for key in map.keys() {
            if !KEYS.contains(&key.as_str()) {
                let message = unknown_key(key, &keys);
                self.issue(&base.key(key), message);
            }
        }
        let strategy = match map.remove("strategy") {
            None => Strategy::default(),
            Some(v) => self
                .typed::<Strategy>(&base.key("strategy"), v)
                .unwrap_or_default(),
        };
        let fallback_on = self.fallback_on(base, &mut map);
        let extensions = match map.remove("extensions") {
            None | Some(Json::Null) => None,
            Some(v) => self.typed::<Vec<String>>(&base.key("extensions"), v),
        };
        let targets_path = base.key("targets");
        let items = match map.remove("targets") {
            None => {
                self.issue(
                    &targets_path,
                    "required key is missing: an alias needs at least one `instance/model` target"
                        .to_owned(),
                );
                Vec::new()
            }
            Some(Json::Array(items)) => {
                if items.is_empty() {
                    self.issue(
                        &targets_path,
                        "an alias needs at least one `instance/model` target".to_owned(),
                    );
                }
                items
            }
            Some(other) => {
                let message = format!(
                    "expected an array of `instance/model` targets, found {}",
                    self.found(&targets_path, &other)
                );
                self.issue(&targets_path, message);
                Vec::new()
            }
        };
        let mut targets = Vec::new();
        for (i, item) in items.into_iter().enumerate() {
            let path = targets_path.index(i);
            let (spec, target_path) = match item {
                Json::String(s) => (TargetSpec::Plain(s), path.clone()),
                Json::Object(_) => match self.typed::<WeightedTarget>(&path, item) {
                    Some(w) => (
                        TargetSpec::Weighted {
                            target: w.target,
                            weight: w.weight,
                        },
                        path.key("target"),
                    ),
                    None => continue,
                },
                other => {
                    let message = format!(
                        "expected `instance/model` or a table with `target` and `weight`, found {}",
                        self.found(&path, &other)
                    );
                    self.issue(&path, message);
                    continue;
                }
            };
            self.check_target(&target_path, spec.target(), instances);
            if strategy == Strategy::Weighted && spec.weight() == 0 {
                self.issue(
                    &path.key("weight"),
                    "a `weighted` alias needs positive weights, found 0".to_owned(),
                );
            }
            targets.push(spec);
        }
        (self.issues.len() == before).then_some(ModelAlias {
            strategy,
            targets,
            fallback_on,
            extensions,
        })
    }

    fn check_target(&mut self, path: &KeyPath, target: &str, instances: &[String]) {
        let Some((instance, _model)) = target
            .split_once('/')
            .filter(|(i, m)| !i.is_empty() && !m.is_empty())
        else {
            let message = format!(
                "expected `instance/model`, found {}",
                self.found(path, &Json::String(target.to_owned()))
            );
            self.issue(path, message);
            return;
        };
        if instances.iter().any(|i| i == instance) {
            return;
        }
        let configured = if instances.is_empty() {
            "no provider instances are configured".to_owned()
        } else {
            format!("configured instances: {}", list(instances))
        };
        let mut message =
            format!("unknown instance `{instance}` in target `{target}` ({configured})");
        if let Some(c) = closest(instance, instances.iter().map(String::as_str)) {
            message.push_str(&format!("; did you mean `{c}`?"));
        }
        self.issue(path, message);
    }
}
