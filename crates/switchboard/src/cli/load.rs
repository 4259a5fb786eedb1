//! Finding and loading the configuration the CLI runs with.

use std::path::PathBuf;

use anyhow::Context;
use switchboard::Switchboard;
use switchboard::gateway::config::ConfigLoader;
use switchboard::gateway::config::types::{Config, InstanceConfig};

/// The global configuration options.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ConfigArgs {
    /// Configuration file [default: ./switchboard.toml, .yaml or .yml if present,
    /// else the built-in mock provider].
    #[arg(
        short,
        long,
        global = true,
        env = "SWITCHBOARD_CONFIG",
        value_name = "FILE"
    )]
    pub(crate) config: Option<PathBuf>,
    /// Configuration profile: also loads `<file-stem>.<profile>.<ext>` over the file.
    #[arg(long, global = true, env = "SWITCHBOARD_PROFILE")]
    pub(crate) profile: Option<String>,
}

impl ConfigArgs {
    /// The file to load: `--config`, or a `switchboard.*` in the current directory.
    pub(crate) fn file(&self) -> Option<PathBuf> {
        self.config.clone().or_else(|| {
            std::env::current_dir()
                .ok()
                .and_then(|dir| ConfigLoader::default_file(&dir))
        })
    }

    pub(crate) fn loader(&self, file: PathBuf) -> ConfigLoader {
        ConfigLoader::new()
            .file(file)
            .profile(self.profile.clone())
            .known_providers(switchboard::PROVIDER_FEATURES)
            .known_extensions(switchboard::EXTENSION_FEATURES)
    }

    /// Builds the switchboard: from the file if there is one, else on the
    /// built-in mock provider (slowed a little so streaming is visible).
    pub(crate) async fn switchboard(&self) -> anyhow::Result<Switchboard> {
        match self.file() {
            Some(file) => {
                let loader = self.loader(file.clone());
                Switchboard::builder()
                    .loader(loader)
                    .build()
                    .await
                    .with_context(|| format!("cannot load {}", file.display()))
            }
            None => Switchboard::from_config(builtin_config()?)
                .await
                .context("cannot start the built-in mock provider"),
        }
    }

    /// Whether a configuration file is in use.
    pub(crate) fn has_file(&self) -> bool {
        self.file().is_some()
    }
}

/// The configuration used when there is no file: one `mock` instance.
pub(crate) fn builtin_config() -> anyhow::Result<Config> {
    if switchboard::catalog()?.get("mock").is_none() {
        anyhow::bail!(
            "no configuration file, and this build does not link the built-in mock provider: \
             pass --config FILE or build with `--features mock`"
        );
    }
    let mut settings = serde_json::Map::new();
    settings.insert("token_delay_ms".into(), serde_json::json!(15));
    let mut config = Config::default();
    config.providers.insert(
        "mock".into(),
        InstanceConfig {
            kind: Some("mock".into()),
            enabled: true,
            settings,
        },
    );
    Ok(config)
}
