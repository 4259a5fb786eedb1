//! The provider's configuration.

use std::fmt;
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use switchboard_core::{Error, Secret};

/// The region used when neither the config nor `AWS_REGION` /
/// `AWS_DEFAULT_REGION` names one.
pub const DEFAULT_REGION: &str = "us-east-1";

/// Settings of the `bedrock` provider (`[providers.<instance>]` with
/// `kind = "bedrock"`). Every credential is a [`Secret`]: `Debug` prints `***`.
///
/// Authentication, first match wins: `api_key` (a Bedrock API key, sent as a
/// bearer token); `access_key_id` + `secret_access_key` (+ `session_token`),
/// signed with SigV4; the environment (`AWS_BEARER_TOKEN_BEDROCK`, then
/// `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`); the
/// shared credentials file's profile (`profile`, else `AWS_PROFILE`, else
/// `default`).
#[derive(Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BedrockConfig {
    /// The AWS region, e.g. `us-east-1`. Defaults to `AWS_REGION`, then
    /// `AWS_DEFAULT_REGION`, then `us-east-1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The API root; defaults to `https://bedrock-runtime.<region>.amazonaws.com`.
    /// Requests go to `<base_url>/model/<model id>/converse[-stream]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// A Bedrock API key, sent as `Authorization: Bearer` instead of SigV4.
    /// Defaults to `AWS_BEARER_TOKEN_BEDROCK` when no access key is configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<Secret>,
    /// The AWS access key id (SigV4); needs `secret_access_key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<Secret>,
    /// The AWS secret access key (SigV4); needs `access_key_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_access_key: Option<Secret>,
    /// A session token for temporary credentials (sent as `x-amz-security-token`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_token: Option<Secret>,
    /// The profile of the shared credentials file (`AWS_SHARED_CREDENTIALS_FILE`,
    /// else `~/.aws/credentials`) read when no other credentials are found.
    /// Defaults to `AWS_PROFILE`, then `default`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// The model ids and inference profiles `models` lists (Bedrock Runtime
    /// has no model list; any id or ARN may be requested anyway).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<String>,
    /// Leave out request parameters Converse does not have (`seed`,
    /// `presence_penalty`, `frequency_penalty`, reasoning on a model without a
    /// known reasoning switch) instead of failing with an `unsupported` error.
    #[serde(default)]
    pub drop_unsupported_params: bool,
    /// Add prompt-cache points (`cachePoint` blocks) after the system
    /// prompt, the tools and the last user message, so that a repeated
    /// prefix is billed as cache reads (Claude and Nova models; cache writes
    /// cost more than plain input).
    #[serde(default)]
    pub prompt_caching: bool,
    /// The timeout of one request in milliseconds. Defaults to the runtime's
    /// request timeout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
}

impl BedrockConfig {
    /// Checks what the types cannot: a usable region and base URL, a
    /// complete access key pair, positive limits.
    pub fn validate(&self) -> Result<(), Error> {
        if let Some(region) = &self.region {
            check_region(region).map_err(|e| e.with_param("region"))?;
        }
        if let Some(base) = &self.base_url
            && !(base.starts_with("https://") || base.starts_with("http://"))
        {
            return Err(
                Error::config(format!("`base_url` must be an http(s) URL, got `{base}`"))
                    .with_param("base_url"),
            );
        }
        match (&self.access_key_id, &self.secret_access_key) {
            (Some(_), None) => {
                return Err(Error::config("`access_key_id` needs `secret_access_key`")
                    .with_param("secret_access_key"));
            }
            (None, Some(_)) => {
                return Err(Error::config("`secret_access_key` needs `access_key_id`")
                    .with_param("access_key_id"));
            }
            _ => {}
        }
        if self.session_token.is_some() && self.access_key_id.is_none() {
            return Err(Error::config(
                "`session_token` needs `access_key_id` and `secret_access_key`",
            )
            .with_param("session_token"));
        }
        for (name, value) in [
            ("api_key", &self.api_key),
            ("access_key_id", &self.access_key_id),
            ("secret_access_key", &self.secret_access_key),
            ("session_token", &self.session_token),
        ] {
            if let Some(v) = value
                && v.expose().trim().is_empty()
            {
                return Err(Error::config(format!("`{name}` is empty")).with_param(name));
            }
        }
        if self.timeout_ms == Some(0) {
            return Err(Error::config("`timeout_ms` must be positive").with_param("timeout_ms"));
        }
        Ok(())
    }

    /// The timeout of one request: `timeout_ms`, else `default`.
    pub fn timeout(&self, default: Duration) -> Duration {
        self.timeout_ms.map_or(default, Duration::from_millis)
    }
}

/// A region is a short lowercase name such as `us-east-1` (it is put in the
/// host name and in the signature's scope).
pub(crate) fn check_region(region: &str) -> Result<(), Error> {
    let ok = !region.is_empty()
        && region.len() <= 32
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(Error::config(format!(
            "`{region}` is not an AWS region name (such as `us-east-1`)"
        )))
    }
}

impl fmt::Debug for BedrockConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redact = |s: &Option<Secret>| s.as_ref().map(|_| Secret::REDACTED);
        f.debug_struct("BedrockConfig")
            .field("region", &self.region)
            .field("base_url", &self.base_url)
            .field("api_key", &redact(&self.api_key))
            .field("access_key_id", &redact(&self.access_key_id))
            .field("secret_access_key", &redact(&self.secret_access_key))
            .field("session_token", &redact(&self.session_token))
            .field("profile", &self.profile)
            .field("models", &self.models)
            .field("drop_unsupported_params", &self.drop_unsupported_params)
            .field("prompt_caching", &self.prompt_caching)
            .field("timeout_ms", &self.timeout_ms)
            .finish()
    }
}
