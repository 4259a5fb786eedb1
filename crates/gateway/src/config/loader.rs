//! [`ConfigLoader`]: the layers, `${VAR}` substitution, `.env`, and
//! validation into a [`Config`].

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use figment::providers::{Format, Toml, Yaml};
use figment::value::{Dict, Map as FigMap, Tag, Value as FigValue};
use figment::{Figment, Metadata, Profile, Provider, Source};
use switchboard_core::Catalog;

use super::env::{EnvLayer, Vars};
use super::issue::{ConfigError, ConfigIssue};
use super::key_path::KeyPath;
use super::subst::substitute;
use super::types::{Config, ProviderFeature};
use super::validate::{ENV_LAYER_NAME, FileInfo, SubstIssue, Validator};

/// Loads the configuration: defaults < the main file < its profile file <
/// `SWITCHBOARD_*` environment variables, with `${VAR}` substitution, `.env`
/// files, and validation that reports every problem at once.
///
/// ```no_run
/// # fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use switchboard_gateway::config::ConfigLoader;
///
/// let loaded = ConfigLoader::new()
///     .file("switchboard.toml")
///     .profile(Some("prod".into())) // also reads switchboard.prod.toml
///     .load(switchboard_core::catalog()?)?;
/// println!("{} instances", loaded.config.providers.len());
/// # Ok(()) }
/// ```
#[derive(Clone, Default)]
pub struct ConfigLoader {
    path: Option<PathBuf>,
    profile: Option<String>,
    env: Option<Vec<(String, String)>>,
    known: &'static [ProviderFeature],
    known_extensions: &'static [ProviderFeature],
    env_providers: bool,
}

impl fmt::Debug for ConfigLoader {
    // Variables may hold credentials: show only how many there are.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigLoader")
            .field("path", &self.path)
            .field("profile", &self.profile)
            .field(
                "env_vars",
                &self.env.as_ref().map(|v| format!("{} variables", v.len())),
            )
            .field("known_providers", &self.known.len())
            .finish()
    }
}

/// A configuration that loaded, and where it came from.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    /// The merged, validated configuration.
    pub config: Config,
    /// The configuration files read, in layer order (the main file, then
    /// its profile file).
    pub files: Vec<PathBuf>,
    /// The `.env` files read (the main file's directory first, then the
    /// current directory).
    pub env_files: Vec<PathBuf>,
    /// Which keys the files set through `${VAR}` references: key path
    /// (`providers.openai.api_key`) → the variables named there. The last
    /// file layer that sets a key wins. For status views ("from
    /// `${OPENAI_API_KEY}`"); never the values.
    pub env_references: BTreeMap<String, Vec<String>>,
}

/// The two file formats, chosen by extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileFormat {
    Toml,
    Yaml,
}

impl FileFormat {
    fn of(path: &Path) -> Result<Self, String> {
        match path.extension().map(|e| e.to_string_lossy()) {
            Some(e) if e == "toml" => Ok(FileFormat::Toml),
            Some(e) if e == "yaml" || e == "yml" => Ok(FileFormat::Yaml),
            Some(e) => Err(format!(
                "unsupported file extension `.{e}`: use `.toml`, `.yaml` or `.yml`"
            )),
            None => Err("the file has no extension: use `.toml`, `.yaml` or `.yml`".to_owned()),
        }
    }

    fn name(self) -> &'static str {
        match self {
            FileFormat::Toml => "TOML file",
            FileFormat::Yaml => "YAML file",
        }
    }
}

/// One layer for figment: a table with metadata naming its source.
struct Layer {
    metadata: Metadata,
    dict: Dict,
}

impl Provider for Layer {
    fn metadata(&self) -> Metadata {
        self.metadata.clone()
    }

    fn data(&self) -> Result<FigMap<Profile, Dict>, figment::Error> {
        Ok(Profile::Default.collect(self.dict.clone()))
    }
}

/// Where the profile name came from, for messages.
enum ProfileSource {
    Requested,
    Env,
}

impl ConfigLoader {
    /// A loader with no file: defaults plus `SWITCHBOARD_*` variables.
    pub fn new() -> Self {
        Self::default()
    }

