//! Unit tests of the chat vocabulary.

use super::*;
use crate::ErrorKind;
use serde_json::Value;

fn req() -> ChatRequest {
    ChatRequest::new("m", vec![Message::user("hi")])
}

#[test]
fn validates_sampling_ranges() {
    assert!(req().validate().is_ok());
    assert!(req().temperature(0.0).validate().is_ok());
    assert!(req().temperature(2.0).validate().is_ok());
    let err = req().temperature(2.5).validate().expect_err("out of range");
    assert_eq!(err.kind(), &ErrorKind::InvalidRequest);
    assert_eq!(err.param(), Some("temperature"));
    let err = req().temperature(f32::NAN).validate().expect_err("nan");
    assert_eq!(err.param(), Some("temperature"));
    let mut r = req();
    r.top_p = Some(1.5);
    assert_eq!(r.validate().expect_err("top_p").param(), Some("top_p"));
    let err = req().max_tokens(0).validate().expect_err("zero");
    assert_eq!(err.param(), Some("max_tokens"));
    assert!(req().max_tokens(1).validate().is_ok());
}

#[test]
fn validates_structure() {
    let empty = ChatRequest::new("m", vec![]);
    assert_eq!(
        empty.validate().expect_err("empty").param(),
        Some("messages")
    );
    let bad_tool = req().tool(Tool::new("has space", "d", serde_json::json!({})));
    assert_eq!(
        bad_tool.validate().expect_err("bad name").param(),
        Some("tools[0].name")
    );
    let mut choice = req();
    choice.tool_choice = Some(ToolChoice::Tool("nope".into()));
    assert_eq!(
        choice.validate().expect_err("unknown tool").param(),
        Some("tool_choice")
    );
    let mut required = req();
    required.tool_choice = Some(ToolChoice::Required);
    assert_eq!(
        required.validate().expect_err("no tools").param(),
        Some("tool_choice")
    );
    let mut orphan = req();
    orphan.messages.push(Message::new(Role::Tool, "42"));
    assert_eq!(
        orphan.validate().expect_err("orphan").param(),
        Some("messages[1].tool_call_id")
    );
}

#[test]
fn finish_reason_serde_is_lossless() {
    for raw in ["stop", "length", "tool_calls", "content_filter", "SAFETY"] {
        let fr: FinishReason =
            serde_json::from_value(Value::String(raw.into())).expect("string parses");
        assert_eq!(
            serde_json::to_value(&fr).ok(),
            Some(Value::String(raw.into()))
        );
    }
}

#[test]
fn message_json_shape() {
    let m = Message::tool_result("call_1", "sunny");
    let v = serde_json::to_value(&m).expect("serializes");
    assert_eq!(
        v,
        serde_json::json!({"role":"tool","content":[{"type":"text","text":"sunny"}],"tool_call_id":"call_1"})
    );
    let back: Message = serde_json::from_value(v).expect("round trips");
    assert_eq!(back, m);
    let img = ContentPart::image_base64("image/png", "AAAA");
    let v = serde_json::to_value(&img).expect("serializes");
    assert_eq!(
        v,
        serde_json::json!({"type":"image","source":"base64","media_type":"image/png","data":"AAAA"})
    );
    assert_eq!(serde_json::from_value::<ContentPart>(v).ok(), Some(img));
}

#[test]
fn reasoning_origin_and_tool_errors_are_optional_in_json() {
    // A conversation saved before origins existed still loads, origin unknown.
    let old: ContentPart = serde_json::from_value(
        serde_json::json!({"type": "reasoning", "text": "t", "signature": "S"}),
    )
    .expect("parses");
    assert_eq!(
        old,
        ContentPart::Reasoning {
            text: "t".into(),
            signature: Some("S".into()),
            redacted: None,
            origin: None,
        }
    );
    assert_eq!(
        serde_json::to_value(&old).expect("serializes"),
        serde_json::json!({"type": "reasoning", "text": "t", "signature": "S"}),
        "no origin, no `origin` key"
    );
    let stamped = ContentPart::Reasoning {
        text: "t".into(),
        signature: Some("S".into()),
        redacted: None,
        origin: Some("gemini".into()),
    };
    let v = serde_json::to_value(&stamped).expect("serializes");
    assert_eq!(v["origin"], "gemini");
    assert_eq!(serde_json::from_value::<ContentPart>(v).ok(), Some(stamped));

    let err = Message::tool_error("call_1", "no such city");
    let v = serde_json::to_value(&err).expect("serializes");
    assert_eq!(v["is_error"], true);
    assert_eq!(serde_json::from_value::<Message>(v).ok(), Some(err));
    let ok = serde_json::to_value(Message::tool_result("call_1", "x")).expect("serializes");
    assert!(ok.get("is_error").is_none(), "false is not written");
}

#[test]
fn usage_adds() {
    let mut u = Usage::new(3, 4);
    u.add(&Usage::new(1, 1));
    assert_eq!(u.total_tokens, 9);
    assert_eq!(u.input_tokens, 4);
    u.add(&Usage::new(u64::MAX, 1));
    assert_eq!(u.input_tokens, u64::MAX);
    assert_eq!(Usage::new(u64::MAX, 5).total_tokens, u64::MAX);
}
