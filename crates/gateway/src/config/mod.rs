//! Configuration: types and loading.
//!
//! PLACEHOLDER written by the lead so the crate compiles; the real loader
//! (layering, `${VAR}` substitution, `.env`, errors with did-you-mean, the
//! whole-config schema) replaces this file.

use std::path::{Path, PathBuf};

use switchboard_core::Catalog;

pub mod types;

use types::Config;

/// A provider kind the workspace has, with the Cargo feature that links it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownProvider {
    /// The provider's name.
    pub provider: &'static str,
    /// The `switchboard` crate feature that links it.
    pub feature: &'static str,
    /// Whether this build has the feature on.
    pub enabled: bool,
}

/// Loads the configuration.
#[derive(Debug, Clone, Default)]
pub struct ConfigLoader {
    path: Option<PathBuf>,
}

impl ConfigLoader {
    /// A loader with no file.
    pub fn new() -> Self {
        Self::default()
    }
    /// The main file.
    #[must_use]
    pub fn file(mut self, path: impl Into<PathBuf>) -> Self {
        self.path = Some(path.into());
        self
    }
    /// The profile.
    #[must_use]
    pub fn profile(self, _profile: Option<String>) -> Self {
        self
    }
    /// Known providers.
    #[must_use]
    pub fn known_providers(self, _known: &'static [KnownProvider]) -> Self {
        self
    }
    /// `switchboard.toml|yaml|yml` in `dir`.
    pub fn default_file(dir: &Path) -> Option<PathBuf> {
        ["switchboard.toml", "switchboard.yaml", "switchboard.yml"]
            .iter()
            .map(|n| dir.join(n))
            .find(|p| p.is_file())
    }
    /// The main file.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }
    /// Loads.
    pub fn load(&self, _catalog: &Catalog) -> Result<LoadedConfig, ConfigError> {
        use figment::providers::Format;
        let mut fig = figment::Figment::new();
        if let Some(p) = &self.path {
            fig = fig.merge(figment::providers::Toml::file(p));
        }
        let config: Config = fig.extract().map_err(|e| ConfigError {
            issues: vec![ConfigIssue {
                file: self.path.clone(),
                key: e.path.join("."),
                message: e.to_string(),
            }],
        })?;
        Ok(LoadedConfig {
            config,
            files: self.path.iter().cloned().collect(),
        })
    }
}

/// A loaded configuration.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    /// The configuration.
    pub config: Config,
    /// Files read.
    pub files: Vec<PathBuf>,
}

/// Configuration problems.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", self.issues.iter().map(|i| format!("{}: {}", i.key, i.message)).collect::<Vec<_>>().join("\n"))]
pub struct ConfigError {
    /// Every problem found.
    pub issues: Vec<ConfigIssue>,
}

/// One problem.
#[derive(Debug, Clone)]
pub struct ConfigIssue {
    /// The file.
    pub file: Option<PathBuf>,
    /// The key path.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

impl From<ConfigError> for switchboard_core::Error {
    fn from(e: ConfigError) -> Self {
        switchboard_core::Error::config(e.to_string())
    }
}

/// The whole-config schema.
pub fn config_schema(_catalog: &Catalog) -> serde_json::Value {
    schemars::schema_for!(Config).to_value()
}
