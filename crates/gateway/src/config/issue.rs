//! [`ConfigError`]: every problem found while loading, each naming where the
//! bad value came from, its key path, what was found and what was expected.

use std::fmt;
use std::path::PathBuf;

/// One problem in the configuration.
///
/// Renders as `<where>: <key>: <message>`, where `<where>` is the file that
/// supplied the value, or `environment variable SWITCHBOARD_...` (with the
/// `.env` file it was read from, if any):
///
/// ```text
/// /etc/switchboard/switchboard.toml: providers.mock.token_delay_ms: expected a non-negative integer, found string "slow"
/// environment variable SWITCHBOARD_ROUTER__MAX_ATTEMPTS: router.max_attempts: expected a non-negative integer, found string "many"
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigIssue {
    /// The file that supplied the bad value: a configuration file, or the
    /// `.env` file an environment variable was read from.
    pub file: Option<PathBuf>,
    /// The `SWITCHBOARD_*` environment variable that supplied the bad value.
    pub env_var: Option<String>,
    /// The key path, e.g. `providers.openai.timeout_ms` or
    /// `models.fast.targets[1]`; empty for problems with a whole file.
    pub key: String,
    /// What was found, what was expected, and a "did you mean" where one is close.
    pub message: String,
}

impl fmt::Display for ConfigIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.env_var, &self.file) {
            (Some(var), Some(file)) => {
                write!(f, "environment variable {var} (from {}): ", file.display())?
            }
            (Some(var), None) => write!(f, "environment variable {var}: ")?,
            (None, Some(file)) => write!(f, "{}: ", file.display())?,
            (None, None) => {}
        }
        if !self.key.is_empty() {
            write!(f, "{}: ", self.key)?;
        }
        f.write_str(&self.message)
    }
}

/// Every problem found while loading the configuration; `Display` prints one
/// issue per line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// The problems, in the order found.
    pub issues: Vec<ConfigIssue>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.issues.is_empty() {
            return f.write_str("invalid configuration");
        }
        for (i, issue) in self.issues.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{issue}")?;
        }
        Ok(())
    }
}

impl From<ConfigError> for switchboard_core::Error {
    /// A [`Config`](switchboard_core::ErrorKind::Config) error whose message
    /// lists every issue, one per line.
    fn from(e: ConfigError) -> Self {
        switchboard_core::Error::config(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issue(file: Option<&str>, var: Option<&str>, key: &str) -> ConfigIssue {
        ConfigIssue {
            file: file.map(PathBuf::from),
            env_var: var.map(str::to_owned),
            key: key.to_owned(),
            message: "bad".to_owned(),
        }
    }

    #[test]
    fn renders_where_key_and_message() {
        let e = ConfigError {
            issues: vec![
                issue(Some("a.toml"), None, "server.listen"),
                issue(None, Some("SWITCHBOARD_X"), "x"),
                issue(Some(".env"), Some("SWITCHBOARD_X"), "x"),
                issue(Some("a.toml"), None, ""),
                issue(None, None, "models.a"),
            ],
        };
        assert_eq!(
            e.to_string(),
            "a.toml: server.listen: bad\n\
             environment variable SWITCHBOARD_X: x: bad\n\
             environment variable SWITCHBOARD_X (from .env): x: bad\n\
             a.toml: bad\n\
             models.a: bad"
        );
        let core: switchboard_core::Error = e.into();
        assert_eq!(core.kind(), &switchboard_core::ErrorKind::Config);
        assert!(core.message().starts_with("a.toml: server.listen: bad\n"));
    }
}
