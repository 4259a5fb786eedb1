//! The official fixtures decoded (tests/data, see its README): recorded
//! Converse answers, the SDK snapshots, the binary frame snapshot, and the
//! request of the recorded tool loop rebuilt from core types.

use serde_json::{Value, json};
use switchboard_bedrock::framing::EventStreamFraming;
use switchboard_bedrock::request::{RequestOptions, to_converse};
use switchboard_bedrock::response::parse_converse;
use switchboard_bedrock::stream::ConverseDecoder;
use switchboard_core::{
    ChatEvent, ChatRequest, ContentPart, ErrorKind, FinishReason, Message, ToolCall, Usage,
};
use switchboard_protocol::decoded::{FrameDecoder, decode_frames};
use switchboard_protocol::framing::Framing;

use crate::support::{MODEL, data, frames_of, hex_frames};

#[test]
fn the_recorded_tool_use_answer_decodes() {
    let body = data!("converse_response_tool_use_recorded.json");
    let r = parse_converse(body.as_bytes(), "req-1", MODEL).expect("decodes");
    assert_eq!(r.id, "req-1");
    assert_eq!(r.model, MODEL);
    assert!(r.content.is_empty());
    assert_eq!(
        r.tool_calls,
        vec![ToolCall {
            id: "tooluse_C3ie0cSZR82bOMkKbxXCiw".into(),
            name: "get_lat_long".into(),
            arguments: r#"{"place":"Berlin"}"#.into(),
        }]
    );
    assert_eq!(r.finish_reason, FinishReason::ToolCalls);
    assert_eq!(r.usage, Usage::new(431, 56));
    assert_eq!(r.extra["metrics"], json!({"latencyMs": 1283}));
}

#[test]
fn the_recorded_text_answer_decodes() {
    let body = data!("converse_response_text_after_tool_result_recorded.json");
    let r = parse_converse(body.as_bytes(), "id", MODEL).expect("decodes");
    assert_eq!(
        r.content,
        vec![ContentPart::text(
            "The coordinates of Montreal are latitude 45.5031824 and longitude -73.5698065."
        )]
    );
    assert_eq!(r.finish_reason, FinishReason::Stop);
    assert_eq!(r.usage, Usage::new(539, 26));
}

#[test]
fn the_sdk_snapshot_answer_decodes_with_cache_usage() {
    let body = data!("converse_response_minimal_sdk_snapshot.json");
    let r = parse_converse(body.as_bytes(), "id", MODEL).expect("decodes");
    assert_eq!(
        r.finish_reason,
        FinishReason::Other("__stopReason__".into())
    );
    assert_eq!(
        r.extra["additionalModelResponseFields"]["doc_note"],
        "this is a document"
    );
    // The same document with counts in place of the snapshot's zeros.
    let mut v: Value = serde_json::from_str(body).expect("JSON");
    v["usage"] = json!({"inputTokens": 10, "outputTokens": 5, "totalTokens": 115,
                        "cacheReadInputTokens": 60, "cacheWriteInputTokens": 40});
    v["stopReason"] = json!("max_tokens");
    let r = parse_converse(v.to_string().as_bytes(), "id", MODEL).expect("decodes");
    assert_eq!(
        r.usage,
        Usage {
            input_tokens: 110,
            output_tokens: 5,
            cached_input_tokens: 60,
            cache_write_input_tokens: 40,
            reasoning_tokens: 0,
            total_tokens: 115,
        }
    );
    assert_eq!(r.finish_reason, FinishReason::Length);
}

#[test]
fn reasoning_blocks_become_reasoning_parts() {
    let body = json!({"output": {"message": {"role": "assistant", "content": [
        {"reasoningContent": {"reasoningText": {"text": "Think.", "signature": "sig"}}},
        {"reasoningContent": {"redactedContent": "AQAAAQ=="}},
        {"text": "Done."}
    ]}}, "stopReason": "end_turn", "usage": {"inputTokens": 1, "outputTokens": 2, "totalTokens": 3}});
    let r = parse_converse(body.to_string().as_bytes(), "id", MODEL).expect("decodes");
    assert_eq!(
        r.content,
        vec![
            ContentPart::Reasoning {
                text: "Think.".into(),
                signature: Some("sig".into()),
                redacted: None,
                origin: Some("bedrock".into()),
            },
            ContentPart::Reasoning {
                text: String::new(),
                signature: None,
                redacted: Some("AQAAAQ==".into()),
                origin: Some("bedrock".into()),
            },
            ContentPart::text("Done."),
        ]
    );
}

