//! `switchboard models`: every instance's models.

use std::io::Write;

use comfy_table::{Table, presets};

use super::load::ConfigArgs;

/// Arguments of `switchboard models`.
#[derive(Debug, clap::Args)]
pub(crate) struct ModelsArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

pub(crate) async fn run(args: ModelsArgs, config: &ConfigArgs) -> anyhow::Result<()> {
    let sb = config.switchboard().await?;
    let from_env = config.env_instances(&sb)?;
    if !from_env.is_empty() {
        eprintln!(
            "instances from environment variables: {}",
            super::load::describe(&from_env)
        );
    }
    let models = sb.models();
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &models)?;
        writeln!(out)?;
        return Ok(());
    }
    let mut table = Table::new();
    table.load_preset(presets::ASCII_MARKDOWN).set_header([
        "MODEL",
        "INSTANCE",
        "CONTEXT",
        "MAX OUTPUT",
        "$/M IN",
        "$/M OUT",
    ]);
    let num = |n: Option<u32>| n.map(|n| n.to_string()).unwrap_or_default();
    let price = |p: Option<f64>| p.map(|p| format!("{p}")).unwrap_or_default();
    for m in &models {
        let instance = if m.provider.is_empty() {
            "(alias)"
        } else {
            &m.provider
        };
        table.add_row([
            m.id.clone(),
            instance.to_owned(),
            num(m.context_length),
            num(m.max_output_tokens),
            price(m.input_price_per_million),
            price(m.output_price_per_million),
        ]);
    }
    writeln!(out, "{table}")?;
    for inst in sb.registry().instances() {
        if let switchboard::gateway::InstanceState::Failed { error } = inst.state() {
            eprintln!(
                "warning: instance `{}` failed to start: {error}",
                inst.name()
            );
        }
    }
    Ok(())
}
