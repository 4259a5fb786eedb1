#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

mod config;
mod convert;
mod error;
mod stream;
mod wire;

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use serde::{Deserialize, Serialize};
use switchboard_core::http::UpstreamResponse;
use switchboard_core::{
    Capabilities, ChatEvent, ChatRequest, ChatResponse, ChatStream, EmbeddingsRequest,
    EmbeddingsResponse, Error, HealthReport, ModelInfo, Provider, ProviderContext, ProviderInit,
    ResponseAccumulator, Usage, async_trait, provider,
};
use tokio::time::Instant;

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
    ctx: ProviderContext,
    /// `<base_url>/api/`.
    api: reqwest::Url,
}

/// A model installed on the server, as `GET /api/tags` lists it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct LocalModel {
    /// The name to request it by, e.g. `llama3.2:latest`.
    #[serde(deserialize_with = "wire::null_default")]
    pub name: String,
    /// The model reference (usually equal to `name`).
    #[serde(deserialize_with = "wire::null_default")]
    pub model: String,
    /// When it was last pulled or changed (RFC 3339).
    pub modified_at: Option<String>,
    /// Its size on disk in bytes.
    #[serde(deserialize_with = "wire::null_default")]
    pub size: u64,
    /// Its content digest.
    #[serde(deserialize_with = "wire::null_default")]
    pub digest: String,
    /// Format, family, size and quantization.
    #[serde(deserialize_with = "wire::null_default")]
    pub details: ModelDetails,
}

/// What Ollama says about a model's build.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ModelDetails {
    /// The model it was derived from, if any.
    #[serde(deserialize_with = "wire::null_default")]
    pub parent_model: String,
    /// The weights' format, e.g. `gguf`.
    #[serde(deserialize_with = "wire::null_default")]
    pub format: String,
    /// The architecture family, e.g. `llama`, `qwen2`.
    #[serde(deserialize_with = "wire::null_default")]
    pub family: String,
    /// Every family it belongs to.
    #[serde(deserialize_with = "wire::null_default")]
    pub families: Vec<String>,
    /// The parameter count, e.g. `7.6B`.
    #[serde(deserialize_with = "wire::null_default")]
    pub parameter_size: String,
    /// The quantization, e.g. `Q4_K_M`.
    #[serde(deserialize_with = "wire::null_default")]
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
        Ok(OllamaProvider { config, ctx, api })
    }

    /// The configuration in effect.
    pub fn config(&self) -> &OllamaConfig {
        &self.config
    }

    /// The models installed on the server, with their details (`GET /api/tags`).
    pub async fn local_models(&self) -> Result<Vec<LocalModel>, Error> {
        let tags: wire::TagsResponse = self.get_json("tags").await?;
        Ok(tags.models)
    }

    fn err(&self, e: Error) -> Error {
        e.with_instance(self.ctx.instance.clone())
    }

    fn timeout(&self) -> Duration {
        self.config.timeout(self.ctx.request_timeout)
    }

    fn request(
        &self,
        method: reqwest::Method,
        path: &str,
    ) -> Result<reqwest::RequestBuilder, Error> {
        let url = self
            .api
            .join(path)
            .map_err(|e| Error::config(format!("cannot build the URL for `{path}`: {e}")))?;
        let mut builder = self.ctx.http.request(method, url);
        if let Some(key) = &self.config.api_key {
            builder = builder.bearer_auth(key.expose());
        }
        Ok(builder)
    }

    fn post_json<T: Serialize>(
        &self,
        path: &str,
        body: &T,
    ) -> Result<reqwest::RequestBuilder, Error> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| Error::invalid_request(format!("cannot serialize the request: {e}")))?;
        Ok(self
            .request(reqwest::Method::POST, path)?
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(bytes))
    }

    /// Runs `fut` until `deadline`, or until the instance is shut down.
    async fn bounded<T>(
        &self,
        deadline: Instant,
        fut: impl Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        self.ctx
            .bounded(deadline, "Ollama", self.timeout(), fut)
            .await
    }

    /// Sends a request; a non-2xx answer becomes an error.
    async fn send(
        &self,
        builder: reqwest::RequestBuilder,
        deadline: Instant,
    ) -> Result<UpstreamResponse, Error> {
        self.ctx
            .send(
                builder,
                deadline,
                "Ollama",
                self.timeout(),
                |status, retry_after, body| {
                    error::error_from_response(
                        status,
                        retry_after,
                        body,
                        self.config.api_key.as_ref(),
                    )
                },
            )
            .await
    }

    async fn get_json<T: for<'de> Deserialize<'de>>(&self, path: &str) -> Result<T, Error> {
        let deadline = Instant::now() + self.timeout();
        let builder = self
            .request(reqwest::Method::GET, path)
            .map_err(|e| self.err(e))?;
        self.fetch_json(builder, deadline, path).await
    }

    async fn fetch_json<T: for<'de> Deserialize<'de>>(
        &self,
        builder: reqwest::RequestBuilder,
        deadline: Instant,
        what: &str,
    ) -> Result<T, Error> {
        let result = async {
            let response = self.send(builder, deadline).await?;
            let body = self
                .bounded(deadline, switchboard_core::read_upstream_body(response))
                .await?;
            parse_json(&body, what)
        }
        .await;
        result.map_err(|e| self.err(e))
    }

    async fn show(&self, model: &str) -> Result<wire::ShowResponse, Error> {
        let deadline = Instant::now() + self.timeout();
        let builder = self
            .post_json("show", &wire::ShowRequest { model })
            .map_err(|e| self.err(e))?;
        self.fetch_json(builder, deadline, "show").await
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
            provider: self.ctx.instance.to_string(),
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

    fn chat_body(&self, request: &ChatRequest, stream: bool) -> Result<Vec<u8>, Error> {
        request.validate()?;
        let wire = convert::chat_request(request, &self.config, stream)?;
        serde_json::to_vec(&wire)
            .map_err(|e| Error::invalid_request(format!("cannot serialize the request: {e}")))
    }
}

