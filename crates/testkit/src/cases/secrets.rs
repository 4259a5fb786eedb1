//! Secret hygiene: the key is in no `Debug` output and no error, even when
//! the upstream echoes it back.

use switchboard_core::ErrorKind;

use crate::cases::assertions::{CheckResult, check_error, ensure, key_reached_upstream};
use crate::cases::harness::CaseRun;
use crate::cases::settings::{INSTANCE, TEST_API_KEY};
use crate::fixtures::{ErrorCase, WireFixtures};

impl<F: WireFixtures + ?Sized> CaseRun<'_, F> {
    /// The key is in no `Debug` output and no error, even when the upstream echoes it.
    pub(super) async fn secret_hygiene(&mut self) -> CheckResult {
        // Debug of the config and of the built provider.
        let config = self.fx.config("http://127.0.0.1:9", TEST_API_KEY);
        let rendered = (self.target.debug)(config, INSTANCE)
            .await
            .map_err(|e| format!("building the provider for its Debug output failed: {e}"))?;
        ensure!(
            !rendered.contains(TEST_API_KEY),
            "the API key appears in Debug output: {rendered}"
        );
        // The key does reach the upstream (so the other checks mean something).
        let sc = self.fx.plain_chat();
        let server = self.chat_server(&sc.response).await;
        let provider = self.build(&server).await?;
        self.chat_ok(&*provider, &self.request()).await?;
        let requests = server.received_requests().await.unwrap_or_default();
        let first = requests.first().ok_or("no upstream request")?;
        key_reached_upstream(first)?;
        // An upstream that echoes the key back in its error message.
        let echo = format!(
            "Incorrect API key provided: {TEST_API_KEY}. You can find your API key at https://example.com."
        );
        let response = self
            .fx
            .error_body(ErrorCase::Unauthorized, &echo)
            .with_status(401);
        let server = self.chat_server(&response).await;
        let provider = self.build(&server).await?;
        let err = match self.chat(&*provider, &self.request()).await {
            Ok(r) => return Err(format!("HTTP 401 was answered with {r:?}")),
            Err(e) => e,
        };
        check_error(&err).map_err(|m| format!("upstream echoed the key: {m}"))?;
        ensure!(
            err.kind() == &ErrorKind::Auth,
            "HTTP 401 gave `{}`",
            err.kind().code()
        );
        if self.streaming() {
            let (_, err) = self.stream(&*provider, &self.request()).await?;
            ensure!(err.is_some(), "chat_stream: HTTP 401 gave no error");
        }
        Ok(())
    }
}
