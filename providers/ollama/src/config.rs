//! The provider's configuration.

use std::collections::BTreeMap;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;
use switchboard_core::{Error, Secret};

/// Where Ollama listens by default.
pub const DEFAULT_BASE_URL: &str = "http://localhost:11434";

/// Settings of the Ollama provider. Every key has a default, so `{}` is a
/// valid config for a local server.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct OllamaConfig {
    /// The server's root URL, without `/api` (a trailing `/api` is removed).
    /// `https://ollama.com` reaches Ollama's cloud (set `api_key`).
    pub base_url: String,
    /// A bearer token, sent as `Authorization: Bearer <key>`. A local server
    /// needs none; `ollama.com` and authenticating proxies do.
    pub api_key: Option<Secret>,
    /// How long the server keeps a model loaded after a request: a duration
    /// such as `"10m"` or `"1h"`, seconds as a number, `0` to unload at
    /// once, or a negative number to keep it loaded. Unset: the server's
    /// default (5 minutes). A request's `extra.keep_alive` overrides it.
    pub keep_alive: Option<KeepAlive>,
    /// Model options sent with every chat and embedding request (`num_ctx`,
    /// `top_k`, `repeat_penalty`, `num_gpu`, ...; see Ollama's Modelfile
    /// parameters). Request values win: `temperature`, `top_p`, `max_tokens`
    /// (as `num_predict`), `seed`, `stop` and the penalties, then
    /// `extra.options`, are merged over these.
    pub options: BTreeMap<String, Value>,
    /// The timeout of one upstream request in seconds, overriding the
    /// gateway's (first loads of large models can be slow). For a stream it
    /// bounds the wait for the response and for each following line.
    pub request_timeout_secs: Option<u64>,
    /// Whether `models()` also asks `POST /api/show` about every model, to
    /// report its context length and capabilities (one extra request per model).
    pub model_details: bool,
}

impl Default for OllamaConfig {
    fn default() -> Self {
        OllamaConfig {
            base_url: DEFAULT_BASE_URL.to_owned(),
            api_key: None,
            keep_alive: None,
            options: BTreeMap::new(),
            request_timeout_secs: None,
            model_details: false,
        }
    }
}

/// How long a model stays loaded: a Go duration string or seconds.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum KeepAlive {
    /// A duration such as `"5m"`, `"1h30m"` or `"-1m"` (negative: forever).
    Duration(String),
    /// Seconds; `0` unloads at once, a negative number keeps the model loaded.
    Seconds(i64),
}

impl KeepAlive {
    pub(crate) fn to_value(&self) -> Value {
        match self {
            KeepAlive::Duration(s) => Value::String(s.clone()),
            KeepAlive::Seconds(n) => Value::from(*n),
        }
    }
}

impl OllamaConfig {
    /// Checks what the types cannot: the base URL and the keep-alive.
    pub fn validate(&self) -> Result<(), Error> {
        self.api_base()?;
        if let Some(KeepAlive::Duration(d)) = &self.keep_alive
            && d.trim().is_empty()
        {
            return Err(Error::config("`keep_alive` must not be empty").with_param("keep_alive"));
        }
        if self.request_timeout_secs == Some(0) {
            return Err(
                Error::config("`request_timeout_secs` must be greater than 0")
                    .with_param("request_timeout_secs"),
            );
        }
        if let Some(key) = &self.api_key
            && key.expose().bytes().any(|b| b.is_ascii_control())
        {
            return Err(
                Error::config("`api_key` must not contain control characters")
                    .with_param("api_key"),
            );
        }
        Ok(())
    }

    /// The URL that API paths (`chat`, `tags`, ...) are joined to:
    /// `<base_url>/api/`.
    pub(crate) fn api_base(&self) -> Result<url::Url, Error> {
        let bad = |why: &str| {
            Error::config(format!("`base_url` {:?} {why}", self.base_url)).with_param("base_url")
        };
        let mut url = url::Url::parse(self.base_url.trim())
            .map_err(|e| bad(&format!("is not a URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(bad("must be an http:// or https:// URL"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad("must not have a query or fragment"));
        }
        let path = url.path().trim_end_matches('/');
        let path = path.strip_suffix("/api").unwrap_or(path).to_owned();
        url.set_path(&format!("{path}/api/"));
        Ok(url)
    }

    pub(crate) fn timeout(&self, default: Duration) -> Duration {
        self.request_timeout_secs
            .map_or(default, Duration::from_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(url: &str) -> Result<String, Error> {
        let cfg = OllamaConfig {
            base_url: url.into(),
            ..OllamaConfig::default()
        };
        cfg.api_base().map(|u| u.to_string())
    }

    #[test]
    fn base_urls_normalize() {
        assert_eq!(
            base("http://localhost:11434").ok().as_deref(),
            Some("http://localhost:11434/api/")
        );
        assert_eq!(
            base("http://localhost:11434/").ok().as_deref(),
            Some("http://localhost:11434/api/")
        );
        assert_eq!(
            base("http://localhost:11434/api").ok().as_deref(),
            Some("http://localhost:11434/api/")
        );
        assert_eq!(
            base("https://proxy.example/ollama/api/").ok().as_deref(),
            Some("https://proxy.example/ollama/api/")
        );
        for bad in ["localhost:11434", "ftp://x", "http://x/?a=1", ""] {
            let err = base(bad).expect_err(bad);
            assert_eq!(err.param(), Some("base_url"), "{bad}");
        }
    }

    #[test]
    fn config_deserializes_and_rejects_unknown_keys() {
        let cfg: OllamaConfig = serde_json::from_value(serde_json::json!({
            "keep_alive": "10m", "options": {"num_ctx": 8192}, "api_key": "k"
        }))
        .expect("valid");
        assert_eq!(cfg.keep_alive, Some(KeepAlive::Duration("10m".into())));
        assert!(cfg.validate().is_ok());
        let secs: OllamaConfig =
            serde_json::from_value(serde_json::json!({"keep_alive": -1})).expect("valid");
        assert_eq!(secs.keep_alive, Some(KeepAlive::Seconds(-1)));
        assert!(serde_json::from_value::<OllamaConfig>(serde_json::json!({"nope": 1})).is_err());
        assert!(format!("{cfg:?}").contains("***"));
        assert!(!format!("{cfg:?}").contains("\"k\""));
    }
}
