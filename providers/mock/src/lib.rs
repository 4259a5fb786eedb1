#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

mod config;
mod embedding;
mod plan;
mod sample_value;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use serde_json::json;
use switchboard_core::{
    Capabilities, ChatRequest, ChatResponse, ChatStream, EmbeddingsRequest, EmbeddingsResponse,
    Error, HealthReport, ModelInfo, Provider, ProviderContext, ProviderInit, ResponseAccumulator,
    ResponseFormat, Role, ToolCall, ToolChoice, Usage, async_trait, provider,
};

use crate::config::RequestOverride;
use crate::plan::{Answer, PlanInput, Step, count_words};

pub use crate::config::{
    FaultConfig, MAX_EMBEDDING_DIMENSIONS, MAX_EMBEDDING_VALUES, MAX_FIRST_TOKEN_LATENCY_MS,
    MAX_TOKEN_DELAY_MS, MockConfig, ModelEntry, ModelSpec, ReplyMode,
};
pub use crate::plan::{ORIGIN, REASONING_SIGNATURE};
pub use crate::sample_value::{
    MAX_NODES as SCHEMA_MAX_NODES, MAX_TEXT_BYTES as SCHEMA_MAX_TEXT_BYTES,
    generate as generate_from_schema,
};

/// The most distinct per-request faults with `times` whose counts are kept.
const MAX_OVERRIDE_FAULTS: usize = 1024;

/// The `created` timestamp of every mock response and model (2023-11-14T22:13:20Z),
/// fixed so answers are byte-for-byte reproducible.
pub const MOCK_CREATED: u64 = 1_700_000_000;

/// Deterministic offline answers for tests, demos and benchmarks.
///
/// Echoes or plays a script, streams word by word with configurable latency,
/// calls tools with schema-valid arguments, and injects faults on demand.
#[provider(name = "mock", display_name = "Mock", config = MockConfig,
           capabilities(streaming, tools, vision, embeddings, json_schema, reasoning))]
#[derive(Debug)]
pub struct MockProvider {
    config: MockConfig,
    ctx: ProviderContext,
    next_id: AtomicU64,
    script_pos: AtomicUsize,
    /// Requests the configured fault has failed (for `times`).
    fault_hits: AtomicU32,
    /// Requests each per-request fault (keyed by its JSON) has failed (for `times`).
    override_fault_hits: Mutex<HashMap<String, u32>>,
}

impl MockProvider {
    /// A mock named `mock` with `config`, checked first.
    pub fn new(config: MockConfig) -> Result<Self, Error> {
        Self::with_context(config, ProviderContext::standalone("mock"))
    }

    /// A mock with `config`, checked first, for the instance in `ctx`. Its
    /// delays end early with a `cancelled` error when `ctx.cancel` fires.
    pub fn with_context(config: MockConfig, ctx: ProviderContext) -> Result<Self, Error> {
        config
            .validate()
            .map_err(|e| e.with_instance(ctx.instance.clone()))?;
        Ok(MockProvider {
            config,
            ctx,
            next_id: AtomicU64::new(0),
            script_pos: AtomicUsize::new(0),
            fault_hits: AtomicU32::new(0),
            override_fault_hits: Mutex::new(HashMap::new()),
        })
    }

    /// The configuration in effect.
    pub fn config(&self) -> &MockConfig {
        &self.config
    }

    fn err(&self, e: Error) -> Error {
        e.with_instance(self.ctx.instance.clone())
    }

    /// The limits of `model`, or a `not_found` error naming the served models.
    fn model_limits(&self, model: &str) -> Result<(u32, u32), Error> {
        self.config.model_limits(model).ok_or_else(|| {
            let ids: Vec<&str> = self.config.models.iter().map(ModelEntry::id).collect();
            self.err(
                Error::not_found(format!(
                    "model `{model}` is not served by this mock provider; available: {}",
                    ids.join(", ")
                ))
                .with_param("model"),
            )
        })
    }

