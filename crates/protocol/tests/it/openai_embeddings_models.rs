//! Embeddings and model lists, both ways.

use crate::common;

use common::{assert_json_eq, fixture, fixture_json};
use serde_json::{Value, json};
use switchboard_core::{EmbeddingsRequest, EmbeddingsResponse, ErrorKind, ModelInfo, Usage};
use switchboard_protocol::openai::{
    EncodingFormat, decode_base64_vector, encode_base64_vector, parse_embeddings_request,
    parse_embeddings_response, parse_models, to_wire_embeddings_request,
    to_wire_embeddings_response, to_wire_models,
};

#[test]
fn embeddings_request_fixture_round_trips() {
    let inbound =
        parse_embeddings_request(&fixture("openai/embeddings_request.json")).expect("parses");
    assert_eq!(inbound.request.model, "text-embedding-ada-002");
    assert_eq!(
        inbound.request.input,
        vec!["The food was delicious and the waiter...".to_owned()]
    );
    assert_eq!(inbound.encoding_format, Some(EncodingFormat::Float));
    assert!(inbound.request.validate().is_ok());
    let mut wire = to_wire_embeddings_request(&inbound.request).expect("converts");
    wire.encoding_format = inbound.encoding_format;
    assert_json_eq(
        &serde_json::to_value(&wire).expect("json"),
        &fixture_json("openai/embeddings_request.json"),
    );
}

