//! [`OpenAiCompatibleConfig`] and what it resolves to with its preset.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use http::header::{HeaderName, HeaderValue};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use switchboard_core::{Error, Secret};
use switchboard_protocol::openai::{
    MaxTokensField, ParamSpec, RequestOptions, UnsupportedParams, WireOptions,
};
use url::Url;

use crate::preset::{AuthStyle, CUSTOM, DeveloperRole, Preset, PresetName};

/// Settings of one `openai-compatible` instance: a preset (or a custom
/// endpoint) plus overrides of any preset field.
#[derive(Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenAiCompatibleConfig {
    /// A known service whose URL, authentication and quirks to start from:
    /// `groq`, `together`, `openrouter`, `deepinfra`, `mistral`, `deepseek`,
    /// `vllm`, `llamacpp`, `lmstudio`, `xai`, `fireworks`, `cerebras`,
    /// `perplexity`, `nebius`, `sambanova`, `huggingface`, `azure-foundry`
    /// (needs `base_url`). Without one, `base_url` is required and
    /// the endpoint is treated as plain OpenAI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<PresetName>,
    /// The API root (`chat/completions` is appended); overrides the preset's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<Url>,
    /// The API key. Required by the hosted presets; optional for local
    /// servers and custom endpoints (none is sent when absent or empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<Secret>,
    /// How the key is sent: `bearer` (`Authorization: Bearer <key>`),
    /// `header` (the key as the value of `auth_header`) or `none`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<AuthStyle>,
    /// The header carrying the key when `auth = "header"` (e.g. `api-key`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_header: Option<String>,
    /// What to do with a request parameter the service does not support:
    /// `reject` (an `invalid_request` error naming it; nothing is sent) or
    /// `drop` (left out, and listed in the answer's `extra.dropped_params`).
    #[serde(default)]
    pub unsupported_params: UnsupportedParams,
    /// Replaces the preset's list of unsupported parameters: field names
    /// (`logprobs`), `messages[].<field>`, `response_format=<type>`, or `n>1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsupported: Option<Vec<String>>,
    /// Replaces the preset's field renames: OpenAI name → the service's name
    /// (Mistral: `{ seed = "random_seed" }`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rename_params: Option<BTreeMap<String, String>>,
    /// `keep` sends `developer` messages as they are; `system` sends them as
    /// `system` (for services without the `developer` role).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub developer_role: Option<DeveloperRole>,
    /// Which field carries `max_tokens`: `max_tokens` or `max_completion_tokens`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens_field: Option<MaxTokensField>,
    /// Whether streamed requests send `stream_options.include_usage: true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_usage: Option<bool>,
    /// Whether assistant reasoning from earlier turns is sent back as
    /// `reasoning_content` (DeepSeek's thinking mode needs it after tool calls).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_reasoning_content: Option<bool>,
    /// Whether the service has `POST /embeddings`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embeddings: Option<bool>,
    /// The timeout of one request in milliseconds; defaults to the runtime's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    /// Extra headers on every request (OpenRouter's `HTTP-Referer` and
    /// `X-Title`, a proxy's token, ...). Values are never printed, and are
    /// removed from error messages.
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        serialize_with = "redacted_values"
    )]
    pub headers: BTreeMap<String, String>,
    /// The models `models()` lists, for endpoints without `GET /models`; when
    /// empty, `GET /models` is asked (or, for a preset without it, such as
    /// Perplexity, the preset's list is used).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<String>,
}

fn redacted_values<S: serde::Serializer>(
    headers: &BTreeMap<String, String>,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_map(headers.keys().map(|k| (k, Secret::REDACTED)))
}

impl fmt::Debug for OpenAiCompatibleConfig {
    /// Leaves the key and header values out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiCompatibleConfig")
            .field("preset", &self.preset)
            .field("base_url", &self.base_url.as_ref().map(Url::as_str))
            .field("api_key", &self.api_key)
            .field("auth", &self.auth)
            .field("auth_header", &self.auth_header)
            .field("unsupported_params", &self.unsupported_params)
            .field("unsupported", &self.unsupported)
            .field("rename_params", &self.rename_params)
            .field("developer_role", &self.developer_role)
            .field("max_tokens_field", &self.max_tokens_field)
            .field("include_usage", &self.include_usage)
            .field("send_reasoning_content", &self.send_reasoning_content)
            .field("embeddings", &self.embeddings)
            .field("timeout_ms", &self.timeout_ms)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("models", &self.models)
            .finish()
    }
}

/// How requests authenticate, with the preset applied.
#[derive(Clone)]
pub(crate) enum Auth {
    /// No credentials.
    None,
    /// `Authorization: Bearer <key>`.
    Bearer(Secret),
    /// The key as the whole value of the header `name`.
    Header { name: String, value: Secret },
}

/// A config with its preset applied: everything the provider needs. No
/// `Debug`: it holds header values.
#[derive(Clone)]
pub(crate) struct Resolved {
    pub(crate) service: String,
    pub(crate) base_url: Url,
    pub(crate) auth: Auth,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) timeout: Option<Duration>,
    /// How chat requests are written and fitted to the service: token
    /// field, `reasoning_content`, unsupported parameters, renames, the
    /// `developer` role and the usage chunk of streams.
    pub(crate) wire: WireOptions,
    pub(crate) embeddings: bool,
    pub(crate) models_endpoint: bool,
    pub(crate) models: Vec<String>,
}

fn check_header(name: &str, value: &str, param: String) -> Result<(), Error> {
    if HeaderName::from_bytes(name.as_bytes()).is_err() {
        return Err(
            Error::config(format!("`{name}` is not a valid HTTP header name")).with_param(param),
        );
    }
    if HeaderValue::from_str(value).is_err() {
        return Err(
            Error::config("the value contains characters not allowed in an HTTP header")
                .with_param(param),
        );
    }
    Ok(())
}

