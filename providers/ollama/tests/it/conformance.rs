//! The conformance kit against Ollama's wire format, from the documented
//! examples in `tests/data` (see its README for each file's source).

use serde_json::{Value, json};
use switchboard_core::{FinishReason, ResponseFormat, Tool, Usage};
use switchboard_testkit::{
    EmbeddingsScenario, EndlessStream, ErrorCase, ExpectedToolCall, ModelsScenario, Recorded,
    Route, Scenario, WireFixtures,
};

struct OllamaFixtures;

fn weather_tool() -> Tool {
    let request: Value = serde_json::from_str(include_str!("../data/chat_request_tools.json"))
        .expect("fixture is JSON");
    let f = &request["tools"][0]["function"];
    Tool::new(
        f["name"].as_str().expect("name"),
        f["description"].as_str().expect("description"),
        f["parameters"].clone(),
    )
}

impl WireFixtures for OllamaFixtures {
    /// The API sends each tool call whole in one chunk.
    fn streams_whole_tool_calls(&self) -> bool {
        true
    }

    fn config(&self, base_url: &str, api_key: &str) -> Value {
        json!({ "base_url": base_url, "api_key": api_key })
    }

    fn model(&self) -> String {
        "llama3.2".into()
    }

    fn chat_route(&self, _stream: bool, _model: &str) -> Route {
        Route::post("/api/chat")
    }

    fn plain_chat(&self) -> Scenario {
        Scenario::new(
            Recorded::json(include_str!("../data/chat_response.json")),
            "Hello! How are you today?",
        )
        .usage(Usage::new(26, 298))
    }

    fn stream_text(&self) -> Scenario {
        Scenario::new(
            Recorded::ndjson(include_str!("../data/chat_stream_constructed.ndjson")),
            "Hello! How can I help you today?",
        )
        .usage(Usage::new(26, 9))
    }

    fn tool_call(&self, stream: bool) -> Scenario {
        let response = if stream {
            Recorded::ndjson(include_str!("../data/chat_stream_tools_docs.ndjson"))
        } else {
            Recorded::json(include_str!("../data/chat_response_tool_calls.json"))
        };
        Scenario::new(response, "")
            .tool(weather_tool())
            .tool_call(ExpectedToolCall::new(
                "get_weather",
                json!({"city": "Tokyo"}),
            ))
            .usage(Usage::new(169, if stream { 15 } else { 18 }))
    }

    fn parallel_tool_calls(&self, stream: bool) -> Option<Scenario> {
        let response = if stream {
            Recorded::ndjson(include_str!(
                "../data/chat_stream_parallel_tools_constructed.ndjson"
            ))
        } else {
            Recorded::json(include_str!(
                "../data/chat_response_parallel_tool_calls_constructed.json"
            ))
        };
        Some(
            Scenario::new(response, "")
                .tool(weather_tool())
                .tool_call(ExpectedToolCall::new(
                    "get_weather",
                    json!({"city": "Tokyo"}),
                ))
                .tool_call(ExpectedToolCall::new(
                    "get_weather",
                    json!({"city": "Paris"}),
                )),
        )
    }

    fn image_input(&self) -> Scenario {
        Scenario::new(
            Recorded::json(include_str!("../data/chat_response_images.json")),
            " The image features a cute, little pig with an angry facial expression. It's wearing a heart on its shirt and is waving in the air. This scene appears to be part of a drawing or sketching project.",
        )
        .usage(Usage::new(26, 83))
    }

    fn supports_image_urls(&self) -> bool {
        false
    }

    fn json_schema(&self) -> Scenario {
        let request: Value =
            serde_json::from_str(include_str!("../data/chat_request_format_schema.json"))
                .expect("fixture is JSON");
        Scenario::new(
            Recorded::json(include_str!("../data/chat_response_format_schema.json")),
            "{\"age\": 22, \"available\": false}",
        )
        .response_format(ResponseFormat::JsonSchema {
            name: "person".into(),
            description: None,
            schema: request["format"].clone(),
            strict: None,
        })
        .finish(FinishReason::Stop)
    }

    fn error_body(&self, _case: ErrorCase, message: &str) -> Recorded {
        Recorded::json(json!({ "error": message }).to_string())
    }

    fn endless_stream(&self) -> EndlessStream {
        EndlessStream {
            content_type: "application/x-ndjson".into(),
            head: br#"{"model":"llama3.2","created_at":"2025-07-07T20:22:19.184789Z","message":{"role":"assistant","content":"The"},"done":false}
"#
            .to_vec(),
            repeat: br#"{"model":"llama3.2","created_at":"2025-07-07T20:22:19.19314Z","message":{"role":"assistant","content":" sky"},"done":false}
"#
            .to_vec(),
        }
    }

    fn embeddings(&self) -> Option<EmbeddingsScenario> {
        let request: Value =
            serde_json::from_str(include_str!("../data/embed_request_multi.json")).ok()?;
        let body = include_str!("../data/embed_response_multi.json");
        let response: Value = serde_json::from_str(body).ok()?;
        let vectors: Vec<Vec<f32>> = serde_json::from_value(response["embeddings"].clone()).ok()?;
        Some(EmbeddingsScenario {
            route: Route::post("/api/embed"),
            model: "all-minilm".into(),
            input: serde_json::from_value(request["input"].clone()).ok()?,
            response: Recorded::json(body),
            vectors,
            input_tokens: None,
        })
    }

    fn models(&self) -> Option<ModelsScenario> {
        Some(ModelsScenario {
            route: Route::get("/api/tags"),
            response: Recorded::json(include_str!("../data/tags_response.json")),
            ids: vec!["deepseek-r1:latest".into(), "llama3.2:latest".into()],
        })
    }
}

switchboard_testkit::conformance_tests!(OllamaFixtures, switchboard_ollama::OllamaProvider);
