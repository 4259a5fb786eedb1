#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

pub mod config;
pub mod credentials;
mod error;
pub mod framing;
pub mod request;
pub mod response;
pub mod sign;
pub mod stream;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{Method, Request};
use switchboard_core::upstream::{self, Upstream};
use switchboard_core::{
    Capabilities, ChatRequest, ChatResponse, ChatStream, Error, ModelInfo, Provider,
    ProviderContext, ProviderInit, async_trait, provider, response_to_events,
};
use switchboard_protocol::decoded::DecodedStream;

pub use crate::config::BedrockConfig;
use crate::credentials::{Auth, EnvLookup, Resolved, process_env};
use crate::framing::EventStreamFraming;
use crate::request::RequestOptions;
use crate::sign::Signer;
use crate::stream::ConverseDecoder;

/// The provider's name: the `kind` of `[providers.<instance>]`.
pub const PROVIDER_NAME: &str = "bedrock";

/// The models [`Provider::models`] lists when the config names none: a few
/// current Converse models and inference profiles (Bedrock Runtime has no
/// model list; any model id, inference profile id or ARN can be requested).
pub const DEFAULT_MODELS: &[&str] = &[
    "us.anthropic.claude-sonnet-4-20250514-v1:0",
    "anthropic.claude-3-7-sonnet-20250219-v1:0",
    "anthropic.claude-3-5-haiku-20241022-v1:0",
    "amazon.nova-pro-v1:0",
    "amazon.nova-lite-v1:0",
];

/// The endpoint of `region`: `https://bedrock-runtime.<region>.amazonaws.com`.
pub fn endpoint(region: &str) -> String {
    format!("https://bedrock-runtime.{region}.amazonaws.com")
}

/// Amazon Bedrock Runtime's Converse and ConverseStream APIs: any Bedrock
/// chat model or inference profile, signed with SigV4 (or a Bedrock API
/// key), with tools, images, JSON-schema output and Claude's extended thinking.
#[provider(name = "bedrock", display_name = "Amazon Bedrock", config = BedrockConfig,
           capabilities(streaming, tools, vision, json_schema, reasoning))]
#[derive(Debug)]
pub struct BedrockProvider {
    config: BedrockConfig,
    /// The way to the service (bounds calls, classifies and scrubs errors).
    upstream: Upstream,
    /// Signs each request; `None` with a bearer API key.
    signer: Option<Signer>,
    options: RequestOptions,
    /// Where the credentials came from (never their value).
    source: String,
}

impl BedrockProvider {
    /// A provider for the instance in `ctx`: `config` checked, then the
    /// credentials resolved from it, the process environment or the shared
    /// credentials file.
    pub async fn new(config: BedrockConfig, ctx: ProviderContext) -> Result<Self, Error> {
        Self::with_env(config, ctx, &process_env).await
    }

    /// [`new`](Self::new) reading environment variables through `env`.
    pub async fn with_env(
        config: BedrockConfig,
        ctx: ProviderContext,
        env: EnvLookup<'_>,
    ) -> Result<Self, Error> {
        let instance = ctx.instance.clone();
        config
            .validate()
            .map_err(|e| e.with_instance(instance.clone()))?;
        let resolved = credentials::resolve(&config, env)
            .await
            .map_err(|e| e.with_instance(instance))?;
        Self::build(config, ctx, resolved)
    }

    fn build(
        config: BedrockConfig,
        ctx: ProviderContext,
        resolved: Resolved,
    ) -> Result<Self, Error> {
        let base = config
            .base_url
            .clone()
            .unwrap_or_else(|| endpoint(&resolved.region));
        let mut builder = Upstream::builder(&ctx, &base)
            .timeout(config.timeout(ctx.request_timeout))
            .classify(error::classify)
            .request_id_header("x-amzn-requestid");
        let signer = match &resolved.auth {
            Auth::Bearer(key) => {
                builder = builder.bearer(key);
                None
            }
            Auth::SigV4(creds) => {
                // Sent (and signed) with every request; registered here so
                // that it is scrubbed from errors.
                if let Some(token) = &creds.session_token {
                    builder = builder.header("x-amz-security-token", token.expose());
                }
                Some(Signer::new(creds, &resolved.region))
            }
        };
        Ok(BedrockProvider {
            upstream: builder.build()?,
            signer,
            options: RequestOptions {
                drop_unsupported: config.drop_unsupported_params,
                cache_points: config.prompt_caching,
            },
            source: resolved.source,
            config,
        })
    }

