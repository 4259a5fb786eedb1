//! Structured output: a JSON-schema response format reaches the upstream and
//! the JSON answer comes back.

use serde_json::Value;
use switchboard_core::ResponseFormat;

use crate::cases::assertions::{CheckResult, check_answer};
use crate::cases::harness::CaseRun;
use crate::fixtures::WireFixtures;

impl<F: WireFixtures + ?Sized> CaseRun<'_, F> {
    /// A JSON-schema response format reaches the upstream; the JSON answer comes back.
    pub(super) async fn json_schema(&mut self) -> CheckResult {
        let sc = self.fx.json_schema();
        let Some(ResponseFormat::JsonSchema { schema, .. }) = &sc.response_format else {
            return Err(
                "the json_schema scenario sets no JSON-schema response format (use Scenario::response_format)"
                    .into(),
            );
        };
        let server = self.chat_server(&sc.response).await;
        let provider = self.build(&server).await?;
        let resp = self
            .chat_ok(&*provider, &self.scenario_request(&sc))
            .await?;
        check_answer(&resp, &sc, false)?;
        if let Err(e) = serde_json::from_str::<Value>(&resp.text()) {
            return Err(format!("the answer is not JSON ({e}): {}", resp.text()));
        }
        let body = self.upstream_body(&server).await?;
        self.fx.schema_sent(&body, schema)
    }
}