    /// The main file: `.toml`, `.yaml` or `.yml` (by extension).
    #[must_use]
    pub fn file(mut self, path: impl Into<PathBuf>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// The profile: also read `<stem>.<profile>.<ext>` next to the main file,
    /// over it. `None` (or empty) falls back to `SWITCHBOARD_PROFILE`.
    #[must_use]
    pub fn profile(mut self, profile: Option<String>) -> Self {
        self.profile = profile;
        self
    }

    /// Use these variables instead of the process environment, both for the
    /// `SWITCHBOARD_*` layer and for `${VAR}` (tests, embedding). `.env`
    /// files are still read, below these.
    #[must_use]
    pub fn env_vars(mut self, vars: impl IntoIterator<Item = (String, String)>) -> Self {
        self.env = Some(vars.into_iter().collect());
        self
    }

    /// Provider kinds the workspace has, for "build with `--features x`" hints.
    #[must_use]
    pub fn known_providers(mut self, known: &'static [ProviderFeature]) -> Self {
        self.known = known;
        self
    }

    /// Extensions the workspace has (`provider` holding the extension's
    /// name), for "build with `--features x`" hints.
    #[must_use]
    pub fn known_extensions(mut self, known: &'static [ProviderFeature]) -> Self {
        self.known_extensions = known;
        self
    }

    /// Adds instances from the environment's provider keys even when the
    /// file does not set `[server] env_providers` (see [`super::env_providers`]).
    #[must_use]
    pub fn env_providers(mut self, on: bool) -> Self {
        self.env_providers = on;
        self
    }

    /// `switchboard.toml`, `switchboard.yaml` or `switchboard.yml` in `dir`,
    /// whichever exists first.
    pub fn default_file(dir: &Path) -> Option<PathBuf> {
        ["switchboard.toml", "switchboard.yaml", "switchboard.yml"]
            .iter()
            .map(|n| dir.join(n))
            .find(|p| p.is_file())
    }

    /// The main file, if one was given.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Reads every layer, substitutes `${VAR}`s, merges, and validates
    /// against the types and every linked provider's config (from `catalog`).
    /// Reports every problem found, each naming the file or variable that
    /// supplied the bad value, its key path, what was found and what was
    /// expected.
    pub fn load(&self, catalog: &Catalog) -> Result<LoadedConfig, ConfigError> {
        let mut issues = Vec::new();
        // `.env` next to the main file wins over one in the current directory.
        let mut dirs = Vec::new();
        if let Some(path) = &self.path {
            dirs.push(parent_dir(path));
        }
        if let Ok(cwd) = std::env::current_dir() {
            dirs.push(cwd);
        }
        let vars = Vars::collect(self.env.as_deref(), &dirs, &mut issues);

        let mut figment = Figment::new();
        let mut files = Vec::new();
        let mut infos = Vec::new();
        let mut subst_issues = Vec::new();
        let mut fatal = false;
        let profile = self.profile_name(&vars, &mut issues, &mut fatal);
        match &self.path {
            Some(main) => match FileFormat::of(main) {
                Err(message) => {
                    issues.push(file_issue(main, message));
                    fatal = true;
                }
                Ok(format) => {
                    let mut paths = vec![main.clone()];
                    // Without the main file, its missing profile file is noise.
                    if let Some((name, source)) = &profile
                        && main.is_file()
                    {
                        let path = profile_path(main, name);
                        if path.is_file() {
                            paths.push(path);
                        } else {
                            let why = match source {
                                ProfileSource::Requested => format!("profile `{name}`"),
                                ProfileSource::Env => {
                                    format!("profile `{name}` (from SWITCHBOARD_PROFILE)")
                                }
                            };
                            issues.push(file_issue(
                                &path,
                                format!("file not found; {why} reads it over {}", main.display()),
                            ));
                            fatal = true;
                        }
                    }
                    for path in paths {
                        match read_layer(&path, format, &vars) {
                            Ok(FileLayer {
                                dict,
                                substituted,
                                errors,
                            }) => {
                                let index = infos.len();
                                subst_issues.extend(errors.into_iter().map(|(path, message)| {
                                    SubstIssue {
                                        file: index,
                                        path,
                                        message,
                                    }
                                }));
                                figment = figment.merge(Layer {
                                    metadata: Metadata::from(
                                        format.name(),
                                        Source::File(path.clone()),
                                    ),
                                    dict,
                                });
                                infos.push(FileInfo {
                                    path: path.clone(),
                                    substituted,
                                });
                                files.push(path);
                            }
                            Err(message) => {
                                issues.push(file_issue(&path, message));
                                fatal = true;
                            }
                        }
                    }
                }
            },
            None => {
                if let Some((name, _)) = &profile {
                    issues.push(ConfigIssue {
                        file: None,
                        env_var: None,
                        key: String::new(),
                        message: format!(
                            "profile `{name}` was requested, but there is no configuration file \
                             to read `<file>.{name}.<ext>` next to"
                        ),
                    });
                    fatal = true;
                }
            }
        }
        if fatal {
            return Err(ConfigError { issues });
        }

        let env = EnvLayer::build(&vars, &mut issues);
        figment = figment.merge(Layer {
            metadata: Metadata::named(ENV_LAYER_NAME),
            dict: env.dict.clone(),
        });
        let merged = Provider::data(&figment)
            .ok()
            .and_then(|mut m| m.remove(&Profile::Default))
            .unwrap_or_default();
        let merged = FigValue::Dict(Tag::Default, merged);
        let json = to_json(&merged);
        let mut validator = Validator::new(&figment, &merged, &infos, &env, catalog, self.known);
        validator.known_extensions = self.known_extensions;
        validator.substitution_issues(subst_issues);
        let config = validator.config(json);
        issues.append(&mut validator.issues);
        if let Some(config) = &config {
            issues.extend(super::limits::config_issues(config, |key| {
                locate(&figment, key)
            }));
        }
        match config {
            Some(mut config) if issues.is_empty() => {
                if self.env_providers || config.server.env_providers {
                    let lookup = |name: &str| vars.get(name).map(str::to_owned);
                    let linked = |kind: &str| catalog.get(kind).is_some();
                    let found = super::env_providers::detect_env_providers(&lookup, &linked);
                    super::env_providers::add_env_providers(&mut config, found);
                }
                let env_references = infos
                    .iter()
                    .flat_map(|info| info.substituted.iter())
                    .map(|(path, vars)| (path.to_string(), vars.clone()))
                    .collect();
                Ok(LoadedConfig {
                    config,
                    files,
                    env_files: vars.dotenv_files,
                    env_references,
                })
            }
            _ => Err(ConfigError { issues }),
        }
    }

    /// The profile to read, and where its name came from.
    fn profile_name(
        &self,
        vars: &Vars,
        issues: &mut Vec<ConfigIssue>,
        fatal: &mut bool,
    ) -> Option<(String, ProfileSource)> {
        let (name, source) = match self.profile.as_deref().filter(|p| !p.is_empty()) {
            Some(p) => (p.to_owned(), ProfileSource::Requested),
            None => (
                vars.get("SWITCHBOARD_PROFILE")
                    .filter(|p| !p.is_empty())?
                    .to_owned(),
                ProfileSource::Env,
            ),
        };
        let valid = name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !valid {
            issues.push(ConfigIssue {
                file: None,
                env_var: matches!(source, ProfileSource::Env).then(|| "SWITCHBOARD_PROFILE".into()),
                key: String::new(),
                message: format!("invalid profile name {name:?}: use letters, digits, `-` and `_`"),
            });
            *fatal = true;
            return None;
        }
        Some((name, source))
    }
}

/// The file or `SWITCHBOARD_*` variable that set `key` (dotted), if known.
fn locate(figment: &Figment, key: &str) -> (Option<PathBuf>, Option<String>) {
    let Some(meta) = figment.find_metadata(key) else {
        return (None, None);
    };
    match &meta.source {
        Some(Source::File(path)) => (Some(path.clone()), None),
        _ if meta.name == ENV_LAYER_NAME => (
            None,
            Some(format!(
                "SWITCHBOARD_{}",
                key.replace('.', "__").to_ascii_uppercase()
            )),
        ),
        _ => (None, None),
    }
}

fn file_issue(path: &Path, message: String) -> ConfigIssue {
    ConfigIssue {
        file: Some(path.to_path_buf()),
        env_var: None,
        key: String::new(),
        message,
    }
}

/// The directory of `path` (`.` for a bare file name).
fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// `<dir>/<stem>.<profile>.<ext>` for main file `<dir>/<stem>.<ext>`.
fn profile_path(main: &Path, profile: &str) -> PathBuf {
    let stem = main
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = main
        .extension()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    main.with_file_name(format!("{stem}.{profile}.{ext}"))
}

type Substitutions = BTreeMap<KeyPath, Vec<String>>;

/// One file, read and substituted.
struct FileLayer {
    dict: Dict,
    /// Key path → the variables its string was built from.
    substituted: Substitutions,
    /// `${VAR}` problems: key path and message.
    errors: Vec<(KeyPath, String)>,
}

/// Reads and parses one file, then substitutes `${VAR}`s in its strings.
/// `Err` for a file that cannot be read or parsed.
fn read_layer(path: &Path, format: FileFormat, vars: &Vars) -> Result<FileLayer, String> {
    let text = std::fs::read_to_string(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => "file not found".to_owned(),
        std::io::ErrorKind::InvalidData => "the file is not valid UTF-8".to_owned(),
        _ => format!("cannot read the file: {e}"),
    })?;
    let blank = text.lines().all(|l| {
        let l = l.trim();
        l.is_empty() || l.starts_with('#') || l == "---" || l == "..."
    });
    let mut dict = if blank {
        Dict::new()
    } else {
        let data = match format {
            FileFormat::Toml => Toml::string(&text).data(),
            FileFormat::Yaml => Yaml::string(&text).data(),
        };
        match data {
            Ok(mut map) => map.remove(&Profile::Default).unwrap_or_default(),
            Err(e) => {
                let msg = one_line(&e.kind.to_string());
                if msg.ends_with("expected a map") {
                    return Err(
                        "expected a table (`key = value` or `key: value` pairs) at the top of the file"
                            .to_owned(),
                    );
                }
                return Err(match format {
                    FileFormat::Toml => msg,
                    FileFormat::Yaml => format!("YAML parse error: {msg}"),
                });
            }
        }
    };
    let mut substituted = BTreeMap::new();
    let mut errors = Vec::new();
    let lookup = |name: &str| vars.get(name).map(str::to_owned);
    for (key, value) in dict.iter_mut() {
        substitute_tree(
            value,
            &KeyPath::root().key(key),
            &lookup,
            &mut substituted,
            &mut errors,
        );
    }
    Ok(FileLayer {
        dict,
        substituted,
        errors,
    })
}

