//! Where the credentials come from: a ready access token, or a service
//! account key (inline JSON or a file), from the config or the environment.

use serde::Deserialize;
use switchboard_core::{Error, Secret};

use crate::config::VertexConfig;

/// The environment variables read for a ready access token, in order.
pub const TOKEN_ENV_VARS: [&str; 2] = ["GOOGLE_OAUTH_ACCESS_TOKEN", "VERTEX_ACCESS_TOKEN"];

/// The environment variable naming a service account key file.
pub const CREDENTIALS_ENV_VAR: &str = "GOOGLE_APPLICATION_CREDENTIALS";

/// The largest key file read: 64 KiB (a key is about 2.3 KiB).
const MAX_KEY_FILE: u64 = 64 * 1024;

/// The fields of a service account key file (`"type": "service_account"`)
/// that the JWT flow uses.
#[derive(Clone, Deserialize)]
pub struct ServiceAccountKey {
    /// `service_account`.
    #[serde(rename = "type", default)]
    pub key_type: String,
    /// The project the account belongs to.
    #[serde(default)]
    pub project_id: Option<String>,
    /// The key's id: the JWT header's `kid`.
    #[serde(default)]
    pub private_key_id: Option<String>,
    /// The PKCS#8 RSA private key, PEM.
    pub private_key: Secret,
    /// The account's email: the JWT's `iss`.
    pub client_email: String,
    /// The token endpoint the key names.
    #[serde(default)]
    pub token_uri: Option<String>,
}

impl std::fmt::Debug for ServiceAccountKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceAccountKey")
            .field("client_email", &self.client_email)
            .field("project_id", &self.project_id)
            .finish_non_exhaustive()
    }
}

impl ServiceAccountKey {
    /// Reads a key from its JSON text; `from` names where it came from.
    pub fn parse(json: &str, from: &str, param: &'static str) -> Result<Self, Error> {
        let key: ServiceAccountKey = serde_json::from_str(json).map_err(|e| {
            Error::config(format!(
                "{from} is not a service account key: {}",
                // serde's message quotes no input text for these errors
                // except field names; the key itself is never echoed.
                if e.is_syntax() || e.is_eof() {
                    "not JSON".to_owned()
                } else {
                    e.to_string()
                }
            ))
            .with_param(param)
        })?;
        if key.key_type != "service_account" {
            return Err(Error::config(format!(
                "{from} has `type` {:?}; only `service_account` keys are supported \
                 (for user credentials, set `access_token`, e.g. from `gcloud auth print-access-token`)",
                key.key_type
            ))
            .with_param(param));
        }
        Ok(key)
    }
}

/// How the provider authenticates.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// A ready access token, sent as is.
    Token(Secret),
    /// A service account key, exchanged for access tokens.
    ServiceAccount(Box<ServiceAccountKey>),
}

/// Where credentials were found, before a key file is read.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Source {
    Token(Secret),
    Json(Secret),
    File(String, &'static str),
}

