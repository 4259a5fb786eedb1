#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

mod config;

use std::sync::Arc;

use switchboard_core::upstream::{self, ErrorResponse, Upstream};
use switchboard_core::{
    Capabilities, ChatRequest, ChatResponse, ChatStream, EmbeddingsRequest, EmbeddingsResponse,
    Error, HealthReport, ModelInfo, Provider, ProviderContext, ProviderInit, Usage, async_trait,
    provider,
};
use switchboard_protocol::gemini::{self as protocol, RequestOptions, types as wire};
use switchboard_protocol::sse::DecodedEventStream;

pub use crate::config::{DEFAULT_API_VERSION, DEFAULT_BASE_URL, GeminiConfig, SafetySetting};
pub use switchboard_protocol::gemini::schema;
pub use switchboard_protocol::gemini::{ORIGIN, SKIP_THOUGHT_SIGNATURE, sanitize_schema};

/// The provider's name: the `kind` of `[providers.<instance>]`.
pub const PROVIDER_NAME: &str = "gemini";

/// Google's Gemini models through the Gemini API (`generateContent`,
/// `streamGenerateContent`, `batchEmbedContents`).
#[provider(name = "gemini", display_name = "Google Gemini", config = GeminiConfig,
           capabilities(streaming, tools, vision, embeddings, json_schema, reasoning))]
#[derive(Debug)]
pub struct GeminiProvider {
    config: GeminiConfig,
    /// What the config adds to every `generateContent` body.
    options: RequestOptions,
    /// `<base_url>/<api_version>`, authenticated with `x-goog-api-key`.
    upstream: Upstream,
}

/// The most pages `models()` follows.
const MAX_MODEL_PAGES: usize = 50;

/// Classifies Gemini's non-2xx answers.
fn classify(r: &ErrorResponse<'_>) -> Error {
    protocol::error_from_response(r.status, r.retry_after(), r.body)
}

impl GeminiProvider {
    /// A provider for the instance in `ctx`, with `config` checked first.
    pub fn new(config: GeminiConfig, ctx: ProviderContext) -> Result<Self, Error> {
        config
            .validate()
            .map_err(|e| e.with_instance(ctx.instance.clone()))?;
        let root = config
            .api_root()
            .map_err(|e| e.with_instance(ctx.instance.clone()))?;
        // The key goes in a header, never in the URL, so that it cannot leak
        // through URLs in logs or transport errors.
        let upstream = Upstream::builder(&ctx, &root)
            .secret_header("x-goog-api-key", &config.api_key)
            .timeout(config.timeout(ctx.request_timeout))
            .classify(classify)
            .build()?;
        Ok(GeminiProvider {
            options: config.request_options(),
            config,
            upstream,
        })
    }

    /// The configuration in effect.
    pub fn config(&self) -> &GeminiConfig {
        &self.config
    }

    /// The instance name (`[providers.<instance>]`).
    fn instance(&self) -> &Arc<str> {
        self.upstream.instance()
    }

    /// `models/<model>:<method>`, under the API root.
    fn model_method(&self, model: &str, method: &str) -> Result<String, Error> {
        let path = model_path(model).map_err(|e| self.upstream.error(e))?;
        Ok(format!("{path}:{method}"))
    }

    /// The `generateContent` body for `request`.
    fn chat_body<'a>(
        &'a self,
        request: &'a ChatRequest,
    ) -> Result<wire::GenerateContentRequest<'a>, Error> {
        protocol::to_wire_request(request, &self.options).map_err(|e| self.upstream.error(e))
    }

    /// One page of `GET models`, `page_size` models after `token`.
    async fn model_page(
        &self,
        token: Option<&str>,
        page_size: u32,
    ) -> Result<wire::ModelList, Error> {
        let mut path = format!("models?pageSize={page_size}");
        if let Some(token) = token {
            path.push_str("&pageToken=");
            path.push_str(&upstream::percent_encode(token));
        }
        self.upstream.get(&path).await?.json("`models` answer")
    }
}

