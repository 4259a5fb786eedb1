//! Switchboard's development tasks, run as `cargo xtask <task>`.
//!
//! - `cargo xtask schema [--check]`: write (or check) `schemas/providers/*.schema.json`
//!   and `schemas/extensions/*.schema.json`.
//! - `cargo xtask bench-load [--quick] [--with-usage | --pinned | --peers |
//!   --virtual-key embedded|redis]`: the load harness (nginx + wrk):
//!   throughput, added latency and TTFT, RSS and startup, direct vs gateway;
//!   pinned to cores, against LiteLLM and Portkey, with a virtual key.
//! - `cargo xtask ci`: every check CI runs (fmt, clippy, tests under both
//!   registration backends, each provider feature alone, the schema check),
//!   against one PostgreSQL for the whole run (`SWITCHBOARD_TEST_POSTGRES_URL`,
//!   the local server, or a throwaway one).
//! - `cargo xtask browser`: the web console at `/ui` in Debian's chromium,
//!   driven by playwright-core (`tests/browser`), against `switchboard serve`.
//! - `cargo xtask fuzz [--seconds N] [TARGET...]`: the cargo-fuzz targets in `fuzz/`.
//! - `cargo xtask soak [--requests N] [--concurrency C] [--quick]`: the gateway
//!   under faults, reloads and disconnects; RSS and fds before/after.
//! - `cargo xtask new-provider <name> [--display NAME] [--base-url URL] [--model ID]`:
//!   scaffold `providers/<name>/` and register it in the facade.
//! - `cargo xtask new-extension <name>`: scaffold `extensions/<name>/` and
//!   register it in the facade.

mod bench_load;
mod browser;
mod ci;
mod fuzz;
mod new_extension;
mod new_provider;
mod schema;
mod soak;

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <task>

tasks:
  ci                 run every check CI runs
  browser            the web console in chromium (playwright-core, node --test)
                     against a real `switchboard serve` on the mock
  bench-load [--quick] [--with-usage | --pinned | --peers | --virtual-key embedded|redis]
                     measure the gateway against nginx directly (needs nginx + wrk;
                     installs them with apt-get when missing); --help lists the modes
  fuzz [--seconds N] [TARGET...]
                     run the cargo-fuzz targets in fuzz/ (default 10 s each)
  soak [--requests N] [--concurrency C] [--quick] [--release]
                     the gateway under faults, reloads and disconnects (default
                     100k requests); fails on a lost request, RSS +10% or leaked fds
  schema [--check]   write schemas/ from the linked providers and extensions
                     (--check: fail if stale)
  new-provider <name> [--display NAME] [--base-url URL] [--model ID]
                     create providers/<name>/ and register it (never overwrites)
  new-extension <name>
                     create extensions/<name>/ and register it (never overwrites)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["schema"] => schema::run(&workspace_root(), false),
        ["schema", "--check"] => schema::run(&workspace_root(), true),
        ["ci"] => ci::run(&workspace_root()),
        ["browser"] => browser::run(&workspace_root()),
        ["bench-load", rest @ ..] => bench_load::run(&workspace_root(), rest),
        ["fuzz", rest @ ..] => fuzz::run(&workspace_root(), rest),
        ["soak", rest @ ..] => soak::run(&workspace_root(), rest),
        ["new-provider", rest @ ..] => match new_provider::parse_args(rest) {
            Ok(new_provider::Invocation::Run(opts)) => new_provider::run(&workspace_root(), &opts),
            Ok(new_provider::Invocation::Help) => {
                println!("{}", new_provider::USAGE);
                Ok(())
            }
            Err(new_provider::UsageError(msg)) => {
                eprintln!("error: {msg}\n\n{}", new_provider::USAGE);
                return ExitCode::from(2);
            }
        },
        ["new-extension", rest @ ..] => match new_extension::parse_args(rest) {
            Ok(Some(name)) => new_extension::run(&workspace_root(), &name),
            Ok(None) => {
                println!("{}", new_extension::USAGE);
                Ok(())
            }
            Err(msg) => {
                eprintln!("error: {msg}\n\n{}", new_extension::USAGE);
                return ExitCode::from(2);
            }
        },
        ["help" | "--help" | "-h"] => {
            println!("{USAGE}");
            Ok(())
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root: xtask lives one level below it.
/// Where cargo puts build output: `CARGO_TARGET_DIR`, else `<root>/target`.
pub(crate) fn target_dir(root: &std::path::Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}

fn workspace_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map(PathBuf::from)
        .unwrap_or(manifest_dir)
}

#[cfg(test)]
mod tests {
    #[test]
    fn schemas_are_current() {
        if let Err(err) = crate::schema::run(&crate::workspace_root(), true) {
            panic!("{err:#}");
        }
    }
}
