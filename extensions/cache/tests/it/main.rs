//! Tests of the `cache` extension: the testkit's conformance check, and
//! its own behaviour.

use serde_json::json;
use switchboard_core::extension::{InboundApi, MethodCall, RequestContext};
use switchboard_core::{ChatRequest, ErrorKind, Message};
use switchboard_ext_cache::Cache;
use switchboard_testkit::test_extension_context;

/// The contract every extension keeps (config schema, hooks on awkward
/// inputs, refusal statuses, method schemas, unknown methods).
#[test]
fn conformance() {
    switchboard_testkit::assert_extension_conforms(Cache::DESCRIPTOR, json!({}));
}

fn call(method: &str) -> MethodCall {
    MethodCall {
        method: method.into(),
        arguments: json!({}),
        client_key: None,
        admin: false,
        request_id: "test".into(),
    }
}

#[tokio::test]
async fn counts_requests_and_tags_answers() {
    let ext = Cache::DESCRIPTOR
        .build(json!({}), test_extension_context("cache"))
        .await
        .expect("builds from defaults");
    for _ in 0..2 {
        let mut ctx = RequestContext::new("r1", InboundApi::OpenAi);
        let mut request = ChatRequest::new("mock/echo", vec![Message::user("hi")]);
        ext.on_request(&mut ctx, &mut request)
            .await
            .expect("continues");
        assert_eq!(ctx.response_headers.len(), 1);
    }
    let stats = ext.call(call("stats")).await.expect("stats");
    assert_eq!(stats, json!({"requests": 2}));
    let err = ext.call(call("nope")).await.expect_err("unknown method");
    assert_eq!(err.kind(), &ErrorKind::NotFound);
}

#[test]
fn config_is_checked() {
    let d = Cache::DESCRIPTOR;
    assert!(d.validate(&json!({})).is_ok());
    let err = d
        .validate(&json!({"header": "Not A Header"}))
        .expect_err("invalid header");
    assert_eq!(err.param(), Some("header"));
    assert!(d.validate(&json!({"hedaer": "x"})).is_err(), "unknown key");
}

#[test]
fn registered_in_the_extension_catalog() {
    let catalog = switchboard_core::extension::extension_catalog().expect("unique names");
    assert!(catalog.get("cache").is_some(), "{:?}", catalog.names());
}
