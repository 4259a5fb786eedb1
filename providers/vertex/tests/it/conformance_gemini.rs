//! The conformance kit on Gemini models through Vertex AI
//! (`publishers/google`, `v1beta1`), with the Gemini API recordings copied
//! into `tests/data/gemini_*` (Vertex answers `generateContent` with the
//! same `GenerateContentResponse`; see `tests/data/README.md`). The access
//! token is a static `access_token`.

use serde_json::{Value, json};
use switchboard_core::{FinishReason, ResponseFormat, Tool, Usage};
use switchboard_testkit::{
    EndlessStream, ErrorCase, ExpectedToolCall, Recorded, Route, Scenario, WireFixtures,
};

const MODEL: &str = "gemini-2.5-flash";

/// Where `us-central1` Gemini models are, under the API root.
const PREFIX: &str = "/v1beta1/projects/my-project/locations/us-central1/publishers/google/models";

/// Frames JSON values as `alt=sse` events with CRLF separators, as the
/// Gemini API sends them.
fn sse(events: &[Value]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in events {
        out.extend_from_slice(format!("data: {e}\r\n\r\n").as_bytes());
    }
    out
}

fn segments(text: &str) -> Vec<Value> {
    serde_json::from_str(text).expect("fixture is a JSON array")
}

fn divide_tool() -> Tool {
    let request: Value = serde_json::from_str(include_str!(
        "../data/gemini_generate_content_request_tools.json"
    ))
    .expect("fixture is JSON");
    let f = &request["tools"][0]["functionDeclarations"][0];
    Tool::new(
        f["name"].as_str().expect("name"),
        f["description"].as_str().expect("description"),
        f["parameters"].clone(),
    )
}

struct VertexGeminiFixtures;

impl WireFixtures for VertexGeminiFixtures {
    /// The API sends each tool call whole in one chunk.
    fn streams_whole_tool_calls(&self) -> bool {
        true
    }

    fn config(&self, base_url: &str, api_key: &str) -> Value {
        json!({ "project": "my-project", "location": "us-central1",
                "access_token": api_key, "base_url": base_url })
    }

    fn model(&self) -> String {
        MODEL.into()
    }

    fn chat_route(&self, stream: bool, model: &str) -> Route {
        if stream {
            Route::post(format!("{PREFIX}/{model}:streamGenerateContent")).with_query("alt", "sse")
        } else {
            Route::post(format!("{PREFIX}/{model}:generateContent"))
        }
    }

    fn plain_chat(&self) -> Scenario {
        Scenario::new(
            Recorded::json(include_str!(
                "../data/gemini_generate_content_response_text.json"
            )),
            "low",
        )
        .usage(Usage {
            input_tokens: 9,
            output_tokens: 21,
            reasoning_tokens: 20,
            total_tokens: 30,
            ..Usage::default()
        })
    }

    fn stream_text(&self) -> Scenario {
        let events = segments(include_str!(
            "../data/gemini_stream_generate_content_segments.json"
        ));
        let text: String = events
            .iter()
            .map(|e| {
                e["candidates"][0]["content"]["parts"][0]["text"]
                    .as_str()
                    .unwrap_or_default()
            })
            .collect();
        Scenario::new(Recorded::sse(sse(&events)), text).usage(Usage {
            input_tokens: 20,
            output_tokens: 253 + 260,
            reasoning_tokens: 260,
            total_tokens: 533,
            ..Usage::default()
        })
    }

    fn tool_call(&self, stream: bool) -> Scenario {
        let response = if stream {
            Recorded::sse(sse(&segments(include_str!(
                "../data/gemini_stream_generate_content_function_call_segments.json"
            ))))
        } else {
            Recorded::json(include_str!(
                "../data/gemini_generate_content_response_function_call.json"
            ))
        };
        Scenario::new(response, "")
            .tool(divide_tool())
            .tool_call(ExpectedToolCall::new(
                "customDivide",
                json!({"denominator": 2, "numerator": 100}),
            ))
            .usage(Usage::new(21, 6))
    }

    fn parallel_tool_calls(&self, stream: bool) -> Option<Scenario> {
        let body = include_str!(
            "../data/gemini_generate_content_response_parallel_calls_constructed.json"
        );
        let response = if stream {
            // The same answer as two events, one call in each.
            let whole: Value = serde_json::from_str(body).ok()?;
            let mut first = whole.clone();
            first["candidates"][0]["content"]["parts"] =
                json!([whole["candidates"][0]["content"]["parts"][0]]);
            first["candidates"][0]
                .as_object_mut()?
                .remove("finishReason");
            let mut second = whole.clone();
            second["candidates"][0]["content"]["parts"] =
                json!([whole["candidates"][0]["content"]["parts"][1]]);
            Recorded::sse(sse(&[first, second]))
        } else {
            Recorded::json(body)
        };
        Some(
            Scenario::new(response, "")
                .tool(divide_tool())
                .tool_call(ExpectedToolCall::new(
                    "customDivide",
                    json!({"denominator": 2, "numerator": 100}),
                ))
                .tool_call(ExpectedToolCall::new(
                    "customDivide",
                    json!({"denominator": 4, "numerator": 50}),
                )),
        )
    }

    fn image_input(&self) -> Scenario {
        Scenario::new(
            Recorded::json(include_str!(
                "../data/gemini_generate_content_response_text.json"
            )),
            "low",
        )
    }

    fn supports_image_urls(&self) -> bool {
        false
    }

    fn json_schema(&self) -> Scenario {
        Scenario::new(
            Recorded::json(include_str!("../data/gemini_generate_content_response_json_constructed.json")),
            "{\"age\": 22, \"available\": false}",
        )
        .response_format(ResponseFormat::JsonSchema {
            name: "person".into(),
            description: None,
            schema: json!({"type": "object", "properties": {"age": {"type": "integer"}, "available": {"type": "boolean"}},
                           "required": ["age", "available"], "additionalProperties": false}),
            strict: Some(true),
        })
        .finish(FinishReason::Stop)
    }

    fn error_body(&self, case: ErrorCase, message: &str) -> Recorded {
        let (code, status) = match case {
            ErrorCase::Unauthorized => (401, "UNAUTHENTICATED"),
            ErrorCase::Forbidden => (403, "PERMISSION_DENIED"),
            ErrorCase::NotFound => (404, "NOT_FOUND"),
            ErrorCase::BadRequest | ErrorCase::ContextLengthExceeded => (400, "INVALID_ARGUMENT"),
            ErrorCase::RateLimited => (429, "RESOURCE_EXHAUSTED"),
            ErrorCase::Server(500) => (500, "INTERNAL"),
            ErrorCase::Server(503) => (503, "UNAVAILABLE"),
            ErrorCase::Server(other) => (other, ""),
        };
        let mut error = json!({ "code": code, "message": message });
        if !status.is_empty() {
            error["status"] = json!(status);
        }
        Recorded::new(
            "application/json; charset=UTF-8",
            json!({ "error": error }).to_string(),
        )
    }

    fn endless_stream(&self) -> EndlessStream {
        let chunk = |text: &str| {
            sse(&[
                json!({"candidates": [{"content": {"parts": [{"text": text}], "role": "model"}, "index": 0}],
                          "modelVersion": MODEL, "responseId": "endless"}),
            ])
        };
        EndlessStream {
            content_type: "text/event-stream".into(),
            head: chunk("The"),
            repeat: chunk(" sky"),
        }
    }
}

switchboard_testkit::conformance_tests!(VertexGeminiFixtures, switchboard_vertex::VertexProvider);
