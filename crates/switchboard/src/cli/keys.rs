//! `switchboard keys create|list|show|update|revoke`: virtual keys, through
//! the `keys` extension's methods in-process (the same store a running
//! gateway reads; it sees a change within `cache_ttl_ms`).

use std::io::Write;

use anyhow::Context;
use comfy_table::{Table, presets};
use serde_json::{Map, Value, json};

use super::extensions::call_method;
use super::load::ConfigArgs;

/// The key settings `create` and `update` take as flags.
#[derive(Debug, Default, clap::Args)]
pub(crate) struct KeySettings {
    /// A human name.
    #[arg(long)]
    name: Option<String>,
    /// Models and aliases it may use (repeat or comma-separate; none: all).
    #[arg(long, value_delimiter = ',')]
    models: Vec<String>,
    /// Requests per minute.
    #[arg(long)]
    rpm: Option<u32>,
    /// Tokens per minute.
    #[arg(long)]
    tpm: Option<u64>,
    /// Requests at once.
    #[arg(long)]
    max_parallel: Option<u32>,
    /// Budget in US dollars per `--budget-period`.
    #[arg(long)]
    budget_usd: Option<f64>,
    /// `day`, `month` (default) or `total`.
    #[arg(long, requires = "budget_usd")]
    budget_period: Option<String>,
    /// Soft budget: past it, answers carry a warning header.
    #[arg(long, requires = "budget_usd")]
    soft_budget_usd: Option<f64>,
    /// Expiry: RFC 3339 (`2027-01-01T00:00:00Z`).
    #[arg(long)]
    expires_at: Option<String>,
    /// The key's team.
    #[arg(long)]
    team: Option<String>,
    /// More settings as a JSON object (merged under the flags).
    #[arg(long)]
    json: Option<String>,
}

impl KeySettings {
    fn arguments(&self) -> anyhow::Result<Map<String, Value>> {
        let mut args = match &self.json {
            None => Map::new(),
            Some(text) => match serde_json::from_str(text)
                .with_context(|| format!("--json is not valid JSON: {text}"))?
            {
                Value::Object(m) => m,
                _ => anyhow::bail!("--json must be a JSON object"),
            },
        };
        let mut set = |k: &str, v: Value| {
            args.insert(k.to_owned(), v);
        };
        if let Some(v) = &self.name {
            set("name", json!(v));
        }
        if !self.models.is_empty() {
            set("models", json!(self.models));
        }
        if let Some(v) = self.rpm {
            set("rpm", json!(v));
        }
        if let Some(v) = self.tpm {
            set("tpm", json!(v));
        }
        if let Some(v) = self.max_parallel {
            set("max_parallel", json!(v));
        }
        if let Some(amount) = self.budget_usd {
            let mut budget = json!({"amount_usd": amount});
            if let Some(p) = &self.budget_period {
                budget["period"] = json!(p);
            }
            if let Some(s) = self.soft_budget_usd {
                budget["soft_amount_usd"] = json!(s);
            }
            set("budget", budget);
        }
        if let Some(v) = &self.expires_at {
            set("expires_at", json!(v));
        }
        if let Some(v) = &self.team {
            set("team", json!(v));
        }
        Ok(args)
    }
}

/// `switchboard keys …`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum KeysCommand {
    /// Make a key; it is printed once (only its hash is kept).
    Create(KeySettings),
    /// Every key (never the key itself).
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// One key's settings.
    Show {
        /// The key's id (`key_…`).
        id: String,
    },
    /// Change a key's settings.
    Update {
        /// The key's id.
        id: String,
        #[command(flatten)]
        settings: KeySettings,
    },
    /// Revoke a key: refused from now on.
    Revoke {
        /// The key's id.
        id: String,
    },
}

/// Runs `switchboard keys …`.
pub(crate) async fn run(cmd: KeysCommand, config: &ConfigArgs) -> anyhow::Result<()> {
    let (method, args, table) = match cmd {
        KeysCommand::Create(s) => {
            let args = s.arguments()?;
            if !args.contains_key("name") {
                anyhow::bail!("a key needs a name: --name <name>");
            }
            ("create", args, false)
        }
        KeysCommand::List { json } => ("list", Map::new(), !json),
        KeysCommand::Show { id } => ("get", id_only(id), false),
        KeysCommand::Update { id, settings } => {
            let mut args = settings.arguments()?;
            args.insert("id".into(), json!(id));
            ("update", args, false)
        }
        KeysCommand::Revoke { id } => ("revoke", id_only(id), false),
    };
    let result = call_method(config, "keys", method, Value::Object(args)).await?;
    let mut out = std::io::stdout().lock();
    if table {
        writeln!(out, "{}", keys_table(&result))?;
    } else {
        serde_json::to_writer_pretty(&mut out, &result)?;
        writeln!(out)?;
    }
    if method == "create" {
        eprintln!("the key is shown once: store it now");
    }
    Ok(())
}

fn id_only(id: String) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("id".into(), Value::String(id));
    m
}

fn keys_table(list: &Value) -> Table {
    let mut table = Table::new();
    table.load_preset(presets::ASCII_MARKDOWN).set_header([
        "ID", "NAME", "PREFIX", "MODELS", "RPM", "TPM", "BUDGET", "EXPIRES", "STATE",
    ]);
    let text = |v: &Value| match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    for k in list["data"].as_array().into_iter().flatten() {
        let models = k["models"]
            .as_array()
            .map(|m| m.iter().map(text).collect::<Vec<_>>().join(","))
            .unwrap_or_default();
        let budget = match k.get("budget") {
            Some(b) if b.is_object() => format!(
                "${} / {}",
                text(&b["amount_usd"]),
                b["period"].as_str().unwrap_or("month")
            ),
            _ => String::new(),
        };
        let state = if k.get("revoked_at").is_some_and(|v| !v.is_null()) {
            "revoked"
        } else {
            "active"
        };
        table.add_row([
            text(&k["id"]),
            text(&k["name"]),
            text(&k["prefix"]),
            models,
            text(&k["rpm"]),
            text(&k["tpm"]),
            budget,
            text(&k["expires_at"]),
            state.to_owned(),
        ]);
    }
    table
}
