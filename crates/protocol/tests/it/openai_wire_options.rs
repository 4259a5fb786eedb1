//! The OpenAI encoder options for OpenAI-compatible services
//! ([`WireOptions`]): the behaviour of the `openai-compatible` provider's
//! JSON reshaping (`shape.rs`), same inputs and same outputs, on the typed
//! request.

use serde_json::{Value, json};
use switchboard_core::{ChatRequest, ErrorKind, Message};
use switchboard_protocol::openai::{
    ChatCompletionRequest, MaxTokensField, ParamSpec, RequestOptions, UnsupportedParams,
    WireOptions, to_wire_request_with,
};

fn options(unsupported: &[&str], policy: UnsupportedParams) -> WireOptions {
    WireOptions {
        service: "Test".into(),
        unsupported: unsupported
            .iter()
            .map(|s| ParamSpec::parse(s).expect("valid"))
            .collect(),
        unsupported_params: policy,
        renames: vec![("seed".into(), "random_seed".into())],
        developer_as_system: true,
        ..WireOptions::default()
    }
}

/// Applies `opts` to the request `body` (a JSON text), returning what the
/// fitted request serializes to.
fn apply(
    opts: &WireOptions,
    body: &Value,
) -> Result<(Value, Vec<String>), switchboard_core::Error> {
    let text = body.to_string();
    let mut wire: ChatCompletionRequest<'_> = serde_json::from_str(&text).expect("a request");
    let dropped = opts.apply(&mut wire)?;
    Ok((serde_json::to_value(&wire).expect("serializable"), dropped))
}

#[test]
fn rejects_naming_the_parameter() {
    let s = options(
        &["logprobs", "messages[].name", "n>1"],
        UnsupportedParams::Reject,
    );
    let b = json!({"model": "m", "messages": [{"role": "user", "content": "x", "name": "bob"}]});
    let err = apply(&s, &b).expect_err("name is unsupported");
    assert_eq!(err.kind(), &ErrorKind::InvalidRequest);
    assert_eq!(err.param(), Some("messages[].name"));
    assert_eq!(
        err.message(),
        "`messages[].name` is not supported by Test; leave it out, or set `unsupported_params = \"drop\"` on this instance to drop it"
    );
    let ok = json!({"model": "m", "messages": [], "n": 1, "logprobs": null});
    assert!(apply(&s, &ok).is_ok(), "n = 1 and a null logprobs are fine");
    let n2 = json!({"model": "m", "messages": [], "n": 2});
    assert_eq!(apply(&s, &n2).expect_err("n>1").param(), Some("n>1"));
}

#[test]
fn drops_and_reports() {
    let s = options(
        &["logprobs", "messages[].name", "response_format=json_object"],
        UnsupportedParams::Drop,
    );
    let b = json!({
        "model": "m",
        "messages": [{"role": "developer", "content": "x", "name": "bob"}],
        "logprobs": true, "seed": 7, "response_format": {"type": "json_object"}
    });
    let (body, dropped) = apply(&s, &b).expect("dropped");
    assert_eq!(
        dropped,
        vec!["logprobs", "messages[].name", "response_format=json_object"]
    );
    assert_eq!(
        body,
        json!({"model": "m", "messages": [{"role": "system", "content": "x"}], "random_seed": 7})
    );
}

#[test]
fn parses_specs() {
    assert_eq!(ParamSpec::parse("n>1"), Ok(ParamSpec::NAboveOne));
    assert!(ParamSpec::parse("messages[].").is_err());
    assert!(ParamSpec::parse("bad name").is_err());
    assert_eq!(
        ParamSpec::parse("response_format=json_object"),
        Ok(ParamSpec::ResponseFormat("json_object".into()))
    );
    for raw in [
        "logprobs",
        "messages[].name",
        "response_format=json_object",
        "n>1",
    ] {
        assert_eq!(ParamSpec::parse(raw).expect("valid").to_string(), raw);
    }
}

