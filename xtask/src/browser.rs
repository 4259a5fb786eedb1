//! `cargo xtask browser`: the web console at `/ui` in a real browser.
//! Builds the binary, installs `tests/browser`'s `playwright-core` with
//! `npm ci` when its lock file changed, and runs the scenarios
//! (`node --test`) against a real `switchboard serve` on the mock, driving
//! Debian's `chromium` (no browser download). Bounded in time; screenshots
//! go to `<target>/browser-screenshots/`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// Set (to anything) to fail instead of skipping when no chromium is found.
pub(crate) const REQUIRE_VAR: &str = "SWITCHBOARD_REQUIRE_BROWSER";
/// The longest the scenarios may take.
const TIMEOUT: Duration = Duration::from_secs(120);

/// The chromium to drive: `$CHROMIUM`, else Debian's `/usr/bin/chromium`
/// (or `chromium-browser`), when it exists.
pub(crate) fn find_chromium() -> Option<PathBuf> {
    std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .into_iter()
        .chain(
            ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
                .iter()
                .map(PathBuf::from),
        )
        .find(|p| p.is_file())
}

/// `cargo xtask browser`: fails when chromium is missing.
pub(crate) fn run(root: &Path) -> anyhow::Result<()> {
    let Some(chromium) = find_chromium() else {
        bail!("no chromium: install it (`apt-get install -y chromium`) or set CHROMIUM");
    };
    build(root)?;
    scenarios(root, &chromium)
}

/// The CI step: skips (saying why) when chromium is missing and
/// `SWITCHBOARD_REQUIRE_BROWSER` is unset; `.ci/run` installs chromium and
/// sets it.
pub(crate) fn ci_step(root: &Path) -> anyhow::Result<()> {
    if find_chromium().is_none() && std::env::var_os(REQUIRE_VAR).is_none() {
        println!(
            "\n==> browser tests SKIPPED: no chromium found (apt-get install -y chromium, \
             or set CHROMIUM); set {REQUIRE_VAR}=1 to make this a failure"
        );
        return Ok(());
    }
    run(root)
}

fn build(root: &Path) -> anyhow::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let args = ["build", "-p", "switchboard"];
    println!("\n==> cargo {}", args.join(" "));
    let status = Command::new(cargo)
        .args(args)
        .current_dir(root)
        .status()
        .context("cannot run cargo build")?;
    if !status.success() {
        bail!("the build failed ({status})");
    }
    Ok(())
}

/// `npm ci` when `node_modules` is missing or older than the lock file.
fn npm_ci(dir: &Path) -> anyhow::Result<()> {
    let lock = dir.join("package-lock.json");
    let installed = dir.join("node_modules/.package-lock.json");
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if let (Some(lock), Some(installed)) = (modified(&lock), modified(&installed))
        && installed >= lock
    {
        return Ok(());
    }
    println!("\n==> npm ci (tests/browser)");
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
        .current_dir(dir)
        .status()
        .context("cannot run npm (install Node.js 18 or later)")?;
    if !status.success() {
        bail!("npm ci failed in tests/browser ({status})");
    }
    Ok(())
}

fn scenarios(root: &Path, chromium: &Path) -> anyhow::Result<()> {
    let dir = root.join("tests/browser");
    npm_ci(&dir)?;
    let target = crate::target_dir(root);
    let shots = target.join("browser-screenshots");
    let started = Instant::now();
    println!(
        "\n==> node --test tests/browser (chromium: {})",
        chromium.display()
    );
    let child = Command::new("node")
        .args(["--test", "console.test.mjs"])
        .env("SWITCHBOARD_BIN", target.join("debug/switchboard"))
        .env("CHROMIUM", chromium)
        .env("SCREENSHOT_DIR", &shots)
        .current_dir(&dir)
        .spawn()
        .context("cannot run node (install Node.js 18 or later)")?;
    let status = wait_bounded(child, TIMEOUT)?;
    println!(
        "<== browser tests ({:.0}s; screenshots in {})",
        started.elapsed().as_secs_f64(),
        shots.display()
    );
    match status {
        Some(s) if s.success() => Ok(()),
        Some(s) => bail!("the browser tests failed ({s})"),
        None => bail!("the browser tests took more than {}s", TIMEOUT.as_secs()),
    }
}

/// Waits for `child` at most `limit`; kills it then (`None`).
fn wait_bounded(mut child: Child, limit: Duration) -> anyhow::Result<Option<ExitStatus>> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