/// Picks the credential source: the config's one key, else the first of
/// [`TOKEN_ENV_VARS`], else [`CREDENTIALS_ENV_VAR`]. `env` reads a variable.
pub(crate) fn source(
    config: &VertexConfig,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Source, Error> {
    if let Some(token) = &config.access_token {
        return Ok(Source::Token(token.clone()));
    }
    if let Some(json) = &config.credentials_json {
        return Ok(Source::Json(json.clone()));
    }
    if let Some(path) = &config.credentials_file {
        return Ok(Source::File(path.clone(), "credentials_file"));
    }
    let set = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    for name in TOKEN_ENV_VARS {
        if let Some(token) = set(name) {
            return Ok(Source::Token(Secret::new(token.trim())));
        }
    }
    if let Some(path) = set(CREDENTIALS_ENV_VAR) {
        return Ok(Source::File(path, CREDENTIALS_ENV_VAR));
    }
    Err(Error::config(
        "no credentials: set `access_token`, `credentials_json` or `credentials_file`, \
         or the environment variable GOOGLE_OAUTH_ACCESS_TOKEN, VERTEX_ACCESS_TOKEN or \
         GOOGLE_APPLICATION_CREDENTIALS",
    )
    .with_param("credentials_file"))
}

/// Loads the credentials `source` names (a key file is read off the async
/// runtime).
pub(crate) async fn load(source: Source) -> Result<Credentials, Error> {
    match source {
        Source::Token(token) => {
            if token
                .expose()
                .bytes()
                .any(|b| b.is_ascii_control() || b == b' ')
            {
                return Err(Error::config(
                    "the access token must not contain spaces or control characters",
                )
                .with_param("access_token"));
            }
            Ok(Credentials::Token(token))
        }
        Source::Json(json) => {
            let key =
                ServiceAccountKey::parse(json.expose(), "`credentials_json`", "credentials_json")?;
            Ok(Credentials::ServiceAccount(Box::new(key)))
        }
        Source::File(path, from) => {
            let read_path = path.clone();
            let text = tokio::task::spawn_blocking(move || read_key_file(&read_path))
                .await
                .map_err(|e| Error::internal(format!("reading the key file failed: {e}")))?
                .map_err(|e| {
                    Error::config(format!(
                        "the key file {path:?} ({from}) cannot be read: {e}"
                    ))
                    .with_param("credentials_file")
                })?;
            let key = ServiceAccountKey::parse(
                &text,
                &format!("the key file {path:?} ({from})"),
                "credentials_file",
            )?;
            Ok(Credentials::ServiceAccount(Box::new(key)))
        }
    }
}

fn read_key_file(path: &str) -> std::io::Result<String> {
    use std::io::Read as _;
    let file = std::fs::File::open(path)?;
    let mut text = String::new();
    file.take(MAX_KEY_FILE).read_to_string(&mut text)?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn config_wins_then_token_variables_then_the_key_file_variable() {
        let all = [
            ("GOOGLE_OAUTH_ACCESS_TOKEN", "ya29.a"),
            ("VERTEX_ACCESS_TOKEN", "ya29.b"),
            ("GOOGLE_APPLICATION_CREDENTIALS", "/keys/sa.json"),
        ];
        let mut cfg = VertexConfig::new("p", "global");
        cfg.credentials_file = Some("/etc/sa.json".into());
        assert_eq!(
            source(&cfg, env(&all)).expect("found"),
            Source::File("/etc/sa.json".into(), "credentials_file")
        );
        let cfg = VertexConfig::new("p", "global");
        assert_eq!(
            source(&cfg, env(&all)).expect("found"),
            Source::Token(Secret::new("ya29.a"))
        );
        assert_eq!(
            source(&cfg, env(&all[1..])).expect("found"),
            Source::Token(Secret::new("ya29.b"))
        );
        assert_eq!(
            source(&cfg, env(&all[2..])).expect("found"),
            Source::File("/keys/sa.json".into(), CREDENTIALS_ENV_VAR)
        );
        let none = source(&cfg, env(&[("VERTEX_ACCESS_TOKEN", " ")])).expect_err("none");
        assert_eq!(*none.kind(), switchboard_core::ErrorKind::Config);
    }

    #[tokio::test]
    async fn keys_are_checked_and_never_echoed() {
        let bad = load(Source::Json(Secret::new("{\"private_key\": \"PEMSECRET\""))).await;
        let err = bad.expect_err("not JSON");
        assert!(!err.to_string().contains("PEMSECRET"), "{err}");
        assert_eq!(err.param(), Some("credentials_json"));
        let user = r#"{"type": "authorized_user", "private_key": "x", "client_email": "e"}"#;
        let err = load(Source::Json(Secret::new(user)))
            .await
            .expect_err("user");
        assert!(err.to_string().contains("authorized_user"), "{err}");
        let missing = load(Source::File(
            "/nonexistent/sa.json".into(),
            CREDENTIALS_ENV_VAR,
        ))
        .await
        .expect_err("missing");
        assert!(
            missing.to_string().contains(CREDENTIALS_ENV_VAR),
            "{missing}"
        );
    }
}
