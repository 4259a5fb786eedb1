//! The model-override extension: the conformance check and its hook.

use serde_json::json;
use switchboard_core::extension::{InboundApi, RequestContext};
use switchboard_core::{ChatRequest, ErrorKind, Message};
use switchboard_ext_model_override::{ModelOverride, OverriddenModel};
use switchboard_testkit::test_extension_context;

#[test]
fn conformance() {
    switchboard_testkit::assert_extension_conforms(ModelOverride::DESCRIPTOR, json!({}));
}

async fn run(
    config: serde_json::Value,
    header: Option<&str>,
) -> (
    RequestContext,
    ChatRequest,
    Result<(), switchboard_core::Error>,
) {
    let ext = ModelOverride::DESCRIPTOR
        .build(config, test_extension_context("model-override"))
        .await
        .expect("builds");
    let mut ctx = RequestContext::new("r1", InboundApi::OpenAi);
    if let Some(value) = header {
        ctx.headers.push(("x-model-override".into(), value.into()));
    }
    let mut request = ChatRequest::new("fast", vec![Message::user("hi")]);
    let result = ext.on_request(&mut ctx, &mut request).await.map(|_| ());
    (ctx, request, result)
}

#[tokio::test]
async fn the_header_replaces_the_model() {
    let (ctx, request, result) = run(json!({}), Some("mock/echo")).await;
    result.expect("continues");
    assert_eq!(request.model, "mock/echo");
    assert_eq!(
        ctx.scratch.get::<OverriddenModel>().map(|m| m.0.as_str()),
        Some("fast")
    );
    assert_eq!(
        ctx.response_headers,
        vec![("x-switchboard-model-override".into(), "mock/echo".into())]
    );
}

#[tokio::test]
async fn no_header_changes_nothing() {
    let (ctx, request, result) = run(json!({}), None).await;
    result.expect("continues");
    assert_eq!(request.model, "fast");
    assert!(ctx.response_headers.is_empty());
}

#[tokio::test]
async fn models_outside_the_allow_list_are_refused() {
    let config = json!({"allowed": ["smart"]});
    let (_, request, result) = run(config, Some("mock/echo")).await;
    let err = result.expect_err("refused");
    assert_eq!(err.kind(), &ErrorKind::Permission);
    assert!(err.message().contains("allowed models: smart"), "{err}");
    assert_eq!(request.model, "fast", "a refused request is left alone");
}
