//! The model list: the recorded ids come back, in order.

use wiremock::MockServer;

use crate::cases::assertions::{CheckResult, check_error, ensure};
use crate::cases::harness::CaseRun;
use crate::cases::settings::CALL_LIMIT;
use crate::fixtures::WireFixtures;

impl<F: WireFixtures + ?Sized> CaseRun<'_, F> {
    /// The model list comes back (skipped without a recording).
    pub(super) async fn models(&mut self) -> CheckResult {
        let Some(sc) = self.fx.models() else {
            self.skipped = Some("the fixtures have no model-list recording".into());
            return Ok(());
        };
        let server = MockServer::start().await;
        sc.route.mock(&sc.response).mount(&server).await;
        let provider = self.build(&server).await?;
        let models = match tokio::time::timeout(CALL_LIMIT, provider.models()).await {
            Ok(Ok(m)) => m,
            Ok(Err(e)) => {
                check_error(&e)?;
                return Err(format!("models failed: {e}"));
            }
            Err(_) => return Err("models did not return within the limit".into()),
        };
        let ids: Vec<&str> = models.iter().map(|m| m.id.as_str()).collect();
        ensure!(ids == sc.ids, "models {ids:?}, expected {:?}", sc.ids);
        Ok(())
    }
}
