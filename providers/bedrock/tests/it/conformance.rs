//! The shared conformance suite (`switchboard-testkit`) on Bedrock's wire
//! format: recorded Converse answers (tests/data, see its README) and
//! ConverseStream frames encoded from the constructed event lists, served
//! by the kit's fake upstream. The kit checks that the key reaches the
//! upstream, so these cases authenticate with a Bedrock API key (bearer);
//! SigV4 is covered in `sigv4.rs`.

use serde_json::{Value, json};
use switchboard_core::{FinishReason, ResponseFormat, Tool, Usage};
use switchboard_testkit::{EndlessStream, ErrorCase, ExpectedToolCall, Recorded, Route, Scenario};

use crate::support::{MODEL, MODEL_IN_PATH, data, event_frame, stream_body};

const EVENT_STREAM: &str = "application/vnd.amazon.eventstream";

/// The tool of the recorded exchange (SAMPLES).
fn get_lat_long() -> Tool {
    Tool::new(
        "get_lat_long",
        "Get the latitude and longitude of a place",
        json!({"type": "object", "properties": {"place": {"type": "string"}}, "required": ["place"]}),
    )
}

const MONTREAL: &str =
    "The coordinates of Montreal are latitude 45.5031824 and longitude -73.5698065.";

#[derive(Debug)]
struct BedrockFixtures;

impl switchboard_testkit::WireFixtures for BedrockFixtures {
    fn config(&self, base_url: &str, api_key: &str) -> Value {
        json!({ "api_key": api_key, "base_url": base_url, "region": "us-east-1" })
    }

    fn model(&self) -> String {
        MODEL.into()
    }

    fn chat_route(&self, stream: bool, _model: &str) -> Route {
        let op = if stream {
            "converse-stream"
        } else {
            "converse"
        };
        Route::post(format!("/model/{MODEL_IN_PATH}/{op}"))
    }

    fn plain_chat(&self) -> Scenario {
        Scenario::new(
            Recorded::json(data!(
                "converse_response_text_after_tool_result_recorded.json"
            )),
            MONTREAL,
        )
        .usage(Usage::new(539, 26))
        .finish(FinishReason::Stop)
    }

    fn stream_text(&self) -> Scenario {
        Scenario::new(
            Recorded::new(
                EVENT_STREAM,
                stream_body(data!("converse_stream_text_constructed.json")),
            ),
            MONTREAL,
        )
        .usage(Usage::new(539, 26))
        .finish(FinishReason::Stop)
    }

    fn tool_call(&self, stream: bool) -> Scenario {
        let response = if stream {
            Recorded::new(
                EVENT_STREAM,
                stream_body(data!("converse_stream_tool_use_constructed.json")),
            )
        } else {
            Recorded::json(data!("converse_response_tool_use_recorded.json"))
        };
        Scenario::new(response, "")
            .tool(get_lat_long())
            .tool_call(
                ExpectedToolCall::new("get_lat_long", json!({"place": "Berlin"}))
                    .with_id("tooluse_C3ie0cSZR82bOMkKbxXCiw"),
            )
            .finish(FinishReason::ToolCalls)
    }

    fn parallel_tool_calls(&self, stream: bool) -> Option<Scenario> {
        let response = if stream {
            Recorded::new(
                EVENT_STREAM,
                stream_body(data!("converse_stream_parallel_tool_use_constructed.json")),
            )
        } else {
            Recorded::json(data!(
                "converse_response_parallel_tool_use_constructed.json"
            ))
        };
        Some(
            Scenario::new(response, "I'll look up both cities.")
                .tool(get_lat_long())
                .tool_call(
                    ExpectedToolCall::new("get_lat_long", json!({"place": "Paris"}))
                        .with_id("tooluse_paris01"),
                )
                .tool_call(
                    ExpectedToolCall::new("get_lat_long", json!({"place": "Berlin"}))
                        .with_id("tooluse_berlin02"),
                )
                .finish(FinishReason::ToolCalls),
        )
    }

    fn image_input(&self) -> Scenario {
        // No recorded answer about an image is public; the recorded text
        // answer stands in (the kit checks the image reached the upstream).
        Scenario::new(
            Recorded::json(data!(
                "converse_response_text_after_tool_result_recorded.json"
            )),
            MONTREAL,
        )
    }

    fn supports_image_urls(&self) -> bool {
        false
    }

    fn json_schema(&self) -> Scenario {
        Scenario::new(
            Recorded::json(data!("converse_response_json_schema_constructed.json")),
            r#"{"answer":42}"#,
        )
        .response_format(ResponseFormat::JsonSchema {
            name: "answer".into(),
            description: None,
            schema: json!({"type": "object", "properties": {"answer": {"type": "integer"}}, "required": ["answer"]}),
            strict: Some(true),
        })
    }

    /// Converse takes the schema as a JSON string in
    /// `outputConfig.textFormat.structure.jsonSchema.schema`.
    fn schema_sent(&self, body: &Value, schema: &Value) -> Result<(), String> {
        let format = &body["outputConfig"]["textFormat"];
        if format["type"] != "json_schema" {
            return Err(format!("no json_schema text format in {body}"));
        }
        let sent = format["structure"]["jsonSchema"]["schema"]
            .as_str()
            .ok_or("the schema is not a string")?;
        let sent: Value = serde_json::from_str(sent).map_err(|e| e.to_string())?;
        if &sent == schema {
            Ok(())
        } else {
            Err(format!("sent {sent}, expected {schema}"))
        }
    }

    fn error_body(&self, case: ErrorCase, message: &str) -> Recorded {
        let kind = match case {
            ErrorCase::Unauthorized => Some("UnrecognizedClientException"),
            ErrorCase::Forbidden => Some("AccessDeniedException"),
            ErrorCase::NotFound => Some("ResourceNotFoundException"),
            ErrorCase::BadRequest | ErrorCase::ContextLengthExceeded => Some("ValidationException"),
            ErrorCase::RateLimited => Some("ThrottlingException"),
            ErrorCase::Server(500) => Some("InternalServerException"),
            ErrorCase::Server(503) => Some("ServiceUnavailableException"),
            ErrorCase::Server(_) => None,
        };
        let response = Recorded::json(json!({ "message": message }).to_string());
        match kind {
            Some(kind) => response.with_header(
                "x-amzn-errortype",
                format!("{kind}:http://internal.amazon.com/coral/com.amazon.bedrock/"),
            ),
            None => response,
        }
    }

    fn endless_stream(&self) -> EndlessStream {
        let text = json!({"delta": {"text": "and more "}, "contentBlockIndex": 0});
        let mut head = event_frame("messageStart", &json!({"role": "assistant"}));
        head.extend(event_frame("contentBlockDelta", &text));
        EndlessStream {
            content_type: EVENT_STREAM.into(),
            head,
            repeat: event_frame("contentBlockDelta", &text),
        }
    }
}

switchboard_testkit::conformance_tests!(BedrockFixtures, switchboard_bedrock::BedrockProvider);
