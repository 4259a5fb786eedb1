//! [`PostgresConfig`]: how to reach the shared PostgreSQL store, and the
//! checks on each setting. Compiled without the `postgres` feature too, so
//! a configuration can be validated by a build that cannot open the store.

use std::time::Duration;

use switchboard_core::{Error, Secret};

/// How to reach the shared PostgreSQL store (`PostgresStore`, with the
/// `postgres` feature). Its `Debug` shows the URL with the password and
/// query values hidden.
#[derive(Clone, PartialEq)]
pub struct PostgresConfig {
    /// `postgres://user:password@host:port/database?sslmode=require` (or
    /// `postgresql://`). Never printed.
    pub url: Secret,
    /// The schema the store's tables live in, created when missing:
    /// lowercase letters, digits and `_`, starting with a letter or `_`, at
    /// most 63 characters. Several gateways share data by naming the same
    /// database and schema; tests isolate themselves with one of their own.
    pub schema: String,
    /// The most connections the pool opens (opened when needed, closed after
    /// a minute idle).
    pub pool_size: u32,
    /// How long one store call may take, waiting for a pooled connection
    /// included; past it the call fails as `unavailable` (PostgreSQL also
    /// cancels the statement: `statement_timeout`).
    pub timeout: Duration,
}

impl PostgresConfig {
    /// The schema when none is given.
    pub const DEFAULT_SCHEMA: &'static str = "public";
    /// The pool size when none is given.
    pub const DEFAULT_POOL_SIZE: u32 = 10;
    /// The largest pool size accepted (PostgreSQL's own default
    /// `max_connections` is 100, shared by every node).
    pub const MAX_POOL_SIZE: u32 = 1000;
    /// The call timeout when none is given.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
    /// How long the migrations at open may take (a node waits here while
    /// another one migrates the same schema).
    pub const MIGRATION_TIMEOUT: Duration = Duration::from_secs(60);

    /// The store at `url`, with the default schema, pool size and timeout.
    pub fn new(url: impl Into<Secret>) -> Self {
        PostgresConfig {
            url: url.into(),
            schema: Self::DEFAULT_SCHEMA.to_owned(),
            pool_size: Self::DEFAULT_POOL_SIZE,
            timeout: Self::DEFAULT_TIMEOUT,
        }
    }

    /// The same, in `schema`.
    pub fn with_schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = schema.into();
        self
    }

    /// The same, with at most `pool_size` connections.
    pub fn with_pool_size(mut self, pool_size: u32) -> Self {
        self.pool_size = pool_size;
        self
    }

    /// The same, with calls bounded by `timeout`.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Checks every setting; a `config` error naming the first bad one
    /// (`url`, `schema`, `pool_size` or `timeout_ms`). The URL is never
    /// quoted in the message.
    pub fn validate(&self) -> Result<(), Error> {
        let checks = [
            ("url", check_url(self.url.expose())),
            ("schema", check_schema(&self.schema)),
            ("pool_size", check_pool_size(self.pool_size)),
            (
                "timeout_ms",
                check_timeout_ms(u64::try_from(self.timeout.as_millis()).unwrap_or(u64::MAX)),
            ),
        ];
        for (param, check) in checks {
            if let Err(why) = check {
                return Err(
                    Error::config(format!("state store (postgres): `{param}`: {why}"))
                        .with_param(param),
                );
            }
        }
        Ok(())
    }

    /// The URL with its password and query values replaced by `***`.
    pub fn redacted_url(&self) -> String {
        redact_url(self.url.expose())
    }
}

impl std::fmt::Debug for PostgresConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresConfig")
            .field("url", &self.redacted_url())
            .field("schema", &self.schema)
            .field("pool_size", &self.pool_size)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Whether `url` names a PostgreSQL database (`postgres://` or
/// `postgresql://`). The message never quotes the URL: it may hold a password.
pub fn check_url(url: &str) -> Result<(), String> {
    let url = url.trim();
    if url.is_empty() {
        return Err("the URL is empty (an unset variable?); write \
                    \"postgres://user:${PGPASSWORD}@host:5432/database\""
            .to_owned());
    }
    let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
    match scheme.as_deref() {
        Some("postgres" | "postgresql") => Ok(()),
        Some(other) => Err(format!(
            "the URL's scheme is `{other}`; expected `postgres://` or `postgresql://`"
        )),
        None => Err(
            "not a URL; expected \"postgres://user:${PGPASSWORD}@host:5432/database\"".to_owned(),
        ),
    }
}

/// Whether `schema` is a schema name the store accepts: lowercase ASCII
/// letters, digits and `_`, starting with a letter or `_`, at most 63
/// bytes, not `pg_…` (reserved by PostgreSQL). The rule keeps names usable
/// unquoted and quoted alike.
pub fn check_schema(schema: &str) -> Result<(), String> {
    let valid = !schema.is_empty()
        && schema.len() <= 63
        && schema
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b == b'_')
        && schema
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !valid {
        return Err(format!(
            "{schema:?} is not a schema name: use lowercase letters, digits and `_`, \
             starting with a letter or `_`, at most 63 characters"
        ));
    }
    if schema.starts_with("pg_") {
        return Err(format!(
            "{schema:?} starts with `pg_`, which PostgreSQL reserves for system schemas"
        ));
    }
    Ok(())
}

