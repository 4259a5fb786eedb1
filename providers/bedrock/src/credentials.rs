//! Where the credentials and the region come from: the config, else the
//! standard AWS environment variables, else a profile of the shared
//! credentials file.
//!
//! Sources: the AWS SDKs' and CLI's conventions,
//! <https://docs.aws.amazon.com/sdkref/latest/guide/environment-variables.html>,
//! <https://docs.aws.amazon.com/sdkref/latest/guide/file-format.html>, and
//! Bedrock API keys, <https://docs.aws.amazon.com/bedrock/latest/userguide/api-keys-use.html>.

use std::fmt;
use std::path::PathBuf;

use switchboard_core::{Error, Secret};

use crate::config::{BedrockConfig, DEFAULT_REGION, check_region};

/// The largest credentials file read (a bound on what a file can make the
/// gateway buffer).
const MAX_CREDENTIALS_FILE: u64 = 1024 * 1024;

/// An AWS access key pair, with a session token for temporary credentials.
#[derive(Clone)]
pub struct AwsCredentials {
    /// The access key id (`AKIA...`, `ASIA...`).
    pub access_key_id: Secret,
    /// The secret access key.
    pub secret_access_key: Secret,
    /// The session token of temporary credentials.
    pub session_token: Option<Secret>,
}

impl fmt::Debug for AwsCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsCredentials")
            .field("access_key_id", &Secret::REDACTED)
            .field("secret_access_key", &Secret::REDACTED)
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| Secret::REDACTED),
            )
            .finish()
    }
}

/// How requests are authenticated.
#[derive(Debug, Clone)]
pub enum Auth {
    /// A Bedrock API key: `Authorization: Bearer <key>`.
    Bearer(Secret),
    /// SigV4 signing (service `bedrock`) with these credentials.
    SigV4(AwsCredentials),
}

/// The credentials, the region, and where the credentials were found (for
/// logs and errors: a config key, a variable or a file and profile; never
/// a value).
#[derive(Debug, Clone)]
pub struct Resolved {
    /// How requests are authenticated.
    pub auth: Auth,
    /// The region (host name and signing scope).
    pub region: String,
    /// Where the credentials came from, e.g. `env AWS_ACCESS_KEY_ID`.
    pub source: String,
}

/// Reads one environment variable (a function so tests need not touch the
/// process environment). Empty values count as unset.
pub type EnvLookup<'a> = &'a (dyn Fn(&str) -> Option<String> + Send + Sync);

/// The process environment.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Resolves the credentials and region of `config`: config, then
/// environment, then the shared credentials file. No credentials anywhere
/// is a `config` error naming every place looked at.
pub async fn resolve(config: &BedrockConfig, env: EnvLookup<'_>) -> Result<Resolved, Error> {
    let region = match &config.region {
        Some(r) => r.clone(),
        None => match env("AWS_REGION").or_else(|| env("AWS_DEFAULT_REGION")) {
            Some(r) => {
                check_region(&r).map_err(|e| e.with_param("region"))?;
                r
            }
            None => DEFAULT_REGION.to_owned(),
        },
    };
    let found = |auth: Auth, source: &str| Resolved {
        auth,
        region: region.clone(),
        source: source.to_owned(),
    };
    if let Some(key) = &config.api_key {
        return Ok(found(Auth::Bearer(key.clone()), "config api_key"));
    }
    if let (Some(id), Some(secret)) = (&config.access_key_id, &config.secret_access_key) {
        let creds = AwsCredentials {
            access_key_id: id.clone(),
            secret_access_key: secret.clone(),
            session_token: config.session_token.clone(),
        };
        return Ok(found(Auth::SigV4(creds), "config access_key_id"));
    }
    if let Some(token) = env("AWS_BEARER_TOKEN_BEDROCK") {
        return Ok(found(
            Auth::Bearer(Secret::new(token)),
            "env AWS_BEARER_TOKEN_BEDROCK",
        ));
    }
    if let (Some(id), Some(secret)) = (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
        let creds = AwsCredentials {
            access_key_id: Secret::new(id),
            secret_access_key: Secret::new(secret),
            session_token: env("AWS_SESSION_TOKEN").map(Secret::new),
        };
        return Ok(found(Auth::SigV4(creds), "env AWS_ACCESS_KEY_ID"));
    }
    let profile = config
        .profile
        .clone()
        .or_else(|| env("AWS_PROFILE"))
        .unwrap_or_else(|| "default".to_owned());
    let Some(path) = credentials_file(env) else {
        return Err(no_credentials(
            "no home directory to find ~/.aws/credentials in",
        ));
    };
    let text = read_capped(path.clone()).await?;
    let Some(text) = text else {
        return Err(no_credentials(&format!(
            "`{}` does not exist",
            path.display()
        )));
    };
    match profile_credentials(&text, &profile) {
        Some(creds) => Ok(found(
            Auth::SigV4(creds),
            &format!("profile `{profile}` of {}", path.display()),
        )),
        None => Err(no_credentials(&format!(
            "`{}` has no profile `{profile}` with aws_access_key_id and aws_secret_access_key",
            path.display()
        ))),
    }
}

