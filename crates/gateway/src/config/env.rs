//! Environment variables: the real environment over `.env` files, and the
//! `SWITCHBOARD_*` layer built from them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use figment::value::{Dict, Value as FigValue};

use super::diagnostics::closest;
use super::issue::ConfigIssue;
use super::key_path::KeyPath;

/// The prefix of configuration variables.
pub(crate) const ENV_PREFIX: &str = "SWITCHBOARD_";
/// The top-level sections a `SWITCHBOARD_<SECTION>__...` variable may set.
/// Other `SWITCHBOARD_*` variables (`SWITCHBOARD_PROFILE`,
/// `SWITCHBOARD_CONFIG`, `SWITCHBOARD_LOG`) are not configuration keys.
pub(crate) const SECTIONS: &[&str] = &[
    "server",
    "router",
    "health",
    "providers",
    "models",
    "extensions",
    "state",
];

/// One variable: its value and the `.env` file it was read from (`None`:
/// the real environment).
#[derive(Debug, Clone)]
pub(crate) struct Var {
    pub(crate) value: String,
    pub(crate) dotenv: Option<PathBuf>,
}

/// Every variable the loader sees.
#[derive(Debug, Default)]
pub(crate) struct Vars {
    map: BTreeMap<String, Var>,
    /// The `.env` files read.
    pub(crate) dotenv_files: Vec<PathBuf>,
}

impl Vars {
    /// The real environment (or `explicit`) over the `.env` files in `dirs`
    /// (earlier directories win over later ones).
    pub(crate) fn collect(
        explicit: Option<&[(String, String)]>,
        dirs: &[PathBuf],
        issues: &mut Vec<ConfigIssue>,
    ) -> Vars {
        let mut vars = Vars::default();
        let mut seen: Vec<PathBuf> = Vec::new();
        let mut files = Vec::new();
        for dir in dirs {
            let path = dir.join(".env");
            if !path.is_file() {
                continue;
            }
            let canonical = path.canonicalize().unwrap_or_else(|_| path.clone());
            if seen.contains(&canonical) {
                continue;
            }
            seen.push(canonical);
            files.push(path);
        }
        // Lowest precedence first, so later inserts win.
        for path in files.iter().rev() {
            read_dotenv(path, &mut vars.map, issues);
        }
        vars.dotenv_files = files;
        let real: Vec<(String, String)> = match explicit {
            Some(v) => v.to_vec(),
            None => std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
        };
        for (name, value) in real {
            vars.map.insert(
                name,
                Var {
                    value,
                    dotenv: None,
                },
            );
        }
        vars
    }

    /// The value of `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.map.get(name).map(|v| v.value.as_str())
    }

    /// Every variable, sorted by name.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&String, &Var)> {
        self.map.iter()
    }
}

fn read_dotenv(path: &Path, into: &mut BTreeMap<String, Var>, issues: &mut Vec<ConfigIssue>) {
    let fail = |issues: &mut Vec<ConfigIssue>, e: dotenvy::Error| {
        issues.push(ConfigIssue {
            file: Some(path.to_path_buf()),
            env_var: None,
            key: String::new(),
            message: format!("cannot read this `.env` file: {e}"),
        });
    };
    let iter = match dotenvy::from_path_iter(path) {
        Ok(iter) => iter,
        Err(e) => return fail(issues, e),
    };
    for item in iter {
        match item {
            Ok((name, value)) => {
                into.insert(
                    name,
                    Var {
                        value,
                        dotenv: Some(path.to_path_buf()),
                    },
                );
            }
            Err(e) => return fail(issues, e),
        }
    }
}

/// One variable of the `SWITCHBOARD_*` layer.
#[derive(Debug, Clone)]
pub(crate) struct EnvEntry {
    /// The key path it sets.
    pub(crate) path: KeyPath,
    /// Its name.
    pub(crate) var: String,
    /// The `.env` file it came from, if any.
    pub(crate) dotenv: Option<PathBuf>,
}

/// The `SWITCHBOARD_*` layer: `SWITCHBOARD_ROUTER__MAX_ATTEMPTS=3` sets
/// `router.max_attempts` to `"3"` (strings are read as the number or boolean
/// a key needs); a value starting with `[` or `{` is parsed as an array or
/// table (`[a, b]`, `{key = "x"}`).
#[derive(Debug, Default)]
pub(crate) struct EnvLayer {
    pub(crate) dict: Dict,
    pub(crate) entries: Vec<EnvEntry>,
}

impl EnvLayer {
    /// Builds the layer from every `SWITCHBOARD_<SECTION>__...` variable.
    pub(crate) fn build(vars: &Vars, issues: &mut Vec<ConfigIssue>) -> EnvLayer {
        let mut layer = EnvLayer::default();
        for (name, var) in vars.iter() {
            let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            let segments: Vec<String> = rest.split("__").map(str::to_ascii_lowercase).collect();
            let first = segments.first().map(String::as_str).unwrap_or_default();
            let mut issue = |message: String| {
                issues.push(ConfigIssue {
                    file: var.dotenv.clone(),
                    env_var: Some(name.clone()),
                    key: String::new(),
                    message,
                });
            };
            if !SECTIONS.contains(&first) {
                // `SWITCHBOARD_PROFILE` and friends are not config keys, but
                // `SWITCHBOARD_ROUTR__MAX_ATTEMPTS` is surely a typo.
                if segments.len() > 1
                    && let Some(section) = closest(first, SECTIONS.iter().copied())
                {
                    issue(format!(
                        "`{first}` is not a configuration section; did you mean \
                         {ENV_PREFIX}{}__{}?",
                        section.to_ascii_uppercase(),
                        segments[1..].join("__").to_ascii_uppercase()
                    ));
                }
                continue;
            }
            if segments.iter().any(String::is_empty) {
                issue(format!(
                    "empty key: `__` separates nested keys, as in {ENV_PREFIX}ROUTER__MAX_ATTEMPTS"
                ));
                continue;
            }
            let trimmed = var.value.trim_start();
            let value = if trimmed.starts_with('[') || trimmed.starts_with('{') {
                var.value
                    .parse::<FigValue>()
                    .unwrap_or_else(|_| FigValue::from(var.value.clone()))
            } else {
                FigValue::from(var.value.clone())
            };
            insert(&mut layer.dict, &segments, value);
            let mut path = KeyPath::root();
            for s in &segments {
                path = path.key(s);
            }
            layer.entries.push(EnvEntry {
                path,
                var: name.clone(),
                dotenv: var.dotenv.clone(),
            });
        }
        layer
    }

    /// The variable that set `path`, or one of its ancestors, or (for a table)
    /// one of its keys.
    pub(crate) fn entry_for(&self, path: &KeyPath) -> Option<&EnvEntry> {
        self.entries
            .iter()
            .filter(|e| path.starts_with(&e.path))
            .max_by_key(|e| e.path.0.len())
            .or_else(|| self.entries.iter().find(|e| e.path.starts_with(path)))
    }
}

fn insert(dict: &mut Dict, path: &[String], value: FigValue) {
    match path {
        [] => {}
        [last] => {
            dict.insert(last.clone(), value);
        }
        [first, rest @ ..] => {
            let entry = dict
                .entry(first.clone())
                .or_insert_with(|| FigValue::from(Dict::new()));
            if !matches!(entry, FigValue::Dict(..)) {
                *entry = FigValue::from(Dict::new());
            }
            if let FigValue::Dict(_, inner) = entry {
                insert(inner, rest, value);
            }
        }
    }
}
