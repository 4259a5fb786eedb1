//! Extensions at runtime: the enabled ones built from `[extensions.*]`
//! ([`manager`]), held in one snapshot sorted by `order` ([`set`]), their
//! hooks around each request ([`chain`] for complete answers, [`stream`] for
//! streamed ones), completion records ([`record`]), methods ([`methods`]),
//! the [`Gateway`](switchboard_core::extension::Gateway) they are handed
//! ([`handle`]) and status views ([`status`]).
//!
//! With no extension enabled, a request takes the router's path directly:
//! one atomic load and an emptiness check, no allocation.

mod chain;
mod handle;
pub(crate) mod manager;
mod methods;
mod record;
mod set;
mod status;
mod stream;

use std::sync::Arc;

use arc_swap::ArcSwap;
use switchboard_core::extension::{Hooks, KeyGrant, RequestContext};
use switchboard_core::{ChatRequest, ChatResponse, ChatStream, Error, ModelInfo};

use crate::router::{Routed, Router};
pub(crate) use set::ExtensionSet;
pub use status::ExtensionStatus;

/// What requests need from the switchboard: the router and the enabled
/// extensions. Extensions reach it through a weak reference.
pub(crate) struct Hub {
    pub(crate) router: Router,
    pub(crate) set: ArcSwap<ExtensionSet>,
}

impl Hub {
    /// A complete answer through the hooks.
    pub(crate) async fn chat_with(
        &self,
        ctx: &mut RequestContext,
        request: ChatRequest,
    ) -> Result<Routed<ChatResponse>, Error> {
        let set = self.set.load();
        if set.is_empty() {
            return self.router.chat(request).await;
        }
        let set: Arc<ExtensionSet> = arc_swap::Guard::into_inner(set);
        chain::chat(&self.router, &set, ctx, request).await
    }

    /// A streamed answer through the hooks.
    pub(crate) async fn chat_stream_with(
        &self,
        ctx: &mut RequestContext,
        request: ChatRequest,
    ) -> Result<Routed<ChatStream>, Error> {
        let set = self.set.load();
        if set.is_empty() {
            return self.router.chat_stream(request).await;
        }
        let set: Arc<ExtensionSet> = arc_swap::Guard::into_inner(set);
        stream::chat_stream(&self.router, &set, ctx, request).await
    }

    /// Whether an enabled extension authenticates client keys.
    pub(crate) fn has_authenticator(&self) -> bool {
        self.set
            .load()
            .entries
            .iter()
            .any(|(_, e)| e.has(Hooks::AUTH))
    }

    /// Asks each enabled extension with `authenticate`, in order, about
    /// `key` until one knows it. A panic is an `internal` error.
    pub(crate) async fn authenticate(&self, key: &str) -> Result<Option<KeyGrant>, Error> {
        let set = arc_swap::Guard::into_inner(self.set.load());
        for (_, e) in set.entries.iter().filter(|(_, e)| e.has(Hooks::AUTH)) {
            let run = std::panic::AssertUnwindSafe(e.ext.authenticate(key));
            match futures::FutureExt::catch_unwind(run).await {
                Ok(Ok(None)) => continue,
                Ok(found) => return found,
                Err(_) => {
                    tracing::error!(extension = %e.name, "authenticate panicked");
                    return Err(Error::internal(format!(
                        "extension `{}` failed while checking the key",
                        e.name
                    )));
                }
            }
        }
        Ok(None)
    }

    /// Every enabled extension's `on_models`, in order; a panic is logged
    /// and the listing goes on without the rest of that extension's changes.
    pub(crate) fn on_models(&self, models: &mut [ModelInfo]) {
        let set = self.set.load();
        for (_, e) in set.entries.iter().filter(|(_, e)| e.has(Hooks::MODELS)) {
            let run = std::panic::AssertUnwindSafe(|| e.ext.on_models(models));
            if std::panic::catch_unwind(run).is_err() {
                tracing::error!(extension = %e.name, "on_models panicked");
            }
        }
    }
}
