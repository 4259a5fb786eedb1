#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

mod config;
mod convert;
mod error;
pub mod schema;
mod stream;
mod wire;

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use serde::Deserialize;
use switchboard_core::http::UpstreamResponse;
use switchboard_core::{
    Capabilities, ChatEvent, ChatRequest, ChatResponse, ChatStream, EmbeddingsRequest,
    EmbeddingsResponse, Error, HealthReport, ModelInfo, Provider, ProviderContext, ProviderInit,
    Usage, async_trait, provider,
};
use switchboard_protocol::sse::SseDecoder;
use tokio::time::Instant;

pub use crate::config::{DEFAULT_API_VERSION, DEFAULT_BASE_URL, GeminiConfig, SafetySetting};
pub use crate::convert::{ORIGIN, SKIP_THOUGHT_SIGNATURE};
pub use crate::schema::sanitize_schema;

/// The provider's name: the `kind` of `[providers.<instance>]`.
pub const PROVIDER_NAME: &str = "gemini";

/// Google's Gemini models through the Gemini API (`generateContent`,
/// `streamGenerateContent`, `batchEmbedContents`).
#[provider(name = "gemini", display_name = "Google Gemini", config = GeminiConfig,
           capabilities(streaming, tools, vision, embeddings, json_schema, reasoning))]
#[derive(Debug)]
pub struct GeminiProvider {
    config: GeminiConfig,
    ctx: ProviderContext,
    /// `<base_url>/<api_version>`.
    root: String,
}

/// The most pages `models()` follows.
const MAX_MODEL_PAGES: usize = 50;

impl GeminiProvider {
    /// A provider for the instance in `ctx`, with `config` checked first.
    pub fn new(config: GeminiConfig, ctx: ProviderContext) -> Result<Self, Error> {
        config
            .validate()
            .map_err(|e| e.with_instance(ctx.instance.clone()))?;
        let root = config
            .api_root()
            .map_err(|e| e.with_instance(ctx.instance.clone()))?;
        Ok(GeminiProvider { config, ctx, root })
    }

    /// The configuration in effect.
    pub fn config(&self) -> &GeminiConfig {
        &self.config
    }

    fn err(&self, e: Error) -> Error {
        e.with_instance(self.ctx.instance.clone())
    }

    fn timeout(&self) -> Duration {
        self.config.timeout(self.ctx.request_timeout)
    }

    /// `<root>/models/<model>:<method>`.
    fn model_url(&self, model: &str, method: &str) -> Result<String, Error> {
        Ok(format!("{}/{}:{method}", self.root, model_path(model)?))
    }

    fn request(&self, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
        // The key goes in a header, never in the URL, so that it cannot leak
        // through URLs in logs or transport errors.
        self.ctx
            .http
            .request(method, url)
            .header("x-goog-api-key", self.config.api_key.expose())
    }

    fn post_json(&self, url: &str, body: Vec<u8>) -> reqwest::RequestBuilder {
        self.request(reqwest::Method::POST, url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
    }

    /// Runs `fut` until `deadline`, or until the instance is shut down.
    async fn bounded<T>(
        &self,
        deadline: Instant,
        fut: impl Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        self.ctx
            .bounded(deadline, "Gemini", self.timeout(), fut)
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
                "Gemini",
                self.timeout(),
                |status, retry_after, body| {
                    error::error_from_response(status, retry_after, body, &self.config.api_key)
                },
            )
            .await
    }

