//! A PostgreSQL server for tests, found or started:
//!
//! 1. `SWITCHBOARD_TEST_POSTGRES_URL` when set (used as is; the value
//!    `throwaway` forces 3);
//! 2. `postgres://postgres@127.0.0.1:5432/test` when something listens on
//!    127.0.0.1:5432;
//! 3. otherwise a throwaway server from the PostgreSQL binaries of Debian's
//!    packages (`/usr/lib/postgresql/<version>/bin`, else `initdb` on
//!    `PATH`): a new cluster in a temporary directory (trust auth, no
//!    fsync) on a free port, stopped and deleted once this process exits.
//!
//! With none of them, [`test_postgres_url`] panics saying what to install or
//! set: a PostgreSQL test never passes without a database.
//!
//! Tests isolate themselves in a schema of their own ([`unique_schema`]), so
//! they run in parallel on one server.
//!
//! `cargo xtask ci` calls [`find_postgres`] once and hands the URL to every
//! test run through the variable, so one server serves the whole run.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The variable naming the server tests use.
pub const POSTGRES_URL_VAR: &str = "SWITCHBOARD_TEST_POSTGRES_URL";

/// The server tests use when the variable is unset and it is reachable.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The value of [`POSTGRES_URL_VAR`] that forces a throwaway server.
pub const THROWAWAY: &str = "throwaway";

/// The URL of the PostgreSQL server tests use, found or started once per
/// process (see the module docs). Panics, saying what to do, when there is
/// none and none can be started.
pub fn test_postgres_url() -> &'static str {
    match try_test_postgres_url() {
        Ok(url) => url,
        Err(why) => panic!("{why}"),
    }
}

/// [`test_postgres_url`] without the panic (for clean-up code that must
/// not panic again): the URL, or why there is none. Found once per process.
pub fn try_test_postgres_url() -> Result<&'static str, &'static str> {
    static FOUND: OnceLock<Result<String, String>> = OnceLock::new();
    FOUND
        .get_or_init(find_postgres)
        .as_ref()
        .map(String::as_str)
        .map_err(String::as_str)
}

/// The URL tests should use, or why there is none (what to install or set).
pub fn find_postgres() -> Result<String, String> {
    match std::env::var(POSTGRES_URL_VAR) {
        Ok(url) if url.trim() == THROWAWAY => return start_throwaway(),
        Ok(url) if !url.trim().is_empty() => return Ok(url.trim().to_owned()),
        _ => {}
    }
    let local = SocketAddr::from(([127, 0, 0, 1], 5432));
    if TcpStream::connect_timeout(&local, Duration::from_millis(500)).is_ok() {
        return Ok(DEFAULT_POSTGRES_URL.to_owned());
    }
    start_throwaway()
}

/// A schema name no other test (in this or another process) uses:
/// `sbtest_<label>_<pid>_<n>_<random>`, lowercase, under 63 bytes.
pub fn unique_schema(label: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let label: String = label
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
        .take(20)
        .collect();
    format!(
        "sbtest_{label}_{}_{n}_{:08x}",
        std::process::id(),
        random_u32()
    )
}

fn random_u32() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    (h.finish() & u64::from(u32::MAX)) as u32
}

/// The directory holding `initdb`, `pg_ctl` and `postgres`: the newest
/// `/usr/lib/postgresql/<version>/bin`, else the directory of `initdb` on
/// `PATH`.
fn find_binaries() -> Option<PathBuf> {
    let complete = |dir: &Path| {
        ["initdb", "pg_ctl", "postgres"]
            .iter()
            .all(|b| dir.join(b).is_file())
    };
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, bin)| complete(bin))
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .find(|dir| complete(dir))
}

/// The user to run the server as: PostgreSQL refuses to run as root, so
/// under root the `postgres` user of Debian's packages.
fn run_as() -> Option<&'static str> {
    let uid = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_owned))
        })
        .or_else(|| {
            Command::new("id")
                .arg("-u")
                .output()
                .ok()
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        });
    (uid.as_deref() == Some("0")).then_some("postgres")
}

/// `program args…`, as `user` when given (through `runuser`).
fn command(user: Option<&str>, program: &Path) -> Command {
    match user {
        Some(user) => {
            let mut c = Command::new("runuser");
            c.args(["-u", user, "--"]).arg(program);
            c
        }
        None => Command::new(program),
    }
}

fn free_port() -> Result<u16, String> {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port for a throwaway PostgreSQL: {e}"))
}

