//! The preset table: what each known OpenAI-compatible service does
//! differently, with the source of every entry.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use switchboard_protocol::openai::MaxTokensField;

/// How the API key is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthStyle {
    /// `Authorization: Bearer <key>`.
    Bearer,
    /// The key as the whole value of the header named by `auth_header`.
    Header,
    /// No credentials are sent.
    None,
}

/// What happens to a `developer` message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeveloperRole {
    /// Sent as `developer`.
    Keep,
    /// Sent as `system` (for services that only know `system`).
    System,
}

/// A known OpenAI-compatible service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PresetName {
    /// Groq.
    Groq,
    /// Together AI.
    Together,
    /// OpenRouter.
    Openrouter,
    /// DeepInfra.
    Deepinfra,
    /// Mistral AI.
    Mistral,
    /// DeepSeek.
    Deepseek,
    /// A local vLLM server.
    Vllm,
    /// A local llama.cpp server (`llama-server`).
    Llamacpp,
    /// A local LM Studio server.
    Lmstudio,
    /// xAI (Grok).
    Xai,
    /// Fireworks AI.
    Fireworks,
    /// Cerebras Inference.
    Cerebras,
    /// Perplexity (Sonar).
    Perplexity,
    /// Nebius Token Factory (formerly AI Studio).
    Nebius,
    /// SambaNova Cloud.
    Sambanova,
    /// The Hugging Face Inference Providers router.
    Huggingface,
    /// Azure AI Foundry's OpenAI-compatible v1 endpoint (`base_url` required).
    #[serde(rename = "azure-foundry")]
    AzureFoundry,
}

impl PresetName {
    /// The preset's table entry.
    pub fn preset(self) -> &'static Preset {
        PRESETS
            .iter()
            .find(|p| p.name == self)
            .unwrap_or(&PRESETS[0])
    }
}

/// One row of the preset table. Every field can be overridden by the
/// instance's config.
#[derive(Debug, Clone, Copy)]
pub struct Preset {
    /// Which service.
    pub name: PresetName,
    /// Its human-friendly name.
    pub display_name: &'static str,
    /// The API root.
    pub base_url: &'static str,
    /// How the key is sent.
    pub auth: AuthStyle,
    /// Whether a key is required (local servers run without one).
    pub key_required: bool,
    /// Request parameters the service rejects or ignores, in the syntax of
    /// the `unsupported` config key: a top-level field (`logprobs`), a
    /// message field (`messages[].name`), a response format type
    /// (`response_format=json_object`), or `n>1`.
    pub unsupported: &'static [&'static str],
    /// Fields sent under another name: `(openai_name, service_name)`.
    pub renames: &'static [(&'static str, &'static str)],
    /// What happens to `developer` messages.
    pub developer_role: DeveloperRole,
    /// The field for `max_tokens`.
    pub max_tokens_field: MaxTokensField,
    /// Whether to send `stream_options.include_usage: true` with streams.
    pub include_usage: bool,
    /// Whether assistant reasoning is sent back as `reasoning_content`.
    pub send_reasoning_content: bool,
    /// Whether `GET /models` exists.
    pub models_endpoint: bool,
    /// Whether `POST /embeddings` exists.
    pub embeddings: bool,
    /// What `models()` lists when the service has no `GET /models` and the
    /// config names none.
    pub default_models: &'static [&'static str],
    /// Where each entry comes from.
    pub sources: &'static [&'static str],
}

/// The defaults of a custom endpoint (no preset): plain OpenAI behaviour.
pub const CUSTOM: Preset = Preset {
    name: PresetName::Vllm,
    display_name: "custom",
    base_url: "",
    auth: AuthStyle::Bearer,
    key_required: false,
    unsupported: &[],
    renames: &[],
    developer_role: DeveloperRole::Keep,
    max_tokens_field: MaxTokensField::MaxTokens,
    include_usage: true,
    send_reasoning_content: false,
    models_endpoint: true,
    embeddings: true,
    default_models: &[],
    sources: &[],
};