fn parse_json<T: for<'de> Deserialize<'de>>(body: &[u8], what: &str) -> Result<T, Error> {
    serde_json::from_slice(body).map_err(|e| {
        Error::protocol(format!("Ollama's `{what}` answer could not be read: {e}")).with_source(e)
    })
}

/// Reads a chat answer that came as NDJSON although `stream: false` was sent
/// (a proxy that forces streaming): the lines are folded into one response.
fn fold_ndjson(body: &[u8], instance: &str, model: &str) -> Result<ChatResponse, Error> {
    let mut lines = stream::NdjsonDecoder::default();
    let mut decoder = stream::ChatDecoder::new();
    let mut acc = ResponseAccumulator::new();
    let mut out = Vec::new();
    lines.push(body);
    lines.push(b"\n");
    while let Some(line) = lines.next_line()? {
        decoder.push_line(&line, &mut out)?;
        for e in out.drain(..) {
            acc.push(&e);
        }
        if decoder.is_done() {
            break;
        }
    }
    decoder.finish()?;
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
        let body = self.chat_body(request, false).map_err(|e| self.err(e))?;
        let deadline = Instant::now() + self.timeout();
        let result = async {
            let builder = self
                .request(reqwest::Method::POST, "chat")?
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body);
            let response = self.send(builder, deadline).await?;
            let bytes = self
                .bounded(deadline, switchboard_core::read_upstream_body(response))
                .await?;
            let mut chunk: wire::ChatChunk = match serde_json::from_slice(&bytes) {
                Ok(chunk) => chunk,
                Err(e) if bytes.iter().filter(|&&b| b == b'\n').count() > 1 => {
                    return fold_ndjson(&bytes, &self.ctx.instance, &request.model).map_err(|_| {
                        Error::protocol(format!("Ollama's chat answer could not be read: {e}"))
                    });
                }
                Err(e) => {
                    return Err(Error::protocol(format!(
                        "Ollama's chat answer could not be read: {e}"
                    ))
                    .with_source(e));
                }
            };
            if let Some(error) = chunk.error.take().filter(|e| !e.is_null()) {
                return Err(error::error_from_stream_line(&error, chunk.status));
            }
            let mut response = convert::response(chunk, &self.ctx.instance);
            if response.model.is_empty() {
                response.model.clone_from(&request.model);
            }
            Ok(response)
        }
        .await;
        result.map_err(|e| self.err(e))
    }

    async fn chat_stream(&self, request: &ChatRequest) -> Result<ChatStream, Error> {
        let body = self.chat_body(request, true).map_err(|e| self.err(e))?;
        let deadline = Instant::now() + self.timeout();
        let builder = self
            .request(reqwest::Method::POST, "chat")
            .map_err(|e| self.err(e))?
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        let response = self
            .send(builder, deadline)
            .await
            .map_err(|e| self.err(e))?;
        let state = StreamState {
            body: Some(response.into_stream()),
            lines: stream::NdjsonDecoder::default(),
            decoder: stream::ChatDecoder::new(),
            model: request.model.clone(),
            pending: VecDeque::new(),
            scratch: Vec::new(),
            idle: self.timeout(),
            ctx: self.ctx.clone(),
            finished: false,
        };
        Ok(Box::pin(futures::stream::unfold(
            state,
            |mut st| async move {
                let item = st.next_item().await?;
                Some((item, st))
            },
        )))
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
        request.validate().map_err(|e| self.err(e))?;
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
                    return Err(self.err(Error::invalid_param(
                        format!("extra.{k}"),
                        format!("`{k}` has its own request field; set it there, not in `extra`"),
                    )));
                }
                ("options", serde_json::Value::Object(map)) => {
                    body.options
                        .extend(map.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
                ("options", _) => {
                    return Err(self.err(Error::invalid_param(
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
        let deadline = Instant::now() + self.timeout();
        let builder = self.post_json("embed", &body).map_err(|e| self.err(e))?;
        let answer: wire::EmbedResponse = self.fetch_json(builder, deadline, "embed").await?;
        if answer.embeddings.len() != request.input.len() {
            return Err(self.err(Error::protocol(format!(
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
            provider: self.ctx.instance.to_string(),
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
        let v: Version = self.get_json("version").await?;
        Ok(HealthReport {
            latency: start.elapsed(),
            detail: (!v.version.is_empty()).then(|| format!("Ollama {}", v.version)),
        })
    }
}

type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, Error>> + Send>>;

/// The state of a chat stream. Dropping it drops the response body, which
/// closes the connection.
struct StreamState {
    body: Option<ByteStream>,
    lines: stream::NdjsonDecoder,
    decoder: stream::ChatDecoder,
    /// The requested model, for a `Start` whose chunk names none.
    model: String,
    pending: VecDeque<ChatEvent>,
    scratch: Vec<ChatEvent>,
    /// The longest wait for the next piece of the body.
    idle: Duration,
    ctx: ProviderContext,
    finished: bool,
}

impl StreamState {
    fn fail(&mut self, e: Error) -> Option<Result<ChatEvent, Error>> {
        self.finished = true;
        self.body = None;
        self.pending.clear();
        self.lines.clear();
        Some(Err(e.with_instance(self.ctx.instance.clone())))
    }

    fn take_scratch(&mut self) {
        for mut event in self.scratch.drain(..) {
            if let ChatEvent::Start { model, .. } = &mut event
                && model.is_empty()
            {
                model.clone_from(&self.model);
            }
            self.pending.push_back(event);
        }
    }

    async fn next_item(&mut self) -> Option<Result<ChatEvent, Error>> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(Ok(event));
            }
            if self.finished {
                return None;
            }
            match self.lines.next_line() {
                Err(e) => return self.fail(e),
                Ok(Some(line)) => {
                    let result = self.decoder.push_line(&line, &mut self.scratch);
                    self.take_scratch();
                    if let Err(e) = result {
                        return self.fail(e);
                    }
                    if self.decoder.is_done() {
                        // The answer is complete: stop reading and let the
                        // connection go.
                        self.finished = true;
                        self.body = None;
                        self.lines.clear();
                    }
                    continue;
                }
                Ok(None) => {}
            }
            let Some(body) = self.body.as_mut() else {
                return self.fail(Error::protocol(
                    "the stream ended before the answer finished",
                ));
            };
            let next = tokio::select! {
                r = tokio::time::timeout(self.idle, body.next()) => r,
                () = self.ctx.cancel.cancelled() => {
                    return self.fail(Error::cancelled("the provider was shut down"));
                }
            };
            match next {
                Err(_) => {
                    let secs = self.idle.as_secs_f64();
                    return self.fail(Error::timeout(format!(
                        "Ollama sent nothing for {secs}s in the middle of a stream"
                    )));
                }
                Ok(Some(Ok(bytes))) => self.lines.push(&bytes),
                Ok(Some(Err(e))) => return self.fail(e),
                Ok(None) => {
                    self.body = None;
                    if let Err(e) = self.lines.finish() {
                        return self.fail(e);
                    }
                    if let Err(e) = self.decoder.finish() {
                        return self.fail(e);
                    }
                    self.finished = true;
                }
            }
        }
    }
}