#[test]
fn the_recorded_tool_loop_request_is_rebuilt_exactly() {
    let fixture: Value =
        serde_json::from_str(data!("converse_request_tool_use_partial.json")).expect("JSON");
    let system = fixture["system"][0]["text"].as_str().expect("system text");
    let mut assistant = Message::assistant(
        "Here are the coordinates for Paris and Berlin obtained using the `get_lat_long` tool:",
    );
    assistant.tool_calls = vec![ToolCall {
        id: "tooluse_77EBAFMeS92g3zHisyE2UA".into(),
        name: "get_lat_long".into(),
        arguments: r#"{"place": "Paris"}"#.into(),
    }];
    let request = ChatRequest::new(
        MODEL,
        vec![
            Message::system(system),
            Message::user("What are the coordinates for both Paris and in Berlin??"),
            assistant,
            Message::tool_result(
                "tooluse_77EBAFMeS92g3zHisyE2UA",
                r#"{"latitude": "48.8534951", "longitude": "2.3483915"}"#,
            ),
        ],
    );
    let body = to_converse(&request, RequestOptions::default()).expect("converts");
    assert_eq!(body["messages"], fixture["messages"]);
    assert_eq!(body["system"], fixture["system"]);
    assert!(
        body.get("modelId").is_none(),
        "the model id goes in the path"
    );
}

#[test]
fn the_sdk_snapshot_request_shapes_match_ours() {
    // The shapes we emit for images and reasoning, as AWS's own snapshot has them.
    let fixture: Value =
        serde_json::from_str(data!("converse_request_sdk_snapshot.json")).expect("JSON");
    let image = &fixture["messages"][0]["content"][0]["guardContent"]["image"];
    assert_eq!(image["source"]["bytes"], "AQAAAQ==");
    let mut user = Message::user("");
    user.content = vec![ContentPart::Image {
        source: switchboard_core::ImageSource::Base64 {
            media_type: "image/png".into(),
            data: "AQAAAQ==".into(),
        },
        detail: None,
    }];
    let mut assistant = Message::assistant("");
    assistant.content = vec![ContentPart::Reasoning {
        text: "__text__".into(),
        signature: Some("__signature__".into()),
        redacted: None,
        origin: Some("bedrock".into()),
    }];
    let request = ChatRequest::new(MODEL, vec![user, assistant]);
    let body = to_converse(&request, RequestOptions::default()).expect("converts");
    let ours = &body["messages"][0]["content"][0]["image"];
    assert_eq!(ours["source"], image["source"]);
    assert_eq!(ours["format"], "png");
    assert_eq!(
        body["messages"][1]["content"][0], fixture["messages"][0]["content"][2],
        "reasoningContent as in the snapshot"
    );
}

/// Every frame of the snapshot, through the framing, fed one byte at a time.
fn snapshot_messages() -> Vec<aws_smithy_types::event_stream::Message> {
    let frames = hex_frames(data!("converse_stream_frames_sdk_snapshot.hex.txt"));
    assert_eq!(frames.len(), 10);
    let mut framing = EventStreamFraming::default();
    let mut out = Vec::new();
    for byte in frames.concat() {
        framing.push(&[byte]);
        while let Some(m) = framing.next_frame().expect("valid frames") {
            out.push(m);
        }
    }
    framing.end_input();
    assert!(framing.next_frame().expect("nothing left over").is_none());
    out
}

