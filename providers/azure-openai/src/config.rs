//! [`AzureOpenAiConfig`] and what it resolves to with the environment.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use switchboard_core::upstream::percent_encode;
use switchboard_core::{Error, Secret};
use switchboard_protocol::openai::{MaxTokensField, RequestOptions, WireOptions};
use url::Url;

/// The `api-version` sent on the `deployments` shape when the config sets
/// none: the latest GA data-plane inference version
/// (<https://learn.microsoft.com/azure/ai-services/openai/reference>).
pub const DEFAULT_API_VERSION: &str = "2024-10-21";

/// The environment variable read when `api_key` is not set.
pub const ENV_API_KEY: &str = "AZURE_OPENAI_API_KEY";
/// The environment variable read when `endpoint` is not set.
pub const ENV_ENDPOINT: &str = "AZURE_OPENAI_ENDPOINT";
/// The environment variable read when `azure_ad_token` is not set.
pub const ENV_AD_TOKEN: &str = "AZURE_OPENAI_AD_TOKEN";

/// Which URL shape requests use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApiShape {
    /// `POST {endpoint}/openai/v1/chat/completions` with the deployment as
    /// the body's `model`; no `api-version` needed (the GA v1 API).
    #[default]
    V1,
    /// `POST {endpoint}/openai/deployments/{deployment}/chat/completions?api-version=...`
    /// (the dated API every Azure OpenAI resource has had).
    Deployments,
}

/// Settings of the `azure-openai` provider.
#[derive(Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AzureOpenAiConfig {
    /// The resource endpoint, `https://{resource}.openai.azure.com`
    /// (env `AZURE_OPENAI_ENDPOINT` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<Url>,
    /// The resource key, sent as the `api-key` header (env
    /// `AZURE_OPENAI_API_KEY` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<Secret>,
    /// A Microsoft Entra ID token (scope
    /// `https://cognitiveservices.azure.com/.default`), sent as
    /// `Authorization: Bearer`; wins over `api_key` (env
    /// `AZURE_OPENAI_AD_TOKEN` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azure_ad_token: Option<Secret>,
    /// `v1` (default) or `deployments`.
    #[serde(default)]
    pub api_shape: ApiShape,
    /// The `api-version` query value. Defaults to `2024-10-21` on the
    /// `deployments` shape; sent on `v1` only when set (e.g. `preview`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Model name → deployment name; a model not listed is used as the
    /// deployment name. Its keys are what `models()` lists.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub deployments: BTreeMap<String, String>,
    /// Which field carries `max_tokens`: `max_completion_tokens` (default;
    /// required by reasoning deployments) or `max_tokens`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens_field: Option<MaxTokensField>,
    /// The timeout of one request in milliseconds; defaults to the runtime's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
}

impl fmt::Debug for AzureOpenAiConfig {
    /// Leaves the credentials out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AzureOpenAiConfig")
            .field("endpoint", &self.endpoint.as_ref().map(Url::as_str))
            .field("api_key", &self.api_key)
            .field("azure_ad_token", &self.azure_ad_token)
            .field("api_shape", &self.api_shape)
            .field("api_version", &self.api_version)
            .field("deployments", &self.deployments)
            .field("max_tokens_field", &self.max_tokens_field)
            .field("timeout_ms", &self.timeout_ms)
            .finish()
    }
}

/// How requests authenticate.
#[derive(Clone)]
pub(crate) enum Auth {
    /// `api-key: <key>`.
    ApiKey(Secret),
    /// `Authorization: Bearer <Entra ID token>`.
    Bearer(Secret),
}

/// A config with the environment applied: everything the provider needs.
#[derive(Clone)]
pub(crate) struct Resolved {
    /// `{endpoint}/openai`.
    pub(crate) base_url: String,
    pub(crate) auth: Auth,
    pub(crate) shape: ApiShape,
    pub(crate) api_version: Option<String>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) wire: WireOptions,
}

/// A non-empty value of environment variable `name`.
fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn header_safe(secret: &Secret, param: &'static str) -> Result<(), Error> {
    if http::HeaderValue::from_str(secret.expose()).is_err() {
        return Err(
            Error::config("the value contains characters not allowed in an HTTP header")
                .with_param(param),
        );
    }
    Ok(())
}