#[test]
fn unknown_fields_are_dropped_from_extra_and_renamed_fields_conflict() {
    let s = options(&["logit_bias", "messages[].cache"], UnsupportedParams::Drop);
    let b = json!({
        "model": "m",
        "messages": [{"role": "user", "content": "x", "cache": {"a": 1}}],
        "logit_bias": {"1": 2}, "service_tier": "auto"
    });
    let (body, dropped) = apply(&s, &b).expect("dropped");
    assert_eq!(dropped, vec!["logit_bias", "messages[].cache"]);
    assert_eq!(
        body,
        json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "service_tier": "auto"})
    );
    let both = json!({"model": "m", "messages": [], "seed": 1, "random_seed": 2});
    let err = apply(&s, &both).expect_err("both names");
    assert_eq!(err.kind(), &ErrorKind::InvalidRequest);
    assert_eq!(err.param(), Some("seed"));
    assert_eq!(
        err.message(),
        "Test calls `seed` `random_seed`; give only one of them"
    );
}

#[test]
fn developer_role_is_kept_unless_asked() {
    let mut s = options(&[], UnsupportedParams::Reject);
    s.developer_as_system = false;
    let b = json!({"model": "m", "messages": [{"role": "developer", "content": "x"}]});
    let (body, dropped) = apply(&s, &b).expect("ok");
    assert!(dropped.is_empty());
    assert_eq!(body["messages"][0]["role"], "developer");
}

#[test]
fn the_encoder_writes_the_token_field_and_the_stream_fields() {
    let req = ChatRequest::new("m", vec![Message::user("Hi")]).max_tokens(5);
    let opts = WireOptions {
        request: RequestOptions::default().max_completion_tokens(),
        include_usage: false,
        ..WireOptions::default()
    };
    let fitted = to_wire_request_with(&req, &opts, true).expect("ok");
    let body = serde_json::to_value(&fitted.request).expect("serializable");
    assert_eq!(
        body,
        json!({"model": "m", "messages": [{"role": "user", "content": "Hi"}], "max_completion_tokens": 5, "stream": true})
    );
    // `stream_options` in the unsupported list does not reject a stream:
    // the stream fields are written after the fitting.
    let opts = WireOptions {
        unsupported: vec![ParamSpec::parse("stream_options").expect("valid")],
        ..WireOptions::default()
    };
    let fitted = to_wire_request_with(&req, &opts, true).expect("ok");
    assert!(fitted.request.include_usage());
    assert!(fitted.dropped.is_empty());
    let plain = to_wire_request_with(&req, &WireOptions::default(), false).expect("ok");
    assert_eq!(plain.request.stream, None);
    assert_eq!(plain.request.max_tokens, Some(5));
}

#[test]
fn model_and_messages_cannot_be_dropped() {
    let s = options(&["model"], UnsupportedParams::Drop);
    let b = json!({"model": "m", "messages": []});
    assert_eq!(
        apply(&s, &b).expect_err("always sent").param(),
        Some("model")
    );
}

#[test]
fn config_types_keep_their_serialized_names_and_schemas() {
    assert_eq!(
        serde_json::to_value(MaxTokensField::MaxCompletionTokens).expect("ok"),
        "max_completion_tokens"
    );
    assert_eq!(
        serde_json::from_value::<MaxTokensField>(json!("max_tokens")).expect("ok"),
        MaxTokensField::MaxTokens
    );
    assert_eq!(
        serde_json::to_value(UnsupportedParams::Drop).expect("ok"),
        "drop"
    );
    // The schemas `schemas/providers/openai-compatible.schema.json` holds
    // for the `openai-compatible` config's own types today.
    let token = schemars::schema_for!(MaxTokensField);
    assert_eq!(
        token.get("title").and_then(Value::as_str),
        Some("TokenField")
    );
    assert_eq!(
        token.get("description"),
        Some(&json!(
            "Which wire field carries the request's `max_tokens`."
        ))
    );
    assert_eq!(
        token.get("oneOf"),
        Some(&json!([
            {"const": "max_tokens", "description": "`max_tokens` (every compatible server knows it).", "type": "string"},
            {"const": "max_completion_tokens", "description": "`max_completion_tokens` (OpenAI's newer name).", "type": "string"}
        ]))
    );
    let unsupported = schemars::schema_for!(UnsupportedParams);
    assert_eq!(
        unsupported.get("description"),
        Some(&json!(
            "What to do with a request parameter the service does not support."
        ))
    );
    assert_eq!(
        unsupported.get("oneOf"),
        Some(&json!([
            {"const": "reject", "description": "Fail with `invalid_request` naming the parameter, before anything is sent.", "type": "string"},
            {"const": "drop", "description": "Leave it out of the request and list it in the answer's\n`extra[\"dropped_params\"]` (a streamed answer has no such record).", "type": "string"}
        ]))
    );
}
