//! Plain (not streamed) answers: text, finish reason, instance name, usage,
//! and the key reaching the upstream.

use crate::cases::assertions::{
    CheckResult, check_answer, check_usage, ensure, key_reached_upstream,
};
use crate::cases::harness::CaseRun;
use crate::cases::settings::INSTANCE;
use crate::fixtures::WireFixtures;

impl<F: WireFixtures + ?Sized> CaseRun<'_, F> {
    /// A plain answer: text, finish reason, the instance name, and one
    /// upstream request carrying the key.
    pub(super) async fn plain_chat(&mut self) -> CheckResult {
        let sc = self.fx.plain_chat();
        let server = self.chat_server(&sc.response).await;
        let provider = self.build(&server).await?;
        let resp = self.chat_ok(&*provider, &self.request()).await?;
        check_answer(&resp, &sc, false)?;
        ensure!(
            resp.provider == INSTANCE,
            "the answer names provider `{}`, not the instance `{INSTANCE}`",
            resp.provider
        );
        let requests = server.received_requests().await.unwrap_or_default();
        ensure!(
            requests.len() == 1,
            "one chat call sent {} upstream requests",
            requests.len()
        );
        key_reached_upstream(&requests[0])
    }

    /// The plain answer's usage equals the recording's.
    pub(super) async fn usage_reported(&mut self) -> CheckResult {
        let sc = self.fx.plain_chat();
        ensure!(
            sc.usage.is_some(),
            "the fixtures' plain_chat scenario gives no usage to check"
        );
        let server = self.chat_server(&sc.response).await;
        let provider = self.build(&server).await?;
        let resp = self.chat_ok(&*provider, &self.request()).await?;
        check_usage(Some(&resp.usage), &sc)
    }
}
