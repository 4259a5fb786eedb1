//! Extensions: the second plugin kind. Where a [`Provider`](crate::Provider)
//! answers requests, an [`Extension`] changes what the gateway does around
//! them: it sees each request before routing ([`Extension::on_request`]),
//! each answer ([`Extension::on_response`]) or streamed event
//! ([`Extension::on_event`]), a record of each finished request
//! ([`Extension::on_complete`], off the request path), and it may offer named
//! [methods](Extension::methods) callable over HTTP and from the CLI.
//!
//! `#[extension]` (the twin of `#[provider]`) registers a type that
//! implements [`Extension`] and [`ExtensionInit`]; the gateway builds the
//! enabled ones from `[extensions.<name>]` and runs their hooks in `order`.

mod catalog;
mod context;
mod method;
mod record;
mod store;

use async_trait::async_trait;
use serde_json::Value;

use crate::{ChatEvent, ChatRequest, ChatResponse, Error, ModelInfo};

#[doc(hidden)]
pub use catalog::backend as catalog_backend;
pub use catalog::{
    ExtensionBuildFuture, ExtensionCatalog, ExtensionDescriptor, Hooks, extension_catalog,
    registered_extensions,
};
pub use context::{
    ClientKeyInfo, ExtensionContext, Gateway, InboundApi, KeyGrant, RequestContext, Scratch,
};
pub use method::{MethodCall, MethodInfo};
pub use record::{CompletionRecord, Outcome};
pub use store::{LedgerGroup, LedgerQuery, LedgerRow, LedgerTotal, Store, utc_day};

/// What [`Extension::on_request`] decided.
#[derive(Debug)]
#[non_exhaustive]
// Returned once per hook call and matched at once, never stored: boxing the
// answer would only add an allocation to the cache-hit path.
#[allow(clippy::large_enum_variant)]
pub enum RequestAction {
    /// Go on (with the request as the hook left it).
    Continue,
    /// Answer with this response instead of routing (a cache hit, say). A
    /// client that asked for a stream gets it replayed as events; later
    /// extensions' `on_request` are skipped, their `on_response` /
    /// `on_event` still run.
    Answer(ChatResponse),
}