/// `models/<id>` (or `tunedModels/<id>`) for a model id given with or
/// without its prefix. Anything but letters, digits, `.`, `-` and `_` in the
/// id is rejected, so the id cannot change the URL's path or query.
fn model_path(model: &str) -> Result<String, Error> {
    let (prefix, id) = if let Some(id) = model.strip_prefix("models/") {
        ("models", id)
    } else if let Some(id) = model.strip_prefix("tunedModels/") {
        ("tunedModels", id)
    } else {
        ("models", model)
    };
    let valid = !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
    if !valid {
        return Err(Error::invalid_param(
            "model",
            format!("{model:?} is not a Gemini model id (letters, digits, `.`, `-`, `_`)"),
        ));
    }
    Ok(format!("{prefix}/{id}"))
}

/// Entry points for fuzzing the wire decoding (`fuzz/`); not a stable API.
#[doc(hidden)]
pub mod fuzzing {
    use switchboard_core::{ChatEvent, ChatResponse, Error};

    /// A whole `streamGenerateContent?alt=sse` body decoded into events.
    pub fn decode_stream(body: &[u8]) -> Result<Vec<ChatEvent>, Error> {
        switchboard_protocol::sse::decode_body(
            body,
            switchboard_protocol::gemini::GeminiStreamDecoder::new("fuzz"),
        )
    }

    /// A whole `generateContent` answer decoded into a response.
    pub fn decode_response(body: &[u8]) -> Result<ChatResponse, Error> {
        let answer: switchboard_protocol::gemini::GenerateContentResponse =
            serde_json::from_slice(body)
                .map_err(|e| Error::protocol(format!("not a generateContent answer: {e}")))?;
        switchboard_protocol::gemini::from_wire_response(answer, "fuzz", "fuzz")
    }
}

#[async_trait]
impl ProviderInit for GeminiProvider {
    type Config = GeminiConfig;

    fn validate(config: &GeminiConfig) -> Result<(), Error> {
        config.validate()
    }

    async fn init(config: GeminiConfig, ctx: ProviderContext) -> Result<Self, Error> {
        Self::new(config, ctx)
    }
}

#[async_trait]
impl Provider for GeminiProvider {
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, Error> {
        let body = self.chat_body(request)?;
        let path = self.model_method(&request.model, "generateContent")?;
        let reply = self.upstream.post_json(&path, &body).await?;
        let answer: wire::GenerateContentResponse = reply.json("`generateContent` answer")?;
        protocol::from_wire_response(answer, &request.model, self.instance())
            .map_err(|e| reply.error(e))
    }

    async fn chat_stream(&self, request: &ChatRequest) -> Result<ChatStream, Error> {
        let body = self.upstream.encode(&self.chat_body(request)?)?;
        let path = self.model_method(&request.model, "streamGenerateContent")?;
        let http = self
            .upstream
            .request(http::Method::POST, &format!("{path}?alt=sse"), body)?;
        let decoder = protocol::GeminiStreamDecoder::new(&request.model);
        let reply = self.upstream.open(http).await?;
        Ok(reply.events(|body| DecodedEventStream::with_decoder(body, decoder)))
    }

    /// `GET /v1beta/models`, following `nextPageToken`.
    async fn models(&self) -> Result<Vec<ModelInfo>, Error> {
        let mut models = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_MODEL_PAGES {
            let page = self.model_page(token.as_deref(), 1000).await?;
            models.extend(page.models.into_iter().map(|m| self.model_info(m)));
            match page.next_page_token.filter(|t| !t.is_empty()) {
                Some(next) if token.as_deref() != Some(next.as_str()) => token = Some(next),
                _ => break,
            }
        }
        Ok(models)
    }

