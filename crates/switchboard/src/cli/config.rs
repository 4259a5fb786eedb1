//! `switchboard config check|schema`.

use std::io::Write;
use std::path::PathBuf;

use anyhow::bail;

use super::load::ConfigArgs;

/// `switchboard config ...`
#[derive(Debug, clap::Subcommand)]
pub(crate) enum ConfigCommand {
    /// Validate a configuration file: exit 0 if it loads, 1 with every problem if not.
    Check {
        /// The file [default: --config, or ./switchboard.toml|yaml|yml].
        file: Option<PathBuf>,
    },
    /// Print the JSON Schema of the configuration file, for editors.
    Schema,
}

pub(crate) fn run(cmd: ConfigCommand, args: &ConfigArgs) -> anyhow::Result<()> {
    let catalog = switchboard::catalog()?;
    match cmd {
        ConfigCommand::Check { file } => {
            let Some(file) = file.or_else(|| args.file()) else {
                bail!(
                    "no configuration file: pass one, use --config, or create ./switchboard.toml"
                );
            };
            let loaded = args.loader(file.clone()).load(catalog)?;
            let config = &loaded.config;
            let files: Vec<String> = loaded
                .files
                .iter()
                .map(|f| f.display().to_string())
                .collect();
            println!(
                "ok: {} ({} provider instance{}, {} model alias{})",
                files.join(" + "),
                config.providers.len(),
                if config.providers.len() == 1 { "" } else { "s" },
                config.models.len(),
                if config.models.len() == 1 { "" } else { "es" },
            );
            Ok(())
        }
        ConfigCommand::Schema => {
            let schema = switchboard::gateway::config::config_schema(catalog);
            let mut out = std::io::stdout().lock();
            serde_json::to_writer_pretty(&mut out, &schema)?;
            writeln!(out)?;
            Ok(())
        }
    }
}
