//! `[server]`: what deserializing cannot catch — empty client keys and admin
//! tokens (an unset `${VAR:-}` must not become a key that matches an empty
//! header), CORS origins that are not origins, and limits that are zero (the
//! Responses API's retention included).

use super::Validator;
use crate::config::key_path::KeyPath;
use crate::config::types::ServerConfig;

impl Validator<'_> {
    /// Reports every problem in the (already deserialized) `[server]` table.
    pub(super) fn server_settings(&mut self, server: &ServerConfig) {
        let base = KeyPath::root().key("server");
        if let Some(token) = &server.admin_token
            && token.expose().trim().is_empty()
        {
            self.issue(
                &base.key("admin_token"),
                "the admin token is empty (an unset variable?); set a long random token, \
                 or remove the key to disable the management API"
                    .to_owned(),
            );
        }
        for (i, key) in server.api_keys.iter().enumerate() {
            if key.key.expose().trim().is_empty() {
                self.issue(
                    &base.key("api_keys").index(i).key("key"),
                    "the client key is empty (an unset variable?); an empty key would \
                     let anyone in: set a long random key or remove the entry"
                        .to_owned(),
                );
            }
        }
        for (name, value) in [
            ("client_timeout_ms", server.client_timeout_ms),
            ("write_timeout_ms", server.write_timeout_ms),
            ("max_connections", server.max_connections as u64),
        ] {
            if value == 0 {
                self.issue(&base.key(name), "must be at least 1".to_owned());
            }
        }
        if !(0.0..=1.0).contains(&server.access_log_sample) {
            self.issue(
                &base.key("access_log_sample"),
                format!(
                    "{} is not a fraction: write a number from 0 to 1 (0.01 logs one \
                     successful request in a hundred)",
                    server.access_log_sample
                ),
            );
        }
        let responses = base.key("responses");
        for (name, value) in [
            ("max_in_memory", server.responses.max_in_memory as u64),
            ("retention_secs", server.responses.retention_secs),
        ] {
            if value == 0 {
                self.issue(&responses.key(name), "must be at least 1".to_owned());
            }
        }
        for (i, origin) in server.cors.allowed_origins.iter().enumerate() {
            if let Err(why) = check_origin(origin) {
                self.issue(
                    &base.key("cors").key("allowed_origins").index(i),
                    format!("{origin:?} is not an origin: {why}"),
                );
            }
        }
        for (i, host) in server.allowed_hosts.iter().enumerate() {
            let bad = host.is_empty()
                || host.contains(['/', ' ', '@'])
                || (host.contains(':') && !host.starts_with('['));
            if bad {
                self.issue(
                    &base.key("allowed_hosts").index(i),
                    format!(
                        "{host:?} is not a host name: write it without scheme, path or port \
                         (e.g. \"gateway.internal\"), or \"*\""
                    ),
                );
            }
        }
    }
}

/// Whether `origin` is `*` or `scheme://host[:port]`, as browsers send it.
fn check_origin(origin: &str) -> Result<(), &'static str> {
    if origin == "*" {
        return Ok(());
    }
    let Some((scheme, rest)) = origin.split_once("://") else {
        return Err("expected `scheme://host[:port]`, e.g. \"https://app.example.com\"");
    };
    if scheme.is_empty()
        || !scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    {
        return Err("the scheme is not valid");
    }
    if rest.is_empty() {
        return Err("the host is missing");
    }
    if rest.contains(['/', '?', '#', '@', ' ']) {
        return Err("an origin has no path, query, user or trailing `/`");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_origin;
    use crate::config::ConfigLoader;

    /// Loads `toml` (with `vars` as the whole environment); the error text.
    fn load_err(toml: &str, vars: &[(&str, &str)]) -> Option<String> {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "switchboard-server-validate-{}-{}.toml",
            std::process::id(),
            N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        std::fs::write(&path, toml).expect("writes");
        let vars = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned()));
        let catalog = switchboard_core::catalog().expect("catalog");
        let out = ConfigLoader::new()
            .file(&path)
            .env_vars(vars)
            .load(catalog)
            .err()
            .map(|e| e.to_string());
        let _ = std::fs::remove_file(&path);
        out
    }

    #[test]
    fn empty_client_keys_and_admin_tokens_are_rejected_at_load() {
        let toml = "[server]\nadmin_token = \"${ADMIN:-}\"\n\
                    [[server.api_keys]]\nkey = \"good-key\"\n\
                    [[server.api_keys]]\nkey = \"${CLIENT_KEY}\"\n";
        let err = load_err(toml, &[("CLIENT_KEY", "")]).expect("refused");
        assert!(
            err.contains("server.admin_token: the admin token is empty"),
            "{err}"
        );
        assert!(
            err.contains("server.api_keys[1].key: the client key is empty"),
            "{err}"
        );
        assert!(!err.contains("api_keys[0]"), "{err}");
        let fine = "[server]\nadmin_token = \"t0k\"\n[[server.api_keys]]\nkey = \"k\"\n";
        assert_eq!(load_err(fine, &[]), None);
    }

    #[test]
    fn bad_origins_hosts_and_zero_limits_are_rejected() {
        let toml = "[server]\nmax_connections = 0\nallowed_hosts = [\"http://x\"]\n\
                    [server.cors]\nallowed_origins = [\"https://ok.example\", \"ok.example/\"]\n";
        let err = load_err(toml, &[]).expect("refused");
        assert!(
            err.contains("server.max_connections: must be at least 1"),
            "{err}"
        );
        assert!(err.contains("server.allowed_hosts[0]"), "{err}");
        assert!(err.contains("server.cors.allowed_origins[1]"), "{err}");
        assert!(!err.contains("allowed_origins[0]"), "{err}");
    }

    #[test]
    fn responses_retention_is_read_and_zero_is_rejected() {
        let toml = "[server.responses]\nmax_in_memory = 0\nretention_secs = 0\n";
        let err = load_err(toml, &[]).expect("refused");
        assert!(
            err.contains("server.responses.max_in_memory: must be at least 1"),
            "{err}"
        );
        assert!(
            err.contains("server.responses.retention_secs: must be at least 1"),
            "{err}"
        );
        let too_long = "[server.responses]\nretention_secs = 40000000\n";
        let err = load_err(too_long, &[]).expect("refused");
        assert!(err.contains("server.responses.retention_secs"), "{err}");
        let fine = "[server.responses]\nmax_in_memory = 5\nretention_secs = 3600\n";
        assert_eq!(load_err(fine, &[]), None);
        let unknown = "[server.responses]\nmax_items = 5\n";
        let err = load_err(unknown, &[]).expect("refused");
        assert!(err.contains("max_items"), "{err}");
    }

    #[test]
    fn origins_are_scheme_host_port() {
        assert!(check_origin("*").is_ok());
        assert!(check_origin("https://app.example.com").is_ok());
        assert!(check_origin("http://localhost:3000").is_ok());
        assert!(check_origin("app.example.com").is_err());
        assert!(check_origin("https://app.example.com/").is_err());
        assert!(check_origin("https://").is_err());
    }
}