fn substitute_tree(
    value: &mut FigValue,
    path: &KeyPath,
    lookup: &dyn Fn(&str) -> Option<String>,
    substituted: &mut Substitutions,
    errors: &mut Vec<(KeyPath, String)>,
) {
    match value {
        FigValue::String(_, s) => match substitute(s, lookup) {
            Ok(None) => {}
            Ok(Some(done)) => {
                if !done.vars.is_empty() {
                    substituted.insert(path.clone(), done.vars);
                }
                *s = done.value;
            }
            Err(e) => errors.push((path.clone(), e.message())),
        },
        FigValue::Dict(_, d) => {
            for (k, v) in d.iter_mut() {
                substitute_tree(v, &path.key(k), lookup, substituted, errors);
            }
        }
        FigValue::Array(_, a) => {
            for (i, v) in a.iter_mut().enumerate() {
                substitute_tree(v, &path.index(i), lookup, substituted, errors);
            }
        }
        _ => {}
    }
}

/// The merged tree as JSON, for deserializing. Integers too large for
/// 64 bits become floats (and fail as such where an integer is needed).
fn to_json(v: &FigValue) -> serde_json::Value {
    use serde_json::Value as Json;
    match v {
        FigValue::String(_, s) => Json::String(s.clone()),
        FigValue::Char(_, c) => Json::String(c.to_string()),
        FigValue::Bool(_, b) => Json::Bool(*b),
        FigValue::Num(_, n) => {
            if let Some(u) = n.to_u128().and_then(|u| u64::try_from(u).ok()) {
                Json::from(u)
            } else if let Some(i) = n.to_i128().and_then(|i| i64::try_from(i).ok()) {
                Json::from(i)
            } else {
                // Out of 64-bit range: read it as a float.
                let f = n
                    .to_f64()
                    .or_else(|| n.to_u128().map(|u| u as f64))
                    .or_else(|| n.to_i128().map(|i| i as f64));
                f.and_then(serde_json::Number::from_f64)
                    .map_or(Json::Null, Json::Number)
            }
        }
        FigValue::Empty(..) => Json::Null,
        FigValue::Dict(_, d) => {
            Json::Object(d.iter().map(|(k, v)| (k.clone(), to_json(v))).collect())
        }
        FigValue::Array(_, a) => Json::Array(a.iter().map(to_json).collect()),
    }
}

