//! The gateway as extensions see it ([`Gateway`]): chat requests routed
//! like a client's, through the hooks. It holds the switchboard's internals
//! weakly, so an extension keeping it creates no reference cycle.

use std::sync::Weak;

use async_trait::async_trait;
use switchboard_core::extension::{Gateway, RequestContext};
use switchboard_core::{ChatRequest, ChatResponse, Error};

use super::Hub;

/// [`Gateway`] over a weak reference to the switchboard's [`Hub`].
pub(crate) struct GatewayHandle(pub(crate) Weak<Hub>);

#[async_trait]
impl Gateway for GatewayHandle {
    async fn chat(
        &self,
        mut ctx: RequestContext,
        request: ChatRequest,
    ) -> Result<ChatResponse, Error> {
        let hub = self
            .0
            .upgrade()
            .ok_or_else(|| Error::unavailable("the gateway is shutting down"))?;
        hub.chat_with(&mut ctx, request).await.map(|r| r.value)
    }

    fn provider_kind(&self, instance: &str) -> Option<&'static str> {
        self.0.upgrade()?.router.registry().provider_kind(instance)
    }

    fn canonical_model(&self, model: &str) -> Option<String> {
        self.0.upgrade()?.router.canonical_model(model)
    }
}
