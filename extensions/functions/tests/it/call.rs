//! Calling a defined function: rendering, structured output, argument
//! errors and the repair retry.

use serde_json::json;
use switchboard_core::{ErrorKind, ResponseFormat, Role};

use crate::fakes::{Harness, greet, summarize};

#[tokio::test]
async fn a_call_renders_the_template_and_sends_the_output_schema() {
    let h = Harness::new(&[r#"{"summary": "Cats sleep."}"#]).await;
    h.call("define", summarize()).await.expect("defined");
    let result = h
        .call(
            "summarize",
            json!({"text": "Cats sleep a lot.", "words": 3}),
        )
        .await
        .expect("answered");
    assert_eq!(result, json!({"summary": "Cats sleep."}));

    let requests = h.gateway.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.model, "fast");
    assert_eq!(request.messages.len(), 2);
    assert_eq!(request.messages[0].role, Role::System);
    assert_eq!(request.messages[0].text(), "You are terse.");
    assert_eq!(request.messages[1].role, Role::User);
    assert_eq!(
        request.messages[1].text(),
        "Summarize in at most 3 words:\nCats sleep a lot."
    );
    match &request.response_format {
        Some(ResponseFormat::JsonSchema { name, schema, .. }) => {
            assert_eq!(name, "summarize");
            assert_eq!(schema, &summarize()["output_schema"]);
        }
        other => panic!("expected a JSON schema response format, got {other:?}"),
    }
}

#[tokio::test]
async fn without_output_schema_the_text_is_returned() {
    let h = Harness::new(&["Hello, Ada!"]).await;
    h.call("define", greet()).await.expect("defined");
    let result = h
        .call("greet", json!({"who": "Ada"}))
        .await
        .expect("answered");
    assert_eq!(result, json!({"text": "Hello, Ada!"}));
    let request = &h.gateway.requests()[0];
    assert_eq!(request.response_format, None);
    assert_eq!(request.messages.len(), 1, "no system prompt was defined");
    assert_eq!(request.messages[0].text(), "Say hello to Ada.");
}

#[tokio::test]
async fn a_bad_argument_is_a_400_naming_it() {
    let h = Harness::new(&["unused"]).await;
    h.call("define", summarize()).await.expect("defined");

    let err = h
        .call("summarize", json!({"text": "x", "words": "three"}))
        .await
        .expect_err("wrong type");
    assert_eq!(err.kind(), &ErrorKind::InvalidRequest);
    assert_eq!(err.kind().http_status(), 400);
    assert_eq!(err.param(), Some("words"), "{err}");
    assert!(err.message().contains("words"), "{err}");

    let err = h
        .call("summarize", json!({"words": 3}))
        .await
        .expect_err("missing");
    assert_eq!(err.param(), Some("text"), "{err}");

    let err = h
        .call("summarize", json!({"text": "x", "words": 3, "tone": "dry"}))
        .await
        .expect_err("unexpected");
    assert_eq!(err.param(), Some("tone"), "{err}");

    assert!(h.gateway.requests().is_empty(), "nothing was routed");
}

#[tokio::test]
async fn a_fenced_answer_is_accepted() {
    let h = Harness::new(&["```json\n{\"summary\": \"ok\"}\n```"]).await;
    h.call("define", summarize()).await.expect("defined");
    let result = h
        .call("summarize", json!({"text": "x", "words": 1}))
        .await
        .expect("answered");
    assert_eq!(result, json!({"summary": "ok"}));
}

#[tokio::test]
async fn one_repair_retry_fixes_a_bad_answer() {
    let h = Harness::new(&[r#"{"summary": 42}"#, r#"{"summary": "fixed"}"#]).await;
    h.call("define", summarize()).await.expect("defined");
    let result = h
        .call("summarize", json!({"text": "x", "words": 1}))
        .await
        .expect("repaired");
    assert_eq!(result, json!({"summary": "fixed"}));

    let requests = h.gateway.requests();
    assert_eq!(requests.len(), 2);
    let repair = &requests[1];
    assert_eq!(
        repair.messages.len(),
        4,
        "system, user, the bad answer, the repair ask"
    );
    assert_eq!(repair.messages[2].role, Role::Assistant);
    assert_eq!(repair.messages[2].text(), r#"{"summary": 42}"#);
    let ask = repair.messages[3].text();
    assert!(
        ask.contains("/summary"),
        "the repair names the problem: {ask}"
    );
    assert!(ask.contains("corrected JSON"), "{ask}");
    assert!(repair.response_format.is_some());
}

#[tokio::test]
async fn two_bad_answers_are_a_clear_error() {
    let h = Harness::new(&[
        "Sure! The summary is: cats.",
        r#"{"sum": "cats"}"#,
        "unused",
    ])
    .await;
    h.call("define", summarize()).await.expect("defined");
    let err = h
        .call("summarize", json!({"text": "x", "words": 1}))
        .await
        .expect_err("still wrong");
    assert_eq!(err.kind(), &ErrorKind::Protocol, "{err}");
    let message = err.message();
    assert!(message.contains("summarize"), "{message}");
    assert!(message.contains("repair"), "{message}");
    assert!(message.contains("summary"), "names what failed: {message}");
    assert_eq!(h.gateway.requests().len(), 2, "exactly one retry");
}

#[tokio::test]
async fn a_gateway_error_is_passed_on() {
    let h = Harness::new(&[]).await;
    h.call("define", greet()).await.expect("defined");
    let err = h
        .call("greet", json!({"who": "Ada"}))
        .await
        .expect_err("no answer");
    assert_eq!(err.kind(), &ErrorKind::Unavailable);
}

#[tokio::test]
async fn non_string_arguments_render_as_json() {
    let h = Harness::new(&["ok"]).await;
    let def = json!({
        "name": "describe",
        "template": "Describe {{item}} with tags {{tags}}.",
        "parameters": {
            "type": "object",
            "properties": {"item": {"type": "object"}, "tags": {"type": "array"}}
        },
        "model": "fast"
    });
    h.call("define", def).await.expect("defined");
    h.call("describe", json!({"item": {"id": 7}, "tags": ["a", 1]}))
        .await
        .expect("answered");
    assert_eq!(
        h.gateway.requests()[0].messages[0].text(),
        r#"Describe {"id":7} with tags ["a",1]."#
    );
}
