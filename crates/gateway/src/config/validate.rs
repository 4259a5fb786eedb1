//! From the merged layers to a [`Config`], collecting every problem with the
//! layer that supplied the bad value.
//!
//! Each part (a section, an instance's settings, an alias) is deserialized;
//! on an error the issue is recorded, the offending key removed and the part
//! deserialized again, so one run reports every problem, not just the first.
//! Strings that came from `${VAR}` substitution or an environment variable
//! are read as the number or boolean a key needs (`"${N:-3}"` → `3`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use figment::Figment;
use figment::value::{Tag, Value as FigValue};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value as Json};
use switchboard_core::{Catalog, ProviderDescriptor};

use super::diagnostics::{
    Problem, closest, coerce, describe, expected_phrase, is_secret_key, list,
};
use super::env::EnvLayer;
use super::issue::ConfigIssue;
use super::key_path::{KeyPath, Seg};
use super::types::{
    Config, HealthConfig, InstanceConfig, ModelAlias, ProviderFeature, RouterConfig, ServerConfig,
    Strategy, TargetSpec,
};

/// The figment metadata name of the `SWITCHBOARD_*` layer.
pub(crate) const ENV_LAYER_NAME: &str = "SWITCHBOARD_* environment variables";

/// Most repairs (remove a bad key, read a string as a number) for one part.
const MAX_REPAIRS: usize = 256;

/// A file layer: its path and the strings `${VAR}` substitution produced.
#[derive(Debug)]
pub(crate) struct FileInfo {
    pub(crate) path: PathBuf,
    /// Key path → the variables its string was built from.
    pub(crate) substituted: BTreeMap<KeyPath, Vec<String>>,
}

/// A `${VAR}` problem found while reading a file layer.
#[derive(Debug)]
pub(crate) struct SubstIssue {
    /// Index into the file layers.
    pub(crate) file: usize,
    pub(crate) path: KeyPath,
    pub(crate) message: String,
}

enum Origin<'a> {
    File(&'a FileInfo),
    Env,
}

/// The top-level keys of the file, from `Config`'s schema.
fn top_level_keys() -> &'static [String] {
    static KEYS: OnceLock<Vec<String>> = OnceLock::new();
    KEYS.get_or_init(|| {
        schemars::schema_for!(Config)
            .to_value()
            .get("properties")
            .and_then(Json::as_object)
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default()
    })
}

