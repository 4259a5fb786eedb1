//! The provider's configuration.

use std::collections::BTreeMap;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;
use switchboard_core::{Error, Secret};
use switchboard_protocol::gemini::RequestOptions;
pub use switchboard_protocol::gemini::SafetySetting;

/// The Gemini API's endpoint.
pub const DEFAULT_BASE_URL: &str = "https://generativelanguage.googleapis.com";

/// The API version used by default.
pub const DEFAULT_API_VERSION: &str = "v1beta";

/// Settings of the Gemini provider.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GeminiConfig {
    /// The Gemini API key (Google AI Studio). Sent in the `x-goog-api-key`
    /// header, never in the URL.
    pub api_key: Secret,
    /// The API's root URL (a proxy may add a path).
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// The API version path segment.
    #[serde(default = "default_api_version")]
    pub api_version: String,
    /// Safety settings sent with every chat request, e.g.
    /// `{ category = "HARM_CATEGORY_HARASSMENT", threshold = "BLOCK_ONLY_HIGH" }`.
    #[serde(default)]
    pub safety_settings: Vec<SafetySetting>,
    /// `generationConfig` fields sent with every chat request (`topK`,
    /// `candidateCount`, `responseModalities`, ...); the request's own values win.
    #[serde(default)]
    pub generation_config: BTreeMap<String, Value>,
    /// When a request asks for reasoning, also ask for thought summaries
    /// (`thinkingConfig.includeThoughts`), which come back as reasoning parts.
    #[serde(default = "yes")]
    pub include_thoughts: bool,
    /// Send Gemini's thought signatures back on later turns (Gemini requires
    /// the signature of each replayed function call). Reasoning that another
    /// provider signed is never sent, whatever this says.
    #[serde(default = "yes")]
    pub replay_thought_signatures: bool,
    /// When a replayed function call has no thought signature (the
    /// conversation came from a client or provider that does not keep them),
    /// send Google's documented placeholder `skip_thought_signature_validator`
    /// so that Gemini 3 models accept the turn.
    #[serde(default = "yes")]
    pub thought_signature_fallback: bool,
    /// The timeout of one upstream request in seconds, overriding the
    /// gateway's. For a stream it bounds the wait for the response and for
    /// each following event.
    #[serde(default)]
    pub request_timeout_secs: Option<u64>,
}

fn default_base_url() -> String {
    DEFAULT_BASE_URL.to_owned()
}

fn default_api_version() -> String {
    DEFAULT_API_VERSION.to_owned()
}

fn yes() -> bool {
    true
}

impl GeminiConfig {
    /// A config with `api_key` and every other key at its default.
    pub fn new(api_key: impl Into<Secret>) -> Self {
        GeminiConfig {
            api_key: api_key.into(),
            base_url: default_base_url(),
            api_version: default_api_version(),
            safety_settings: Vec::new(),
            generation_config: BTreeMap::new(),
            include_thoughts: true,
            replay_thought_signatures: true,
            thought_signature_fallback: true,
            request_timeout_secs: None,
        }
    }

    /// Checks what the types cannot.
    pub fn validate(&self) -> Result<(), Error> {
        if self.api_key.expose().trim().is_empty() {
            return Err(Error::config("`api_key` must not be empty").with_param("api_key"));
        }
        if self
            .api_key
            .expose()
            .bytes()
            .any(|b| b.is_ascii_control() || b == b' ')
        {
            return Err(
                Error::config("`api_key` must not contain spaces or control characters")
                    .with_param("api_key"),
            );
        }
        self.api_root()?;
        let version = &self.api_version;
        if version.is_empty()
            || !version
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
        {
            return Err(Error::config(format!(
                "`api_version` {version:?} must be a single path segment such as `v1beta`"
            ))
            .with_param("api_version"));
        }
        if self.request_timeout_secs == Some(0) {
            return Err(
                Error::config("`request_timeout_secs` must be greater than 0")
                    .with_param("request_timeout_secs"),
            );
        }
        Ok(())
    }

    /// `<base_url>/<api_version>`, without a trailing slash.
    pub(crate) fn api_root(&self) -> Result<String, Error> {
        let bad = |why: &str| {
            Error::config(format!("`base_url` {:?} {why}", self.base_url)).with_param("base_url")
        };
        let url = url::Url::parse(self.base_url.trim())
            .map_err(|e| bad(&format!("is not a URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(bad("must be an http:// or https:// URL"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad("must not have a query or fragment"));
        }
        let base = url.as_str().trim_end_matches('/');
        Ok(format!("{base}/{}", self.api_version))
    }

    /// What this configuration adds to every `generateContent` body.
    pub fn request_options(&self) -> RequestOptions {
        RequestOptions {
            safety_settings: self.safety_settings.clone(),
            generation_config: self.generation_config.clone(),
            include_thoughts: self.include_thoughts,
            replay_thought_signatures: self.replay_thought_signatures,
            thought_signature_fallback: self.thought_signature_fallback,
        }
    }

    pub(crate) fn timeout(&self, default: Duration) -> Duration {
        self.request_timeout_secs
            .map_or(default, Duration::from_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn config_defaults_and_validation() {
        let cfg: GeminiConfig =
            serde_json::from_value(json!({"api_key": "AIza-test"})).expect("valid");
        assert_eq!(cfg, GeminiConfig::new("AIza-test"));
        assert!(cfg.validate().is_ok());
        assert_eq!(
            cfg.api_root().ok().as_deref(),
            Some("https://generativelanguage.googleapis.com/v1beta")
        );
        assert!(
            serde_json::from_value::<GeminiConfig>(json!({})).is_err(),
            "api_key is required"
        );
        assert!(
            serde_json::from_value::<GeminiConfig>(json!({"api_key": "k", "nope": 1})).is_err()
        );
        let empty = GeminiConfig::new("");
        assert_eq!(
            empty.validate().expect_err("empty").param(),
            Some("api_key")
        );
        let mut bad = GeminiConfig::new("k");
        bad.base_url = "ftp://x".into();
        assert_eq!(
            bad.validate().expect_err("scheme").param(),
            Some("base_url")
        );
        let mut bad = GeminiConfig::new("k");
        bad.api_version = "v1/../x".into();
        assert_eq!(
            bad.validate().expect_err("version").param(),
            Some("api_version")
        );
        let mut proxy = GeminiConfig::new("k");
        proxy.base_url = "https://proxy.example/gemini/".into();
        assert_eq!(
            proxy.api_root().ok().as_deref(),
            Some("https://proxy.example/gemini/v1beta")
        );
    }

    #[test]
    fn debug_hides_the_key() {
        let cfg = GeminiConfig::new("AIzaSECRET");
        assert!(!format!("{cfg:?}").contains("AIzaSECRET"));
    }
}
