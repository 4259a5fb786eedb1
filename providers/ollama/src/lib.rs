#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

mod config;
mod convert;
mod error;
mod stream;
mod wire;

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use switchboard_core::upstream::{ErrorResponse, Upstream};
use switchboard_core::{
    Capabilities, ChatRequest, ChatResponse, ChatStream, EmbeddingsRequest, EmbeddingsResponse,
    Error, HealthReport, ModelInfo, Provider, ProviderContext, ProviderInit, ResponseAccumulator,
    Usage, async_trait, provider,
};
use switchboard_protocol::decoded::decode_frames;
use switchboard_protocol::lenient;
use switchboard_protocol::ndjson::{DecodedLineStream, NdjsonDecoder};

pub use crate::config::{DEFAULT_BASE_URL, KeepAlive, OllamaConfig};

/// The provider's name: the `kind` of `[providers.<instance>]`.
pub const PROVIDER_NAME: &str = "ollama";

/// Local and self-hosted models served by Ollama, through its native API
/// (`/api/chat` with NDJSON streaming, `/api/tags`, `/api/embed`).
#[provider(name = "ollama", display_name = "Ollama", config = OllamaConfig,
           capabilities(streaming, tools, vision, embeddings, json_schema, reasoning))]
#[derive(Debug)]
pub struct OllamaProvider {
    config: OllamaConfig,
    /// `<base_url>/api`, with the bearer token when one is configured.
    upstream: Upstream,
}

/// Classifies Ollama's non-2xx answers.
fn classify(r: &ErrorResponse<'_>) -> Error {
    error::error_from_response(r.status, r.retry_after(), r.body)
}

/// A model installed on the server, as `GET /api/tags` lists it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct LocalModel {
    /// The name to request it by, e.g. `llama3.2:latest`.
    #[serde(deserialize_with = "lenient::null_as_default")]
    pub name: String,
    /// The model reference (usually equal to `name`).
    #[serde(deserialize_with = "lenient::null_as_default")]
    pub model: String,
    /// When it was last pulled or changed (RFC 3339).
    pub modified_at: Option<String>,
    /// Its size on disk in bytes.
    #[serde(deserialize_with = "lenient::null_as_default")]
    pub size: u64,
    /// Its content digest.
    #[serde(deserialize_with = "lenient::null_as_default")]
    pub digest: String,
    /// Format, family, size and quantization.
    #[serde(deserialize_with = "lenient::null_as_default")]
    pub details: ModelDetails,
}

/// What Ollama says about a model's build.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ModelDetails {
    /// The model it was derived from, if any.
    #[serde(deserialize_with = "lenient::null_as_default")]
    pub parent_model: String,
    /// The weights' format, e.g. `gguf`.
    #[serde(deserialize_with = "lenient::null_as_default")]
    pub format: String,
    /// The architecture family, e.g. `llama`, `qwen2`.
    #[serde(deserialize_with = "lenient::null_as_default")]
    pub family: String,
    /// Every family it belongs to.
    #[serde(deserialize_with = "lenient::null_as_default")]
    pub families: Vec<String>,
    /// The parameter count, e.g. `7.6B`.
    #[serde(deserialize_with = "lenient::null_as_default")]
    pub parameter_size: String,
    /// The quantization, e.g. `Q4_K_M`.
    #[serde(deserialize_with = "lenient::null_as_default")]
    pub quantization_level: String,
}

impl OllamaProvider {
    /// A provider for the instance in `ctx`, with `config` checked first.
    pub fn new(config: OllamaConfig, ctx: ProviderContext) -> Result<Self, Error> {
        config
            .validate()
            .map_err(|e| e.with_instance(ctx.instance.clone()))?;
        let api = config
            .api_base()
            .map_err(|e| e.with_instance(ctx.instance.clone()))?;
        let mut builder = Upstream::builder(&ctx, api.as_str())
            .endpoint("chat")
            .timeout(config.timeout(ctx.request_timeout))
            .classify(classify);
        if let Some(key) = &config.api_key {
            builder = builder.bearer(key);
        }
        let upstream = builder.build()?;
        Ok(OllamaProvider { config, upstream })
    }

    /// The configuration in effect.
    pub fn config(&self) -> &OllamaConfig {
        &self.config
    }

    /// The models installed on the server, with their details (`GET /api/tags`).
    pub async fn local_models(&self) -> Result<Vec<LocalModel>, Error> {
        let tags: wire::TagsResponse = self.upstream.get("tags").await?.json("`tags` answer")?;
        Ok(tags.models)
    }

    /// The instance name (`[providers.<instance>]`).
    fn instance(&self) -> &Arc<str> {
        self.upstream.instance()
    }

