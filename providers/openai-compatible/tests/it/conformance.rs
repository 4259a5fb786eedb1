//! The shared conformance suite, for an instance with the `vllm` preset (a
//! local OpenAI-compatible server, here with a key) on OpenAI's recorded
//! bodies, with vLLM's own error shape (an integer `code`).

use serde_json::{Value, json};
use switchboard_core::{FinishReason, ResponseFormat, Tool, Usage};
use switchboard_testkit::{
    EmbeddingsScenario, EndlessStream, ErrorCase, ExpectedToolCall, ModelsScenario, Recorded,
    Route, Scenario, WireFixtures,
};

const CHAT_RESPONSE: &str = include_str!("../data/openai_chat_response.json");
const STREAM_TEXT: &str = include_str!("../data/openai_chat_stream_text.sse");
const TOOLS_REQUEST: &str = include_str!("../data/openai_chat_request_tools.json");
const TOOL_CALLS: &str = include_str!("../data/openai_chat_response_tool_calls.json");
const STREAM_TOOL_CALL: &str = include_str!("../data/openai_chat_stream_tool_call.sse");
const IMAGE_RESPONSE: &str = include_str!("../data/openai_chat_response_image_url.json");
const SCHEMA_REQUEST: &str = include_str!("../data/openai_chat_request_json_schema.json");
const SCHEMA_RESPONSE: &str = include_str!("../data/openai_chat_response_json_schema.json");
const SCHEMA_CONTENT: &str = include_str!("../data/openai_chat_response_json_schema_content.txt");
const EMBEDDINGS: &str = include_str!("../data/openai_embeddings_response.json");
const MODELS: &str = include_str!("../data/openai_models_list.json");

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).expect("fixture is JSON")
}

fn usage(input: u64, output: u64) -> Usage {
    Usage::new(input, output)
}

/// The `get_weather` tool of the openai-python streaming tests.
fn get_weather() -> Tool {
    Tool::new(
        "get_weather",
        "Get the weather of a city",
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
    )
}

/// A vLLM-preset instance on recorded OpenAI-format bodies.
#[derive(Debug)]
pub(crate) struct VllmFixtures;

impl WireFixtures for VllmFixtures {
    fn config(&self, base_url: &str, api_key: &str) -> Value {
        json!({ "preset": "vllm", "api_key": api_key, "base_url": format!("{base_url}/v1") })
    }

    fn model(&self) -> String {
        "meta-llama/Llama-3.1-8B-Instruct".into()
    }

    fn chat_route(&self, _stream: bool, _model: &str) -> Route {
        Route::post("/v1/chat/completions")
    }

    fn plain_chat(&self) -> Scenario {
        Scenario::new(
            Recorded::json(CHAT_RESPONSE),
            "Hello! How can I assist you today?",
        )
        .usage(usage(19, 10))
    }

    fn stream_text(&self) -> Scenario {
        Scenario::new(
            Recorded::sse(STREAM_TEXT),
            "I'm unable to provide real-time weather updates. To get the current weather in San Francisco, I recommend checking a reliable weather website or a weather app.",
        )
        .usage(usage(14, 30))
    }

    fn tool_call(&self, stream: bool) -> Scenario {
        if stream {
            return Scenario::new(Recorded::sse(STREAM_TOOL_CALL), "")
                .tool(get_weather())
                .tool_call(
                    ExpectedToolCall::new("get_weather", json!({"city": "New York City"}))
                        .with_id("call_4XzlGBLtUe9dy3GVNV4jhq7h"),
                )
                .usage(usage(44, 16));
        }
        let request = json_of(TOOLS_REQUEST);
        let function = &request["tools"][0]["function"];
        let tool = Tool::new(
            function["name"].as_str().unwrap_or_default(),
            function["description"].as_str().unwrap_or_default(),
            function["parameters"].clone(),
        );
        Scenario::new(Recorded::json(TOOL_CALLS), "")
            .tool(tool)
            .tool_call(
                ExpectedToolCall::new("get_current_weather", json!({"location": "Boston, MA"}))
                    .with_id("call_abc123"),
            )
            .usage(usage(82, 17))
    }

    fn image_input(&self) -> Scenario {
        Scenario::new(
            Recorded::json(IMAGE_RESPONSE),
            "The image shows a wooden boardwalk path running through a lush green field or meadow. The sky is bright blue with some scattered clouds, giving the scene a serene and peaceful atmosphere. Trees and shrubs are visible in the background.",
        )
        .usage(usage(1117, 46))
    }

    fn json_schema(&self) -> Scenario {
        let request = json_of(SCHEMA_REQUEST);
        let format = &request["response_format"]["json_schema"];
        Scenario::new(Recorded::json(SCHEMA_RESPONSE), SCHEMA_CONTENT.trim_end())
            .response_format(ResponseFormat::JsonSchema {
                name: format["name"].as_str().unwrap_or_default().to_owned(),
                description: None,
                schema: format["schema"].clone(),
                strict: format["strict"].as_bool(),
            })
            .usage(usage(130, 170))
            .finish(FinishReason::Stop)
    }

    fn error_body(&self, case: ErrorCase, message: &str) -> Recorded {
        // vLLM's `ErrorResponse{error: ErrorInfo{message, type, param, code: int}}`
        // (vllm/entrypoints/openai/protocol.py @ 0052bed3): `code` is the HTTP status.
        let kind = match case {
            ErrorCase::Server(_) => "InternalServerError",
            ErrorCase::NotFound => "NotFoundError",
            ErrorCase::Unauthorized => "Unauthorized",
            _ => "BadRequestError",
        };
        let body = json!({"error": {"message": message, "type": kind, "param": null, "code": case.status()}});
        Recorded::json(body.to_string())
    }

    fn endless_stream(&self) -> EndlessStream {
        let mut events = STREAM_TEXT.split("\n\n");
        let head = format!(
            "{}\n\n{}\n\n",
            events.next().unwrap_or_default(),
            events.next().unwrap_or_default()
        );
        let repeat = format!("{}\n\n", events.next().unwrap_or_default());
        EndlessStream {
            content_type: "text/event-stream".into(),
            head: head.into_bytes(),
            repeat: repeat.into_bytes(),
        }
    }

    fn embeddings(&self) -> Option<EmbeddingsScenario> {
        Some(EmbeddingsScenario {
            route: Route::post("/v1/embeddings"),
            model: "text-embedding-ada-002".into(),
            input: vec!["The food was delicious and the waiter...".into()],
            response: Recorded::json(EMBEDDINGS),
            vectors: vec![vec![0.0023064255, -0.009327292, -0.0028842222]],
            input_tokens: Some(8),
        })
    }

    fn models(&self) -> Option<ModelsScenario> {
        Some(ModelsScenario {
            route: Route::get("/v1/models"),
            response: Recorded::json(MODELS),
            ids: vec![
                "model-id-0".into(),
                "model-id-1".into(),
                "model-id-2".into(),
            ],
        })
    }
}

switchboard_testkit::conformance_tests!(
    VllmFixtures,
    switchboard_openai_compatible::OpenAiCompatible
);