/// An extension plugin: hooks around each request, and callable methods.
///
/// Object safe: the gateway holds extensions as `Arc<dyn Extension>`. Every
/// hook has a no-op default, so an extension implements only what it needs.
/// Hooks run in the configured `order` (lowest first), the same order for
/// requests and answers.
///
/// Errors: an error from `on_request` refuses the request (no provider is
/// called) and reaches the client in its API's format with its kind's
/// status; an error from `on_response` replaces the answer; an error from
/// `on_event` ends the stream with the format's error event. A panic in a
/// hook is caught and answered as an internal error.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a Switchboard extension",
    label = "`{Self}` does not implement `Extension`",
    note = "add `#[async_trait] impl Extension for {Self} {{ .. }}` and `impl ExtensionInit for {Self}`"
)]
#[async_trait]
pub trait Extension: Send + Sync + 'static {
    /// Before routing: may change `request`, answer it, or refuse it with an
    /// error. `request.model` is what the client asked for (an alias or
    /// `instance/model`).
    async fn on_request(
        &self,
        ctx: &mut RequestContext,
        request: &mut ChatRequest,
    ) -> Result<RequestAction, Error> {
        let _ = (ctx, request);
        Ok(RequestAction::Continue)
    }

    /// A complete (not streamed) answer, before it is sent: may change it or
    /// refuse it.
    async fn on_response(
        &self,
        ctx: &mut RequestContext,
        response: &mut ChatResponse,
    ) -> Result<(), Error> {
        let _ = (ctx, response);
        Ok(())
    }

    /// One streamed event, before it is sent. Push what should be sent in its
    /// place onto `out` (the default pushes `event` unchanged): nothing to
    /// hold it back, several to release held text. Runs on the stream's task:
    /// it must not block. `ChatEvent::Finish` is the last event a hook sees,
    /// so text held back must be released before pushing it.
    fn on_event(
        &self,
        ctx: &mut RequestContext,
        event: ChatEvent,
        out: &mut Vec<ChatEvent>,
    ) -> Result<(), Error> {
        let _ = ctx;
        out.push(event);
        Ok(())
    }

    /// After the request finished (answered, failed, or cancelled by the
    /// client), off the request path: records arrive through a bounded queue
    /// per extension, and are dropped (and counted) when it is full.
    async fn on_complete(&self, record: &CompletionRecord) {
        let _ = record;
    }

    /// The models the gateway lists (`GET /v1/models`, `switchboard models`,
    /// the management API), before they are shown: may fill in what the
    /// providers left empty (prices, say). Each id is `instance/model` with
    /// `provider` set to the instance; aliases have an empty `provider`.
    /// Called when models are listed, never on the request path; it must not
    /// block.
    fn on_models(&self, models: &mut [ModelInfo]) {
        let _ = models;
    }

    /// A client key the static `server.api_keys` did not match: `Ok(Some)`
    /// if it is one of this extension's valid keys, `Ok(None)` if it is not
    /// one of its keys, `Err` (an `auth` error: revoked, expired) if it is
    /// one that may no longer be used. Runs before every request that
    /// presents such a key, in `order`, until one answers; with an extension
    /// of this hook enabled, a request without a key is refused. Keep it
    /// fast (cache what the store holds).
    async fn authenticate(&self, key: &str) -> Result<Option<KeyGrant>, Error> {
        let _ = key;
        Ok(None)
    }

    /// The methods this extension offers now (they may change at runtime:
    /// the `functions` extension lists the functions defined so far).
    fn methods(&self) -> Vec<MethodInfo> {
        Vec::new()
    }

    /// The method named `name`, if this extension can handle it now (the
    /// spec's `canHandle`). The default looks it up in
    /// [`methods`](Self::methods); an extension whose methods live in the
    /// store (defined by another process) overrides it to look there too.
    async fn method(&self, name: &str) -> Option<MethodInfo> {
        self.methods().into_iter().find(|m| m.name == name)
    }

    /// Runs method `call.method` with arguments already validated against
    /// its schema. Only called for a name [`method`](Self::method) knows.
    async fn call(&self, call: MethodCall) -> Result<Value, Error> {
        Err(Error::not_found(format!(
            "this extension has no method `{}`",
            call.method
        )))
    }

    /// Appends the extension's own metrics to `/metrics`, in the OpenMetrics
    /// text format (`# TYPE` and `# HELP` lines included; names prefixed
    /// `switchboard_`). Called at scrape time, never on the request path.
    fn metrics(&self, out: &mut String) {
        let _ = out;
    }

    /// A short JSON status for operators (the management API shows it).
    fn status(&self) -> Value {
        Value::Null
    }

    /// Releases resources before the extension is dropped (reload, shutdown).
    async fn shutdown(&self) {}
}

/// How an extension is built from its configuration.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a Switchboard extension: it does not implement `ExtensionInit`",
    label = "`{Self}` does not implement `ExtensionInit`",
    note = "add `#[async_trait] impl ExtensionInit for {Self} {{ type Config = ..; async fn init(..) }}`"
)]
#[async_trait]
pub trait ExtensionInit: Extension + Sized {
    /// The extension's own keys in `[extensions.<name>]` (`enabled` and
    /// `order` are the gateway's and never reach it; aliases and client keys
    /// narrow which extensions apply with their own `extensions = [..]`).
    /// Every key should have a default: `enabled = true` alone must work.
    type Config: serde::de::DeserializeOwned + schemars::JsonSchema + Send + 'static;

    /// Checks the configuration beyond what its types enforce.
    fn validate(config: &Self::Config) -> Result<(), Error> {
        let _ = config;
        Ok(())
    }

    /// Builds the extension.
    async fn init(config: Self::Config, ctx: ExtensionContext) -> Result<Self, Error>;
}
