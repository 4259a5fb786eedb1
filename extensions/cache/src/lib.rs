#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

mod backend;
mod config;
mod control;
mod key;
mod metrics;
mod pending;

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use switchboard_core::extension::{
    CompletionRecord, ExtensionContext, Gateway, MethodCall, MethodInfo, Outcome, RequestContext,
};
use switchboard_core::{
    ChatEvent, ChatRequest, ChatResponse, Error, Extension, ExtensionInit, RequestAction,
    async_trait, extension,
};

pub use backend::{
    Backend, BackendError, BackendStats, ENTRY_OVERHEAD_BYTES, Entry, MemoryBackend, RedisBackend,
};
pub use config::{
    BackendKind, CacheConfig, MAX_ENTRY_BYTES_LIMIT, MAX_TTL_SECS, ModelCacheConfig, Policy,
};
pub use control::{Directive, directive};
pub use key::{CacheKey, cache_key, cache_key_as};
pub use metrics::Snapshot;

use metrics::{Bypass, Counters, NotStored};
use pending::{Answer, Pending, json_len};

/// The response header that says what the cache did: `hit`, `miss`, or
/// `bypass` (the client sent `Cache-Control: no-cache` or `no-store`).
pub const CACHE_HEADER: &str = "x-switchboard-cache";

/// An exact-match response cache: answers a request seen before (same
/// model, messages, tools and sampling parameters) from memory, streamed or
/// not, at no cost; honours the client's `Cache-Control: no-cache` and
/// `no-store`; bounded by bytes, with a TTL per model.
#[extension(
    name = "cache",
    config = CacheConfig,
    hooks(on_request, on_response, on_event, on_complete, methods)
)]
pub struct Cache {
    backend: Arc<dyn Backend>,
    policy: Policy,
    max_bytes: u64,
    max_entry_bytes: u64,
    per_key: bool,
    counters: Counters,
    /// Resolves aliases for the key (absent: the model as named).
    gateway: Option<Arc<dyn Gateway>>,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("backend", &self.backend.name())
            .field("max_bytes", &self.max_bytes)
            .field("max_entry_bytes", &self.max_entry_bytes)
            .field("per_key", &self.per_key)
            .finish_non_exhaustive()
    }
}

impl Cache {
    /// A cache on the backend the config names: in memory (sized by
    /// `max_bytes`) or Redis (connected on first use).
    pub fn new(config: &CacheConfig) -> Result<Self, Error> {
        config.validate()?;
        let backend: Arc<dyn Backend> = match config.backend {
            BackendKind::Memory => Arc::new(MemoryBackend::new(config.max_bytes)),
            BackendKind::Redis => Arc::new(RedisBackend::new(
                &config.redis_url,
                &config.redis_prefix,
                Duration::from_millis(config.redis_timeout_ms),
            )?),
        };
        Self::with_backend(config, backend)
    }

    /// A cache on `backend` (for another backend, or a test's).
    pub fn with_backend(config: &CacheConfig, backend: Arc<dyn Backend>) -> Result<Self, Error> {
        config.validate()?;
        Ok(Cache {
            backend,
            policy: Policy::new(config),
            max_bytes: config.max_bytes,
            max_entry_bytes: config.max_entry_bytes,
            per_key: config.per_key,
            counters: Counters::default(),
            gateway: None,
        })
    }

    /// The counters so far.
    pub fn counters(&self) -> Snapshot {
        self.counters.snapshot()
    }

    /// What the backend holds now, if it can tell (the memory backend can).
    pub fn backend_stats(&self) -> Option<BackendStats> {
        self.backend.stats()
    }

    /// The key `request` is cached under for `ctx`'s client, or `None` when
    /// its model is not cached.
    pub fn key_for(&self, ctx: &RequestContext, request: &ChatRequest) -> Option<CacheKey> {
        self.policy.ttl(&request.model)?;
        let client_key = if self.per_key {
            ctx.client_key.as_ref().map(|k| &*k.id)
        } else {
            None
        };
        match self
            .gateway
            .as_ref()
            .and_then(|g| g.canonical_model(&request.model))
        {
            Some(model) => cache_key_as(request, &model, client_key),
            None => cache_key(request, client_key),
        }
    }

    /// Keys entries on the model a request routes to, as `gateway` resolves
    /// it (aliases to their targets), rather than as the client names it.
    pub fn with_gateway(mut self, gateway: Arc<dyn Gateway>) -> Self {
        self.gateway = Some(gateway);
        self
    }

    /// Stores the answer `record`'s request left pending, if it finished
    /// normally.
    async fn store(&self, record: &CompletionRecord) {
        let Some(pending) = record.scratch.get::<Pending>() else {
            return;
        };
        let taken = pending.take();
        let finished =
            record.outcome == Outcome::Ok && !record.answered_by_extension && !record.usage_partial;
        let Some(p) = taken.filter(|_| finished) else {
            self.counters.not_stored(NotStored::Incomplete);
            return;
        };
        let mut response = match p.answer {
            Answer::Done(response) => response,
            Answer::TooLarge => return self.counters.not_stored(NotStored::TooLarge),
            Answer::Waiting | Answer::Streaming(..) => {
                return self.counters.not_stored(NotStored::Incomplete);
            }
        };
        // A streamed answer carries neither its instance nor its time.
        if response.provider.is_empty()
            && let Some(instance) = &record.instance
        {
            response.provider = instance.to_string();
        }
        if response.created == 0 {
            response.created = record
                .started_at
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
        }
        let bytes = match json_len(&response) {
            Some(n) if n <= self.max_entry_bytes => n,
            _ => return self.counters.not_stored(NotStored::TooLarge),
        };
        let entry = Entry {
            response: *response,
            bytes,
            ttl: p.ttl,
        };
        match self.backend.put(p.key, entry).await {
            Ok(()) => self.counters.stored(),
            Err(e) => {
                self.counters.backend_error();
                // Counted; the backend logs its outages (at most once a second).
                tracing::debug!(error = %e, "cache: storing an answer failed");
            }
        }
    }
}