/// A parser's multi-line message (with a source snippet) on one line.
fn one_line(msg: &str) -> String {
    let is_snippet = |l: &str| {
        let t = l.trim_start();
        t.starts_with('|')
            || t.split_once(" |")
                .is_some_and(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
    };
    let lines: Vec<&str> = msg
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !is_snippet(l))
        .collect();
    match lines.split_first() {
        Some((first, rest)) if !rest.is_empty() => {
            format!("{}: {}", first.trim_end_matches(':'), rest.join("; "))
        }
        Some((first, _)) => (*first).to_owned(),
        None => msg.trim().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parser_messages_fit_on_one_line() {
        let toml = "TOML parse error at line 1, column 5\n  |\n1 | a = \n  |     ^\ninvalid string\nexpected `\"`, `'`\n";
        assert_eq!(
            one_line(toml),
            "TOML parse error at line 1, column 5: invalid string; expected `\"`, `'`"
        );
        assert_eq!(one_line("just one line"), "just one line");
    }

    #[test]
    fn profile_files_sit_next_to_the_main_file() {
        assert_eq!(
            profile_path(Path::new("/etc/sb/switchboard.yaml"), "prod"),
            PathBuf::from("/etc/sb/switchboard.prod.yaml")
        );
        assert_eq!(
            parent_dir(Path::new("switchboard.toml")),
            PathBuf::from(".")
        );
    }
}
