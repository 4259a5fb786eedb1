//! `switchboard providers`: the linked catalog.

use std::io::Write;

use comfy_table::{Table, presets};

/// Arguments of `switchboard providers`.
#[derive(Debug, clap::Args)]
pub(crate) struct ProvidersArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: ProvidersArgs) -> anyhow::Result<()> {
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
