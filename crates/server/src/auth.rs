//! Client API keys: who may call the inference API, and with which models.

use axum::http::{HeaderMap, header};
use std::sync::Arc;

use switchboard_core::Error;
use switchboard_core::extension::ClientKeyInfo;
use switchboard_gateway::Switchboard;
use switchboard_gateway::config::types::{ClientKey, Config};

use crate::error::{ApiError, Format};

/// Checks the client's key, when keys are configured, and returns the
/// models that key may use (`None`: all). Errors are in `format`, which also
/// says which header is looked at first.
pub(crate) async fn authorize(
    sb: &Switchboard,
    headers: &HeaderMap,
    format: Format,
) -> Result<Option<Vec<String>>, ApiError> {
    authorize_caller(sb, headers, format)
        .await
        .map(|c| c.models)
}

/// Who called: the models their key may use, and which key it was.
#[derive(Debug, Default)]
pub(crate) struct Caller {
    /// The models the key may use (`None`: all).
    pub(crate) models: Option<Vec<String>>,
    /// Which key matched.
    key: MatchedKey,
}

/// The key a caller presented, as it was recognised.
#[derive(Debug, Default)]
enum MatchedKey {
    /// No keys are configured: anyone may call.
    #[default]
    Open,
    /// `server.api_keys[i]` of the configuration it was checked against.
    Static(Arc<Config>, usize),
    /// A key an extension recognised (`authenticate`: virtual keys).
    Extension(ClientKeyInfo),
}

impl Caller {
    /// The key's id, team and metadata (never the key). A static key's is
    /// built only when asked (extensions run), so the plain chat path
    /// allocates nothing more.
    pub(crate) fn key_info(&self) -> Option<ClientKeyInfo> {
        match &self.key {
            MatchedKey::Open => None,
            MatchedKey::Static(config, i) => {
                let key = config.server.api_keys.get(*i)?;
                Some(ClientKeyInfo {
                    id: Arc::from(key.id_or(*i)),
                    team: key.team.as_deref().map(Arc::from),
                    metadata: key.metadata.clone(),
                })
            }
            MatchedKey::Extension(info) => Some(info.clone()),
        }
    }
}

/// [`authorize`], also naming the key that matched. The static
/// `server.api_keys` are checked first; a key they do not know goes to the
/// extensions that authenticate keys (virtual keys), when one is enabled.
pub(crate) async fn authorize_caller(
    sb: &Switchboard,
    headers: &HeaderMap,
    format: Format,
) -> Result<Caller, ApiError> {
    let config = sb.config();
    let keys = &config.server.api_keys;
    let extension_keys = sb.has_authenticator();
    if keys.is_empty() && !extension_keys {
        return Ok(Caller::default());
    }
    // An empty key is no key: it never matches, not even an empty configured
    // one (the loader refuses those; a programmatic config may not have).
    let presented = client_key(headers, format).filter(|k| !k.is_empty());
    let Some(presented) = presented else {
        return Err(ApiError::new(
            Error::auth(match format {
                Format::OpenAi => "missing API key: send `Authorization: Bearer <key>`",
                Format::Anthropic => "missing API key: send `x-api-key: <key>`",
                Format::Gemini => "missing API key: send `x-goog-api-key: <key>`",
            }),
            format,
        ));
    };
    // Compare against every key so timing does not reveal which one matched.
    let mut matched: Option<(usize, &ClientKey)> = None;
    for (i, key) in keys.iter().enumerate() {
        if key.key.constant_time_eq(presented) && !key.key.is_empty() && matched.is_none() {
            matched = Some((i, key));
        }
    }
    if let Some((i, key)) = matched {
        return Ok(Caller {
            models: (!key.models.is_empty()).then(|| key.models.clone()),
            key: MatchedKey::Static(config.clone(), i),
        });
    }
    if extension_keys {
        match sb.authenticate(presented).await {
            Ok(Some(grant)) => {
                return Ok(Caller {
                    models: grant.models,
                    key: MatchedKey::Extension(grant.key),
                });
            }
            Ok(None) => {}
            Err(e) => return Err(ApiError::new(e, format)),
        }
    }
    Err(ApiError::new(Error::auth("invalid API key"), format))
}

/// Rejects a model the client's key may not use.
pub(crate) fn check_model(
    allowed: Option<&[String]>,
    model: &str,
    format: Format,
) -> Result<(), ApiError> {
    match allowed {
        Some(models) if !models.iter().any(|m| m == model) => Err(ApiError::new(
            Error::permission(format!(
                "this API key may not use model `{model}`; allowed: {}",
                models.join(", ")
            ))
            .with_param("model"),
            format,
        )),
        _ => Ok(()),
    }
}

/// The key the client presented: `Authorization: Bearer` or `x-api-key`
/// (and for Gemini `x-goog-api-key`), the format's own header first.
fn client_key(headers: &HeaderMap, format: Format) -> Option<&str> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    let x_api_key = headers.get("x-api-key").and_then(|v| v.to_str().ok());
    match format {
        Format::OpenAi => bearer.or(x_api_key),
        Format::Anthropic => x_api_key.or(bearer),
        Format::Gemini => headers
            .get("x-goog-api-key")
            .and_then(|v| v.to_str().ok())
            .or(x_api_key)
            .or(bearer),
    }
}

/// Whether the request holds the admin token, or neither client keys (static
/// or from an extension) nor an admin token are configured (the local
/// single-user case).
pub(crate) fn is_admin(sb: &Switchboard, headers: &HeaderMap) -> bool {
    let config = sb.config();
    match &config.server.admin_token {
        None => config.server.api_keys.is_empty() && !sb.has_authenticator(),
        Some(token) => headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|p| !p.is_empty() && !token.is_empty() && token.constant_time_eq(p)),
    }
}
