//! `cargo xtask fuzz [--seconds N] [TARGET...]`: builds the cargo-fuzz crate
//! in `fuzz/` and runs each target (all by default) for N seconds (default
//! 10), seeded from the repo's own fixtures.
//!
//! cargo-fuzz wants a nightly compiler for its `-Z` flags; the stable
//! toolchain accepts them with `RUSTC_BOOTSTRAP=1`, and `--sanitizer none`
//! avoids needing a sanitizer runtime. cargo-fuzz itself is installed with
//! `cargo install cargo-fuzz --locked` when missing.
//!
//! Each target keeps its working corpus in `fuzz/corpus/<target>` (what
//! libFuzzer found interesting; gitignored, kept between runs as a local
//! regression corpus). The seed directories are read in place, never copied.
//! A crash leaves its input in `fuzz/artifacts/<target>/` and fails the run.
//! The fuzz build goes to `fuzz/target` (or `$SWITCHBOARD_FUZZ_TARGET_DIR`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail};

/// Every target with its seed directories (relative to the workspace root).
pub(crate) const TARGETS: &[(&str, &[&str])] = &[
    (
        "sse_decoder",
        &[
            "crates/protocol/tests/data",
            "providers/openai/tests/data",
            "providers/gemini/tests/data",
        ],
    ),
    ("ndjson_decoder", &["providers/ollama/tests/data"]),
    (
        "openai_request",
        &[
            "crates/protocol/tests/data/openai",
            "crates/protocol/tests/data/openai-compatible",
        ],
    ),
    (
        "anthropic_request",
        &["crates/protocol/tests/data/anthropic"],
    ),
    (
        "openai_response",
        &[
            "crates/protocol/tests/data/openai",
            "providers/openai/tests/data",
            "providers/openai-compatible/tests/data",
        ],
    ),
    (
        "anthropic_response",
        &["crates/protocol/tests/data/anthropic"],
    ),
    (
        "openai_stream",
        &[
            "crates/protocol/tests/data/openai",
            "crates/protocol/tests/data/openai-compatible",
            "providers/openai/tests/data",
        ],
    ),
    (
        "openai_forward",
        &[
            "crates/protocol/tests/data/openai",
            "providers/openai/tests/data",
        ],
    ),
    (
        "openai_forward_stream",
        &[
            "crates/protocol/tests/data/openai",
            "crates/protocol/tests/data/openai-compatible",
            "providers/openai/tests/data",
        ],
    ),
    (
        "anthropic_stream",
        &["crates/protocol/tests/data/anthropic"],
    ),
    ("gemini_schema", &["providers/gemini/tests/data"]),
    ("gemini_response", &["providers/gemini/tests/data"]),
    ("gemini_stream", &["providers/gemini/tests/data"]),
    ("ollama_response", &["providers/ollama/tests/data"]),
    ("ollama_stream", &["providers/ollama/tests/data"]),
    ("config_loader", &["fuzz/seeds/config"]),
];

const USAGE: &str = "usage: cargo xtask fuzz [--seconds N] [--runs N] [TARGET...]";

