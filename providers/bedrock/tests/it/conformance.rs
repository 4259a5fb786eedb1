//! The shared conformance suite (`switchboard-testkit`) on Amazon Bedrock's wire
//! format.
//!
//! Scaffolded by `cargo xtask new-provider`: every upstream body below is a
//! placeholder, so these tests fail until `chat`/`chat_stream` are
//! implemented and each placeholder is replaced by a real recording in
//! `tests/data/` (with its source in `tests/data/README.md`). The cases a
//! provider runs follow the capabilities its `#[provider]` declares.

use serde_json::{Value, json};
use switchboard_core::{ResponseFormat, Tool, Usage};
use switchboard_testkit::{EndlessStream, ErrorCase, ExpectedToolCall, Recorded, Route, Scenario};

/// Stands in for a recorded upstream body until there is one: replace each
/// use with `Recorded::json(include_str!("data/<file>"))` (or `sse`, `ndjson`).
fn placeholder(what: &str) -> Recorded {
    Recorded::json(json!({ "todo": format!("record {what} into tests/data/") }).to_string())
}

/// A tool for the tool-call cases.
// TODO: the tool of the recorded tool-call exchange.
fn get_weather() -> Tool {
    Tool::new(
        "get_weather",
        "Get the weather of a city",
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
    )
}

/// Amazon Bedrock's recorded bodies, in the kit's terms.
#[derive(Debug)]
struct BedrockFixtures;

impl switchboard_testkit::WireFixtures for BedrockFixtures {
    fn config(&self, base_url: &str, api_key: &str) -> Value {
        // TODO: `base_url` is the mock upstream's root; append the API's path
        // prefix (as `chat_route` expects it) and any other required key.
        json!({ "api_key": api_key, "base_url": base_url })
    }

    fn model(&self) -> String {
        // TODO: the model id of the recordings.
        "anthropic.claude-3-haiku-20240307-v1:0".into()
    }

    fn chat_route(&self, _stream: bool, _model: &str) -> Route {
        // TODO: where Amazon Bedrock takes chat requests, streamed or not (the
        // model may be in the path; add `.with_query(..)` for required query
        // parameters).
        Route::post("/chat")
    }

    fn plain_chat(&self) -> Scenario {
        // TODO: `data/chat_response.json`, a recorded non-streamed answer;
        // its text and token counts.
        Scenario::new(placeholder("a non-streamed chat answer"), "Hello!").usage(Usage::new(0, 0))
    }

    fn stream_text(&self) -> Scenario {
        // TODO: `data/chat_stream_text.sse` (or `.ndjson`), a recorded
        // streamed answer with usage, as `Recorded::sse(..)`; its text and
        // token counts. Also cut up for `stream_truncated`.
        Scenario::new(placeholder("a streamed chat answer"), "Hello!").usage(Usage::new(0, 0))
    }

    fn tool_call(&self, stream: bool) -> Scenario {
        // TODO (once `tools` is declared): `data/chat_response_tool_call.json`
        // and, streamed, `data/chat_stream_tool_call.sse` with the arguments
        // split over several events; the call's id and arguments.
        let what = if stream {
            "a streamed tool call"
        } else {
            "a tool call"
        };
        Scenario::new(placeholder(what), "")
            .tool(get_weather())
            .tool_call(ExpectedToolCall::new(
                "get_weather",
                json!({"city": "Paris"}),
            ))
    }

    fn image_input(&self) -> Scenario {
        // TODO (once `vision` is declared): `data/chat_response_image.json`,
        // the answer to a request with an image; set `supports_image_urls`
        // to false if only inline data is accepted.
        Scenario::new(placeholder("an answer about an image"), "A red square.")
    }

    fn json_schema(&self) -> Scenario {
        // TODO (once `json_schema` is declared):
        // `data/chat_response_json_schema.json` and the schema of its request.
        Scenario::new(placeholder("a JSON-schema answer"), r#"{"answer":42}"#).response_format(
            ResponseFormat::JsonSchema {
                name: "answer".into(),
                description: None,
                schema: json!({"type": "object", "properties": {"answer": {"type": "integer"}}, "required": ["answer"]}),
                strict: Some(true),
            },
        )
    }

    fn error_body(&self, _case: ErrorCase, message: &str) -> Recorded {
        // TODO: Amazon Bedrock's error body, from recordings
        // (`data/error_401.json`, `data/error_429.json`, the context-window
        // error, ...), with `message` where the API puts its message; match
        // on the case where the bodies differ. The kit sets the status.
        Recorded::json(json!({ "error": { "message": message } }).to_string())
    }

    fn endless_stream(&self) -> EndlessStream {
        // TODO: from `data/chat_stream_text.sse`: `head` is the stream up to
        // and including the first text event, `repeat` one text event.
        EndlessStream {
            content_type: "text/event-stream".into(),
            head: b"data: {\"todo\": \"first events of a recorded stream\"}\n\n".to_vec(),
            repeat: b"data: {\"todo\": \"one text event\"}\n\n".to_vec(),
        }
    }

    // TODO: `embeddings` (required once `embeddings` is declared) and
    // `models` (when the provider lists models upstream).
}

switchboard_testkit::conformance_tests!(BedrockFixtures, switchboard_bedrock::BedrockProvider);
