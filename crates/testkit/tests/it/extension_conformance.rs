use serde_json::{Value, json};
use switchboard_core::extension::{
    ExtensionContext, MethodCall, MethodInfo, RequestContext, extension_catalog,
};
use switchboard_core::{
    ChatEvent, ChatRequest, ChatResponse, Error, Extension, ExtensionInit, RequestAction,
    async_trait, extension,
};
use switchboard_testkit::{ExtensionReport, check_extension};

/// No keys.
#[derive(Debug, Clone, Default, serde::Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct NoConfig {}

/// A key without a default.
#[derive(Debug, Clone, serde::Deserialize, schemars::JsonSchema)]
pub(crate) struct NeedsKey {
    /// Required (only its schema matters here).
    #[allow(dead_code)]
    pub(crate) key: String,
}

macro_rules! init {
    ($ty:ident, $cfg:ty) => {
        #[async_trait]
        impl ExtensionInit for $ty {
            type Config = $cfg;
            async fn init(_: $cfg, _: ExtensionContext) -> Result<Self, Error> {
                Ok($ty)
            }
        }
    };
}

async fn run(d: &'static switchboard_core::extension::ExtensionDescriptor) -> ExtensionReport {
    check_extension(d, json!({})).await.expect("builds")
}

fn failure<'a>(report: &'a ExtensionReport, check: &str) -> &'a str {
    report
        .failures()
        .into_iter()
        .find(|(name, _)| *name == check)
        .map(|(_, why)| why)
        .unwrap_or_else(|| panic!("expected `{check}` to fail:\n{report}"))
}

/// Refuses a forbidden word, offers one method, uses the store.
#[extension(
    name = "conformance-good",
    config = NoConfig,
    hooks(on_request, on_response, on_event, on_complete, methods)
)]
pub(crate) struct Good;
init!(Good, NoConfig);

#[async_trait]
impl Extension for Good {
    async fn on_request(
        &self,
        _ctx: &mut RequestContext,
        request: &mut ChatRequest,
    ) -> Result<RequestAction, Error> {
        if request.last_user_text().is_some_and(|t| t.contains("sk-")) {
            return Err(Error::content_filter("an API key in the prompt"));
        }
        Ok(RequestAction::Continue)
    }

    async fn on_response(
        &self,
        _ctx: &mut RequestContext,
        _response: &mut ChatResponse,
    ) -> Result<(), Error> {
        Ok(())
    }

    fn methods(&self) -> Vec<MethodInfo> {
        vec![MethodInfo::new(
            "ping",
            "Answers pong.",
            json!({"type": "object"}),
            json!({"type": "string"}),
        )]
    }

    async fn call(&self, call: MethodCall) -> Result<Value, Error> {
        match call.method.as_str() {
            "ping" => Ok(json!("pong")),
            other => Err(Error::not_found(format!("no method `{other}`; try `ping`"))),
        }
    }

    fn metrics(&self, out: &mut String) {
        out.push_str("# TYPE switchboard_good_total counter\nswitchboard_good_total 1\n# EOF\n");
    }
}

#[tokio::test]
async fn a_well_behaved_extension_passes() {
    let report = run(Good::DESCRIPTOR).await;
    assert!(report.is_success(), "{report}");
    assert!(
        report
            .checks
            .iter()
            .all(|c| c.outcome == switchboard_testkit::Outcome::Passed)
    );
    assert!(
        extension_catalog()
            .expect("unique")
            .get("conformance-good")
            .is_some()
    );
}

#[test]
fn the_sync_assertion_passes_a_well_behaved_extension() {
    switchboard_testkit::assert_extension_conforms(Good::DESCRIPTOR, json!({}));
}

/// Panics on long prompts and on the `Finish` event.
#[extension(name = "conformance-panics", config = NoConfig, hooks(on_request, on_event, on_complete))]
pub(crate) struct Panics;
init!(Panics, NoConfig);

#[async_trait]
impl Extension for Panics {
    async fn on_request(
        &self,
        _ctx: &mut RequestContext,
        request: &mut ChatRequest,
    ) -> Result<RequestAction, Error> {
        let len = request.last_user_text().map_or(0, |t| t.len());
        assert!(len < 100_000, "prompt too long");
        Ok(RequestAction::Continue)
    }

    fn on_event(
        &self,
        _ctx: &mut RequestContext,
        event: ChatEvent,
        out: &mut Vec<ChatEvent>,
    ) -> Result<(), Error> {
        if matches!(event, ChatEvent::Finish { .. }) {
            panic!("finish");
        }
        out.push(event);
        Ok(())
    }

    async fn on_complete(&self, record: &switchboard_core::extension::CompletionRecord) {
        let _ = record.usage.expect("usage is always known"); // wrong: unknown is not zero
    }
}