    /// `POST /v1beta/models/{model}:batchEmbedContents`, one request per
    /// input. `dimensions` → `outputDimensionality`; `extra` entries
    /// (`taskType`, `title`) are added to every request.
    async fn embed(&self, request: &EmbeddingsRequest) -> Result<EmbeddingsResponse, Error> {
        for key in ["model", "content", "outputDimensionality"] {
            if request.extra.contains_key(key) {
                return Err(self.upstream.error(Error::invalid_param(
                    format!("extra.{key}"),
                    format!("`{key}` is set from the request; it cannot be given in `extra`"),
                )));
            }
        }
        let path = model_path(&request.model).map_err(|e| self.upstream.error(e))?;
        let body = wire::BatchEmbedRequest {
            requests: request
                .input
                .iter()
                .map(|text| wire::EmbedContentRequest {
                    model: &path,
                    content: wire::Content {
                        role: None,
                        parts: vec![wire::Part {
                            text: Some(std::borrow::Cow::Borrowed(text)),
                            ..wire::Part::default()
                        }],
                    },
                    output_dimensionality: request.dimensions,
                    extra: &request.extra,
                })
                .collect(),
        };
        let reply = self
            .upstream
            .post_json(&format!("{path}:batchEmbedContents"), &body)
            .await?;
        let answer: wire::BatchEmbedResponse = reply.json("`batchEmbedContents` answer")?;
        if answer.embeddings.len() != request.input.len() {
            return Err(reply.error(Error::protocol(format!(
                "Gemini returned {} embeddings for {} inputs",
                answer.embeddings.len(),
                request.input.len()
            ))));
        }
        Ok(EmbeddingsResponse {
            model: request.model.clone(),
            provider: self.instance().to_string(),
            embeddings: answer.embeddings.into_iter().map(|e| e.values).collect(),
            // batchEmbedContents reports no token counts.
            usage: Usage::default(),
        })
    }

    /// One page of one model: authenticated and cheap.
    async fn health(&self) -> Result<HealthReport, Error> {
        let start = std::time::Instant::now();
        self.model_page(None, 1).await?;
        Ok(HealthReport {
            latency: start.elapsed(),
            detail: None,
        })
    }
}

impl GeminiProvider {
    fn model_info(&self, m: wire::Model) -> ModelInfo {
        let id = m.name.strip_prefix("models/").unwrap_or(&m.name).to_owned();
        let has = |method: &str| m.supported_generation_methods.iter().any(|x| x == method);
        // The list names `generateContent` only; every model that has it
        // also streams (`streamGenerateContent` is not listed separately).
        let generates = has("generateContent");
        let gemini = id.starts_with("gemini");
        ModelInfo {
            provider: self.instance().to_string(),
            display_name: m.display_name.clone(),
            context_length: m.input_token_limit.and_then(|n| u32::try_from(n).ok()),
            max_output_tokens: m.output_token_limit.and_then(|n| u32::try_from(n).ok()),
            capabilities: Capabilities {
                streaming: generates || has("streamGenerateContent"),
                tools: generates && gemini,
                vision: generates && gemini,
                embeddings: has("embedContent") || has("batchEmbedContents"),
                json_schema: generates && gemini,
                reasoning: m.thinking == Some(true),
            },
            owned_by: Some("google".to_owned()),
            id,
            ..ModelInfo::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_paths() {
        assert_eq!(
            model_path("gemini-2.5-flash").ok().as_deref(),
            Some("models/gemini-2.5-flash")
        );
        assert_eq!(
            model_path("models/gemini-2.0-flash-001").ok().as_deref(),
            Some("models/gemini-2.0-flash-001")
        );
        assert_eq!(
            model_path("tunedModels/my-model_1").ok().as_deref(),
            Some("tunedModels/my-model_1")
        );
        for bad in [
            "",
            "models/",
            "../x",
            "a/b",
            "x?key=1",
            "x:generateContent",
            "x y",
            "gemini%2F",
        ] {
            assert_eq!(
                model_path(bad).expect_err(bad).param(),
                Some("model"),
                "{bad}"
            );
        }
        assert_eq!(upstream::percent_encode("a b/c=="), "a%20b%2Fc%3D%3D");
    }
}
