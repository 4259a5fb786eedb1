//! [`FakeGateway`]: a [`Gateway`] for tests that answers without a provider.

use std::sync::Mutex;

use async_trait::async_trait;
use switchboard_core::extension::{Gateway, RequestContext};
use switchboard_core::{ChatRequest, ChatResponse, ContentPart, Error, Usage};

/// A [`Gateway`] for tests: answers every request with
/// `"fake answer to: <last user text>"` (usage 1/1) and remembers the models
/// it was asked for, so a test can check what an extension routed.
#[derive(Debug, Default)]
pub struct FakeGateway {
    models: Mutex<Vec<String>>,
}

impl FakeGateway {
    /// The most requests remembered (older ones are forgotten).
    pub const MAX_REMEMBERED: usize = 1_000;

    /// A gateway that has seen nothing.
    pub fn new() -> Self {
        FakeGateway::default()
    }

    /// The models of the requests routed so far, oldest first.
    pub fn models(&self) -> Vec<String> {
        self.models
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

#[async_trait]
impl Gateway for FakeGateway {
    async fn chat(
        &self,
        _ctx: RequestContext,
        request: ChatRequest,
    ) -> Result<ChatResponse, Error> {
        {
            let mut models = self
                .models
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if models.len() >= Self::MAX_REMEMBERED {
                models.remove(0);
            }
            models.push(request.model.clone());
        }
        Ok(ChatResponse {
            id: "fake-1".into(),
            model: request.model.clone(),
            provider: "fake".into(),
            content: vec![ContentPart::text(format!(
                "fake answer to: {}",
                request.last_user_text().unwrap_or_default()
            ))],
            usage: Usage::new(1, 1),
            ..ChatResponse::default()
        })
    }
}
