//! [`CohereConfig`]: the `[providers.<instance>]` table of the `cohere` provider.

use std::fmt;
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use switchboard_core::{Error, Secret};

/// The API root used when the config does not set `base_url`.
pub const DEFAULT_BASE_URL: &str = "https://api.cohere.com";

/// The model `models()` lists when the config lists none.
pub const DEFAULT_MODEL: &str = "command-a-03-2025";

/// The environment variables read, in order, when `api_key` is not set.
pub const ENV_API_KEYS: &[&str] = &["CO_API_KEY", "COHERE_API_KEY"];

/// The embed `input_type` used when neither the request nor the config sets one.
pub const DEFAULT_INPUT_TYPE: &str = "search_document";

/// The embed `input_type` values Cohere accepts.
pub const INPUT_TYPES: &[&str] = &[
    "search_document",
    "search_query",
    "classification",
    "clustering",
    "image",
];

/// Settings of the `cohere` provider. Its `Debug` output never shows the key.
#[derive(Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CohereConfig {
    /// The API key, sent as `Authorization: Bearer`; when absent, env
    /// `CO_API_KEY`, then `COHERE_API_KEY`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<Secret>,
    /// The API root (`/v2/chat` and `/v2/embed` are appended).
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// The embed `input_type` when the request's `extra.input_type` does
    /// not set one: `search_document` (default), `search_query`,
    /// `classification`, `clustering` or `image`.
    #[serde(default = "default_input_type")]
    pub embed_input_type: String,
    /// The models `models()` lists (Cohere's model list is not asked).
    #[serde(default = "default_models")]
    pub models: Vec<String>,
    /// The timeout of one request in milliseconds; defaults to the runtime's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
}

fn default_base_url() -> String {
    DEFAULT_BASE_URL.to_owned()
}

fn default_input_type() -> String {
    DEFAULT_INPUT_TYPE.to_owned()
}

fn default_models() -> Vec<String> {
    vec![DEFAULT_MODEL.to_owned()]
}

impl Default for CohereConfig {
    fn default() -> Self {
        CohereConfig {
            api_key: None,
            base_url: default_base_url(),
            embed_input_type: default_input_type(),
            models: default_models(),
            timeout_ms: None,
        }
    }
}

impl fmt::Debug for CohereConfig {
    /// Leaves the key out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CohereConfig")
            .field("api_key", &self.api_key)
            .field("base_url", &self.base_url)
            .field("embed_input_type", &self.embed_input_type)
            .field("models", &self.models)
            .field("timeout_ms", &self.timeout_ms)
            .finish()
    }
}

/// Checks an embed `input_type`; the error names `param`.
pub(crate) fn check_input_type(value: &str, param: &'static str) -> Result<(), Error> {
    if INPUT_TYPES.contains(&value) {
        Ok(())
    } else {
        Err(Error::invalid_param(
            param,
            format!(
                "`{value}` is not a Cohere input type (one of: {})",
                INPUT_TYPES.join(", ")
            ),
        ))
    }
}

impl CohereConfig {
    /// The key: `api_key` when not blank, else the first set variable of
    /// [`ENV_API_KEYS`]. A config error naming `api_key` when there is none.
    pub fn key(&self) -> Result<Secret, Error> {
        if let Some(key) = self
            .api_key
            .as_ref()
            .filter(|k| !k.expose().trim().is_empty())
        {
            return Ok(key.clone());
        }
        ENV_API_KEYS
            .iter()
            .find_map(|var| std::env::var(var).ok().filter(|v| !v.trim().is_empty()))
            .map(Secret::new)
            .ok_or_else(|| {
                Error::config("`api_key` is required (or set `CO_API_KEY` or `COHERE_API_KEY`)")
                    .with_param("api_key")
            })
    }

    /// Checks what the types cannot; errors name the key.
    pub fn validate(&self) -> Result<(), Error> {
        if !(self.base_url.starts_with("https://") || self.base_url.starts_with("http://")) {
            return Err(Error::config(format!(
                "`base_url` must be an http(s) URL, got `{}`",
                self.base_url
            ))
            .with_param("base_url"));
        }
        let key = self.key()?;
        if http::HeaderValue::from_str(&format!("Bearer {}", key.expose())).is_err() {
            return Err(Error::config(
                "the API key contains characters not allowed in an HTTP header",
            )
            .with_param("api_key"));
        }
        check_input_type(&self.embed_input_type, "embed_input_type")
            .map_err(|e| Error::config(e.message().to_owned()).with_param("embed_input_type"))?;
        if self.timeout_ms == Some(0) {
            return Err(
                Error::config("`timeout_ms` must be greater than 0").with_param("timeout_ms")
            );
        }
        Ok(())
    }

    /// The timeout of one request: `timeout_ms`, else `default`.
    pub fn timeout(&self, default: Duration) -> Duration {
        self.timeout_ms.map_or(default, Duration::from_millis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_checks() {
        let config: CohereConfig =
            serde_json::from_value(serde_json::json!({"api_key": "k"})).expect("a valid config");
        assert_eq!(config.base_url, DEFAULT_BASE_URL);
        assert_eq!(config.embed_input_type, "search_document");
        assert_eq!(config.models, [DEFAULT_MODEL]);
        assert!(config.validate().is_ok());
        let bad = CohereConfig {
            embed_input_type: "documents".into(),
            ..config.clone()
        };
        assert_eq!(
            bad.validate()
                .err()
                .and_then(|e| e.param().map(str::to_owned))
                .as_deref(),
            Some("embed_input_type")
        );
        let bad_url = CohereConfig {
            base_url: "api.cohere.com".into(),
            ..config
        };
        assert_eq!(
            bad_url
                .validate()
                .err()
                .and_then(|e| e.param().map(str::to_owned))
                .as_deref(),
            Some("base_url")
        );
    }

    #[test]
    fn the_key_never_prints() {
        let config: CohereConfig =
            serde_json::from_value(serde_json::json!({ "api_key": "co-SECRET" }))
                .expect("valid config");
        assert!(!format!("{config:?}").contains("co-SECRET"));
    }
}