#[async_trait]
impl ExtensionInit for Cache {
    type Config = CacheConfig;

    fn validate(config: &CacheConfig) -> Result<(), Error> {
        config.validate()
    }

    async fn init(config: CacheConfig, ctx: ExtensionContext) -> Result<Self, Error> {
        Ok(Cache::new(&config)?.with_gateway(ctx.gateway))
    }
}

#[async_trait]
impl Extension for Cache {
    async fn on_request(
        &self,
        ctx: &mut RequestContext,
        request: &mut ChatRequest,
    ) -> Result<RequestAction, Error> {
        let Some(ttl) = self.policy.ttl(&request.model) else {
            self.counters.bypass(Bypass::Model);
            return Ok(RequestAction::Continue);
        };
        let directive = directive(ctx);
        if directive == Directive::NoStore {
            self.counters.bypass(Bypass::NoStore);
            ctx.set_response_header(CACHE_HEADER, "bypass");
            return Ok(RequestAction::Continue);
        }
        let Some(key) = self.key_for(ctx, request) else {
            return Ok(RequestAction::Continue);
        };
        if directive == Directive::NoCache {
            self.counters.bypass(Bypass::NoCache);
            ctx.set_response_header(CACHE_HEADER, "bypass");
        } else {
            match self.backend.get(&key).await {
                Ok(Some(response)) => {
                    self.counters.hit();
                    ctx.set_response_header(CACHE_HEADER, "hit");
                    return Ok(RequestAction::Answer(response));
                }
                Ok(None) => {}
                Err(e) => {
                    self.counters.backend_error();
                    tracing::debug!(error = %e, "cache: a lookup failed; answering upstream");
                }
            }
            self.counters.miss();
            ctx.set_response_header(CACHE_HEADER, "miss");
        }
        ctx.scratch.insert(Pending::new(key, ttl, ctx.stream));
        Ok(RequestAction::Continue)
    }

    async fn on_response(
        &self,
        ctx: &mut RequestContext,
        response: &mut ChatResponse,
    ) -> Result<(), Error> {
        if let Some(pending) = ctx.scratch.get_mut::<Pending>() {
            pending.complete(response, self.max_entry_bytes);
        }
        Ok(())
    }

    fn on_event(
        &self,
        ctx: &mut RequestContext,
        event: ChatEvent,
        out: &mut Vec<ChatEvent>,
    ) -> Result<(), Error> {
        if let Some(pending) = ctx.scratch.get_mut::<Pending>() {
            pending.event(&event, self.max_entry_bytes);
        }
        out.push(event);
        Ok(())
    }

    async fn on_complete(&self, record: &CompletionRecord) {
        self.store(record).await;
    }

    fn methods(&self) -> Vec<MethodInfo> {
        vec![
            MethodInfo::new(
                "stats",
                "The cache's counters and size: hits, misses, bypasses, stores, entries, bytes.",
                json!({"type": "object", "additionalProperties": false}),
                json!({
                    "type": "object",
                    "properties": {
                        "hits": {"type": "integer", "minimum": 0},
                        "misses": {"type": "integer", "minimum": 0},
                        "entries": {"type": ["integer", "null"], "minimum": 0},
                        "bytes": {"type": ["integer", "null"], "minimum": 0}
                    },
                    "required": ["hits", "misses", "entries", "bytes"]
                }),
            ),
            MethodInfo::new(
                "clear",
                "Drops every cached answer; `cleared` is how many (null when the backend cannot tell).",
                json!({"type": "object", "additionalProperties": false}),
                json!({
                    "type": "object",
                    "properties": {"cleared": {"type": ["integer", "null"], "minimum": 0}},
                    "required": ["cleared"]
                }),
            )
            .admin_only(),
        ]
    }

    async fn call(&self, call: MethodCall) -> Result<Value, Error> {
        match call.method.as_str() {
            "stats" => Ok(self.status()),
            "clear" => {
                let before = self.backend.stats().map(|s| s.entries);
                self.backend.clear().await?;
                Ok(json!({"cleared": before}))
            }
            other => Err(Error::not_found(format!(
                "extension `cache` has no method `{other}`; it has: stats, clear"
            ))),
        }
    }

    fn metrics(&self, out: &mut String) {
        let stats = self.backend.stats();
        metrics::write(
            out,
            &self.counters.snapshot(),
            stats.as_ref(),
            self.max_bytes,
        );
    }

    fn status(&self) -> Value {
        let stats = self.backend.stats();
        metrics::status(
            self.backend.name(),
            &self.counters.snapshot(),
            stats.as_ref(),
            self.max_bytes,
        )
    }
}