    /// The fault this request gets, if any, counting it against `times`.
    fn take_fault(&self, ov: &RequestOverride) -> Option<FaultConfig> {
        if let Some(fault) = &ov.fault {
            if let Some(times) = fault.times {
                let key = serde_json::to_string(fault).unwrap_or_default();
                let mut hits = self
                    .override_fault_hits
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                // Bounded: clients choose these keys. Past the cap the
                // counts start over (a `times` fault may then fail again).
                if hits.len() >= MAX_OVERRIDE_FAULTS && !hits.contains_key(&key) {
                    hits.clear();
                }
                let n = hits.entry(key).or_insert(0);
                if *n >= times {
                    return None;
                }
                *n += 1;
            }
            return Some(fault.clone());
        }
        let fault = self.config.fault.as_ref()?;
        if let Some(times) = fault.times {
            let counted = self
                .fault_hits
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                    (n < times).then_some(n + 1)
                });
            if counted.is_err() {
                return None;
            }
        }
        Some(fault.clone())
    }

    /// Sleeps, ending early with `cancelled` when the instance is shut down.
    async fn sleep(&self, delay: Duration) -> Result<(), Error> {
        if delay.is_zero() {
            return Ok(());
        }
        tokio::select! {
            () = tokio::time::sleep(delay) => Ok(()),
            () = self.ctx.cancel.cancelled() => Err(self.err(Error::cancelled("the mock provider was shut down"))),
        }
    }

    /// Everything up to the timed steps of the answer. A fault fails here
    /// unless it is a streaming fault with `after_events`, which becomes the
    /// stream's last step.
    fn prepare(&self, request: &ChatRequest, streaming: bool) -> Result<Vec<Step>, Error> {
        let ov = RequestOverride::from_extra(&request.extra).map_err(|e| self.err(e))?;
        let (context_length, max_output) = self.model_limits(&request.model)?;
        let input_tokens = input_tokens(request);
        if input_tokens > u64::from(context_length) {
            return Err(self.err(Error::context_length_exceeded(format!(
                "the prompt has {input_tokens} tokens but model `{}` has a context window of {context_length}",
                request.model
            ))));
        }
        let fault = self.take_fault(&ov);
        let after_events = match &fault {
            Some(f) if streaming && f.after_events.is_some() => f.after_events,
            Some(f) => return Err(self.err(f.to_error())),
            None => None,
        };
        let answer = self.answer(request, &ov);
        let max_tokens = request.max_tokens.map_or(max_output, |m| m.min(max_output));
        let ms = |o: Option<u64>, c: u64| Duration::from_millis(o.unwrap_or(c));
        let mut steps = plan::plan(PlanInput {
            id: format!(
                "chatcmpl-mock-{}",
                self.next_id.fetch_add(1, Ordering::Relaxed)
            ),
            model: request.model.clone(),
            reasoning: request.reasoning.as_ref().map(|_| {
                format!(
                    "Thinking about: {}",
                    request.last_user_text().unwrap_or_default()
                )
            }),
            answer: &answer,
            max_tokens: usize::try_from(max_tokens).unwrap_or(usize::MAX),
            input_tokens,
            first_token_latency: ms(
                ov.first_token_latency_ms,
                self.config.first_token_latency_ms,
            ),
            token_delay: ms(ov.token_delay_ms, self.config.token_delay_ms),
        });
        if let (Some(n), Some(fault)) = (after_events, fault) {
            let delay = steps.get(n).map_or(Duration::ZERO, |s| s.delay);
            steps.truncate(n);
            steps.push(Step {
                delay,
                item: Err(self.err(fault.to_error())),
            });
        }
        Ok(steps)
    }

    /// What to answer: the override's reply, else a tool call when tools are
    /// offered (and the last message is not a tool result), else JSON for a
    /// JSON response format, else the text reply.
    fn answer(&self, request: &ChatRequest, ov: &RequestOverride) -> Answer {
        if let Some(reply) = &ov.reply {
            return Answer::Text(apply_stop(reply, &request.stop));
        }
        let last = request.messages.last();
        let after_tool = last.is_some_and(|m| m.role == Role::Tool);
        if !after_tool && request.tool_choice != Some(ToolChoice::None) {
            let chosen = match &request.tool_choice {
                Some(ToolChoice::Tool(name)) => request.tools.iter().find(|t| &t.name == name),
                _ => None,
            };
            if let Some(tool) = chosen.or_else(|| request.tools.first()) {
                let args = generate_from_schema(&tool.parameters);
                return Answer::Tool(ToolCall {
                    id: "call_mock_0".to_owned(),
                    name: tool.name.clone(),
                    arguments: serde_json::to_string(&args).unwrap_or_else(|_| "{}".to_owned()),
                });
            }
        }
        let text = match last {
            Some(m) if after_tool => format!("Tool result received: {}", m.text()),
            _ => self.text_reply(request),
        };
        let text = match &request.response_format {
            Some(ResponseFormat::JsonSchema { schema, .. }) => {
                pretty(&generate_from_schema(schema))
            }
            Some(ResponseFormat::JsonObject) => pretty(&json!({ "reply": text })),
            _ => text,
        };
        Answer::Text(apply_stop(&text, &request.stop))
    }

    /// The echo or the next script line.
    fn text_reply(&self, request: &ChatRequest) -> String {
        let script = &self.config.script;
        if self.config.reply_mode() == ReplyMode::Script && !script.is_empty() {
            let pos = self.script_pos.fetch_add(1, Ordering::Relaxed);
            if let Some(line) = script.get(pos % script.len()) {
                return line.clone();
            }
        }
        format!("You said: {}", request.last_user_text().unwrap_or_default())
    }
}

