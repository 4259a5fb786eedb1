//! `switchboard providers`: the linked catalog.

use std::io::Write;

use comfy_table::{Table, presets};

/// Arguments of `switchboard providers`.
#[derive(Debug, clap::Args)]
pub(crate) struct ProvidersArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// List the environment variables a start without a configuration file
    /// (or with `--env-providers`) reads, and which are set (names only).
    #[arg(long)]
    env: bool,
}

pub(crate) fn run(args: ProvidersArgs) -> anyhow::Result<()> {
    if args.env {
        return env_table(args.json);
    }
    let catalog = switchboard::catalog()?;
    let mut out = std::io::stdout().lock();
    if args.json {
        let list: Vec<_> = catalog.iter().collect();
        serde_json::to_writer_pretty(&mut out, &list)?;
        writeln!(out)?;
        return Ok(());
    }
    let mut table = Table::new();
    table.load_preset(presets::ASCII_MARKDOWN).set_header([
        "NAME",
        "VERSION",
        "CAPABILITIES",
        "DESCRIPTION",
    ]);
    for d in catalog.iter() {
        table.add_row([
            d.name,
            d.version,
            &d.capabilities.names().join(", "),
            &summary(d.description),
        ]);
    }
    writeln!(out, "{table}")?;
    Ok(())
}

/// `switchboard providers --env`: every row of the detection table, whether
/// its provider is linked, and which instance the environment gives.
fn env_table(json: bool) -> anyhow::Result<()> {
    use switchboard::gateway::config::env_providers::ENV_PROVIDERS;
    let catalog = switchboard::catalog()?;
    let found = super::load::env_found()?;
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &found)?;
        writeln!(out)?;
        return Ok(());
    }
    let mut table = Table::new();
    table.load_preset(presets::ASCII_MARKDOWN).set_header([
        "INSTANCE",
        "KIND",
        "VARIABLES",
        "STATUS",
    ]);
    for row in ENV_PROVIDERS {
        let vars = row
            .triggers
            .iter()
            .map(|group| group.join(" + "))
            .collect::<Vec<_>>()
            .join(" or ");
        let status = match found.iter().find(|f| f.instance == row.instance) {
            Some(f) => format!("found: {}", f.vars.join(", ")),
            None if catalog.get(row.kind).is_none() => {
                format!("not linked (build with `--features {}`)", row.kind)
            }
            None => "not set".to_owned(),
        };
        table.add_row([row.instance, row.kind, &vars, &status]);
    }
    writeln!(out, "{table}")?;
    Ok(())
}

/// The first sentence of the first paragraph, on one line.
pub(crate) fn summary(description: &str) -> String {
    let paragraph = description
        .split("\n\n")
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    match paragraph.find(". ") {
        Some(end) => paragraph[..=end].to_owned(),
        None => paragraph,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn summary_is_the_first_sentence() {
        assert_eq!(super::summary("A b\nc. D e.\n\nMore."), "A b c.");
        assert_eq!(super::summary("One line"), "One line");
        assert_eq!(super::summary(""), "");
    }
}
