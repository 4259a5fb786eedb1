//! What every case drives the provider with: building it from the fixtures'
//! config, a mock upstream serving a recorded answer, chat and stream calls
//! bounded in time (each error checked for leaks), and the body the
//! upstream received.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use serde_json::Value;
use switchboard_core::{
    ChatEvent, ChatRequest, ChatResponse, Error, Message, Provider, ProviderContext,
};
use wiremock::MockServer;

use crate::cases::assertions::check_error;
use crate::cases::settings::{CALL_LIMIT, DEFAULT_TIMEOUT, INSTANCE, TEST_API_KEY};
use crate::fixtures::{Recorded, Scenario, WireFixtures};
use crate::target::Target;

/// One run of one case: the provider under test, its fixtures, and the
/// reason the case skipped itself, if it did.
pub(crate) struct CaseRun<'a, F: ?Sized> {
    /// The provider under test.
    pub(crate) target: &'a Target,
    /// The provider's wire fixtures.
    pub(crate) fx: &'a F,
    /// Set by a case that found nothing to test (e.g. no recording).
    pub(crate) skipped: Option<String>,
}

impl<F: WireFixtures + ?Sized> CaseRun<'_, F> {
    /// Whether the provider declares streaming.
    pub(super) fn streaming(&self) -> bool {
        self.target.descriptor.capabilities.streaming
    }

    /// Builds the provider for an upstream at `base_url` with request timeout `timeout`.
    pub(super) async fn build_with(
        &self,
        base_url: &str,
        timeout: Duration,
    ) -> Result<Arc<dyn Provider>, String> {
        let config = self.fx.config(base_url, TEST_API_KEY);
        let mut ctx = ProviderContext::standalone(INSTANCE);
        ctx.request_timeout = timeout;
        match self.target.descriptor.build(config, ctx).await {
            Ok(p) => Ok(p),
            Err(e) => {
                check_error(&e)?;
                Err(format!("building the provider failed: {e}"))
            }
        }
    }

    /// Builds the provider for `server` with the default request timeout.
    pub(super) async fn build(&self, server: &MockServer) -> Result<Arc<dyn Provider>, String> {
        self.build_with(&server.uri(), DEFAULT_TIMEOUT).await
    }

    /// A one-message chat request for the fixtures' model.
    pub(super) fn request(&self) -> ChatRequest {
        ChatRequest::new(self.fx.model(), vec![Message::user("Hello!")])
    }

    /// The plain request with the scenario's tools and response format.
    pub(super) fn scenario_request(&self, sc: &Scenario) -> ChatRequest {
        let mut req = self.request();
        req.tools.clone_from(&sc.tools);
        req.response_format.clone_from(&sc.response_format);
        req
    }

    /// A mock server answering chat requests (streamed and not) with `response`.
    pub(super) async fn chat_server(&self, response: &Recorded) -> MockServer {
        let server = MockServer::start().await;
        let model = self.fx.model();
        let plain = self.fx.chat_route(false, &model);
        let streamed = self.fx.chat_route(true, &model);
        plain.mock(response).mount(&server).await;
        if streamed != plain {
            streamed.mock(response).mount(&server).await;
        }
        server
    }

    /// A chat call, failing with `timeout` if it takes over [`CALL_LIMIT`].
    pub(super) async fn chat(
        &self,
        provider: &dyn Provider,
        req: &ChatRequest,
    ) -> Result<ChatResponse, Error> {
        match tokio::time::timeout(CALL_LIMIT, provider.chat(req)).await {
            Ok(r) => r,
            Err(_) => Err(Error::timeout(format!(
                "the conformance kit gave up: chat took over {CALL_LIMIT:?}"
            ))),
        }
    }

    /// A chat call that must succeed; its error, if any, is checked first.
    pub(super) async fn chat_ok(
        &self,
        provider: &dyn Provider,
        req: &ChatRequest,
    ) -> Result<ChatResponse, String> {
        match self.chat(provider, req).await {
            Ok(r) => Ok(r),
            Err(e) => {
                check_error(&e)?;
                Err(format!("chat failed: {e} ({e:?})"))
            }
        }
    }

    /// The stream's events, and the error that ended it, if any. An error
    /// must be the stream's last item.
    pub(super) async fn stream(
        &self,
        provider: &dyn Provider,
        req: &ChatRequest,
    ) -> Result<(Vec<ChatEvent>, Option<Error>), String> {
        let fut = async {
            let mut stream = match provider.chat_stream(req).await {
                Ok(s) => s,
                Err(e) => return Ok((Vec::new(), Some(e))),
            };
            let mut events = Vec::new();
            while let Some(item) = stream.next().await {
                match item {
                    Ok(ev) => events.push(ev),
                    Err(e) => {
                        if let Some(next) = stream.next().await {
                            return Err(format!(
                                "the stream went on after the error `{e}`: {next:?}"
                            ));
                        }
                        return Ok((events, Some(e)));
                    }
                }
            }
            Ok((events, None))
        };
        match tokio::time::timeout(CALL_LIMIT, fut).await {
            Ok(Ok((events, err))) => {
                if let Some(e) = &err {
                    check_error(e)?;
                }
                Ok((events, err))
            }
            Ok(Err(msg)) => Err(msg),
            Err(_) => Err(format!("the stream did not end within {CALL_LIMIT:?}")),
        }
    }

    /// The stream's events; an error ending it fails the case.
    pub(super) async fn stream_ok(
        &self,
        provider: &dyn Provider,
        req: &ChatRequest,
    ) -> Result<Vec<ChatEvent>, String> {
        let (events, err) = self.stream(provider, req).await?;
        match err {
            None => Ok(events),
            Some(e) => Err(format!(
                "the stream failed after {} events: {e} ({e:?})",
                events.len()
            )),
        }
    }

    /// The JSON body of the last request the upstream received.
    pub(super) async fn upstream_body(&self, server: &MockServer) -> Result<Value, String> {
        let requests = server
            .received_requests()
            .await
            .ok_or("request recording is off")?;
        let last = requests
            .last()
            .ok_or("the provider sent no request to the upstream")?;
        serde_json::from_slice(&last.body).map_err(|e| {
            format!(
                "the upstream request body is not JSON ({e}): {}",
                String::from_utf8_lossy(&last.body)
            )
        })
    }
}
