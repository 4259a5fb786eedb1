//! `cargo xtask bench-load`: what the gateway adds, measured against the same
//! upstream called directly, in one run.
//!
//! The upstream is nginx answering on loopback with canned OpenAI bodies (a
//! recorded chat completion and a recorded stream, from
//! `providers/openai/tests/data`), so it costs the same in every column. The
//! load generator is `wrk`. Both come from Debian's packages and are
//! installed with apt-get when missing. The gateway is the release build of
//! `switchboard serve`, with the `openai` provider pointed at nginx.
//!
//! Modes, one per run (`args`):
//! - default (`default`): direct vs gateway vs nginx as a plain proxy:
//!   throughput, latency, TTFT, RSS, startup; `--with-usage` adds the usage
//!   extension;
//! - `--pinned` (`pinned`): the gateway alone on one core, the rest on the
//!   other: added latency at c=1, the throughput climb, CPU per request, a
//!   paced stream (`paced`, `streams`), stall-free stream concurrency;
//! - `--peers` (`peers`): Portkey, LiteLLM and nginx beside Switchboard;
//! - `--virtual-key embedded|redis` (`virtual_key`): a static key vs a
//!   virtual key of the keys extension.
//!
//! Each prints a Markdown table and writes its JSON under
//! `<target>/bench-load/`. `--quick` shortens every phase.

mod args;
mod client;
mod default;
mod gateway;
mod paced;
mod peers;
mod pinned;
mod streams;
mod tools;
mod upstream;
mod virtual_key;
mod wrk;

use std::path::Path;

use args::Mode;

/// Runs `cargo xtask bench-load <args>`.
pub(crate) fn run(root: &Path, args: &[&str]) -> anyhow::Result<()> {
    if matches!(args, ["--help" | "-h"]) {
        println!("{}", args::USAGE);
        return Ok(());
    }
    let opts = args::parse(args)?;
    match opts.mode {
        Mode::Default => default::run(root, &opts),
        Mode::Pinned => pinned::run(root, &opts),
        Mode::Peers => peers::run(root, &opts),
        Mode::VirtualKey(backend) => virtual_key::run(root, &opts, backend),
    }
}

/// Writes `report` to `<work>/<name>` as pretty JSON; the path.
fn write_report(
    work: &Path,
    name: &str,
    report: &serde_json::Value,
) -> anyhow::Result<std::path::PathBuf> {
    use anyhow::Context as _;
    let path = work.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(report)?)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}
