//! `switchboard serve`: the gateway.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use switchboard::server::{Server, reload_on_sighup, shutdown_signal};

use super::load::ConfigArgs;

/// Log line format.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Arguments of `switchboard serve`.
#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on [default: `server.listen`, i.e. 127.0.0.1:8080].
    #[arg(short, long, env = "SWITCHBOARD_LISTEN")]
    listen: Option<SocketAddr>,
    /// Log format.
    #[arg(
        long,
        value_enum,
        default_value = "text",
        env = "SWITCHBOARD_LOG_FORMAT"
    )]
    log_format: LogFormat,
}

/// Logs go through a background writer thread, so a request never blocks
/// its runtime worker on a write to stderr. Not lossy: when the queue is
/// full, logging waits rather than dropping lines. Flushed when the returned
/// guard drops.
fn init_logging(format: LogFormat) -> tracing_appender::non_blocking::WorkerGuard {
    use tracing_subscriber::EnvFilter;
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("switchboard-log")
        .finish(std::io::stderr());
    let filter =
        EnvFilter::try_from_env("SWITCHBOARD_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(writer);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
    guard
}

pub(crate) async fn run(args: ServeArgs, config: &ConfigArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let _log_guard = init_logging(args.log_format);
    let sb = Arc::new(config.switchboard().await?);
    for found in config.env_instances(&sb)? {
        tracing::info!(
            instance = %found.instance,
            kind = %found.kind,
            from = %found.vars.join(", "),
            "instance from environment variables"
        );
    }
    let listen = args.listen.unwrap_or(sb.config().server.listen);
    let server = Server::bind(sb.clone(), listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = server.local_addr()?;
    for inst in sb.registry().instances() {
        match inst.state() {
            switchboard::gateway::InstanceState::Failed { error } => {
                tracing::warn!(instance = inst.name(), %error, "instance failed to start");
            }
            state => tracing::info!(
                instance = inst.name(),
                kind = inst.kind(),
                ?state,
                "instance"
            ),
        }
    }
    let _watch = if sb.config().server.watch_config && sb.config_path().is_some() {
        Some(sb.watch_config_file(Duration::from_millis(300))?)
    } else {
        None
    };
    if sb.config_path().is_some() {
        reload_on_sighup(sb.clone());
    }
    tracing::info!(
        address = %format!("http://{addr}"),
        startup_ms = started.elapsed().as_secs_f64() * 1000.0,
        "switchboard is ready"
    );
    server.run(shutdown_signal()).await?;
    Ok(())
}
