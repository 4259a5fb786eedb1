//! Request timeouts: an upstream slower than the timeout gives a `timeout`
//! error, promptly, plain or streamed.

use std::time::Instant;

use switchboard_core::ErrorKind;
use wiremock::MockServer;

use crate::cases::assertions::{CheckResult, check_error, ensure};
use crate::cases::harness::CaseRun;
use crate::cases::settings::{SHORT_TIMEOUT, UPSTREAM_DELAY};
use crate::fixtures::WireFixtures;

impl<F: WireFixtures + ?Sized> CaseRun<'_, F> {
    /// An upstream slower than the request timeout gives `timeout`, promptly.
    pub(super) async fn timeout(&mut self, stream: bool) -> CheckResult {
        let sc = if stream {
            self.fx.stream_text()
        } else {
            self.fx.plain_chat()
        };
        let server = MockServer::start().await;
        let model = self.fx.model();
        let route = self.fx.chat_route(stream, &model);
        wiremock::Mock::given(wiremock::matchers::method(route.method.as_str()))
            .and(wiremock::matchers::path(route.path.as_str()))
            .respond_with(sc.response.template().set_delay(UPSTREAM_DELAY))
            .mount(&server)
            .await;
        let provider = self.build_with(&server.uri(), SHORT_TIMEOUT).await?;
        let start = Instant::now();
        let err = if stream {
            let (events, err) = self.stream(&*provider, &self.request()).await?;
            match err {
                Some(e) => e,
                None => return Err(format!("a stalled upstream was answered with {events:?}")),
            }
        } else {
            match self.chat(&*provider, &self.request()).await {
                Ok(r) => return Err(format!("a stalled upstream was answered with {r:?}")),
                Err(e) => e,
            }
        };
        let took = start.elapsed();
        check_error(&err)?;
        ensure!(
            err.kind() == &ErrorKind::Timeout,
            "an upstream slower than the {SHORT_TIMEOUT:?} request timeout gave a `{}` error, not `timeout`: {err}",
            err.kind().code()
        );
        ensure!(
            took < SHORT_TIMEOUT * 5,
            "the timeout error came after {took:?}, for a {SHORT_TIMEOUT:?} request timeout"
        );
        Ok(())
    }
}