    /// The configuration in effect.
    pub fn config(&self) -> &BedrockConfig {
        &self.config
    }

    /// Where the credentials came from, e.g. `env AWS_ACCESS_KEY_ID` or
    /// `profile `default` of /home/me/.aws/credentials` (never a value).
    pub fn credentials_source(&self) -> &str {
        &self.source
    }

    /// The signed (or bearer-authenticated) `POST` of `body` to the model's
    /// `converse` or `converse-stream` operation.
    fn http_request(
        &self,
        model: &str,
        operation: &str,
        body: Bytes,
    ) -> Result<Request<Bytes>, Error> {
        // Model ids, inference profiles and ARNs go in the path as one
        // segment: `:` and `/` percent-encoded.
        let path = format!("model/{}/{operation}", upstream::percent_encode(model));
        let mut http = self.upstream.request(Method::POST, &path, body)?;
        if let Some(signer) = &self.signer {
            signer
                .sign(&mut http, SystemTime::now())
                .map_err(|e| self.upstream.error(e))?;
        }
        Ok(http)
    }

    fn body(&self, request: &ChatRequest) -> Result<Bytes, Error> {
        let wire =
            request::to_converse(request, self.options).map_err(|e| self.upstream.error(e))?;
        self.upstream.encode(&wire)
    }

    fn finish_response(&self, mut response: ChatResponse) -> ChatResponse {
        response.provider = self.upstream.instance().to_string();
        response.created = unix_now();
        response
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// An answer id when the upstream sent no request id.
fn new_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("bedrock-{nanos:x}-{n}")
}

#[async_trait]
impl ProviderInit for BedrockProvider {
    type Config = BedrockConfig;

    fn validate(config: &BedrockConfig) -> Result<(), Error> {
        config.validate()
    }

    async fn init(config: BedrockConfig, ctx: ProviderContext) -> Result<Self, Error> {
        Self::new(config, ctx).await
    }
}

#[async_trait]
impl Provider for BedrockProvider {
    // The request is already validated by the gateway.
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, Error> {
        let http = self.http_request(&request.model, "converse", self.body(request)?)?;
        let reply = self.upstream.fetch(http).await?;
        let id = reply.request_id.clone().unwrap_or_else(new_id);
        let response = reply.decode(|b| response::parse_converse(b, &id, &request.model))?;
        Ok(self.finish_response(response))
    }

    async fn chat_stream(&self, request: &ChatRequest) -> Result<ChatStream, Error> {
        let http = self.http_request(&request.model, "converse-stream", self.body(request)?)?;
        let reply = self.upstream.open(http).await?;
        let id = reply.request_id.clone().unwrap_or_else(new_id);
        let json = reply
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.trim_start().starts_with("application/json"));
        if json {
            // A proxy answered the stream with a whole Converse answer: replay it.
            let reply = reply.into_reply().await?;
            let response = reply.decode(|b| response::parse_converse(b, &id, &request.model))?;
            let events = response_to_events(&self.finish_response(response));
            return Ok(Box::pin(futures::stream::iter(events.into_iter().map(Ok))));
        }
        let decoder = ConverseDecoder::new(id, request.model.clone());
        Ok(reply.events(move |body| {
            DecodedStream::with_framing(body, EventStreamFraming::default(), decoder)
        }))
    }

    async fn models(&self) -> Result<Vec<ModelInfo>, Error> {
        let ids: Vec<String> = if self.config.models.is_empty() {
            DEFAULT_MODELS.iter().map(|m| (*m).to_owned()).collect()
        } else {
            self.config.models.clone()
        };
        Ok(ids
            .into_iter()
            .map(|id| ModelInfo {
                id,
                provider: self.upstream.instance().to_string(),
                capabilities: Capabilities {
                    streaming: true,
                    tools: true,
                    vision: true,
                    json_schema: true,
                    reasoning: true,
                    ..Capabilities::default()
                },
                ..ModelInfo::default()
            })
            .collect())
    }
}