/// Words in every message's text parts and tool-call arguments.
fn input_tokens(request: &ChatRequest) -> u64 {
    request
        .messages
        .iter()
        .map(|m| {
            count_words(&m.text())
                + m.tool_calls
                    .iter()
                    .map(|c| count_words(&c.arguments))
                    .sum::<u64>()
        })
        .sum()
}

/// Cuts `text` before the earliest stop sequence.
fn apply_stop(text: &str, stop: &[String]) -> String {
    let cut = stop
        .iter()
        .filter(|s| !s.is_empty())
        .filter_map(|s| text.find(s.as_str()))
        .min();
    text[..cut.unwrap_or(text.len())].to_owned()
}

fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

/// Yields `steps` lazily, sleeping before each; stops after an error, when
/// dropped, or (with a `cancelled` error) when `ctx.cancel` fires.
fn into_stream(steps: Vec<Step>, ctx: ProviderContext) -> ChatStream {
    let state = (steps.into_iter(), Some(ctx));
    Box::pin(futures::stream::unfold(
        state,
        |(mut steps, ctx)| async move {
            let ctx = ctx?;
            let step = steps.next()?;
            if !step.delay.is_zero() {
                tokio::select! {
                    () = tokio::time::sleep(step.delay) => {}
                    () = ctx.cancel.cancelled() => {
                        let err = Error::cancelled("the mock provider was shut down")
                            .with_instance(ctx.instance.clone());
                        return Some((Err(err), (steps, None)));
                    }
                }
            }
            let ctx = step.item.is_ok().then_some(ctx);
            Some((step.item, (steps, ctx)))
        },
    ))
}

const ALL_CAPABILITIES: Capabilities = Capabilities {
    streaming: true,
    tools: true,
    vision: true,
    embeddings: true,
    json_schema: true,
    reasoning: true,
};

#[async_trait]
impl ProviderInit for MockProvider {
    type Config = MockConfig;

    fn validate(config: &MockConfig) -> Result<(), Error> {
        config.validate()
    }

    async fn init(config: MockConfig, ctx: ProviderContext) -> Result<Self, Error> {
        Self::with_context(config, ctx)
    }
}