#[test]
fn the_snapshot_frames_decode() {
    let messages = snapshot_messages();
    let types: Vec<&str> = messages
        .iter()
        .map(|m| switchboard_bedrock::framing::header(m, ":event-type").expect("an event type"))
        .collect();
    assert_eq!(
        types,
        [
            "messageStart",
            "contentBlockStart",
            "contentBlockDelta",
            "contentBlockStop",
            "messageStop",
            "internalServerException",
            "modelStreamErrorException",
            "validationException",
            "throttlingException",
            "serviceUnavailableException",
        ]
    );
    assert_eq!(messages[0].payload().as_ref(), br#"{"role":"__role__"}"#);
    // The five events: a start, no content we map (an image start and a
    // tool-result delta), and the finish at the end of the input.
    let mut decoder = ConverseDecoder::new("id", MODEL);
    let mut events = Vec::new();
    for m in &messages[..5] {
        decoder.push_frame(m, &mut events).expect("an event");
    }
    decoder
        .finish(&mut events)
        .expect("finished by messageStop");
    assert_eq!(
        events,
        vec![
            ChatEvent::Start {
                id: "id".into(),
                model: MODEL.into(),
                created: None,
            },
            ChatEvent::Finish {
                reason: FinishReason::Other("__stopReason__".into())
            },
        ]
    );
}

#[test]
fn the_snapshot_exceptions_map_to_kinds() {
    let messages = snapshot_messages();
    let kinds: Vec<ErrorKind> = messages[5..]
        .iter()
        .map(|m| {
            let mut decoder = ConverseDecoder::new("id", MODEL);
            let mut events = Vec::new();
            let err = decoder
                .push_frame(m, &mut events)
                .expect_err("an exception frame is an error");
            assert_eq!(err.message(), "__message__");
            assert!(decoder.is_done());
            err.kind().clone()
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            ErrorKind::Upstream { status: 500 },
            ErrorKind::Upstream { status: 500 },
            ErrorKind::InvalidRequest,
            ErrorKind::RateLimited { retry_after: None },
            ErrorKind::Unavailable,
        ]
    );
}

#[test]
fn a_corrupted_frame_is_a_protocol_error() {
    let mut bytes = hex_frames(data!("converse_stream_frames_sdk_snapshot.hex.txt")).concat();
    bytes[30] ^= 0x01;
    let err = decode_frames(
        &bytes,
        EventStreamFraming::default(),
        ConverseDecoder::new("id", MODEL),
    )
    .expect_err("the CRC catches it");
    assert_eq!(err.kind(), &ErrorKind::Protocol);
    // A frame announcing more than the limit is refused before it is buffered.
    let mut huge = vec![0xff, 0xff, 0xff, 0xff];
    huge.extend([0; 12]);
    let err = decode_frames(
        &huge,
        EventStreamFraming::default(),
        ConverseDecoder::new("id", MODEL),
    )
    .expect_err("too large");
    assert_eq!(err.kind(), &ErrorKind::Protocol);
}

#[test]
fn constructed_streams_decode() {
    let decode = |events: &str| {
        decode_frames(
            &frames_of(events).concat(),
            EventStreamFraming::default(),
            ConverseDecoder::new("id", MODEL),
        )
        .expect("decodes")
    };
    let tool = decode(data!("converse_stream_tool_use_constructed.json"));
    assert_eq!(
        tool[1..],
        [
            ChatEvent::ToolCallStart {
                index: 0,
                id: "tooluse_C3ie0cSZR82bOMkKbxXCiw".into(),
                name: "get_lat_long".into()
            },
            ChatEvent::ToolCallDelta {
                index: 0,
                arguments: r#"{"place": "#.into()
            },
            ChatEvent::ToolCallDelta {
                index: 0,
                arguments: r#""Berlin"}"#.into()
            },
            ChatEvent::Usage(Usage::new(431, 56)),
            ChatEvent::Finish {
                reason: FinishReason::ToolCalls
            },
        ]
    );
    let reasoning = decode(data!("converse_stream_reasoning_constructed.json"));
    assert_eq!(
        reasoning[1..],
        [
            ChatEvent::ReasoningDelta {
                text: "The user wants ".into()
            },
            ChatEvent::ReasoningDelta {
                text: "a greeting.".into()
            },
            ChatEvent::ReasoningSignature {
                signature: "EqoBCkgIARABGAIiQ".into(),
                origin: Some("bedrock".into())
            },
            ChatEvent::TextDelta {
                text: "Hello!".into()
            },
            ChatEvent::Usage(Usage {
                input_tokens: 110,
                output_tokens: 20,
                cached_input_tokens: 60,
                cache_write_input_tokens: 40,
                reasoning_tokens: 0,
                total_tokens: 130,
            }),
            ChatEvent::Finish {
                reason: FinishReason::Stop
            },
        ]
    );
}

#[test]
fn a_stream_without_message_stop_is_cut_off() {
    let frames = frames_of(data!("converse_stream_text_constructed.json"));
    let err = decode_frames(
        &frames[..4].concat(),
        EventStreamFraming::default(),
        ConverseDecoder::new("id", MODEL),
    )
    .expect_err("cut off");
    assert_eq!(err.kind(), &ErrorKind::Protocol);
}
