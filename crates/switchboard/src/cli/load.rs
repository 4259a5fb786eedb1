//! Finding and loading the configuration the CLI runs with.

use std::path::PathBuf;

use anyhow::Context;
use switchboard::Switchboard;
use switchboard::gateway::config::ConfigLoader;
use switchboard::gateway::config::env_providers::{
    EnvProviderFound, add_env_providers, detect_env_providers,
};
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
    /// With a configuration file, also create an instance for every linked
    /// provider whose key variable is set (`OPENAI_API_KEY`, ...), as a start
    /// without a file does (`[server] env_providers = true` in the file does
    /// the same).
    #[arg(long, global = true)]
    pub(crate) env_providers: bool,
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
            .env_providers(self.env_providers)
    }

    /// Builds the switchboard: from the file if there is one, else on the
    /// built-in mock provider (slowed a little so streaming is visible) plus
    /// an instance for each linked provider whose key variable is set.
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
            None => {
                let mut config = builtin_config()?;
                apply_env_layer(&mut config)?;
                add_env_providers(&mut config, env_found()?);
                Switchboard::from_config(config)
                    .await
                    .context("cannot start the built-in configuration")
            }
        }
    }

    /// The running instances that came from environment variables (names of
    /// the variables only): all that the environment gives when there is no
    /// file or env providers are on, and the file did not define the name.
    pub(crate) fn env_instances(&self, sb: &Switchboard) -> anyhow::Result<Vec<EnvProviderFound>> {
        let config = sb.config();
        if self.has_file() && !self.env_providers && !config.server.env_providers {
            return Ok(Vec::new());
        }
        let mut found = env_found()?;
        // An instance of the same name from the file is not the environment's.
        found.retain(|f| config.providers.get(&f.instance) == Some(&f.config));
        Ok(found)
    }

    /// Whether a configuration file is in use.
    pub(crate) fn has_file(&self) -> bool {
        self.file().is_some()
    }
}

/// Without a file, the `SWITCHBOARD_*` variables still configure the
/// built-in setup (`SWITCHBOARD_SERVER__ADMIN_TOKEN=…` turns on the admin
/// API and the console): they are read as over a file, checked the same
/// way, and the built-in `mock` instance stays unless they name providers.
fn apply_env_layer(config: &mut Config) -> anyhow::Result<()> {
    let loaded = ConfigLoader::new()
        .known_providers(switchboard::PROVIDER_FEATURES)
        .known_extensions(switchboard::EXTENSION_FEATURES)
        .load(switchboard::catalog()?)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("invalid SWITCHBOARD_* environment variables")?;
    let mut from_env = loaded.config;
    if from_env.providers.is_empty() {
        from_env.providers = std::mem::take(&mut config.providers);
    }
    *config = from_env;
    Ok(())
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

/// The instances the process environment gives, for the linked providers.
pub(crate) fn env_found() -> anyhow::Result<Vec<EnvProviderFound>> {
    let catalog = switchboard::catalog()?;
    let lookup = |name: &str| std::env::var(name).ok();
    let linked = |kind: &str| catalog.get(kind).is_some();
    Ok(detect_env_providers(&lookup, &linked))
}

/// `instance (VAR, VAR)` for each, joined with `, `; never a value.
pub(crate) fn describe(found: &[EnvProviderFound]) -> String {
    found
        .iter()
        .map(|f| format!("{} ({})", f.instance, f.vars.join(", ")))
        .collect::<Vec<_>>()
        .join(", ")
}