    /// `POST /api/show` for `model`.
    async fn show(&self, model: &str) -> Result<wire::ShowResponse, Error> {
        self.upstream
            .post_json("show", &wire::ShowRequest { model })
            .await?
            .json("`show` answer")
    }

    fn model_info(&self, m: &LocalModel, show: Option<&wire::ShowResponse>) -> ModelInfo {
        let d = show.map_or(&m.details, |s| {
            if s.details == ModelDetails::default() {
                &m.details
            } else {
                &s.details
            }
        });
        let facts: Vec<&str> = [
            d.family.as_str(),
            d.parameter_size.as_str(),
            d.quantization_level.as_str(),
        ]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect();
        let display_name = if facts.is_empty() {
            None
        } else {
            Some(format!("{} ({})", m.name, facts.join(", ")))
        };
        let owned_by = match m.name.rsplit_once('/') {
            Some((namespace, _)) => namespace.to_owned(),
            None => "library".to_owned(),
        };
        let mut info = ModelInfo {
            id: m.name.clone(),
            provider: self.instance().to_string(),
            display_name,
            created: m.modified_at.as_deref().and_then(convert::parse_rfc3339),
            owned_by: Some(owned_by),
            ..ModelInfo::default()
        };
        if let Some(show) = show {
            let has = |c: &str| show.capabilities.iter().any(|x| x == c);
            let completion = has("completion");
            info.capabilities = Capabilities {
                streaming: completion,
                tools: has("tools"),
                vision: has("vision"),
                embeddings: has("embedding"),
                json_schema: completion,
                reasoning: has("thinking"),
            };
            let arch = show
                .model_info
                .get("general.architecture")
                .and_then(serde_json::Value::as_str)
                .unwrap_or(d.family.as_str());
            info.context_length = show
                .model_info
                .get(&format!("{arch}.context_length"))
                .and_then(serde_json::Value::as_u64)
                .and_then(|n| u32::try_from(n).ok());
        }
        info
    }

    /// The `/api/chat` body for `request`.
    fn chat_body<'a>(
        &'a self,
        request: &'a ChatRequest,
        stream: bool,
    ) -> Result<wire::ChatRequest<'a>, Error> {
        convert::chat_request(request, &self.config, stream).map_err(|e| self.upstream.error(e))
    }
}

/// Reads a whole `/api/chat` answer (`stream: false`): one JSON object, or
/// NDJSON lines from a proxy that forces streaming; an `error` field is the
/// error it reports.
fn parse_chat_answer(bytes: &[u8], instance: &str, model: &str) -> Result<ChatResponse, Error> {
    let mut chunk: wire::ChatChunk = match serde_json::from_slice(bytes) {
        Ok(chunk) => chunk,
        Err(e) if bytes.iter().filter(|&&b| b == b'\n').count() > 1 => {
            return fold_ndjson(bytes, instance, model).map_err(|_| {
                Error::protocol(format!("Ollama's chat answer could not be read: {e}"))
            });
        }
        Err(e) => {
            return Err(
                Error::protocol(format!("Ollama's chat answer could not be read: {e}"))
                    .with_source(e),
            );
        }
    };
    if let Some(error) = chunk.error.take().filter(|e| !e.is_null()) {
        return Err(error::error_from_stream_line(&error, chunk.status));
    }
    let mut response = convert::response(chunk, instance);
    if response.model.is_empty() {
        response.model = model.to_owned();
    }
    Ok(response)
}

/// Entry points for fuzzing the wire decoding (`fuzz/`); not a stable API.
#[doc(hidden)]
pub mod fuzzing {
    use switchboard_core::{ChatEvent, ChatResponse, Error};

    /// A whole streamed `/api/chat` body (NDJSON) decoded into events.
    pub fn decode_stream(body: &[u8]) -> Result<Vec<ChatEvent>, Error> {
        switchboard_protocol::ndjson::decode_body(body, crate::stream::ChatDecoder::new("fuzz"))
    }

    /// A whole `/api/chat` answer decoded into a response.
    pub fn decode_response(body: &[u8]) -> Result<ChatResponse, Error> {
        crate::parse_chat_answer(body, "fuzz", "fuzz")
    }
}

/// Reads a chat answer that came as NDJSON although `stream: false` was sent
/// (a proxy that forces streaming): the lines are folded into one response.
fn fold_ndjson(body: &[u8], instance: &str, model: &str) -> Result<ChatResponse, Error> {
    // The body is whole (and bounded by core), so its lines are too: no line
    // size limit, and a last line without a line end is complete.
    let lines = NdjsonDecoder::new()
        .with_max_line_size(usize::MAX)
        .accept_unterminated_last_line();
    let events = decode_frames(body, lines, stream::ChatDecoder::new(model))?;
    let mut acc = ResponseAccumulator::new();
    for e in &events {
        acc.push(e);
    }
    let mut response = acc.finish();
    response.provider = instance.to_owned();
    if response.model.is_empty() {
        response.model = model.to_owned();
    }
    Ok(response)
}