#[test]
fn embeddings_request_shapes() {
    let inbound = parse_embeddings_request(br#"{"model":"m","input":["a","b"],"dimensions":256,"user":"u","encoding_format":"base64","extra_thing":1}"#)
        .expect("parses");
    assert_eq!(inbound.request.input, vec!["a".to_owned(), "b".to_owned()]);
    assert_eq!(inbound.request.dimensions, Some(256));
    assert_eq!(inbound.request.user.as_deref(), Some("u"));
    assert_eq!(inbound.encoding_format, Some(EncodingFormat::Base64));
    assert_eq!(inbound.request.extra["extra_thing"], json!(1));
    let wire = serde_json::to_value(to_wire_embeddings_request(&inbound.request).expect("ok"))
        .expect("json");
    assert_eq!(wire["input"], json!(["a", "b"]));
    assert_eq!(wire["extra_thing"], json!(1));

    let err = parse_embeddings_request(br#"{"model":"m","input":[1,2,3]}"#).expect_err("tokens");
    assert_eq!(
        (err.kind(), err.param()),
        (&ErrorKind::Unsupported, Some("input"))
    );
    let err = parse_embeddings_request(br#"{"model":"m","input":{"x":1}}"#).expect_err("bad input");
    assert_eq!(err.param(), Some("input"));
    assert!(
        err.message()
            .contains("expected a string, an array of strings"),
        "{}",
        err.message()
    );
    let err = parse_embeddings_request(br#"{"model":"m","input":"x","encoding_format":"int8"}"#)
        .expect_err("format");
    assert_eq!(err.param(), Some("encoding_format"));

    let mut req = EmbeddingsRequest::new("m", vec!["x".into()]);
    req.extra.insert("encoding_format".into(), json!("base64"));
    assert_eq!(
        to_wire_embeddings_request(&req)
            .expect("ok")
            .encoding_format,
        Some(EncodingFormat::Base64)
    );
    req.extra.insert("dimensions".into(), json!(3));
    assert_eq!(
        to_wire_embeddings_request(&req).expect_err("dup").param(),
        Some("extra.dimensions")
    );
}

#[test]
fn embeddings_response_fixture() {
    let resp =
        parse_embeddings_response(&fixture("openai/embeddings_response.json")).expect("parses");
    assert_eq!(resp.model, "text-embedding-ada-002");
    assert_eq!(
        resp.embeddings,
        vec![vec![0.002_306_425_5_f32, -0.009_327_292, -0.002_884_222_2]]
    );
    assert_eq!(
        resp.usage,
        Usage {
            input_tokens: 8,
            total_tokens: 8,
            ..Default::default()
        }
    );

    for format in [EncodingFormat::Float, EncodingFormat::Base64] {
        let wire = to_wire_embeddings_response(&resp, format);
        let bytes = serde_json::to_vec(&wire).expect("json");
        let back = parse_embeddings_response(&bytes).expect("reads back");
        assert_eq!(back.embeddings, resp.embeddings, "{format:?}: bit-exact");
        assert_eq!(back.usage, resp.usage);
        let v: Value = serde_json::from_slice(&bytes).expect("json");
        assert_eq!(v["object"], json!("list"));
        assert_eq!(v["data"][0]["object"], json!("embedding"));
        assert_eq!(v["data"][0]["index"], json!(0));
        assert_eq!(v["usage"], json!({"prompt_tokens": 8, "total_tokens": 8}));
        match format {
            EncodingFormat::Float => assert!(v["data"][0]["embedding"].is_array()),
            EncodingFormat::Base64 => assert!(v["data"][0]["embedding"].is_string()),
        }
    }
    // Float vectors written back keep the published digits (f32s are written
    // shortest-round-trip by serde_json's writer; `to_value` would widen them).
    let bytes = serde_json::to_vec(&to_wire_embeddings_response(&resp, EncodingFormat::Float))
        .expect("json");
    let v: Value = serde_json::from_slice(&bytes).expect("json");
    assert!(String::from_utf8_lossy(&bytes).contains("[0.0023064255,-0.009327292,-0.0028842222]"));
    let original = fixture_json("openai/embeddings_response.json");
    assert_json_eq(&v["data"], &original["data"]);
}

#[test]
fn embeddings_response_order_and_base64() {
    let one = encode_base64_vector(&[1.0, -2.5]);
    assert_eq!(one, "AACAPwAAIMA=");
    assert_eq!(decode_base64_vector(&one).expect("ok"), vec![1.0, -2.5]);
    assert_eq!(
        decode_base64_vector("AAA=").expect_err("3 bytes").kind(),
        &ErrorKind::Protocol
    );
    assert_eq!(
        decode_base64_vector("!!").expect_err("not base64").kind(),
        &ErrorKind::Protocol
    );

    let body = format!(
        r#"{{"object":"list","model":"m","data":[
        {{"object":"embedding","index":1,"embedding":"{one}"}},
        {{"object":"embedding","index":0,"embedding":[0.5]}}],"usage":{{"prompt_tokens":2,"total_tokens":2}}}}"#
    );
    let resp = parse_embeddings_response(body.as_bytes()).expect("ok");
    assert_eq!(
        resp.embeddings,
        vec![vec![0.5], vec![1.0, -2.5]],
        "sorted by index"
    );
    let err = parse_embeddings_response(
        br#"{"data":[{"index":0,"embedding":[1]},{"index":0,"embedding":[2]}]}"#,
    )
    .expect_err("dup index");
    assert_eq!(err.kind(), &ErrorKind::Protocol);
    let resp = EmbeddingsResponse {
        model: "m".into(),
        embeddings: vec![],
        ..Default::default()
    };
    let v = serde_json::to_value(to_wire_embeddings_response(&resp, EncodingFormat::Float))
        .expect("json");
    assert_eq!(v["data"], json!([]));
}

#[test]
fn models_list_fixture() {
    let models = parse_models(&fixture("openai/models_list.json")).expect("parses");
    assert_eq!(models.len(), 3);
    assert_eq!(models[0].id, "model-id-0");
    assert_eq!(models[0].created, Some(1_686_935_002));
    assert_eq!(models[0].owned_by.as_deref(), Some("organization-owner"));
    assert_eq!(models[2].owned_by.as_deref(), Some("openai"));
    assert_eq!(models[0].context_length, None);

    let v = serde_json::to_value(to_wire_models(&models)).expect("json");
    let original = fixture_json("openai/models_list.json");
    assert_eq!(v["object"], json!("list"));
    for (mine, theirs) in v["data"]
        .as_array()
        .expect("array")
        .iter()
        .zip(original["data"].as_array().expect("array"))
    {
        for key in ["id", "object", "created", "owned_by"] {
            assert_eq!(mine[key], theirs[key], "{key}");
        }
    }
}

#[test]
fn model_list_extensions_and_fallbacks() {
    let models = parse_models(br#"{"object":"list","data":[
        {"id":"llama-3.1-8b-instant","object":"model","created":1693721698,"owned_by":"Meta","active":true,"context_window":131072},
        {"id":"openai/gpt-4o","name":"OpenAI: GPT-4o","context_length":128000},
        {"id":"local","object":"model","max_model_len":4096}]}"#)
    .expect("parses");
    assert_eq!(models[0].context_length, Some(131_072));
    assert_eq!(models[1].context_length, Some(128_000));
    assert_eq!(models[1].display_name.as_deref(), Some("OpenAI: GPT-4o"));
    assert_eq!(models[1].created, None);
    assert_eq!(models[1].owned_by, None);
    assert_eq!(models[2].context_length, Some(4096));
    assert_eq!(
        parse_models(b"[]").expect_err("not a list").kind(),
        &ErrorKind::Protocol
    );

    let mine = vec![
        ModelInfo {
            provider: "groq".into(),
            context_length: Some(8192),
            input_price_per_million: Some(0.05),
            output_price_per_million: Some(0.08),
            ..ModelInfo::new("groq/llama")
        },
        ModelInfo::new("mock-1"),
    ];
    let v = serde_json::to_value(to_wire_models(&mine)).expect("json");
    assert_eq!(
        v,
        json!({"object": "list", "data": [
            {"id": "groq/llama", "object": "model", "created": 0, "owned_by": "groq", "context_length": 8192,
             "pricing": {"input_per_million_usd": 0.05, "output_per_million_usd": 0.08}},
            {"id": "mock-1", "object": "model", "created": 0, "owned_by": "switchboard"}
        ]})
    );
}