impl AzureOpenAiConfig {
    /// Applies the environment fallbacks and checks everything; errors name the key.
    pub(crate) fn resolve(&self) -> Result<Resolved, Error> {
        let endpoint = match (&self.endpoint, env_var(ENV_ENDPOINT)) {
            (Some(url), _) => url.clone(),
            (None, Some(raw)) => Url::parse(raw.trim()).map_err(|e| {
                Error::config(format!("`{ENV_ENDPOINT}` is not a URL: {e}")).with_param("endpoint")
            })?,
            (None, None) => {
                return Err(Error::config(format!(
                    "`endpoint` is required (`https://{{resource}}.openai.azure.com`), or set `{ENV_ENDPOINT}`"
                ))
                .with_param("endpoint"));
            }
        };
        let scheme = endpoint.scheme();
        if scheme != "http" && scheme != "https" {
            return Err(Error::config(format!(
                "`endpoint` must be an http or https URL, not `{scheme}:`"
            ))
            .with_param("endpoint"));
        }
        if endpoint.query().is_some() {
            return Err(Error::config(
                "`endpoint` must not carry a query (set `api_version` instead)",
            )
            .with_param("endpoint"));
        }
        let root = endpoint.as_str().trim_end_matches('/');
        let root = root.strip_suffix("/openai").unwrap_or(root);
        let base_url = format!("{root}/openai");

        let configured = |s: &Option<Secret>| {
            s.as_ref()
                .filter(|s| !s.expose().trim().is_empty())
                .cloned()
        };
        let auth = match (configured(&self.azure_ad_token), configured(&self.api_key)) {
            (Some(token), _) => Auth::Bearer(token),
            (None, Some(key)) => Auth::ApiKey(key),
            (None, None) => match (env_var(ENV_AD_TOKEN), env_var(ENV_API_KEY)) {
                (Some(token), _) => Auth::Bearer(Secret::new(token)),
                (None, Some(key)) => Auth::ApiKey(Secret::new(key)),
                (None, None) => {
                    return Err(Error::config(format!(
                        "set `api_key` (or `{ENV_API_KEY}`) or `azure_ad_token` (or `{ENV_AD_TOKEN}`)"
                    ))
                    .with_param("api_key"));
                }
            },
        };
        match &auth {
            Auth::Bearer(token) => header_safe(token, "azure_ad_token")?,
            Auth::ApiKey(key) => header_safe(key, "api_key")?,
        }

        let api_version = match (&self.api_version, self.api_shape) {
            (Some(v), _) if v.trim().is_empty() => {
                return Err(
                    Error::config("`api_version` must not be empty").with_param("api_version")
                );
            }
            (Some(v), _) => Some(v.trim().to_owned()),
            (None, ApiShape::Deployments) => Some(DEFAULT_API_VERSION.to_owned()),
            (None, ApiShape::V1) => None,
        };
        for (model, deployment) in &self.deployments {
            if deployment.trim().is_empty() {
                return Err(Error::config("a deployment name must not be empty")
                    .with_param(format!("deployments.{model}")));
            }
        }
        if self.timeout_ms == Some(0) {
            return Err(
                Error::config("`timeout_ms` must be greater than 0").with_param("timeout_ms")
            );
        }
        let wire = WireOptions {
            request: RequestOptions {
                max_tokens_field: self
                    .max_tokens_field
                    .unwrap_or(MaxTokensField::MaxCompletionTokens),
                reasoning_content: false,
            },
            service: "Azure OpenAI".to_owned(),
            ..WireOptions::default()
        };
        Ok(Resolved {
            base_url,
            auth,
            shape: self.api_shape,
            api_version,
            timeout: self.timeout_ms.map(Duration::from_millis),
            wire,
        })
    }

    /// The deployment serving `model`: its `deployments` entry, else the
    /// model name itself.
    pub fn deployment<'a>(&'a self, model: &'a str) -> &'a str {
        self.deployments.get(model).map_or(model, String::as_str)
    }
}

impl Resolved {
    /// The path (under `{endpoint}/openai`) of `operation`
    /// (`chat/completions`, `embeddings`) for `deployment`, with the query.
    pub(crate) fn path(&self, deployment: &str, operation: &str) -> String {
        let mut path = match self.shape {
            ApiShape::V1 => format!("v1/{operation}"),
            ApiShape::Deployments => {
                format!("deployments/{}/{operation}", percent_encode(deployment))
            }
        };
        if let Some(version) = &self.api_version {
            path.push_str("?api-version=");
            path.push_str(&percent_encode(version));
        }
        path
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn config(value: serde_json::Value) -> AzureOpenAiConfig {
        serde_json::from_value(value).expect("a valid config")
    }

    #[test]
    fn paths_of_both_shapes() {
        let v1 = config(json!({"endpoint": "https://r.openai.azure.com/", "api_key": "k"}))
            .resolve()
            .expect("resolves");
        assert_eq!(v1.base_url, "https://r.openai.azure.com/openai");
        assert_eq!(
            v1.path("gpt4o-prod", "chat/completions"),
            "v1/chat/completions"
        );
        let dated = config(json!({"endpoint": "https://r.openai.azure.com/openai",
            "api_key": "k", "api_shape": "deployments"}))
        .resolve()
        .expect("resolves");
        assert_eq!(dated.base_url, "https://r.openai.azure.com/openai");
        assert_eq!(
            dated.path("my dep", "embeddings"),
            "deployments/my%20dep/embeddings?api-version=2024-10-21"
        );
        let preview = config(json!({"endpoint": "https://r.openai.azure.com",
            "api_key": "k", "api_version": "preview"}))
        .resolve()
        .expect("resolves");
        assert_eq!(
            preview.path("x", "chat/completions"),
            "v1/chat/completions?api-version=preview"
        );
    }

    #[test]
    fn the_entra_token_wins_over_the_key() {
        let r = config(json!({"endpoint": "https://r.openai.azure.com",
            "api_key": "k", "azure_ad_token": "t"}))
        .resolve()
        .expect("resolves");
        assert!(matches!(r.auth, Auth::Bearer(ref t) if t.expose() == "t"));
    }

    #[test]
    fn deployments_map_models() {
        let c = config(json!({"deployments": {"gpt-4o": "gpt4o-prod"}}));
        assert_eq!(c.deployment("gpt-4o"), "gpt4o-prod");
        assert_eq!(c.deployment("other"), "other");
    }

    #[test]
    fn errors_name_the_key() {
        let bad = config(json!({"endpoint": "ftp://r", "api_key": "k"}));
        assert_eq!(
            bad.resolve()
                .err()
                .and_then(|e| e.param().map(str::to_owned))
                .as_deref(),
            Some("endpoint")
        );
        let empty =
            config(json!({"endpoint": "https://r", "api_key": "k", "deployments": {"m": " "}}));
        assert_eq!(
            empty
                .resolve()
                .err()
                .and_then(|e| e.param().map(str::to_owned))
                .as_deref(),
            Some("deployments.m")
        );
    }

    #[test]
    fn debug_leaves_secrets_out() {
        let c = config(json!({"api_key": "key-SECRET", "azure_ad_token": "tok-SECRET"}));
        let d = format!("{c:?}");
        assert!(!d.contains("SECRET"), "{d}");
    }
}
