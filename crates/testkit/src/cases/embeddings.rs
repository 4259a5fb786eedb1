//! Embeddings: vectors in input order, usage, and the inputs reaching the upstream.

use switchboard_core::EmbeddingsRequest;
use wiremock::MockServer;

use crate::cases::assertions::{CheckResult, check_error, ensure};
use crate::cases::harness::CaseRun;
use crate::cases::settings::{CALL_LIMIT, INSTANCE};
use crate::fixtures::{WireFixtures, any_string};

impl<F: WireFixtures + ?Sized> CaseRun<'_, F> {
    /// Embeddings come back in input order, with usage; the inputs reach the upstream.
    pub(super) async fn embeddings(&mut self) -> CheckResult {
        let Some(sc) = self.fx.embeddings() else {
            return Err(
                "the provider declares `embeddings` but the fixtures give no embeddings scenario"
                    .into(),
            );
        };
        let server = MockServer::start().await;
        sc.route.mock(&sc.response).mount(&server).await;
        let provider = self.build(&server).await?;
        let req = EmbeddingsRequest::new(sc.model.clone(), sc.input.clone());
        let resp = match tokio::time::timeout(CALL_LIMIT, provider.embed(&req)).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => {
                check_error(&e)?;
                return Err(format!("embed failed: {e}"));
            }
            Err(_) => return Err("embed did not return within the limit".into()),
        };
        ensure!(
            resp.embeddings == sc.vectors,
            "embeddings {:?}, expected {:?}",
            resp.embeddings,
            sc.vectors
        );
        if let Some(n) = sc.input_tokens {
            ensure!(
                resp.usage.input_tokens == n,
                "embedding usage {:?}, expected {n} input tokens",
                resp.usage
            );
        }
        ensure!(
            resp.provider == INSTANCE,
            "the embeddings name provider `{}`, not `{INSTANCE}`",
            resp.provider
        );
        let body = self.upstream_body(&server).await?;
        for text in &sc.input {
            ensure!(
                any_string(&body, &|s| s == text),
                "the input `{text}` is not in the upstream request {body}"
            );
        }
        Ok(())
    }
}