/// Whether `pool_size` is from 1 to [`PostgresConfig::MAX_POOL_SIZE`].
pub fn check_pool_size(pool_size: u32) -> Result<(), String> {
    if (1..=PostgresConfig::MAX_POOL_SIZE).contains(&pool_size) {
        Ok(())
    } else {
        Err(format!(
            "{pool_size} is not a pool size: from 1 to {} connections",
            PostgresConfig::MAX_POOL_SIZE
        ))
    }
}

/// Whether `timeout_ms` is at least 1 (and fits PostgreSQL's
/// `statement_timeout`, at most `i32::MAX` ms).
pub fn check_timeout_ms(timeout_ms: u64) -> Result<(), String> {
    if timeout_ms == 0 {
        Err("must be at least 1 (milliseconds)".to_owned())
    } else if timeout_ms > i32::MAX as u64 {
        Err(format!(
            "{timeout_ms} ms is too long: at most {} ms (PostgreSQL's `statement_timeout`)",
            i32::MAX
        ))
    } else {
        Ok(())
    }
}

/// `url` with the password of its user info and every query value
/// replaced by `***`: `postgres://app:***@db:5432/sb?sslmode=***`. The
/// last `@` ends the user info, so a password holding `@`, `/` or `?` is
/// hidden whole.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "***".to_owned();
    };
    let (user, host) = match rest.rfind('@') {
        Some(at) => {
            let info = &rest[..at];
            let user = info.split_once(':').map_or(info, |(u, _)| u);
            let shown = if info.contains(':') {
                format!("{user}:***@")
            } else {
                format!("{user}@")
            };
            (shown, &rest[at + 1..])
        }
        None => (String::new(), rest),
    };
    let host = match host.split_once('?') {
        Some((path, query)) => {
            let params: Vec<String> = query
                .split('&')
                .map(|p| match p.split_once('=') {
                    Some((k, _)) => format!("{k}=***"),
                    None => p.to_owned(),
                })
                .collect();
            format!("{path}?{}", params.join("&"))
        }
        None => host.to_owned(),
    };
    format!("{scheme}://{user}{host}")
}

/// The passwords in `url` (of its user info and a `password=` query
/// parameter), as written and percent-decoded, longest first: for scrubbing
/// them from messages by value.
pub fn url_passwords(url: &str) -> Vec<String> {
    let Some((_, rest)) = url.split_once("://") else {
        return Vec::new();
    };
    let mut raw = Vec::new();
    let after_user = match rest.rfind('@') {
        Some(at) => {
            if let Some((_, password)) = rest[..at].split_once(':') {
                raw.push(password);
            }
            &rest[at + 1..]
        }
        None => rest,
    };
    // Also a `password=` query parameter (libpq takes one).
    if let Some((_, query)) = after_user.split_once('?') {
        raw.extend(query.split('&').filter_map(|p| p.strip_prefix("password=")));
    }
    let mut out: Vec<String> = raw
        .into_iter()
        .filter(|p| !p.is_empty())
        .flat_map(|p| [p.to_owned(), percent_decode(p)])
        .filter(|p| !p.is_empty())
        .collect();
    out.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    out.dedup();
    out
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_redacted() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/sb?sslmode=require&password=x"),
            "postgres://app:***@db:5432/sb?sslmode=***&password=***"
        );
        assert_eq!(
            redact_url("postgres://postgres@127.0.0.1:5432/test"),
            "postgres://postgres@127.0.0.1:5432/test"
        );
        assert_eq!(
            redact_url("postgresql://u:p@ss/w?rd@host/db"),
            "postgresql://u:***@host/db"
        );
        assert_eq!(redact_url("no scheme at all"), "***");
    }

    #[test]
    fn passwords_are_found_raw_and_decoded() {
        assert_eq!(
            url_passwords("postgres://u:p%40ss@h/db"),
            vec!["p%40ss".to_owned(), "p@ss".to_owned()]
        );
        assert!(url_passwords("postgres://u@h/db").is_empty());
        assert_eq!(
            url_passwords("postgres://h/db?password=pw1&x=1"),
            vec!["pw1".to_owned()]
        );
        assert_eq!(
            url_passwords("postgres://u:a?b@h/db?password=pw1"),
            vec!["a?b".to_owned(), "pw1".to_owned()]
        );
    }

    #[test]
    fn settings_are_checked() {
        assert!(check_url("postgres://h/db").is_ok());
        assert!(check_url("POSTGRESQL://h/db").is_ok());
        let err = check_url("mysql://u:hunter2@h/db").expect_err("not postgres");
        assert!(err.contains("`mysql`") && !err.contains("hunter2"), "{err}");
        assert!(check_url("").expect_err("empty").contains("empty"));
        assert!(check_schema("sb_test_1").is_ok());
        assert!(check_schema("_x").is_ok());
        for bad in ["", "1x", "Upper", "with-dash", "pg_mine", &"x".repeat(64)] {
            assert!(check_schema(bad).is_err(), "{bad}");
        }
        assert!(check_pool_size(0).is_err());
        assert!(check_pool_size(1).is_ok());
        assert!(check_pool_size(1001).is_err());
        assert!(check_timeout_ms(0).is_err());
        assert!(check_timeout_ms(u64::from(u32::MAX)).is_err());
    }

    #[test]
    fn debug_and_validate_never_show_the_password() {
        let config = PostgresConfig::new("postgres://app:hunter2@db/sb").with_schema("Bad");
        let debug = format!("{config:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("app:***@db/sb"), "{debug}");
        let err = config.validate().expect_err("bad schema");
        assert_eq!(err.param(), Some("schema"));
        assert!(!err.to_string().contains("hunter2"));
    }
}
