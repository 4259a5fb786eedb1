//! From the merged layers to a [`Config`], collecting every problem with the
//! layer that supplied the bad value.
//!
//! Each part (a section, an instance's settings, an alias) is deserialized;
//! on an error the issue is recorded, the offending key removed and the part
//! deserialized again, so one run reports every problem, not just the first.
//! Strings that came from `${VAR}` substitution or an environment variable
//! are read as the number or boolean a key needs (`"${N:-3}"` → `3`).
//!
//! This module holds the [`Validator`] (where a value came from, messages,
//! deserializing with repairs, the sections); `providers` checks
//! `[providers.*]`, `models` checks `[models.*]` aliases, `server`
//! what `[server]` cannot say in types and `state` the same for `[state]`.

mod extensions;
mod models;
mod providers;
mod routing;
mod server;
mod state;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use figment::Figment;
use figment::value::{Tag, Value as FigValue};
use serde::de::DeserializeOwned;
use serde_json::Value as Json;
use switchboard_core::Catalog;

use super::diagnostics::{
    Problem, closest, coerce, describe, expected_phrase, is_secret_key, list,
};
use super::env::EnvLayer;
use super::issue::ConfigIssue;
use super::key_path::{KeyPath, Seg};
use super::types::{
    Config, HealthConfig, ProviderFeature, RouterConfig, ServerConfig, StateConfig,
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

/// Checks the merged layers and builds the [`Config`].
pub(crate) struct Validator<'a> {
    figment: &'a Figment,
    merged: &'a FigValue,
    files: &'a [FileInfo],
    env: &'a EnvLayer,
    catalog: &'a Catalog,
    known: &'static [ProviderFeature],
    /// Extensions the workspace has, for "build with `--features x`" hints.
    pub(crate) known_extensions: &'static [ProviderFeature],
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
            known_extensions: &[],
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
        self.server_settings(&server);
        let router: RouterConfig = self.section("router", top.remove("router"));
        self.router_limits(&router);
        let health: HealthConfig = self.section("health", top.remove("health"));
        let (providers, instances) = self.providers(top.remove("providers"));
        let models = self.models(top.remove("models"), &instances);
        let extensions = self.extensions(top.remove("extensions"));
        let state: StateConfig = self.section("state", top.remove("state"));
        self.state_settings(&state);
        let config = Config {
            schema,
            server,
            router,
            health,
            providers,
            models,
            extensions,
            state,
        };
        self.extension_narrowing(&config);
        self.issues.is_empty().then_some(config)
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