    async fn fetch_json<T: for<'de> Deserialize<'de>>(
        &self,
        builder: reqwest::RequestBuilder,
        what: &str,
    ) -> Result<T, Error> {
        let deadline = Instant::now() + self.timeout();
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

    fn chat_body(&self, request: &ChatRequest) -> Result<Vec<u8>, Error> {
        request.validate()?;
        let wire = convert::generate_request(request, &self.config)?;
        serde_json::to_vec(&wire)
            .map_err(|e| Error::invalid_request(format!("cannot serialize the request: {e}")))
    }

    async fn model_page(
        &self,
        token: Option<&str>,
        page_size: u32,
    ) -> Result<wire::ModelList, Error> {
        let mut url = format!("{}/models?pageSize={page_size}", self.root);
        if let Some(token) = token {
            url.push_str("&pageToken=");
            url.push_str(&percent_encode(token));
        }
        self.fetch_json(self.request(reqwest::Method::GET, &url), "models")
            .await
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

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn parse_json<T: for<'de> Deserialize<'de>>(body: &[u8], what: &str) -> Result<T, Error> {
    serde_json::from_slice(body).map_err(|e| {
        Error::protocol(format!("Gemini's `{what}` answer could not be read: {e}")).with_source(e)
    })
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
        let result = async {
            let body = self.chat_body(request)?;
            let url = self.model_url(&request.model, "generateContent")?;
            let answer: wire::GenerateContentResponse = {
                let deadline = Instant::now() + self.timeout();
                let response = self.send(self.post_json(&url, body), deadline).await?;
                let bytes = self
                    .bounded(deadline, switchboard_core::read_upstream_body(response))
                    .await?;
                parse_json(&bytes, "generateContent")?
            };
            convert::response(answer, &request.model, &self.ctx.instance)
        }
        .await;
        result.map_err(|e| self.err(e))
    }

    async fn chat_stream(&self, request: &ChatRequest) -> Result<ChatStream, Error> {
        let response = async {
            let body = self.chat_body(request)?;
            let url = format!(
                "{}?alt=sse",
                self.model_url(&request.model, "streamGenerateContent")?
            );
            let deadline = Instant::now() + self.timeout();
            self.send(self.post_json(&url, body), deadline).await
        }
        .await
        .map_err(|e| self.err(e))?;
        let state = StreamState {
            body: Some(response.into_stream()),
            sse: SseDecoder::new(),
            decoder: stream::StreamDecoder::new(&request.model),
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
        let result = async {
            request.validate()?;
            for key in ["model", "content", "outputDimensionality"] {
                if request.extra.contains_key(key) {
                    return Err(Error::invalid_param(
                        format!("extra.{key}"),
                        format!("`{key}` is set from the request; it cannot be given in `extra`"),
                    ));
                }
            }
            let path = model_path(&request.model)?;
            let url = format!("{}/{path}:batchEmbedContents", self.root);
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
            let body = serde_json::to_vec(&body).map_err(|e| {
                Error::invalid_request(format!("cannot serialize the request: {e}"))
            })?;
            Ok(self.post_json(&url, body))
        }
        .await
        .map_err(|e| self.err(e))?;
        let answer: wire::BatchEmbedResponse =
            self.fetch_json(result, "batchEmbedContents").await?;
        if answer.embeddings.len() != request.input.len() {
            return Err(self.err(Error::protocol(format!(
                "Gemini returned {} embeddings for {} inputs",
                answer.embeddings.len(),
                request.input.len()
            ))));
        }
        Ok(EmbeddingsResponse {
            model: request.model.clone(),
            provider: self.ctx.instance.to_string(),
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
            provider: self.ctx.instance.to_string(),
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

type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, Error>> + Send>>;

/// The state of a chat stream. Dropping it drops the response body, which
/// closes the connection.
struct StreamState {
    body: Option<ByteStream>,
    sse: SseDecoder,
    decoder: stream::StreamDecoder,
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
        Some(Err(e.with_instance(self.ctx.instance.clone())))
    }

    async fn next_item(&mut self) -> Option<Result<ChatEvent, Error>> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(Ok(event));
            }
            if self.finished {
                return None;
            }
            match self.sse.next_event() {
                Err(e) => return self.fail(e),
                Ok(Some(event)) => {
                    let result = self.decoder.push_event(&event, &mut self.scratch);
                    self.pending.extend(self.scratch.drain(..));
                    if let Err(e) = result {
                        return self.fail(e);
                    }
                    continue;
                }
                Ok(None) => {}
            }
            let Some(body) = self.body.as_mut() else {
                // The body ended: drain what the decoder still holds, then finish.
                let mut events = Vec::new();
                for event in self.sse.finish() {
                    match event {
                        Ok(event) => events.push(event),
                        Err(e) => return self.fail(e),
                    }
                }
                for event in &events {
                    let result = self.decoder.push_event(event, &mut self.scratch);
                    self.pending.extend(self.scratch.drain(..));
                    if let Err(e) = result {
                        return self.fail(e);
                    }
                }
                let result = self.decoder.finish(&mut self.scratch);
                self.pending.extend(self.scratch.drain(..));
                if let Err(e) = result {
                    return self.fail(e);
                }
                self.finished = true;
                continue;
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
                        "Gemini sent nothing for {secs}s in the middle of a stream"
                    )));
                }
                Ok(Some(Ok(bytes))) => self.sse.push(&bytes),
                Ok(Some(Err(e))) => return self.fail(e),
                Ok(None) => self.body = None,
            }
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
        assert_eq!(percent_encode("a b/c=="), "a%20b%2Fc%3D%3D");
    }
}