fn no_credentials(why: &str) -> Error {
    Error::config(format!(
        "no AWS credentials found: set `api_key` or `access_key_id` and `secret_access_key`, \
         or AWS_BEARER_TOKEN_BEDROCK, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY \
         ({why})"
    ))
    .with_param("access_key_id")
}

/// `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`.
fn credentials_file(env: EnvLookup<'_>) -> Option<PathBuf> {
    if let Some(path) = env("AWS_SHARED_CREDENTIALS_FILE") {
        return Some(PathBuf::from(path));
    }
    let home = env("HOME").or_else(|| env("USERPROFILE"))?;
    Some(PathBuf::from(home).join(".aws").join("credentials"))
}

/// The file's text, `None` when it does not exist; off the async runtime,
/// and at most [`MAX_CREDENTIALS_FILE`] bytes.
async fn read_capped(path: PathBuf) -> Result<Option<String>, Error> {
    let shown = path.display().to_string();
    let read = tokio::task::spawn_blocking(move || -> std::io::Result<Option<String>> {
        let meta = match std::fs::metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        if meta.len() > MAX_CREDENTIALS_FILE {
            return Err(std::io::Error::other("the file is larger than 1 MiB"));
        }
        std::fs::read_to_string(&path).map(Some)
    })
    .await
    .map_err(|e| Error::internal(format!("reading the credentials file: {e}")))?;
    read.map_err(|e| {
        Error::config(format!(
            "the AWS credentials file `{shown}` could not be read: {e}"
        ))
        .with_param("profile")
    })
}

/// The access keys of `profile` in an INI credentials file: `[name]` (or
/// `[profile name]`) sections of `key = value` lines; `#` and `;` start
/// comments. `None` when the profile or either key is missing.
pub fn profile_credentials(text: &str, profile: &str) -> Option<AwsCredentials> {
    let mut in_profile = false;
    let (mut id, mut secret, mut token) = (None, None, None);
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(section) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let section = section.trim();
            let name = section.strip_prefix("profile ").unwrap_or(section).trim();
            in_profile = name == profile;
            continue;
        }
        if !in_profile {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        match key.trim().to_ascii_lowercase().as_str() {
            "aws_access_key_id" => id = Some(value.to_owned()),
            "aws_secret_access_key" => secret = Some(value.to_owned()),
            "aws_session_token" => token = Some(value.to_owned()),
            _ => {}
        }
    }
    Some(AwsCredentials {
        access_key_id: Secret::new(id?),
        secret_access_key: Secret::new(secret?),
        session_token: token.map(Secret::new),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_are_told_apart() {
        let text = "# comment\n[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key=s1\n\n\
                    [profile work]\n; c\naws_access_key_id=AKIAWORK\naws_secret_access_key = s2\naws_session_token = t2\n";
        let d = profile_credentials(text, "default").expect("default profile");
        assert_eq!(d.access_key_id.expose(), "AKIADEFAULT");
        assert_eq!(d.secret_access_key.expose(), "s1");
        assert!(d.session_token.is_none());
        let w = profile_credentials(text, "work").expect("work profile");
        assert_eq!(w.access_key_id.expose(), "AKIAWORK");
        assert_eq!(w.session_token.as_ref().map(Secret::expose), Some("t2"));
        assert!(profile_credentials(text, "other").is_none());
        assert!(profile_credentials("[x]\naws_access_key_id=a\n", "x").is_none());
    }
}
