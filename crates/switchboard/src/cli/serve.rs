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
/// guard drops. The level comes from [`log_filter`].
fn init_logging(format: LogFormat) -> tracing_appender::non_blocking::WorkerGuard {
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("switchboard-log")
        .finish(std::io::stderr());
    let switchboard_log = std::env::var(SWITCHBOARD_LOG).ok();
    let rust_log = std::env::var(RUST_LOG).ok();
    let (filter, problem) = log_filter(switchboard_log.as_deref(), rust_log.as_deref());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(writer);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
    if let Some(problem) = problem {
        tracing::warn!("{problem}");
    }
    guard
}

/// The variable that sets the log level first.
const SWITCHBOARD_LOG: &str = "SWITCHBOARD_LOG";
/// The variable read when `SWITCHBOARD_LOG` is not set.
const RUST_LOG: &str = "RUST_LOG";
/// The filter when neither variable is set.
const DEFAULT_LOG: &str = "info";

/// The log filter: `SWITCHBOARD_LOG`, else `RUST_LOG`, else `info`; both
/// take `tracing` directives (`warn`, `info,switchboard::access=off`). An
/// empty variable counts as unset; one that does not parse is reported
/// (the second value) and the default is used.
fn log_filter(
    switchboard_log: Option<&str>,
    rust_log: Option<&str>,
) -> (tracing_subscriber::EnvFilter, Option<String>) {
    use tracing_subscriber::EnvFilter;
    fn set(v: Option<&str>) -> Option<&str> {
        v.map(str::trim).filter(|v| !v.is_empty())
    }
    let chosen = set(switchboard_log)
        .map(|v| (SWITCHBOARD_LOG, v))
        .or_else(|| set(rust_log).map(|v| (RUST_LOG, v)));
    let Some((name, directives)) = chosen else {
        return (EnvFilter::new(DEFAULT_LOG), None);
    };
    match EnvFilter::try_new(directives) {
        Ok(filter) => (filter, None),
        Err(e) => (
            EnvFilter::new(DEFAULT_LOG),
            Some(format!(
                "{name}={directives:?} is not a log filter ({e}); logging at `{DEFAULT_LOG}`"
            )),
        ),
    }
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
    // One connection worker per CPU this process may use (its affinity
    // mask, so `taskset` is honoured), unless configured.
    let workers = match sb.config().server.worker_threads {
        0 => std::thread::available_parallelism().map_or(1, usize::from),
        n => n,
    };
    let server = Server::bind(sb.clone(), listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?
        .with_workers(workers);
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
    // Installed before the ready line: a supervisor may signal at once.
    let shutdown = shutdown_signal();
    tracing::info!(
        address = %format!("http://{addr}"),
        startup_ms = started.elapsed().as_secs_f64() * 1000.0,
        "switchboard is ready"
    );
    #[cfg(feature = "console")]
    if sb.config().server.admin_token.is_some() {
        tracing::info!(address = %format!("http://{addr}/ui"), "web console");
    } else {
        tracing::info!(
            address = %format!("http://{addr}/ui"),
            "web console (signing in needs `server.admin_token` in the config file)"
        );
    }
    server.run(shutdown).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use tracing_subscriber::filter::LevelFilter;

    use super::log_filter;

    fn level(switchboard_log: Option<&str>, rust_log: Option<&str>) -> Option<LevelFilter> {
        let (filter, problem) = log_filter(switchboard_log, rust_log);
        assert_eq!(problem, None);
        filter.max_level_hint()
    }

    #[test]
    fn switchboard_log_then_rust_log_then_info() {
        assert_eq!(level(None, None), Some(LevelFilter::INFO));
        assert_eq!(level(None, Some("warn")), Some(LevelFilter::WARN));
        assert_eq!(level(Some("warn"), None), Some(LevelFilter::WARN));
        assert_eq!(
            level(Some("error"), Some("debug")),
            Some(LevelFilter::ERROR)
        );
        assert_eq!(level(Some(" "), Some("warn")), Some(LevelFilter::WARN));
        assert_eq!(
            level(None, Some("warn,switchboard::access=info")),
            Some(LevelFilter::INFO)
        );
    }

    #[test]
    fn an_unreadable_filter_is_reported() {
        let (filter, problem) = log_filter(Some("info,switchboard=loud"), Some("warn"));
        let problem = problem.expect("reported");
        assert!(problem.starts_with("SWITCHBOARD_LOG="), "{problem}");
        assert_eq!(filter.max_level_hint(), Some(LevelFilter::INFO));
    }
}
