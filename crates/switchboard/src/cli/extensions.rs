//! `switchboard extensions`, `switchboard call` and `switchboard usage`:
//! the linked extensions, one method call in-process, and usage totals
//! (a table over `usage.get`).

use std::io::Write;
use std::sync::Arc;

use anyhow::Context;
use comfy_table::{Table, presets};
use serde_json::{Map, Value};
use switchboard::extension::{MethodCall, extension_catalog};

use super::load::ConfigArgs;

/// Arguments of `switchboard extensions`.
#[derive(Debug, clap::Args)]
pub(crate) struct ExtensionsArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// Lists the linked extensions and whether the configuration enables each.
pub(crate) fn list(args: ExtensionsArgs, config: &ConfigArgs) -> anyhow::Result<()> {
    let catalog = extension_catalog()?;
    let enabled: Vec<String> = match config.file() {
        Some(file) => {
            let loaded = config
                .loader(file.clone())
                .load(switchboard::catalog()?)
                .with_context(|| format!("cannot load {}", file.display()))?;
            loaded
                .config
                .extensions
                .iter()
                .filter(|(_, c)| c.enabled)
                .map(|(n, _)| n.clone())
                .collect()
        }
        None => Vec::new(),
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        let list: Vec<Value> = catalog
            .iter()
            .map(|d| {
                let mut v = serde_json::to_value(d).unwrap_or(Value::Null);
                if let Some(o) = v.as_object_mut() {
                    o.insert(
                        "enabled".into(),
                        Value::Bool(enabled.iter().any(|n| n == d.name)),
                    );
                }
                v
            })
            .collect();
        serde_json::to_writer_pretty(&mut out, &list)?;
        writeln!(out)?;
        return Ok(());
    }
    let mut table = Table::new();
    table.load_preset(presets::ASCII_MARKDOWN).set_header([
        "NAME",
        "VERSION",
        "HOOKS",
        "ENABLED",
        "DESCRIPTION",
    ]);
    for d in catalog.iter() {
        let on = if enabled.iter().any(|n| n == d.name) {
            "yes"
        } else {
            "no"
        };
        table.add_row([
            d.name,
            d.version,
            &d.hooks.names().join(", "),
            on,
            &super::providers::summary(d.description),
        ]);
    }
    writeln!(out, "{table}")?;
    Ok(())
}

/// Arguments of `switchboard call`.
#[derive(Debug, clap::Args)]
pub(crate) struct CallArgs {
    /// `<extension>.<method>`, e.g. `functions.list`.
    target: String,
    /// The arguments, a JSON object.
    #[arg(long, default_value = "{}")]
    json: String,
}

/// Calls one extension method in-process (with admin rights) and returns its result.
pub(crate) async fn call_method(
    config: &ConfigArgs,
    extension: &str,
    method: &str,
    arguments: Value,
) -> anyhow::Result<Value> {
    let sb = config.switchboard().await?;
    let call = MethodCall {
        method: method.to_owned(),
        arguments,
        client_key: None,
        admin: true,
        request_id: Arc::from("cli"),
    };
    let result = sb.call_extension(extension, call).await;
    sb.shutdown().await;
    Ok(result?)
}

/// Runs `switchboard call`: prints the result as pretty JSON.
pub(crate) async fn call(args: CallArgs, config: &ConfigArgs) -> anyhow::Result<()> {
    let (extension, method) = args
        .target
        .split_once('.')
        .filter(|(e, m)| !e.is_empty() && !m.is_empty())
        .ok_or_else(|| {
            anyhow::anyhow!("expected `<extension>.<method>`, found `{}`", args.target)
        })?;
    let arguments: Value = serde_json::from_str(&args.json)
        .with_context(|| format!("--json is not valid JSON: {}", args.json))?;
    let result = call_method(config, extension, method, arguments).await?;
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &result)?;
    writeln!(out)?;
    Ok(())
}

/// Arguments of `switchboard usage`.
#[derive(Debug, clap::Args)]
pub(crate) struct UsageArgs {
    /// Group totals by `key`, `model`, `instance` or `day`.
    #[arg(long)]
    group_by: Option<String>,
    /// From this day (`YYYY-MM-DD`, UTC), inclusive.
    #[arg(long)]
    from: Option<String>,
    /// To this day (`YYYY-MM-DD`, UTC), inclusive.
    #[arg(long)]
    to: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// Runs `switchboard usage`: a table over `usage.get`.
pub(crate) async fn usage(args: UsageArgs, config: &ConfigArgs) -> anyhow::Result<()> {
    let mut arguments = Map::new();
    for (k, v) in [
        ("group_by", &args.group_by),
        ("from", &args.from),
        ("to", &args.to),
    ] {
        if let Some(v) = v {
            arguments.insert(k.into(), Value::String(v.clone()));
        }
    }
    let result = call_method(config, "usage", "get", Value::Object(arguments)).await?;
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &result)?;
        writeln!(out)?;
        return Ok(());
    }
    let totals = result
        .get("totals")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut table = Table::new();
    table.load_preset(presets::ASCII_MARKDOWN).set_header([
        "GROUP",
        "REQUESTS",
        "INPUT",
        "OUTPUT",
        "CACHED",
        "COST USD",
        "ESTIMATED",
    ]);
    let field = |t: &Value, k: &str| match t.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(v) => v.to_string(),
    };
    for t in &totals {
        table.add_row([
            field(t, "group"),
            field(t, "requests"),
            field(t, "input_tokens"),
            field(t, "output_tokens"),
            field(t, "cached_input_tokens"),
            t.get("cost_usd")
                .and_then(Value::as_f64)
                .map(|c| format!("{c:.6}"))
                .unwrap_or_default(),
            field(t, "estimated_requests"),
        ]);
    }
    writeln!(out, "{table}")?;
    Ok(())
}