impl OpenAiCompatibleConfig {
    /// The preset row, or the custom-endpoint defaults.
    pub fn preset_row(&self) -> &'static Preset {
        self.preset.map_or(&CUSTOM, PresetName::preset)
    }

    /// Applies the preset and the overrides, checking everything; errors name the key.
    pub(crate) fn resolve(&self) -> Result<Resolved, Error> {
        let preset = self.preset_row();
        let service = match self.preset {
            Some(_) => preset.display_name.to_owned(),
            None => "this endpoint".to_owned(),
        };
        let base_url = match (&self.base_url, self.preset) {
            (Some(url), _) => url.clone(),
            (None, Some(_)) if preset.base_url.is_empty() => {
                return Err(Error::config(format!(
                    "`base_url` is required for {service} (the resource's endpoint, e.g. `https://<resource>.services.ai.azure.com/openai/v1`)"
                ))
                .with_param("base_url"));
            }
            (None, Some(_)) => Url::parse(preset.base_url)
                .map_err(|e| Error::config(format!("the preset's base URL is invalid: {e}")))?,
            (None, None) => {
                return Err(Error::config(
                    "`base_url` is required when no `preset` is given (known presets: groq, together, openrouter, deepinfra, mistral, deepseek, vllm, llamacpp, lmstudio, xai, fireworks, cerebras, perplexity, nebius, sambanova, huggingface, azure-foundry)",
                )
                .with_param("base_url"));
            }
        };
        let scheme = base_url.scheme();
        if scheme != "http" && scheme != "https" {
            return Err(Error::config(format!(
                "`base_url` must be an http or https URL, not `{scheme}:`"
            ))
            .with_param("base_url"));
        }
        let key = self
            .api_key
            .as_ref()
            .filter(|k| !k.expose().trim().is_empty());
        let style = self.auth.unwrap_or(preset.auth);
        if key.is_none() && preset.key_required && style != AuthStyle::None {
            return Err(
                Error::config(format!("`api_key` is required for {service}")).with_param("api_key"),
            );
        }
        if self.auth_header.is_some() && style != AuthStyle::Header {
            return Err(
                Error::config("`auth_header` is only used with `auth = \"header\"`")
                    .with_param("auth_header"),
            );
        }
        let auth = match (style, key) {
            (AuthStyle::None, _) | (_, None) => Auth::None,
            (AuthStyle::Bearer, Some(k)) => {
                check_header(
                    "authorization",
                    &format!("Bearer {}", k.expose()),
                    "api_key".into(),
                )
                .map_err(|_| {
                    Error::config("the API key contains characters not allowed in an HTTP header")
                        .with_param("api_key")
                })?;
                Auth::Bearer(k.clone())
            }
            (AuthStyle::Header, Some(k)) => {
                let Some(name) = &self.auth_header else {
                    return Err(Error::config(
                        "`auth = \"header\"` needs `auth_header`, the header that carries the key",
                    )
                    .with_param("auth_header"));
                };
                check_header(name, k.expose(), "auth_header".into()).map_err(|e| {
                    if e.message().contains("header name") {
                        e
                    } else {
                        Error::config(
                            "the API key contains characters not allowed in an HTTP header",
                        )
                        .with_param("api_key")
                    }
                })?;
                Auth::Header {
                    name: name.clone(),
                    value: k.clone(),
                }
            }
        };
        for (name, value) in &self.headers {
            check_header(name, value, format!("headers.{name}"))?;
        }
        if self.timeout_ms == Some(0) {
            return Err(
                Error::config("`timeout_ms` must be greater than 0").with_param("timeout_ms")
            );
        }
        let unsupported_list: Vec<String> = match &self.unsupported {
            Some(list) => list.clone(),
            None => preset.unsupported.iter().map(|s| (*s).to_owned()).collect(),
        };
        let mut unsupported = Vec::with_capacity(unsupported_list.len());
        for (i, raw) in unsupported_list.into_iter().enumerate() {
            let spec = ParamSpec::parse(&raw)
                .map_err(|m| Error::config(m).with_param(format!("unsupported[{i}]")))?;
            unsupported.push(spec);
        }
        let renames: Vec<(String, String)> = match &self.rename_params {
            Some(map) => map.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            None => preset
                .renames
                .iter()
                .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                .collect(),
        };
        for (from, to) in &renames {
            if from.is_empty() || to.is_empty() {
                return Err(Error::config("a rename needs two non-empty names")
                    .with_param(format!("rename_params.{from}")));
            }
        }
        let wire = WireOptions {
            request: RequestOptions {
                max_tokens_field: self.max_tokens_field.unwrap_or(preset.max_tokens_field),
                reasoning_content: self
                    .send_reasoning_content
                    .unwrap_or(preset.send_reasoning_content),
            },
            service: service.clone(),
            unsupported,
            unsupported_params: self.unsupported_params,
            renames,
            developer_as_system: self.developer_role.unwrap_or(preset.developer_role)
                == DeveloperRole::System,
            include_usage: self.include_usage.unwrap_or(preset.include_usage),
        };
        Ok(Resolved {
            wire,
            service,
            base_url,
            auth,
            headers: self
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            timeout: self.timeout_ms.map(Duration::from_millis),
            embeddings: self.embeddings.unwrap_or(preset.embeddings),
            models_endpoint: preset.models_endpoint,
            models: if self.models.is_empty() && !preset.models_endpoint {
                preset
                    .default_models
                    .iter()
                    .map(|m| (*m).to_owned())
                    .collect()
            } else {
                self.models.clone()
            },
        })
    }
}