/// Every preset, in the order of [`PresetName`].
pub const PRESETS: &[Preset] = &[
    Preset {
        name: PresetName::Groq,
        display_name: "Groq",
        base_url: "https://api.groq.com/openai/v1",
        auth: AuthStyle::Bearer,
        key_required: true,
        // "The following fields are currently not supported and will result
        // in a 400 error (yikes) if they are supplied: logprobs, logit_bias,
        // top_logprobs, messages[].name; If N is supplied, it must be equal to 1."
        // Re-read: the same list. `max_tokens` is still taken (deprecated for
        // `max_completion_tokens` in groq-python, not refused); a temperature
        // of 0 becomes 1e-8 upstream.
        unsupported: &[
            "logprobs",
            "logit_bias",
            "top_logprobs",
            "messages[].name",
            "n>1",
        ],
        renames: &[],
        developer_role: DeveloperRole::Keep,
        max_tokens_field: MaxTokensField::MaxTokens,
        // Usage also arrives in the final chunk's `x_groq.usage` (groq-python
        // `ChatCompletionChunk.x_groq`), which the protocol decoder reads.
        include_usage: true,
        send_reasoning_content: false,
        models_endpoint: true,
        embeddings: false,
        default_models: &[],
        sources: &[
            "https://console.groq.com/docs/openai (Currently Unsupported OpenAI Features; Temperature)",
            "groq/groq-python src/groq/types/chat/chat_completion_chunk.py @ 2f14acf6 (x_groq.usage)",
            "groq/groq-python#175 (max_completion_tokens added beside max_tokens)",
        ],
    },
    Preset {
        name: PresetName::Together,
        display_name: "Together AI",
        // The compatibility page's base URL; `api.together.xyz/v1` (the
        // OpenAPI spec's `servers`) answers too. Chat, tools, vision and
        // `response_format` are listed as supported; model ids are
        // `<provider>/<model>`. No parameter is documented as refused.
        base_url: "https://api.together.ai/v1",
        auth: AuthStyle::Bearer,
        key_required: true,
        unsupported: &[],
        renames: &[],
        developer_role: DeveloperRole::Keep,
        max_tokens_field: MaxTokensField::MaxTokens,
        include_usage: true,
        send_reasoning_content: false,
        models_endpoint: true,
        embeddings: true,
        default_models: &[],
        sources: &[
            "https://docs.together.ai/docs/inference/openai-compatibility (base URL, endpoint compatibility matrix)",
            "togethercomputer/openapi openapi.yaml @ 6ed1b93e (servers: api.together.xyz/v1, Bearer)",
        ],
    },
    Preset {
        name: PresetName::Openrouter,
        display_name: "OpenRouter",
        base_url: "https://openrouter.ai/api/v1",
        auth: AuthStyle::Bearer,
        key_required: true,
        unsupported: &[],
        renames: &[],
        developer_role: DeveloperRole::Keep,
        max_tokens_field: MaxTokensField::MaxTokens,
        // "Usage is always included ... stream_options.include_usage is
        // deprecated and has no effect": not sent. Streams carry
        // `: OPENROUTER PROCESSING` comment lines (skipped by the SSE
        // decoder) and mid-stream errors as chunks with `error` (decoded as
        // errors). `HTTP-Referer` / `X-Title` attribution go in `headers`.
        include_usage: false,
        send_reasoning_content: false,
        models_endpoint: true,
        embeddings: false,
        default_models: &[],
        sources: &[
            "OpenRouterTeam/docs api_reference/streaming.mdx @ c26125a5 (SSE comments, mid-stream errors)",
            "OpenRouterTeam/docs cookbook/administration/usage-accounting.mdx @ c26125a5 (usage always included)",
            "https://openrouter.ai/docs/use-cases/usage-accounting (re-read: `stream_options: { include_usage: true }` deprecated, no effect)",
            "OpenRouterTeam/docs api_reference/errors-and-debugging.mdx @ c26125a5 (error codes)",
        ],
    },
    Preset {
        name: PresetName::Deepinfra,
        display_name: "DeepInfra",
        // Not `/v1`: DeepInfra serves the OpenAI API under `/v1/openai`.
        base_url: "https://api.deepinfra.com/v1/openai",
        auth: AuthStyle::Bearer,
        key_required: true,
        unsupported: &[],
        renames: &[],
        developer_role: DeveloperRole::Keep,
        max_tokens_field: MaxTokensField::MaxTokens,
        include_usage: true,
        send_reasoning_content: false,
        models_endpoint: true,
        // "We offer OpenAI compatible API for all recent LLM models and all Embeddings Models."
        embeddings: true,
        default_models: &[],
        sources: &["https://deepinfra.com/docs/advanced/openai_api (re-read: api_base /v1/openai)"],
    },
    Preset {
        name: PresetName::Mistral,
        display_name: "Mistral AI",
        base_url: "https://api.mistral.ai/v1",
        auth: AuthStyle::Bearer,
        key_required: true,
        // The chat.complete parameters are model, messages, temperature,
        // top_p, max_tokens, stream, stop, random_seed, metadata,
        // response_format, tools, tool_choice, presence_penalty,
        // frequency_penalty, n, prediction, parallel_tool_calls,
        // reasoning_effort, prompt_mode, guardrails, prompt_cache_key,
        // safe_prompt: OpenAI fields outside that list are unsupported,
        // `seed` is `random_seed`, and the message types are
        // system/user/assistant/tool (no `developer`). `metadata` and
        // `reasoning_effort` are taken now (the latter documents `none` and
        // `high`, an open enum; other efforts are Mistral's to refuse).
        unsupported: &[
            "max_completion_tokens",
            "logprobs",
            "top_logprobs",
            "logit_bias",
            "user",
            "stream_options",
        ],
        renames: &[("seed", "random_seed")],
        developer_role: DeveloperRole::System,
        max_tokens_field: MaxTokensField::MaxTokens,
        include_usage: false,
        send_reasoning_content: false,
        models_endpoint: true,
        embeddings: true,
        default_models: &[],
        sources: &[
            "mistralai/client-python docs/sdks/chat/README.md @ 02e327f9 (chat.complete parameters)",
            "mistralai/client-python docs/models/reasoningeffort.md @ 76c4aa3a (none, high)",
            "mistralai/client-python docs/models/chatcompletionrequestmessage.md @ c1d5e82d (message types)",
        ],
    },
    Preset {
        name: PresetName::Deepseek,
        display_name: "DeepSeek",
        base_url: "https://api.deepseek.com",
        auth: AuthStyle::Bearer,
        key_required: true,
        // Thinking mode (on by default) answers with `reasoning_content` and
        // ignores temperature and the penalties without an error
        // (thinking-mode guide); "Setting logprobs, top_logprobs will
        // trigger an error" (reasoning-model guide). After a tool call the
        // assistant's `reasoning_content` "must be fully passed back to the
        // API in all subsequent requests" (else a 400), so reasoning is sent
        // back. `reasoning_effort` (low/high/max) is taken as OpenAI's.
        unsupported: &["logprobs", "top_logprobs"],
        renames: &[],
        developer_role: DeveloperRole::Keep,
        max_tokens_field: MaxTokensField::MaxTokens,
        include_usage: true,
        send_reasoning_content: true,
        models_endpoint: true,
        embeddings: false,
        default_models: &[],
        sources: &[
            "https://api-docs.deepseek.com/guides/thinking_mode (re-read: ignored parameters, reasoning_content passed back after tool calls, reasoning_effort)",
            "https://api-docs.deepseek.com/guides/reasoning_model (logprobs, top_logprobs trigger an error)",
        ],
    },
    Preset {
        name: PresetName::Vllm,
        display_name: "vLLM",
        base_url: "http://localhost:8000/v1",
        // `--api-key` is optional; with it, a Bearer token.
        auth: AuthStyle::Bearer,
        key_required: false,
        unsupported: &[],
        renames: &[],
        developer_role: DeveloperRole::Keep,
        max_tokens_field: MaxTokensField::MaxTokens,
        // `StreamOptions.include_usage` exists (and an integer error `code`,
        // read by the protocol crate).
        include_usage: true,
        send_reasoning_content: false,
        models_endpoint: true,
        embeddings: true,
        default_models: &[],
        sources: &[
            "vllm-project/vllm vllm/entrypoints/openai/protocol.py @ 0052bed3 (StreamOptions, ErrorResponse)",
        ],
    },
    Preset {
        name: PresetName::Llamacpp,
        display_name: "llama.cpp server",
        base_url: "http://localhost:8080/v1",
        auth: AuthStyle::Bearer,
        key_required: false,
        unsupported: &[],
        renames: &[],
        developer_role: DeveloperRole::Keep,
        max_tokens_field: MaxTokensField::MaxTokens,
        // llama-server sends the usage chunk (`choices: []`) at the end of
        // every stream since ggml-org/llama.cpp#15444.
        include_usage: true,
        send_reasoning_content: false,
        models_endpoint: true,
        embeddings: true,
        default_models: &[],
        sources: &["ggml-org/llama.cpp#16048 (usage chunk always sent, with `timings`)"],
    },
    Preset {
        name: PresetName::Lmstudio,
        display_name: "LM Studio",
        base_url: "http://localhost:1234/v1",
        auth: AuthStyle::Bearer,
        key_required: false,
        // Structured output is JSON-schema only; `json_object` is not accepted
        // (third-party: claude-task-master src/ai-providers/lmstudio.js).
        unsupported: &["response_format=json_object"],
        renames: &[],
        developer_role: DeveloperRole::Keep,
        max_tokens_field: MaxTokensField::MaxTokens,
        include_usage: true,
        send_reasoning_content: false,
        models_endpoint: true,
        // `/v1/embeddings` is among the OpenAI-compatible endpoints.
        embeddings: true,
        default_models: &[],
        sources: &[
            "https://lmstudio.ai/docs/developer/openai-compat (endpoints, default port 1234; moved from /docs/api/openai-api)",
            "https://lmstudio.ai/docs/advanced/structured-output (JSON schema through /v1/chat/completions)",
            "eyaltoledano/claude-task-master src/ai-providers/lmstudio.js (json_schema only; third-party)",
        ],
    },
    Preset {
        name: PresetName::Xai,
        display_name: "xAI",
        base_url: "https://api.x.ai/v1",
        auth: AuthStyle::Bearer,
        key_required: true,
        // Chat Completions is xAI's legacy endpoint but takes the standard
        // parameters. Reasoning models reject `presence_penalty`,
        // `frequency_penalty` and `stop`; that depends on the model, so it
        // is not in the preset (add it with `unsupported` per instance).
        // "No reasoning content returned" on Chat Completions.
        unsupported: &[],
        renames: &[],
        developer_role: DeveloperRole::Keep,
        max_tokens_field: MaxTokensField::MaxTokens,
        include_usage: true,
        send_reasoning_content: false,
        models_endpoint: true,
        embeddings: false,
        default_models: &[],
        sources: &[
            "https://docs.x.ai/developers/model-capabilities/text/comparison.md (Chat Completions legacy, no reasoning content)",
            "https://www.developersdigest.tech/reference/api-compatibility/xai (base URL, Bearer $XAI_API_KEY; third-party)",
            "tetsuo-ai/grok-api-mcp src/data/chat-completions.md (reasoning models: no presencePenalty/frequencyPenalty/stop; third-party)",
        ],
    },
    Preset {
        name: PresetName::Fireworks,
        display_name: "Fireworks AI",
        // Not `/v1`: Fireworks serves the OpenAI API under `/inference/v1`.
        base_url: "https://api.fireworks.ai/inference/v1",
        auth: AuthStyle::Bearer,
        key_required: true,
        // Model ids are resource names (`accounts/fireworks/models/...`);
        // usage arrives in the final chunk of streams as well.
        unsupported: &[],
        renames: &[],
        developer_role: DeveloperRole::Keep,
        max_tokens_field: MaxTokensField::MaxTokens,
        include_usage: true,
        send_reasoning_content: false,
        models_endpoint: true,
        embeddings: true,
        default_models: &[],
        sources: &[
            "https://docs.fireworks.ai/tools-sdks/openai-compatibility",
            "https://www.developersdigest.tech/reference/api-compatibility/fireworks (base URL, streamed usage; third-party)",
        ],
    },
    Preset {
        name: PresetName::Cerebras,
        display_name: "Cerebras",
        base_url: "https://api.cerebras.ai/v1",
        auth: AuthStyle::Bearer,
        key_required: true,
        // "These fields will result in a 400 error: frequency_penalty,
        // logit_bias, presence_penalty, parallel_tool_calls, service_tier".
        // "Our implementation does not expose `developer` directly": system
        // messages act at the developer level, so `developer` is sent as
        // `system`.
        unsupported: &[
            "frequency_penalty",
            "logit_bias",
            "presence_penalty",
            "parallel_tool_calls",
            "service_tier",
        ],
        renames: &[],
        developer_role: DeveloperRole::System,
        max_tokens_field: MaxTokensField::MaxTokens,
        include_usage: true,
        send_reasoning_content: false,
        models_endpoint: true,
        embeddings: false,
        default_models: &[],
        sources: &[
            "https://inference-docs.cerebras.ai/resources/openai (base URL, no `developer` role)",
            "https://hexdocs.pm/req_llm/cerebras.html (Unsupported OpenAI Features, 400 errors; third-party)",
        ],
    },
    Preset {
        name: PresetName::Perplexity,
        display_name: "Perplexity",
        // No version path: `https://api.perplexity.ai/chat/completions`.
        base_url: "https://api.perplexity.ai",
        auth: AuthStyle::Bearer,
        key_required: true,
        // No function calling; `stop`, `logit_bias`, `logprobs`,
        // `top_logprobs`, `seed`, `parallel_tool_calls` and `service_tier`
        // are not taken. No `GET /models`, no embeddings.
        unsupported: &[
            "tools",
            "tool_choice",
            "parallel_tool_calls",
            "stop",
            "logit_bias",
            "logprobs",
            "top_logprobs",
            "seed",
            "service_tier",
        ],
        renames: &[],
        developer_role: DeveloperRole::System,
        max_tokens_field: MaxTokensField::MaxTokens,
        include_usage: false,
        send_reasoning_content: false,
        models_endpoint: false,
        embeddings: false,
        default_models: &[
            "sonar",
            "sonar-pro",
            "sonar-reasoning-pro",
            "sonar-deep-research",
        ],
        sources: &[
            "https://docs.perplexity.ai/docs/sonar/openai-compatibility (base URL, /chat/completions alias of /v1/sonar)",
            "https://docs.getbifrost.ai/providers/supported-providers/perplexity (no tools, dropped parameters, no list models; third-party)",
        ],
    },
    Preset {
        name: PresetName::Nebius,
        display_name: "Nebius Token Factory",
        // Renamed from AI Studio (`api.studio.nebius.com`).
        base_url: "https://api.tokenfactory.nebius.com/v1",
        auth: AuthStyle::Bearer,
        key_required: true,
        unsupported: &[],
        renames: &[],
        developer_role: DeveloperRole::Keep,
        max_tokens_field: MaxTokensField::MaxTokens,
        include_usage: true,
        send_reasoning_content: false,
        models_endpoint: true,
        embeddings: true,
        default_models: &[],
        sources: &["https://docs.tokenfactory.nebius.com/api-reference/introduction"],
    },
    Preset {
        name: PresetName::Sambanova,
        display_name: "SambaNova",
        base_url: "https://api.sambanova.ai/v1",
        auth: AuthStyle::Bearer,
        key_required: true,
        // SambaNova's page lists no deviation; the parameters it takes are
        // max_tokens, response_format, seed, stop, stream, temperature,
        // top_p, tool_choice, tools and user, so the logprob fields,
        // `logit_bias` and `n > 1` are not sent.
        unsupported: &["logprobs", "top_logprobs", "logit_bias", "n>1"],
        renames: &[],
        developer_role: DeveloperRole::Keep,
        max_tokens_field: MaxTokensField::MaxTokens,
        include_usage: true,
        send_reasoning_content: false,
        models_endpoint: true,
        embeddings: true,
        default_models: &[],
        sources: &[
            "https://docs.sambanova.ai/docs/en/features/openai-compatibility",
            "BerriAI/litellm litellm/llms/sambanova/chat.py (get_supported_openai_params; third-party)",
        ],
    },
    Preset {
        name: PresetName::Huggingface,
        display_name: "Hugging Face",
        base_url: "https://router.huggingface.co/v1",
        auth: AuthStyle::Bearer,
        key_required: true,
        // One token (`HF_TOKEN`, with the "Make calls to Inference
        // Providers" permission) routes to the host serving the model; a
        // `:provider` suffix on the model id picks one. Chat only through
        // the OpenAI-compatible route; `GET /v1/models` lists the models.
        unsupported: &[],
        renames: &[],
        developer_role: DeveloperRole::Keep,
        max_tokens_field: MaxTokensField::MaxTokens,
        include_usage: true,
        send_reasoning_content: false,
        models_endpoint: true,
        embeddings: false,
        default_models: &[],
        sources: &[
            "https://huggingface.co/docs/inference-providers/index",
            "https://tabby.tabbyml.com/docs/references/models-http-api/huggingface/ (no embeddings through the OpenAI API; third-party)",
        ],
    },
    Preset {
        name: PresetName::AzureFoundry,
        display_name: "Azure AI Foundry",
        // Per resource: `https://<resource>.services.ai.azure.com/openai/v1`
        // (or `https://<resource>.openai.azure.com/openai/v1`); no
        // `api-version` on the v1 API. Empty: `base_url` is required.
        base_url: "",
        auth: AuthStyle::Bearer,
        key_required: true,
        unsupported: &[],
        renames: &[],
        developer_role: DeveloperRole::Keep,
        // Azure OpenAI's reasoning models take only `max_completion_tokens`.
        max_tokens_field: MaxTokensField::MaxCompletionTokens,
        include_usage: true,
        send_reasoning_content: false,
        models_endpoint: true,
        embeddings: true,
        default_models: &[],
        sources: &[
            "https://learn.microsoft.com/azure/foundry/openai/api-version-lifecycle (v1 API, no api-version)",
            "https://learn.microsoft.com/azure/foundry/foundry-models/concepts/endpoints (endpoints, deployments as model names)",
        ],
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_has_one_row() {
        let names = [
            PresetName::Groq,
            PresetName::Together,
            PresetName::Openrouter,
            PresetName::Deepinfra,
            PresetName::Mistral,
            PresetName::Deepseek,
            PresetName::Vllm,
            PresetName::Llamacpp,
            PresetName::Lmstudio,
            PresetName::Xai,
            PresetName::Fireworks,
            PresetName::Cerebras,
            PresetName::Perplexity,
            PresetName::Nebius,
            PresetName::Sambanova,
            PresetName::Huggingface,
            PresetName::AzureFoundry,
        ];
        assert_eq!(PRESETS.len(), names.len());
        for n in names {
            assert_eq!(PRESETS.iter().filter(|p| p.name == n).count(), 1);
            assert_eq!(n.preset().name, n);
            assert!(!n.preset().sources.is_empty());
            for param in n.preset().unsupported {
                assert!(
                    switchboard_protocol::openai::ParamSpec::parse(param).is_ok(),
                    "{param}"
                );
            }
        }
    }
}
