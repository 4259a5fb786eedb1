//! The Switchboard extension `cache`.
//!
//! Scaffolded by `cargo xtask new-extension`: a working minimal extension
//! (one hook, one method) to replace with your own. See `docs/extensions.md`
//! for the hooks, their order and what an error from each one does.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_core::extension::{ExtensionContext, MethodCall, MethodInfo, RequestContext};
use switchboard_core::{
    ChatRequest, Error, Extension, ExtensionInit, RequestAction, async_trait, extension,
};

/// The keys of `[extensions.cache]` (besides the gateway's `enabled`,
/// `order`). Every key has a default, so `enabled = true`
/// alone works.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct CacheConfig {
    /// A response header added to every answer, with the request's number
    /// as its value (empty: none).
    pub header: String,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            header: "x-cache".to_owned(),
        }
    }
}

/// TODO: say what `cache` does. This doc comment is the extension's
/// description in `switchboard extensions` and `GET /plugins`.
#[extension(name = "cache", config = CacheConfig, hooks(on_request, methods))]
#[derive(Debug)]
pub struct Cache {
    header: String,
    requests: AtomicU64,
}

#[async_trait]
impl ExtensionInit for Cache {
    type Config = CacheConfig;

    fn validate(config: &CacheConfig) -> Result<(), Error> {
        let valid = config
            .header
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !valid {
            return Err(Error::config(
                "`header` must be a lowercase header name (letters, digits and `-`)",
            )
            .with_param("header"));
        }
        Ok(())
    }

    async fn init(config: CacheConfig, _ctx: ExtensionContext) -> Result<Self, Error> {
        // `_ctx.store` keeps durable data (namespace it with `_ctx.name`);
        // `_ctx.gateway` routes requests of the extension's own.
        Ok(Cache {
            header: config.header,
            requests: AtomicU64::new(0),
        })
    }
}

#[async_trait]
impl Extension for Cache {
    /// Counts the request and tags the answer. Returning `Err` here refuses
    /// the request (no provider is called) with the error kind's status.
    async fn on_request(
        &self,
        ctx: &mut RequestContext,
        _request: &mut ChatRequest,
    ) -> Result<RequestAction, Error> {
        let n = self.requests.fetch_add(1, Ordering::Relaxed) + 1;
        if !self.header.is_empty() {
            ctx.set_response_header(self.header.clone(), n.to_string());
        }
        Ok(RequestAction::Continue)
    }

    fn methods(&self) -> Vec<MethodInfo> {
        vec![MethodInfo::new(
            "stats",
            "How many requests this extension has seen since it started.",
            json!({"type": "object", "additionalProperties": false}),
            json!({
                "type": "object",
                "properties": {"requests": {"type": "integer", "minimum": 0}},
                "required": ["requests"]
            }),
        )]
    }

    async fn call(&self, call: MethodCall) -> Result<Value, Error> {
        match call.method.as_str() {
            "stats" => Ok(json!({"requests": self.requests.load(Ordering::Relaxed)})),
            other => Err(Error::not_found(format!(
                "extension `cache` has no method `{other}`; it has: stats"
            ))),
        }
    }

    fn status(&self) -> Value {
        json!({"requests": self.requests.load(Ordering::Relaxed)})
    }
}
