//! `[state]`: SQLite by default, PostgreSQL inferred from `url`; keys of the
//! other backend, bad URLs, schema names, pool sizes and timeouts are
//! reported with their key path; the URL's password never shows (not in
//! errors, `Debug` or serialization).

use switchboard_gateway::config::ConfigLoader;
use switchboard_gateway::config::types::{StateBackend, StateConfig};
use switchboard_mock as _;

const PASSWORD: &str = "hunter2-never-shown";

/// Loads `toml` with `vars` as the whole environment.
fn load(
    toml: &str,
    vars: &[(&str, &str)],
) -> Result<StateConfig, switchboard_gateway::config::ConfigError> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("switchboard.toml");
    std::fs::write(&path, toml).expect("write");
    let vars = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned()));
    ConfigLoader::new()
        .file(&path)
        .env_vars(vars)
        .load(switchboard_core::catalog().expect("catalog"))
        .map(|loaded| loaded.config.state)
}

fn load_err(toml: &str, vars: &[(&str, &str)]) -> String {
    let err = load(toml, vars).expect_err("refused").to_string();
    assert!(!err.contains(PASSWORD), "the password leaked: {err}");
    err
}

const BUILT_WITHOUT: &str = "built without PostgreSQL support";

#[test]
fn sqlite_is_the_default() {
    let state = load("", &[]).expect("loads");
    assert_eq!(state.backend(), StateBackend::Sqlite);
    let state = load("[state]\npath = \"s.db\"\n", &[]).expect("loads");
    assert_eq!(state.backend(), StateBackend::Sqlite);
}

#[test]
fn postgres_is_inferred_from_the_url_which_never_shows() {
    let url = format!("postgres://app:{PASSWORD}@db.internal:5432/sb");
    let toml =
        "[state]\nurl = \"${PG_URL}\"\nschema = \"gateway\"\npool_size = 4\ntimeout_ms = 250\n";
    let loaded = load(toml, &[("PG_URL", &url)]);
    if !cfg!(feature = "postgres") {
        let err = loaded.expect_err("no PostgreSQL in this build").to_string();
        assert!(err.contains(BUILT_WITHOUT), "{err}");
        assert!(
            err.contains("state.backend: this switchboard was built without"),
            "{err}"
        );
        assert!(!err.contains(PASSWORD), "{err}");
        return;
    }
    let state = loaded.expect("loads");
    assert_eq!(state.backend(), StateBackend::Postgres);
    assert_eq!(state.url.as_ref().map(|u| u.expose()), Some(url.as_str()));
    assert_eq!(
        (state.schema.as_deref(), state.pool_size, state.timeout_ms),
        (Some("gateway"), Some(4), Some(250))
    );
    let debug = format!("{state:?}");
    assert!(!debug.contains(PASSWORD), "{debug}");
    let json = serde_json::to_string(&state).expect("serializes");
    assert!(!json.contains(PASSWORD), "{json}");
    // The environment layer too.
    let state = load("", &[("SWITCHBOARD_STATE__URL", &url)]).expect("loads");
    assert_eq!(state.backend(), StateBackend::Postgres);
}

#[test]
fn keys_of_the_other_backend_are_reported() {
    let url = format!("postgres://app:{PASSWORD}@db/sb");
    let err = load_err(
        "[state]\nbackend = \"sqlite\"\nurl = \"${PG_URL}\"\nschema = \"s\"\npool_size = 2\n",
        &[("PG_URL", &url)],
    );
    assert!(
        err.contains("state.url: `url` is for `backend = \"postgres\"`"),
        "{err}"
    );
    assert!(err.contains("state.schema: `schema` is for"), "{err}");
    assert!(err.contains("state.pool_size: `pool_size` is for"), "{err}");

    let err = load_err(
        "[state]\nbackend = \"postgres\"\npath = \"s.db\"\nurl = \"${PG_URL}\"\n",
        &[("PG_URL", &url)],
    );
    assert!(
        err.contains("state.path: `path` is the SQLite store's file"),
        "{err}"
    );
}

#[test]
fn postgres_settings_are_checked_without_quoting_the_url() {
    let err = load_err(
        "[state]\nbackend = \"postgres\"\nurl = \"${PG_URL}\"\nschema = \"Bad-Name\"\n\
         pool_size = 0\ntimeout_ms = 0\n",
        &[("PG_URL", &format!("mysql://app:{PASSWORD}@db/sb"))],
    );
    assert!(
        err.contains("state.url: the URL's scheme is `mysql`; expected `postgres://`"),
        "{err}"
    );
    assert!(
        err.contains("state.schema: \"Bad-Name\" is not a schema name"),
        "{err}"
    );
    assert!(
        err.contains("state.pool_size: 0 is not a pool size: from 1 to 1000"),
        "{err}"
    );
    assert!(
        err.contains("state.timeout_ms: must be at least 1"),
        "{err}"
    );
    if !cfg!(feature = "postgres") {
        assert!(err.contains(BUILT_WITHOUT), "{err}");
    }

    let err = load_err("[state]\nbackend = \"postgres\"\n", &[]);
    assert!(
        err.contains("state.url: required with `backend = \"postgres\"`"),
        "{err}"
    );
    let err = load_err("[state]\nurl = \"${PG_URL:-}\"\n", &[]);
    assert!(
        err.contains("state.url: the URL is empty (an unset variable?)"),
        "{err}"
    );
    let err = load_err("[state]\nbackend = \"postgress\"\n", &[]);
    assert!(err.contains("did you mean `postgres`?"), "{err}");
    let err = load_err(
        "[state]\nschema = \"pg_catalog\"\nurl = \"postgres://h/db\"\n",
        &[],
    );
    assert!(err.contains("reserves for system schemas"), "{err}");
}