/// Parses the arguments and runs.
pub(crate) fn run(root: &Path, args: &[&str]) -> anyhow::Result<()> {
    let mut seconds = 10u64;
    // `--runs N`: N inputs from a fixed seed, the same sequence every time
    // (CI's smoke: a red CI always means the same input, and it reproduces);
    // `--seconds` then only bounds it.
    let mut runs: Option<u64> = None;
    let mut only = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match *arg {
            "--seconds" => {
                seconds = it
                    .next()
                    .and_then(|s| s.parse().ok())
                    .with_context(|| format!("--seconds needs a number; {USAGE}"))?;
            }
            "--runs" => {
                runs = Some(
                    it.next()
                        .and_then(|s| s.parse().ok())
                        .with_context(|| format!("--runs needs a number; {USAGE}"))?,
                );
            }
            name if TARGETS.iter().any(|(t, _)| *t == name) => only.push(name),
            other => bail!(
                "unknown argument `{other}`; {USAGE}\ntargets: {}",
                TARGETS
                    .iter()
                    .map(|(t, _)| *t)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
    ensure_cargo_fuzz()?;
    let fuzz_dir = root.join("fuzz");
    let target_dir = std::env::var_os("SWITCHBOARD_FUZZ_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| fuzz_dir.join("target"));

    let started = Instant::now();
    println!("\n==> cargo fuzz build --sanitizer none");
    let status = fuzz_cmd(&fuzz_dir, &target_dir)
        .args(["build", "--sanitizer", "none"])
        .status()
        .context("cannot run cargo fuzz build")?;
    println!(
        "<== cargo fuzz build ({:.0}s)",
        started.elapsed().as_secs_f64()
    );
    if !status.success() {
        bail!("`cargo fuzz build` failed ({status})");
    }

    let mut report = Vec::new();
    for (target, seeds) in TARGETS {
        if !only.is_empty() && !only.contains(target) {
            continue;
        }
        let corpus = fuzz_dir.join("corpus").join(target);
        std::fs::create_dir_all(&corpus)
            .with_context(|| format!("cannot create {}", corpus.display()))?;
        let t = Instant::now();
        match runs {
            Some(runs) => {
                println!("\n==> fuzz {target}: {runs} inputs from seed 1 (at most {seconds}s)")
            }
            None => println!("\n==> fuzz {target} for {seconds}s"),
        }
        let mut cmd = fuzz_cmd(&fuzz_dir, &target_dir);
        cmd.args(["run", target, "--sanitizer", "none"])
            .arg(&corpus);
        for seed in *seeds {
            let dir = root.join(seed);
            if dir.is_dir() {
                cmd.arg(dir);
            }
        }
        cmd.arg("--");
        if let Some(runs) = runs {
            cmd.args([format!("-runs={runs}"), "-seed=1".to_owned()]);
        }
        cmd.args([
            &format!("-max_total_time={seconds}"),
            "-max_len=262144",
            "-rss_limit_mb=2048",
            "-timeout=10",
            "-print_final_stats=1",
        ]);
        let status = cmd
            .status()
            .with_context(|| format!("cannot run cargo fuzz run {target}"))?;
        let files = std::fs::read_dir(&corpus).map(|d| d.count()).unwrap_or(0);
        println!(
            "<== fuzz {target} ({:.0}s, corpus {files} files)",
            t.elapsed().as_secs_f64()
        );
        if !status.success() {
            bail!(
                "fuzz target `{target}` failed ({status}); the input is in fuzz/artifacts/{target}/ \
                 (reproduce: RUSTC_BOOTSTRAP=1 cargo fuzz run {target} --sanitizer none <file>, in fuzz/)"
            );
        }
        report.push((*target, t.elapsed().as_secs_f64(), files));
    }
    println!("\n| target | seconds | corpus files |\n|---|---|---|");
    for (t, s, f) in &report {
        println!("| {t} | {s:.0} | {f} |");
    }
    println!(
        "\nfuzz: {} targets, no crash, {:.0}s in all",
        report.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn fuzz_cmd(fuzz_dir: &Path, target_dir: &Path) -> Command {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.arg("fuzz")
        .current_dir(fuzz_dir)
        .env("RUSTC_BOOTSTRAP", "1")
        .env("CARGO_TARGET_DIR", target_dir);
    cmd
}

/// Installs cargo-fuzz from crates.io when `cargo fuzz` is missing.
fn ensure_cargo_fuzz() -> anyhow::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let present = Command::new(&cargo)
        .args(["fuzz", "--version"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if present {
        return Ok(());
    }
    println!("\n==> cargo install cargo-fuzz --locked");
    let status = Command::new(&cargo)
        .args(["install", "cargo-fuzz", "--locked"])
        .status()
        .context("cannot run cargo install cargo-fuzz")?;
    if !status.success() {
        bail!("`cargo install cargo-fuzz --locked` failed ({status})");
    }
    Ok(())
}
