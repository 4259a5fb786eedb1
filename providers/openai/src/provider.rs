//! The `openai` provider.

use switchboard_core::{
    ChatRequest, ChatResponse, ChatStream, EmbeddingsRequest, EmbeddingsResponse, Error, ModelInfo,
    Provider, ProviderContext, ProviderInit, async_trait, provider,
};
use switchboard_protocol::openai::types::ChatCompletionRequest;
use switchboard_protocol::openai::{RequestOptions, to_wire_embeddings_request, to_wire_request};

use crate::client::{Auth, ChatCompletionsClient, ClientOptions};
use crate::config::OpenAiConfig;

/// OpenAI's hosted models through the Chat Completions API: streaming, tools,
/// vision, structured output, reasoning models, embeddings.
#[provider(name = "openai", display_name = "OpenAI", config = OpenAiConfig,
           capabilities(streaming, tools, vision, embeddings, json_schema, reasoning))]
#[derive(Debug)]
pub struct OpenAi {
    config: OpenAiConfig,
    client: ChatCompletionsClient,
}

impl OpenAi {
    /// Builds the provider for the instance in `ctx`; the config is checked first.
    pub fn new(config: OpenAiConfig, ctx: &ProviderContext) -> Result<Self, Error> {
        config
            .validate()
            .map_err(|e| e.with_instance(ctx.instance.clone()))?;
        let mut headers: Vec<(String, String)> = Vec::new();
        if let Some(org) = &config.organization {
            headers.push(("OpenAI-Organization".into(), org.clone()));
        }
        if let Some(project) = &config.project {
            headers.push(("OpenAI-Project".into(), project.clone()));
        }
        headers.extend(config.headers.iter().map(|(k, v)| (k.clone(), v.clone())));
        let options = ClientOptions {
            base_url: config.base_url.clone(),
            auth: Auth::Bearer(config.api_key.clone()),
            headers,
            timeout: config.timeout(),
            // OpenAI sends the usage chunk only when asked.
            include_usage: true,
        };
        let client = ChatCompletionsClient::new(options, ctx)?;
        Ok(OpenAi { config, client })
    }

    /// The configuration in effect.
    pub fn config(&self) -> &OpenAiConfig {
        &self.config
    }

    /// The HTTP client (for requests this provider has no method for).
    pub fn client(&self) -> &ChatCompletionsClient {
        &self.client
    }

    /// The wire request for `request`: checked, with the token limit in the
    /// field the model needs.
    pub fn wire_request<'a>(
        &self,
        request: &'a ChatRequest,
    ) -> Result<ChatCompletionRequest<'a>, Error> {
        request.validate().map_err(|e| self.client.error(e))?;
        let mut options = RequestOptions::default();
        if self.config.uses_max_completion_tokens(&request.model) {
            options = options.max_completion_tokens();
        }
        to_wire_request(request, &options).map_err(|e| self.client.error(e))
    }
}

#[async_trait]
impl ProviderInit for OpenAi {
    type Config = OpenAiConfig;

    fn validate(config: &OpenAiConfig) -> Result<(), Error> {
        config.validate()
    }

    async fn init(config: OpenAiConfig, ctx: ProviderContext) -> Result<Self, Error> {
        Self::new(config, &ctx)
    }
}

#[async_trait]
impl Provider for OpenAi {
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, Error> {
        let wire = self.wire_request(request)?;
        self.client.chat(&wire).await
    }

    async fn chat_stream(&self, request: &ChatRequest) -> Result<ChatStream, Error> {
        let wire = self.wire_request(request)?;
        self.client.chat_stream(wire).await
    }

    async fn models(&self) -> Result<Vec<ModelInfo>, Error> {
        self.client.models().await
    }

    async fn embed(&self, request: &EmbeddingsRequest) -> Result<EmbeddingsResponse, Error> {
        request.validate().map_err(|e| self.client.error(e))?;
        let wire = to_wire_embeddings_request(request).map_err(|e| self.client.error(e))?;
        self.client.embed(&wire).await
    }
}