/// The property names of a provider's config schema.
fn schema_properties(d: &ProviderDescriptor) -> Vec<String> {
    d.config_schema()
        .get("properties")
        .and_then(Json::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

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

/// Checks the merged layers and builds the [`Config`].
pub(crate) struct Validator<'a> {
    figment: &'a Figment,
    merged: &'a FigValue,
    files: &'a [FileInfo],
    env: &'a EnvLayer,
    catalog: &'a Catalog,
    known: &'static [ProviderFeature],
    /// Every problem found.
    pub(crate) issues: Vec<ConfigIssue>,
    /// Keys already reported: later problems there are consequences.
    reported: Vec<KeyPath>,
}

impl<'a> Validator<'a> {
    pub(crate) fn new(
        figment: &'a Figment,
        merged: &'a FigValue,
        files: &'a [FileInfo],
        env: &'a EnvLayer,
        catalog: &'a Catalog,
        known: &'static [ProviderFeature],
    ) -> Self {
        Validator {
            figment,
            merged,
            files,
            env,
            catalog,
            known,
            issues: Vec::new(),
            reported: Vec::new(),
        }
    }

    /// Reports the `${VAR}` problems whose value survived the merge (a
    /// higher layer may have replaced it).
    pub(crate) fn substitution_issues(&mut self, found: Vec<SubstIssue>) {
        for s in found {
            let supplied_by_file = matches!(
                self.exact_origin(&s.path),
                Some(Origin::File(f)) if self.files.get(s.file).is_some_and(|g| std::ptr::eq(f, g))
            );
            if supplied_by_file {
                self.issue(&s.path, s.message);
            }
        }
    }

    // ---- where a value came from ----

    /// The deepest node on `path` that exists, and whether it is `path` itself.
    fn node(&self, path: &KeyPath) -> (&'a FigValue, bool) {
        let mut node = self.merged;
        for seg in &path.0 {
            let next = match (seg, node) {
                (Seg::Key(k), FigValue::Dict(_, d)) => d.get(k),
                (Seg::Index(i), FigValue::Array(_, a)) => a.get(*i),
                _ => None,
            };
            match next {
                Some(n) => node = n,
                None => return (node, false),
            }
        }
        (node, true)
    }

    fn origin_of(&self, tag: Tag) -> Option<Origin<'a>> {
        let md = self.figment.get_metadata(tag)?;
        match md.source.as_ref().and_then(|s| s.file_path()) {
            Some(path) => self.files.iter().find(|f| f.path == path).map(Origin::File),
            None if md.name == ENV_LAYER_NAME => Some(Origin::Env),
            None => None,
        }
    }

    /// The layer of the value at `path` (or of its deepest existing ancestor).
    fn exact_origin(&self, path: &KeyPath) -> Option<Origin<'a>> {
        self.origin_of(self.node(path).0.tag())
    }

    /// The layer to blame for a problem at `path`. For a table (e.g. one
    /// missing a key) a file that wrote part of it is preferred over the
    /// environment variable that wrote its last key.
    fn origin(&self, path: &KeyPath) -> Option<Origin<'a>> {
        let (node, exact) = self.node(path);
        if !exact || matches!(node, FigValue::Dict(..) | FigValue::Array(..)) {
            let mut tags = Vec::new();
            collect_tags(node, &mut tags);
            for tag in tags {
                if let Some(o @ Origin::File(_)) = self.origin_of(tag) {
                    return Some(o);
                }
            }
        }
        self.origin_of(node.tag())
    }

    /// For a string that may be read as a number or boolean: the variables it
    /// was substituted from (empty for an environment variable). `None` for a
    /// string written literally in a file.
    fn coercible(&self, path: &KeyPath) -> Option<Vec<String>> {
        let (_, exact) = self.node(path);
        if !exact {
            return None;
        }
        match self.exact_origin(path)? {
            Origin::File(f) => f.substituted.get(path).cloned(),
            Origin::Env => Some(Vec::new()),
        }
    }

    /// Records a problem at `path`, unless one was already reported there
    /// (a bad `${VAR}` is also a bad value).
    fn issue(&mut self, path: &KeyPath, message: String) {
        if self.reported.contains(path) {
            return;
        }
        let (file, env_var) = match self.origin(path) {
            Some(Origin::File(f)) => (Some(f.path.clone()), None),
            Some(Origin::Env) => match self.env.entry_for(path) {
                Some(e) => (e.dotenv.clone(), Some(e.var.clone())),
                None => (None, None),
            },
            None => (None, None),
        };
        self.issues.push(ConfigIssue {
            file,
            env_var,
            key: path.to_string(),
            message,
        });
        self.reported.push(path.clone());
    }

    // ---- messages ----

    fn found(&self, path: &KeyPath, v: &Json) -> String {
        let secret = path.last_key().is_some_and(is_secret_key);
        let mut text = describe(v, secret);
        if v.is_string()
            && let Some(vars) = self.coercible(path)
            && !vars.is_empty()
        {
            let refs: Vec<String> = vars.iter().map(|v| format!("${{{v}}}")).collect();
            text.push_str(&format!(" (from {})", list(refs)));
        }
        text
    }

    fn render(
        &self,
        path: &KeyPath,
        problem: &Problem,
        found: Option<&Json>,
        props: &[String],
    ) -> String {
        let expected_found = |expected: String| match found {
            Some(v) => format!("expected {expected}, found {}", self.found(path, v)),
            None => format!("expected {expected}"),
        };
        match problem {
            Problem::InvalidType { expected } | Problem::InvalidLength { expected } => {
                expected_found(expected_phrase(expected, false))
            }
            Problem::InvalidValue { expected } => expected_found(expected_phrase(expected, true)),
            Problem::UnknownField { name, expected } => {
                let candidates: &[String] = if expected.is_empty() { props } else { expected };
                unknown_key(name, candidates)
            }
            Problem::UnknownVariant { name, expected } => {
                let mut text = format!("unknown value {name:?}");
                if !expected.is_empty() {
                    text.push_str(&format!(", expected one of {}", list(expected)));
                }
                if let Some(c) = closest(name, expected.iter().map(String::as_str)) {
                    text.push_str(&format!("; did you mean `{c}`?"));
                }
                text
            }
            Problem::MissingField(_) => "required key is missing".to_owned(),
            Problem::DuplicateField(name) => format!("key `{name}` is given twice"),
            Problem::Other(msg) => match found {
                Some(_) if msg == "invalid socket address syntax" => {
                    expected_found(expected_phrase("socket address", false))
                }
                _ => msg.clone(),
            },
        }
    }

    // ---- deserializing with repairs ----

    /// Runs `attempt` until it succeeds, reporting each problem, removing the
    /// offending key and reading substituted strings as numbers or booleans
    /// where the type needs one. `None` when any problem was reported.
    fn repair<T>(
        &mut self,
        base: &KeyPath,
        mut value: Json,
        props: &[String],
        attempt: impl Fn(&Json) -> Result<T, (KeyPath, String)>,
    ) -> Option<(T, Json)> {
        let mut failed = false;
        let mut removed: Vec<KeyPath> = Vec::new();
        let mut coerced: BTreeMap<KeyPath, Json> = BTreeMap::new();
        for _ in 0..MAX_REPAIRS {
            let (rel, msg) = match attempt(&value) {
                Ok(t) => return (!failed).then_some((t, value)),
                Err(e) => e,
            };
            let problem = Problem::parse(&msg);
            let rel = match &problem {
                Problem::UnknownField { name, .. } if rel.last_key() != Some(name.as_str()) => {
                    rel.key(name)
                }
                Problem::MissingField(name) => rel.key(name),
                _ => rel,
            };
            if removed.iter().any(|r| rel.starts_with(r)) {
                // A consequence of removing a bad key (`missing field`, ...).
                return None;
            }
            let abs = base.join(&rel);
            if let Problem::InvalidType { expected } = &problem
                && !coerced.contains_key(&rel)
                && self.coercible(&abs).is_some()
                && let Some(current) = rel.get(&value)
                && let Some(new) = coerce(current, expected)
            {
                coerced.insert(rel.clone(), current.clone());
                if let Some(slot) = rel.get_mut(&mut value) {
                    *slot = new;
                }
                continue;
            }
            let found = coerced.get(&rel).or_else(|| rel.get(&value)).cloned();
            let message = self.render(&abs, &problem, found.as_ref(), props);
            self.issue(&abs, message);
            failed = true;
            // Remove the nearest key holding the problem, and try again.
            let mut target = rel;
            while matches!(target.0.last(), Some(Seg::Index(_))) {
                target = target.parent();
            }
            if target.is_root() || !target.remove(&mut value) {
                return None;
            }
            removed.push(target);
        }
        None
    }

    /// Deserializes `value` as `T`, reporting every problem under `base`.
    fn typed<T: DeserializeOwned>(&mut self, base: &KeyPath, value: Json) -> Option<T> {
        self.repair(base, value, &[], |v| {
            serde_path_to_error::deserialize::<_, T>(v).map_err(|e| {
                let mut path = KeyPath::root();
                for seg in e.path().iter() {
                    path = match seg {
                        serde_path_to_error::Segment::Seq { index } => path.index(*index),
                        serde_path_to_error::Segment::Map { key } => path.key(key),
                        serde_path_to_error::Segment::Enum { variant } => path.key(variant),
                        serde_path_to_error::Segment::Unknown => break,
                    };
                }
                (path, e.into_inner().to_string())
            })
        })
        .map(|(t, _)| t)
    }

    fn section<T: DeserializeOwned + Default>(&mut self, name: &str, value: Option<Json>) -> T {
        let path = KeyPath::root().key(name);
        match value {
            None | Some(Json::Null) => T::default(),
            // serde would also read a struct from an array, by position.
            Some(v @ Json::Object(_)) => self.typed(&path, v).unwrap_or_default(),
            Some(other) => {
                let message = format!("expected a table, found {}", self.found(&path, &other));
                self.issue(&path, message);
                T::default()
            }
        }
    }

    // ---- the configuration ----

    /// Checks everything; `Some` only when nothing was wrong.
    pub(crate) fn config(&mut self, root: Json) -> Option<Config> {
        let Json::Object(mut top) = root else {
            self.issue(&KeyPath::root(), "expected a table".to_owned());
            return None;
        };
        let known = top_level_keys();
        for key in top.keys() {
            if !known.iter().any(|k| k == key) {
                let message = unknown_key(key, known);
                self.issue(&KeyPath::root().key(key), message);
            }
        }
        let schema = match top.remove("$schema") {
            None | Some(Json::Null) => None,
            Some(v) => self.typed::<String>(&KeyPath::root().key("$schema"), v),
        };
        let server: ServerConfig = self.section("server", top.remove("server"));
        let router: RouterConfig = self.section("router", top.remove("router"));
        let health: HealthConfig = self.section("health", top.remove("health"));
        let (providers, instances) = self.providers(top.remove("providers"));
        let models = self.models(top.remove("models"), &instances);
        self.issues.is_empty().then_some(Config {
            schema,
            server,
            router,
            health,
            providers,
            models,
        })
    }

    fn providers(
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

    fn models(
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
        const KEYS: &[&str] = &["strategy", "targets"];
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
        (self.issues.len() == before).then_some(ModelAlias { strategy, targets })
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

/// "unknown key `x`; did you mean `y`?" or the keys the table takes.
fn unknown_key(name: &str, candidates: &[String]) -> String {
    match closest(name, candidates.iter().map(String::as_str)) {
        Some(c) => format!("unknown key `{name}`; did you mean `{c}`?"),
        None if candidates.is_empty() => format!("unknown key `{name}`; this table takes no keys"),
        None => format!("unknown key `{name}`; expected one of {}", list(candidates)),
    }
}

fn collect_tags(v: &FigValue, out: &mut Vec<Tag>) {
    match v {
        FigValue::Dict(_, d) => d.values().for_each(|v| collect_tags(v, out)),
        FigValue::Array(_, a) => a.iter().for_each(|v| collect_tags(v, out)),
        other => out.push(other.tag()),
    }
}
