//! Argument parsing and dispatch.

mod chat;
mod config;
mod extensions;
mod keys;
mod load;
mod models;
mod providers;
mod serve;

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Every LLM provider behind one API.
#[derive(Debug, Parser)]
#[command(name = "switchboard", version, about, propagate_version = true)]
struct Cli {
    #[command(flatten)]
    config: load::ConfigArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the gateway: OpenAI- and Anthropic-compatible HTTP APIs.
    Serve(serve::ServeArgs),
    /// List the providers linked into this binary.
    Providers(providers::ProvidersArgs),
    /// Send a prompt and stream the answer to the terminal.
    Chat(chat::ChatArgs),
    /// List every configured instance's models and the aliases.
    Models(models::ModelsArgs),
    /// List the extensions linked into this binary, and which the configuration enables.
    Extensions(extensions::ExtensionsArgs),
    /// Call an extension method in-process: `switchboard call functions.list --json '{}'`.
    Call(extensions::CallArgs),
    /// Usage totals from the `usage` extension's ledger.
    Usage(extensions::UsageArgs),
    /// Virtual keys (the `keys` extension): create, list, show, update, revoke.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Check the configuration file or print its JSON Schema.
    #[command(subcommand)]
    Config(config::ConfigCommand),
}

/// Parses arguments, runs the command, and turns errors into one line on
/// stderr and a non-zero exit code (2 for usage errors, 1 for failures).
pub(crate) fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return usage_error(&err),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => serve::run(args, &cli.config).await,
            Command::Providers(args) => providers::run(args),
            Command::Chat(args) => chat::run(args, &cli.config).await,
            Command::Models(args) => models::run(args, &cli.config).await,
            Command::Config(cmd) => config::run(cmd, &cli.config),
            Command::Extensions(args) => extensions::list(args, &cli.config),
            Command::Call(args) => extensions::call(args, &cli.config).await,
            Command::Usage(args) => extensions::usage(args, &cli.config).await,
            Command::Keys(cmd) => keys::run(cmd, &cli.config).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Help and version go to stdout with exit 0; anything else is one line.
fn usage_error(err: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match err.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = err.print();
            if err.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            }
        }
        _ => {
            let rendered = err.render().to_string();
            let first = rendered
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("error: invalid arguments");
            let mut stderr = std::io::stderr().lock();
            let _ = writeln!(stderr, "{first} (see `switchboard --help`)");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