#[async_trait]
impl Provider for MockProvider {
    /// Waits the whole answer's delay at once, then returns exactly what
    /// collecting [`chat_stream`](Provider::chat_stream) gives, plus `provider`
    /// and `created`. A fault fails at once, even one with `after_events`.
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, Error> {
        let steps = self.prepare(request, false)?;
        let delay = steps
            .iter()
            .fold(Duration::ZERO, |total, s| total.saturating_add(s.delay));
        self.sleep(delay).await?;
        let mut acc = ResponseAccumulator::new();
        for step in &steps {
            match &step.item {
                Ok(event) => acc.push(event),
                Err(e) => return Err(e.clone()),
            }
        }
        let mut response = acc.finish();
        response.provider = self.ctx.instance.to_string();
        response.created = MOCK_CREATED;
        Ok(response)
    }

    async fn chat_stream(&self, request: &ChatRequest) -> Result<ChatStream, Error> {
        let steps = self.prepare(request, true)?;
        Ok(into_stream(steps, self.ctx.clone()))
    }

    async fn models(&self) -> Result<Vec<ModelInfo>, Error> {
        Ok(self
            .config
            .models
            .iter()
            .map(|m| {
                let (context_length, max_output) = self
                    .config
                    .model_limits(m.id())
                    .unwrap_or((self.config.context_length, self.config.max_output_tokens));
                ModelInfo {
                    id: m.id().to_owned(),
                    provider: self.ctx.instance.to_string(),
                    context_length: Some(context_length),
                    max_output_tokens: Some(max_output),
                    capabilities: ALL_CAPABILITIES,
                    created: Some(MOCK_CREATED),
                    owned_by: Some("switchboard".to_owned()),
                    ..ModelInfo::default()
                }
            })
            .collect())
    }

    async fn embed(&self, request: &EmbeddingsRequest) -> Result<EmbeddingsResponse, Error> {
        let ov = RequestOverride::from_extra(&request.extra).map_err(|e| self.err(e))?;
        self.model_limits(&request.model)?;
        let dims = request
            .dimensions
            .unwrap_or(self.config.embedding_dimensions);
        if dims > MAX_EMBEDDING_DIMENSIONS {
            return Err(self.err(Error::invalid_param(
                "dimensions",
                format!("`dimensions` must be at most {MAX_EMBEDDING_DIMENSIONS}, got {dims}"),
            )));
        }
        let values = u64::try_from(request.input.len())
            .unwrap_or(u64::MAX)
            .saturating_mul(u64::from(dims));
        if values > MAX_EMBEDDING_VALUES {
            return Err(self.err(Error::invalid_param(
                "input",
                format!(
                    "the mock makes at most {MAX_EMBEDDING_VALUES} embedding values per request \
                     (inputs × dimensions); this request asks for {values}"
                ),
            )));
        }
        if let Some(fault) = self.take_fault(&ov) {
            return Err(self.err(fault.to_error()));
        }
        let latency = ov
            .first_token_latency_ms
            .unwrap_or(self.config.first_token_latency_ms);
        self.sleep(Duration::from_millis(latency)).await?;
        let dims = usize::try_from(dims).unwrap_or(0);
        Ok(EmbeddingsResponse {
            model: request.model.clone(),
            provider: self.ctx.instance.to_string(),
            embeddings: request
                .input
                .iter()
                .map(|text| embedding::embed_text(text, dims))
                .collect(),
            usage: Usage::new(request.input.iter().map(|t| count_words(t)).sum(), 0),
        })
    }

    /// Healthy unless a configured fault (one that is not about a single
    /// request, like `invalid_request`) still has failures left.
    async fn health(&self) -> Result<HealthReport, Error> {
        if let Some(fault) = &self.config.fault {
            let used_up = fault
                .times
                .is_some_and(|t| self.fault_hits.load(Ordering::SeqCst) >= t);
            if fault.affects_health() && !used_up {
                return Err(self.err(fault.to_error()));
            }
        }
        Ok(HealthReport {
            latency: Duration::ZERO,
            detail: Some(format!("{} models", self.config.models.len())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_sequences_cut_the_text() {
        assert_eq!(apply_stop("You said: a. b", &[".".into()]), "You said: a");
        assert_eq!(apply_stop("abc", &["".into(), "z".into()]), "abc");
        assert_eq!(apply_stop("abcabc", &["c".into(), "b".into()]), "a");
    }
}
