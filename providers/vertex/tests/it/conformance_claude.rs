//! The conformance kit on Claude models through Vertex AI
//! (`publishers/anthropic`, `rawPredict` / `streamRawPredict`), fed with the
//! Anthropic Messages fixtures of `switchboard-protocol` (recorded from
//! Anthropic's API; see `crates/protocol/tests/data/anthropic/README.md`):
//! Vertex answers with the same Messages bodies and events.

use serde_json::{Value, json};
use switchboard_core::{ResponseFormat, Tool, Usage};
use switchboard_testkit::{
    EndlessStream, ErrorCase, ExpectedToolCall, Recorded, Route, Scenario, WireFixtures,
};

macro_rules! data {
    ($name:literal) => {
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../crates/protocol/tests/data/anthropic/",
            $name
        ))
    };
}

/// The tool of the recorded tool-use exchanges.
fn get_weather() -> Tool {
    let request: Value =
        serde_json::from_slice(data!("messages_request_stream_tools_recorded.json"))
            .expect("fixture is JSON");
    let tool = &request["tools"][0];
    Tool::new(
        "get_weather",
        tool["description"].as_str().expect("description"),
        tool["input_schema"].clone(),
    )
}

struct VertexClaudeFixtures;

impl WireFixtures for VertexClaudeFixtures {
    fn config(&self, base_url: &str, api_key: &str) -> Value {
        json!({ "project": "my-project", "location": "us-east5",
                "access_token": api_key, "base_url": base_url,
                "models": ["claude-sonnet-4-5"] })
    }

    fn model(&self) -> String {
        "claude-sonnet-4-5".into()
    }

    fn chat_route(&self, stream: bool, model: &str) -> Route {
        let method = if stream {
            "streamRawPredict"
        } else {
            "rawPredict"
        };
        Route::post(format!(
            "/v1/projects/my-project/locations/us-east5/publishers/anthropic/models/{model}:{method}"
        ))
    }

    fn plain_chat(&self) -> Scenario {
        Scenario::new(
            Recorded::json(&data!("messages_response_text_recorded.json")[..]),
            r#"{"product_name": "Green Tea", "price": 5.50, "quantity": 2}"#,
        )
        .usage(Usage::new(249, 26))
    }

    fn stream_text(&self) -> Scenario {
        Scenario::new(
            Recorded::new(
                "text/event-stream; charset=utf-8",
                &data!("stream_text_recorded.sse")[..],
            )
            .with_header("cache-control", "no-cache"),
            "[12345,67890]",
        )
        .usage(Usage::new(135, 10))
    }

    fn tool_call(&self, stream: bool) -> Scenario {
        if stream {
            Scenario::new(
                Recorded::sse(&data!("stream_tool_use_recorded.sse")[..]),
                "",
            )
            .tool(get_weather())
            .tool_call(
                ExpectedToolCall::new(
                    "get_weather",
                    json!({"location": "San Francisco, CA", "units": "f"}),
                )
                .with_id("toolu_01TJoxvFknVdnV9XpWFPaRmY"),
            )
            .usage(Usage::new(656, 74))
        } else {
            Scenario::new(
                Recorded::json(&data!("messages_response_tool_use_recorded.json")[..]),
                "I'll get the weather for each of those cities. Let me start by checking San Francisco.",
            )
            .tool(get_weather())
            .tool_call(
                ExpectedToolCall::new(
                    "get_weather",
                    json!({"location": "San Francisco, CA", "units": "f"}),
                )
                .with_id("toolu_01LRanfq6DmHn1yDTB4d1SAh"),
            )
            .usage(Usage::new(701, 93))
        }
    }

    fn parallel_tool_calls(&self, stream: bool) -> Option<Scenario> {
        let response = if stream {
            Recorded::sse(&data!("stream_parallel_tool_use_constructed.sse")[..])
        } else {
            Recorded::json(&data!("messages_response_parallel_tool_use_constructed.json")[..])
        };
        Some(
            Scenario::new(response, "Checking both cities.")
                .tool(get_weather())
                .tool_call(
                    ExpectedToolCall::new(
                        "get_weather",
                        json!({"location": "San Francisco, CA", "units": "f"}),
                    )
                    .with_id("toolu_01SF"),
                )
                .tool_call(
                    ExpectedToolCall::new(
                        "get_weather",
                        json!({"location": "New York, NY", "units": "f"}),
                    )
                    .with_id("toolu_01NYC"),
                )
                .usage(Usage::new(656, 112)),
        )
    }

    fn image_input(&self) -> Scenario {
        self.plain_chat()
    }

    fn json_schema(&self) -> Scenario {
        let request: Value = serde_json::from_slice(data!("messages_request_recorded.json"))
            .expect("fixture is JSON");
        self.plain_chat()
            .response_format(ResponseFormat::JsonSchema {
                name: "OrderItem".into(),
                description: None,
                schema: request["output_config"]["format"]["schema"].clone(),
                strict: Some(true),
            })
    }

    fn error_body(&self, case: ErrorCase, message: &str) -> Recorded {
        let kind = match case {
            ErrorCase::Unauthorized => "authentication_error",
            ErrorCase::Forbidden => "permission_error",
            ErrorCase::NotFound => "not_found_error",
            ErrorCase::BadRequest | ErrorCase::ContextLengthExceeded => "invalid_request_error",
            ErrorCase::RateLimited => "rate_limit_error",
            ErrorCase::Server(529) => "overloaded_error",
            ErrorCase::Server(_) => "api_error",
        };
        Recorded::json(
            serde_json::to_vec(&json!({
                "type": "error",
                "error": {"type": kind, "message": message},
                "request_id": "req_011CZAau32QzxDkriovTaFCB",
            }))
            .expect("JSON"),
        )
        .with_header("request-id", "req_011CZAau32QzxDkriovTaFCB")
    }

    fn endless_stream(&self) -> EndlessStream {
        EndlessStream {
            content_type: "text/event-stream; charset=utf-8".into(),
            head: concat!(
                "event: message_start\n",
                "data: {\"type\":\"message_start\",\"message\":{\"model\":\"claude-sonnet-4-5-20250929\",\"id\":\"msg_endless\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":9,\"output_tokens\":1}}}\n\n",
                "event: content_block_start\n",
                "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
            )
            .as_bytes()
            .to_vec(),
            repeat: concat!(
                "event: content_block_delta\n",
                "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\" and on\"}}\n\n",
            )
            .as_bytes()
            .to_vec(),
        }
    }
}

switchboard_testkit::conformance_tests!(VertexClaudeFixtures, switchboard_vertex::VertexProvider);
