//! The provider's configuration and the endpoints it derives.

use std::collections::BTreeMap;
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use switchboard_core::{Error, Secret};
use switchboard_protocol::gemini::{RequestOptions, SafetySetting};

/// Google's OAuth 2.0 token endpoint, where a service account's signed JWT
/// is exchanged for an access token.
pub const DEFAULT_TOKEN_URL: &str = "https://oauth2.googleapis.com/token";

/// The location used when the config names none.
pub const DEFAULT_LOCATION: &str = "global";

/// The API version of Gemini (`publishers/google`) requests: the one
/// Google's `google-genai` SDK uses on Vertex.
pub const DEFAULT_GEMINI_API_VERSION: &str = "v1beta1";

/// The API version of Claude (`publishers/anthropic`) requests: the one
/// Anthropic's SDK and Google's Claude docs use.
pub const DEFAULT_ANTHROPIC_API_VERSION: &str = "v1";

/// `max_tokens` for a Claude request that sets none (the Messages API
/// requires it).
pub const DEFAULT_MAX_TOKENS: u32 = 4096;

/// Settings of the `vertex` provider (`[providers.<instance>]` with
/// `kind = "vertex"`). Credentials come from exactly one of
/// `access_token`, `credentials_json` and `credentials_file`, or, when none
/// is set, from the environment (`GOOGLE_OAUTH_ACCESS_TOKEN`,
/// `VERTEX_ACCESS_TOKEN`, then `GOOGLE_APPLICATION_CREDENTIALS`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VertexConfig {
    /// The Google Cloud project id. Defaults to the service account's
    /// `project_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// The location: a region such as `us-central1`, the multi-regions `us`
    /// or `eu`, or `global`.
    #[serde(default = "default_location")]
    pub location: String,
    /// A ready OAuth 2.0 access token (e.g. `${GOOGLE_OAUTH_ACCESS_TOKEN}`),
    /// sent as `Authorization: Bearer`. It is not refreshed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token: Option<Secret>,
    /// A service account key, the JSON text itself (e.g. `${VERTEX_SA_JSON}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_json: Option<Secret>,
    /// The path of a service account key file (JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_file: Option<String>,
    /// The OAuth 2.0 token endpoint. Defaults to the key's `token_uri`, else
    /// `https://oauth2.googleapis.com/token`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_url: Option<String>,
    /// The API root, overriding the one derived from `location`
    /// (`https://{location}-aiplatform.googleapis.com`,
    /// `https://aiplatform.googleapis.com` for `global`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// The API version path segment, overriding `v1beta1` (Gemini) and `v1`
    /// (Claude).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// The models `models()` lists.
    #[serde(default = "default_models")]
    pub models: Vec<String>,
    /// `max_tokens` of a Claude request that sets none.
    #[serde(default = "default_max_tokens")]
    pub default_max_tokens: u32,
    /// Safety settings sent with every Gemini request.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub safety_settings: Vec<SafetySetting>,
    /// `generationConfig` fields sent with every Gemini request; the
    /// request's own values win.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub generation_config: BTreeMap<String, Value>,
    /// The timeout of one request in milliseconds. Defaults to the
    /// runtime's request timeout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
}

fn default_location() -> String {
    DEFAULT_LOCATION.to_owned()
}

fn default_models() -> Vec<String> {
    vec!["gemini-2.5-flash".to_owned(), "gemini-2.5-pro".to_owned()]
}

fn default_max_tokens() -> u32 {
    DEFAULT_MAX_TOKENS
}