/// Starts a throwaway server; its URL.
fn start_throwaway() -> Result<String, String> {
    let Some(bin) = find_binaries() else {
        let looked = if std::env::var(POSTGRES_URL_VAR).is_ok_and(|v| v.trim() == THROWAWAY) {
            format!("{POSTGRES_URL_VAR}={THROWAWAY} asks for a throwaway server, but")
        } else {
            format!("{POSTGRES_URL_VAR} is not set, nothing listens on 127.0.0.1:5432, and")
        };
        return Err(format!(
            "no PostgreSQL for the tests: {looked} no server binaries (initdb, pg_ctl, \
             postgres) were found in /usr/lib/postgresql/*/bin or on PATH. Install them \
             (Debian: `apt-get install postgresql`) or set {POSTGRES_URL_VAR} to a server the \
             tests may create and drop schemas in (e.g. {DEFAULT_POSTGRES_URL})."
        ));
    };
    let user = run_as();
    let dir = std::env::temp_dir().join(format!(
        "switchboard-test-postgres-{}-{:08x}",
        std::process::id(),
        random_u32()
    ));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    if let Some(user) = user {
        let owned = Command::new("chown")
            .arg(format!("{user}:"))
            .arg(&dir)
            .status()
            .map_err(|e| format!("cannot run chown: {e}"))?;
        if !owned.success() {
            return Err(format!(
                "cannot give {} to the `{user}` user (PostgreSQL does not run as root)",
                dir.display()
            ));
        }
    }
    let data = dir.join("data");
    let log = dir.join("server.log");
    let init = command(user, &bin.join("initdb"))
        .arg("-D")
        .arg(&data)
        .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", bin.join("initdb").display()))?;
    if !init.status.success() {
        return Err(format!(
            "initdb failed ({}): {}",
            init.status,
            String::from_utf8_lossy(&init.stderr)
        ));
    }
    let port = free_port()?;
    let server_options = format!(
        "-p {port} -h 127.0.0.1 -k {} -c fsync=off -c synchronous_commit=off \
         -c full_page_writes=off -c max_connections=300",
        dir.display()
    );
    let started = command(user, &bin.join("pg_ctl"))
        .arg("-D")
        .arg(&data)
        .arg("-l")
        .arg(&log)
        .args(["-w", "-t", "60", "-o", &server_options, "start"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run {}: {e}", bin.join("pg_ctl").display()))?;
    if !started.success() {
        let log = std::fs::read_to_string(&log).unwrap_or_default();
        return Err(format!(
            "the throwaway PostgreSQL did not start ({started}): {log}"
        ));
    }
    stop_when_this_process_exits(user, &bin, &dir)?;
    Ok(format!("postgres://postgres@127.0.0.1:{port}/postgres"))
}

/// A watcher (a background `sh`, reparented to init) that stops the server
/// and deletes `dir` once this process is gone, however it ends.
fn stop_when_this_process_exits(user: Option<&str>, bin: &Path, dir: &Path) -> Result<(), String> {
    let quote = |p: &Path| format!("'{}'", p.display().to_string().replace('\'', "'\\''"));
    let as_user = user.map_or(String::new(), |u| format!("runuser -u {u} -- "));
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; \
         {as_user}{pg_ctl} -D {data} -m immediate stop; rm -rf {dir}",
        pid = std::process::id(),
        pg_ctl = quote(&bin.join("pg_ctl")),
        data = quote(&dir.join("data")),
        dir = quote(dir),
    );
    // The outer shell backgrounds the watcher and exits at once (waited for
    // here), so the watcher outlives this process without being its child.
    let status = Command::new("sh")
        .args(["-c", &format!("( {script} ) </dev/null >/dev/null 2>&1 &")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| {
            format!("cannot start the watcher that stops the throwaway PostgreSQL: {e}")
        })?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "the watcher that stops the throwaway PostgreSQL did not start ({status})"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With the binaries installed, a throwaway server starts and accepts
    /// connections; without them, the error says what to install.
    #[test]
    fn a_throwaway_server_starts_or_says_what_to_install() {
        if find_binaries().is_none() {
            let why = start_throwaway().expect_err("no binaries, no server");
            assert!(why.contains("apt-get install postgresql"), "{why}");
            assert!(why.contains(POSTGRES_URL_VAR), "{why}");
            return;
        }
        let url = start_throwaway().unwrap_or_else(|why| panic!("{why}"));
        let port: u16 = url
            .rsplit_once(':')
            .and_then(|(_, rest)| rest.split('/').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {url}"));
        TcpStream::connect(("127.0.0.1", port)).expect("the throwaway server accepts connections");
    }

    #[test]
    fn schemas_are_unique_valid_names() {
        let a = unique_schema("Store-Suite");
        let b = unique_schema("Store-Suite");
        assert_ne!(a, b);
        assert!(a.starts_with("sbtest_storesuite_"), "{a}");
        assert!(a.len() <= 63, "{a}");
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_'),
            "{a}"
        );
    }
}