#[async_trait]
impl ProviderInit for OllamaProvider {
    type Config = OllamaConfig;

    fn validate(config: &OllamaConfig) -> Result<(), Error> {
        config.validate()
    }

    async fn init(config: OllamaConfig, ctx: ProviderContext) -> Result<Self, Error> {
        Self::new(config, ctx)
    }
}

#[async_trait]
impl Provider for OllamaProvider {
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, Error> {
        let body = self.chat_body(request, false)?;
        let reply = self.upstream.post_json("chat", &body).await?;
        parse_chat_answer(&reply.body, self.instance(), &request.model).map_err(|e| reply.error(e))
    }

    async fn chat_stream(&self, request: &ChatRequest) -> Result<ChatStream, Error> {
        let body = self.upstream.encode(&self.chat_body(request, true)?)?;
        let http = self.upstream.request(http::Method::POST, "chat", body)?;
        let decoder = stream::ChatDecoder::new(&request.model);
        let reply = self.upstream.open(http).await?;
        Ok(reply.events(|body| DecodedLineStream::with_decoder(body, decoder)))
    }

    /// `GET /api/tags`; with `model_details`, also `POST /api/show` for each
    /// model (concurrently; a model whose details fail is listed without them).
    async fn models(&self) -> Result<Vec<ModelInfo>, Error> {
        let models = self.local_models().await?;
        if !self.config.model_details {
            return Ok(models.iter().map(|m| self.model_info(m, None)).collect());
        }
        let shows = futures::future::join_all(models.iter().map(|m| self.show(&m.name))).await;
        Ok(models
            .iter()
            .zip(shows)
            .map(|(m, show)| self.model_info(m, show.ok().as_ref()))
            .collect())
    }

    /// `POST /api/embed` with every input at once. `dimensions` is sent as
    /// is (newer servers truncate the vectors); `extra.truncate`,
    /// `extra.keep_alive` and `extra.options` are passed through.
    async fn embed(&self, request: &EmbeddingsRequest) -> Result<EmbeddingsResponse, Error> {
        let mut body = wire::EmbedRequest {
            model: &request.model,
            input: &request.input,
            dimensions: request.dimensions,
            keep_alive: self.config.keep_alive.as_ref().map(KeepAlive::to_value),
            options: self
                .config
                .options
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            extra: serde_json::Map::new(),
        };
        for (k, v) in &request.extra {
            match (k.as_str(), v) {
                ("model" | "input" | "dimensions", _) => {
                    return Err(self.upstream.error(Error::invalid_param(
                        format!("extra.{k}"),
                        format!("`{k}` has its own request field; set it there, not in `extra`"),
                    )));
                }
                ("options", serde_json::Value::Object(map)) => {
                    body.options
                        .extend(map.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
                ("options", _) => {
                    return Err(self.upstream.error(Error::invalid_param(
                        "extra.options",
                        "`options` must be an object",
                    )));
                }
                ("keep_alive", v) => body.keep_alive = Some(v.clone()),
                _ => {
                    body.extra.insert(k.clone(), v.clone());
                }
            }
        }
        let reply = self.upstream.post_json("embed", &body).await?;
        let answer: wire::EmbedResponse = reply.json("`embed` answer")?;
        if answer.embeddings.len() != request.input.len() {
            return Err(reply.error(Error::protocol(format!(
                "Ollama returned {} embeddings for {} inputs",
                answer.embeddings.len(),
                request.input.len()
            ))));
        }
        Ok(EmbeddingsResponse {
            model: if answer.model.is_empty() {
                request.model.clone()
            } else {
                answer.model
            },
            provider: self.instance().to_string(),
            embeddings: answer.embeddings,
            usage: Usage::new(answer.prompt_eval_count.unwrap_or(0), 0),
        })
    }

    /// `GET /api/version`: cheap, and answered even while models load.
    async fn health(&self) -> Result<HealthReport, Error> {
        #[derive(Deserialize, Default)]
        #[serde(default)]
        struct Version {
            version: String,
        }
        let start = std::time::Instant::now();
        let v: Version = self
            .upstream
            .get("version")
            .await?
            .json("`version` answer")?;
        Ok(HealthReport {
            latency: start.elapsed(),
            detail: (!v.version.is_empty()).then(|| format!("Ollama {}", v.version)),
        })
    }
}