/// Whether `s` is a non-empty run of lowercase letters, digits and `-`.
fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// `url` checked as an `http(s)` URL without query or fragment, without a
/// trailing `/`.
pub(crate) fn checked_url(url: &str, param: &'static str) -> Result<String, Error> {
    let bad = |why: &str| Error::config(format!("`{param}` {url:?} {why}")).with_param(param);
    let parsed = url::Url::parse(url.trim()).map_err(|e| bad(&format!("is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(bad("must be an http:// or https:// URL"));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(bad("must not have a query or fragment"));
    }
    Ok(parsed.as_str().trim_end_matches('/').to_owned())
}

impl VertexConfig {
    /// A config for `project` in `location`, every other key at its default
    /// (credentials from the environment).
    pub fn new(project: impl Into<String>, location: impl Into<String>) -> Self {
        VertexConfig {
            project: Some(project.into()),
            location: location.into(),
            access_token: None,
            credentials_json: None,
            credentials_file: None,
            token_url: None,
            base_url: None,
            api_version: None,
            models: default_models(),
            default_max_tokens: DEFAULT_MAX_TOKENS,
            safety_settings: Vec::new(),
            generation_config: BTreeMap::new(),
            timeout_ms: None,
        }
    }

    /// Checks what the types cannot.
    pub fn validate(&self) -> Result<(), Error> {
        if !is_slug(&self.location) {
            return Err(Error::config(format!(
                "`location` {:?} must be a region such as `us-central1`, `us`, `eu` or `global`",
                self.location
            ))
            .with_param("location"));
        }
        if let Some(project) = &self.project
            && !is_slug(project)
        {
            return Err(Error::config(format!(
                "`project` {project:?} must be a project id (lowercase letters, digits, `-`)"
            ))
            .with_param("project"));
        }
        let given = [
            self.access_token.is_some(),
            self.credentials_json.is_some(),
            self.credentials_file.is_some(),
        ];
        if given.iter().filter(|g| **g).count() > 1 {
            return Err(Error::config(
                "set only one of `access_token`, `credentials_json` and `credentials_file`",
            )
            .with_param("access_token"));
        }
        if let Some(url) = &self.base_url {
            checked_url(url, "base_url")?;
        }
        if let Some(url) = &self.token_url {
            checked_url(url, "token_url")?;
        }
        if let Some(version) = &self.api_version
            && !(is_slug(version) && version.starts_with('v'))
        {
            return Err(Error::config(format!(
                "`api_version` {version:?} must be a version segment such as `v1`"
            ))
            .with_param("api_version"));
        }
        if self.default_max_tokens == 0 {
            return Err(Error::config("`default_max_tokens` must be greater than 0")
                .with_param("default_max_tokens"));
        }
        if self.timeout_ms == Some(0) {
            return Err(
                Error::config("`timeout_ms` must be greater than 0").with_param("timeout_ms")
            );
        }
        Ok(())
    }

    /// The API root: `base_url`, else the one for `location` —
    /// `https://aiplatform.googleapis.com` for `global`,
    /// `https://aiplatform.{us|eu}.rep.googleapis.com` for the
    /// multi-regions, `https://{location}-aiplatform.googleapis.com` for a
    /// region.
    pub fn api_root(&self) -> Result<String, Error> {
        if let Some(url) = &self.base_url {
            return checked_url(url, "base_url");
        }
        Ok(match self.location.as_str() {
            "global" => "https://aiplatform.googleapis.com".to_owned(),
            multi @ ("us" | "eu") => format!("https://aiplatform.{multi}.rep.googleapis.com"),
            region => format!("https://{region}-aiplatform.googleapis.com"),
        })
    }

    /// What this configuration adds to every Gemini request.
    pub fn gemini_options(&self) -> RequestOptions {
        RequestOptions {
            safety_settings: self.safety_settings.clone(),
            generation_config: self.generation_config.clone(),
            ..RequestOptions::default()
        }
    }

    /// The timeout of one request: `timeout_ms`, else `default`.
    pub fn timeout(&self, default: Duration) -> Duration {
        self.timeout_ms.map_or(default, Duration::from_millis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_and_endpoints() {
        let cfg: VertexConfig =
            serde_json::from_value(json!({"project": "my-project"})).expect("valid");
        assert_eq!(cfg, VertexConfig::new("my-project", "global"));
        assert!(cfg.validate().is_ok());
        assert_eq!(
            cfg.api_root().ok().as_deref(),
            Some("https://aiplatform.googleapis.com")
        );
        let regional = VertexConfig::new("p", "us-central1");
        assert_eq!(
            regional.api_root().ok().as_deref(),
            Some("https://us-central1-aiplatform.googleapis.com")
        );
        let eu = VertexConfig::new("p", "eu");
        assert_eq!(
            eu.api_root().ok().as_deref(),
            Some("https://aiplatform.eu.rep.googleapis.com")
        );
        let mut proxy = VertexConfig::new("p", "us-east5");
        proxy.base_url = Some("http://127.0.0.1:9/vertex/".into());
        assert_eq!(
            proxy.api_root().ok().as_deref(),
            Some("http://127.0.0.1:9/vertex")
        );
    }

    #[test]
    fn invalid_configs_name_their_key() {
        type Breaker = fn(&mut VertexConfig);
        let cases: [(&str, Breaker); 6] = [
            ("location", |c| c.location = "us-central1/../x".into()),
            ("project", |c| c.project = Some("My Project".into())),
            ("access_token", |c| {
                c.access_token = Some(Secret::new("t"));
                c.credentials_file = Some("/k.json".into());
            }),
            ("base_url", |c| c.base_url = Some("ftp://x".into())),
            ("token_url", |c| c.token_url = Some("not a url".into())),
            ("api_version", |c| c.api_version = Some("v1/x".into())),
        ];
        for (param, break_it) in cases {
            let mut cfg = VertexConfig::new("p", "global");
            break_it(&mut cfg);
            assert_eq!(cfg.validate().expect_err(param).param(), Some(param));
        }
        assert!(serde_json::from_value::<VertexConfig>(json!({"nope": 1})).is_err());
    }

    #[test]
    fn debug_hides_credentials() {
        let mut cfg = VertexConfig::new("p", "global");
        cfg.access_token = Some(Secret::new("ya29.SECRET"));
        cfg.credentials_json = Some(Secret::new("{\"private_key\": \"PEMSECRET\"}"));
        let shown = format!("{cfg:?}");
        assert!(!shown.contains("ya29.SECRET") && !shown.contains("PEMSECRET"));
    }
}