#[tokio::test]
async fn panics_are_reported_per_hook_and_sample() {
    let report = run(Panics::DESCRIPTOR).await;
    let why = failure(&report, "on_request");
    assert!(
        why.contains("`huge text` request: panicked: prompt too long"),
        "{why}"
    );
    assert!(!why.contains("`plain`"), "{why}");
    assert!(failure(&report, "on_event").contains("panicked: finish"));
    assert!(failure(&report, "on_complete").contains("usage is always known"));
    assert!(report.to_string().contains("FAILED  on_request"));
}

/// Refuses with a success status and swallows `Finish`.
#[extension(name = "conformance-bad-refusal", config = NoConfig, hooks(on_request, on_response, on_event))]
pub(crate) struct BadRefusal;
init!(BadRefusal, NoConfig);

#[async_trait]
impl Extension for BadRefusal {
    async fn on_request(
        &self,
        _ctx: &mut RequestContext,
        _request: &mut ChatRequest,
    ) -> Result<RequestAction, Error> {
        Err(Error::upstream(200, "no"))
    }

    async fn on_response(
        &self,
        _ctx: &mut RequestContext,
        _response: &mut ChatResponse,
    ) -> Result<(), Error> {
        Err(Error::content_filter("a 400 is fine"))
    }

    fn on_event(
        &self,
        _ctx: &mut RequestContext,
        event: ChatEvent,
        out: &mut Vec<ChatEvent>,
    ) -> Result<(), Error> {
        if !matches!(event, ChatEvent::Finish { .. }) {
            out.push(event);
        }
        Ok(())
    }
}

#[tokio::test]
async fn refusals_with_a_success_status_and_lost_finish_events_fail() {
    let report = run(BadRefusal::DESCRIPTOR).await;
    assert!(failure(&report, "on_request").contains("HTTP status 200"));
    assert!(
        !report.failures().iter().any(|(n, _)| *n == "on_response"),
        "{report}"
    );
    assert!(failure(&report, "on_event").contains("do not end with `Finish`"));
}

/// Bad method names and schemas; an unknown method succeeds.
#[extension(name = "conformance-bad-methods", config = NoConfig, hooks(methods))]
pub(crate) struct BadMethods;
init!(BadMethods, NoConfig);

#[async_trait]
impl Extension for BadMethods {
    fn methods(&self) -> Vec<MethodInfo> {
        vec![
            MethodInfo::new("Bad.Name", "x", json!({"type": "object"}), json!({})),
            MethodInfo::new("bad-args", "x", json!({"type": 5}), json!({})),
            MethodInfo::new("wrong-result", "x", json!({}), json!({"type": "integer"})),
        ]
    }

    async fn call(&self, _call: MethodCall) -> Result<Value, Error> {
        Ok(json!("anything"))
    }
}

#[tokio::test]
async fn method_names_schemas_and_unknown_methods_are_checked() {
    let report = run(BadMethods::DESCRIPTOR).await;
    let why = failure(&report, "method schemas");
    assert!(why.contains("`Bad.Name` must match"), "{why}");
    assert!(
        why.contains("`bad-args`: its arguments schema is not a valid JSON Schema"),
        "{why}"
    );
    let why = failure(&report, "method calls");
    assert!(why.contains("must be a `not_found` error"), "{why}");
    assert!(why.contains("`wrong-result` answered"), "{why}");
}

/// Lists methods without declaring the hook.
#[extension(name = "conformance-undeclared", config = NoConfig)]
pub(crate) struct Undeclared;
init!(Undeclared, NoConfig);

#[async_trait]
impl Extension for Undeclared {
    fn methods(&self) -> Vec<MethodInfo> {
        vec![MethodInfo::new("m", "x", json!({}), json!({}))]
    }
}

#[tokio::test]
async fn methods_must_be_declared() {
    let report = run(Undeclared::DESCRIPTOR).await;
    assert!(failure(&report, "method schemas").contains("does not declare `methods`"));
}

/// A config key without a default.
#[extension(name = "conformance-needs-key", config = NeedsKey)]
pub(crate) struct NeedsKeyExt;
init!(NeedsKeyExt, NeedsKey);

#[async_trait]
impl Extension for NeedsKeyExt {}

#[tokio::test]
async fn every_config_key_needs_a_default_and_unbuildable_configs_are_errors() {
    let report = check_extension(NeedsKeyExt::DESCRIPTOR, json!({"key": "k"}))
        .await
        .expect("builds with its key");
    let why = failure(&report, "config schema");
    assert!(why.contains("every key must have a default"), "{why}");
    let err = check_extension(NeedsKeyExt::DESCRIPTOR, json!({}))
        .await
        .expect_err("cannot build without its key");
    assert!(err.to_string().contains("cannot be built"), "{err}");
}
