//! `cargo xtask ci`: every check CI runs, in order, failing fast.

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

use anyhow::{Context, bail};
use switchboard_testkit::postgres::{POSTGRES_URL_VAR, find_postgres};

/// The PostgreSQL every test run of this CI run uses (handed to each cargo
/// as `SWITCHBOARD_TEST_POSTGRES_URL`), found or started once.
static POSTGRES_URL: OnceLock<String> = OnceLock::new();

/// Finds the PostgreSQL for the tests: `SWITCHBOARD_TEST_POSTGRES_URL`, the
/// local server on 127.0.0.1:5432, or one throwaway server from Debian's
/// packages for the whole run (stopped when this process exits). Fails,
/// saying what to install, when there is none: the store tests never pass
/// without a database.
fn postgres_for_tests() -> anyhow::Result<()> {
    let url = find_postgres().map_err(anyhow::Error::msg)?;
    println!(
        "==> PostgreSQL for the tests: {} ({POSTGRES_URL_VAR})",
        switchboard::state::postgres_config::redact_url(&url)
    );
    let _ = POSTGRES_URL.set(url);
    Ok(())
}

fn cargo(root: &Path, args: &[&str]) -> anyhow::Result<()> {
    let started = Instant::now();
    println!("\n==> cargo {}", args.join(" "));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    if let Some(url) = POSTGRES_URL.get() {
        command.env(POSTGRES_URL_VAR, url);
    }
    let status = command
        .args(args)
        .current_dir(root)
        .status()
        .with_context(|| format!("cannot run cargo {}", args.join(" ")))?;
    println!(
        "<== cargo {} ({:.0}s)",
        args.join(" "),
        started.elapsed().as_secs_f64()
    );
    if !status.success() {
        bail!("`cargo {}` failed ({status})", args.join(" "));
    }
    Ok(())
}

fn sdk_tests(root: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    println!("\n==> bash tests/sdk/run.sh");
    let status = Command::new("bash")
        .arg("tests/sdk/run.sh")
        .env(
            "SWITCHBOARD_BIN",
            crate::target_dir(root).join("debug/switchboard"),
        )
        .current_dir(root)
        .status()
        .context("cannot run bash tests/sdk/run.sh")?;
    println!(
        "<== bash tests/sdk/run.sh ({:.0}s)",
        started.elapsed().as_secs_f64()
    );
    if !status.success() {
        bail!("the SDK end-to-end tests failed ({status})");
    }
    Ok(())
}

pub(crate) fn run(root: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    postgres_for_tests()?;
    cargo(root, &["fmt", "--all", "--", "--check"])?;
    cargo(
        root,
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--",
            "-D",
            "warnings",
        ],
    )?;
    // Every test with the default registration backend (inventory)...
    cargo(root, &["test", "--workspace"])?;
    // ...and the crates registration touches again with linkme: core (the
    // registry of descriptors) and the facade (catalog, CLI, serve), which
    // link every provider. The rest of the workspace does not see the
    // backend, and rebuilding it all for a second run doubled CI's build.
    cargo(
        root,
        &[
            "test",
            "-p",
            "switchboard-core",
            "-p",
            "switchboard",
            "--features",
            "switchboard/linkme",
        ],
    )?;
    // Each provider and extension feature alone, and none: a plugin must
    // never depend on another one being linked, and the catalogs must match
    // the features.
    cargo(
        root,
        &[
            "test",
            "-p",
            "switchboard",
            "--no-default-features",
            "--test",
            "it",
            "catalog::",
        ],
    )?;
    for f in switchboard::PROVIDER_FEATURES
        .iter()
        .chain(switchboard::EXTENSION_FEATURES)
    {
        cargo(
            root,
            &[
                "test",
                "-p",
                "switchboard",
                "--no-default-features",
                "--features",
                f.feature,
                "--test",
                "it",
                "catalog::",
            ],
        )?;
    }
    // The fault matrix runs in `cargo test --workspace` above
    // (switchboard's tests/it/fault_matrix). A short fuzz smoke: every target
    // on 20,000 inputs from a fixed seed, seeded from the fixtures (the same
    // inputs on every run, so it cannot turn red by chance).
    crate::fuzz::run(root, &["--runs", "20000", "--seconds", "30"])?;
    // The soak, short.
    crate::soak::run(root, &["--quick"])?;
    println!("\n==> cargo xtask schema --check");
    crate::schema::run(root, true)?;
    // The gateway through the official `openai` and `anthropic` Python SDKs,
    // against the mock provider and a fake OpenAI upstream.
    cargo(
        root,
        &[
            "build",
            "-p",
            "switchboard",
            "--features",
            "all-providers,all-extensions",
        ],
    )?;
    sdk_tests(root)?;
    // The web console in a real browser (skipped, saying so, without
    // chromium unless SWITCHBOARD_REQUIRE_BROWSER is set).
    crate::browser::ci_step(root)?;
    println!(
        "\nci: all checks passed in {:.0}s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
