//! The shared conformance suite on both URL shapes: Azure speaks OpenAI's
//! Chat Completions format, so the bodies are OpenAI's recordings (Azure's
//! own where one exists: the 404 `DeploymentNotFound`).

use serde_json::{Value, json};
use switchboard_core::{FinishReason, ResponseFormat, Tool, Usage};
use switchboard_testkit::{
    EmbeddingsScenario, EndlessStream, ErrorCase, ExpectedToolCall, Recorded, Route, Scenario,
    WireFixtures,
};

const CHAT_RESPONSE: &str = include_str!("../data/openai_chat_response.json");
const STREAM_TEXT: &str = include_str!("../data/openai_chat_stream_text.sse");
const TOOLS_REQUEST: &str = include_str!("../data/openai_chat_request_tools.json");
const TOOL_CALLS: &str = include_str!("../data/openai_chat_response_tool_calls.json");
const STREAM_TOOL_CALL: &str = include_str!("../data/openai_chat_stream_tool_call.sse");
const PARALLEL: &str = include_str!("../data/openai_chat_response_parallel_tool_calls.json");
const STREAM_PARALLEL: &str = include_str!("../data/openai_chat_stream_parallel_tool_calls.sse");
const IMAGE_RESPONSE: &str = include_str!("../data/openai_chat_response_image_url.json");
const SCHEMA_REQUEST: &str = include_str!("../data/openai_chat_request_json_schema.json");
const SCHEMA_RESPONSE: &str = include_str!("../data/openai_chat_response_json_schema.json");
const SCHEMA_CONTENT: &str = include_str!("../data/openai_chat_response_json_schema_content.txt");
const ERROR_400_CONTEXT: &str =
    include_str!("../data/openai_error_400_context_length_exceeded.json");
const ERROR_429: &str = include_str!("../data/openai_error_429_rate_limit_exceeded.json");
const ERROR_404: &str = include_str!("../data/error_404_deployment_not_found_recorded.json");
const EMBEDDINGS: &str = include_str!("../data/openai_embeddings_response.json");

/// The deployment name the config maps the kit's model to.
pub(crate) const DEPLOYMENT: &str = "gpt4o-prod";

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).expect("fixture is JSON")
}

fn usage(input: u64, output: u64) -> Usage {
    Usage::new(input, output)
}

fn get_weather() -> Tool {
    Tool::new(
        "get_weather",
        "Get the weather of a city",
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
    )
}

/// An Azure resource on one URL shape (`v1` or `deployments`).
#[derive(Debug)]
pub(crate) struct AzureFixtures {
    pub(crate) dated: bool,
}

impl AzureFixtures {
    fn route(&self, deployment: &str, operation: &str) -> Route {
        if self.dated {
            Route::post(format!("/openai/deployments/{deployment}/{operation}"))
                .with_query("api-version", "2024-10-21")
        } else {
            Route::post(format!("/openai/v1/{operation}"))
        }
    }
}

impl WireFixtures for AzureFixtures {
    fn config(&self, base_url: &str, api_key: &str) -> Value {
        json!({
            "endpoint": base_url,
            "api_key": api_key,
            "api_shape": if self.dated { "deployments" } else { "v1" },
            "deployments": { "gpt-4o": DEPLOYMENT },
        })
    }

    fn model(&self) -> String {
        "gpt-4o".into()
    }

    fn chat_route(&self, _stream: bool, _model: &str) -> Route {
        self.route(DEPLOYMENT, "chat/completions")
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

    fn parallel_tool_calls(&self, stream: bool) -> Option<Scenario> {
        let response = if stream {
            Recorded::sse(STREAM_PARALLEL)
        } else {
            Recorded::json(PARALLEL)
        };
        Some(
            Scenario::new(response, "")
                .tool(get_weather())
                .tool_call(
                    ExpectedToolCall::new("get_weather", json!({"city": "Paris"}))
                        .with_id("call_parallel_a"),
                )
                .tool_call(
                    ExpectedToolCall::new("get_weather", json!({"city": "Tokyo"}))
                        .with_id("call_parallel_b"),
                )
                .usage(usage(52, 30)),
        )
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
        // Azure's recorded 404; otherwise the OpenAI error object Azure
        // returns (with its `status` addition where the issue bodies show it).
        let mut body = match case {
            ErrorCase::NotFound => json_of(ERROR_404),
            ErrorCase::ContextLengthExceeded => json_of(ERROR_400_CONTEXT),
            ErrorCase::RateLimited => json_of(ERROR_429),
            ErrorCase::Unauthorized => {
                json!({"error": {"code": "401", "message": ""}})
            }
            ErrorCase::Forbidden => {
                json!({"error": {"code": "PermissionDenied", "message": ""}})
            }
            ErrorCase::BadRequest => {
                json!({"error": {"message": "", "type": "invalid_request_error", "param": "temperature", "code": null, "status": 400}})
            }
            ErrorCase::Server(_) => {
                json!({"error": {"message": "", "type": "server_error", "param": null, "code": null}})
            }
        };
        body["error"]["message"] = Value::String(message.to_owned());
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
            route: self.route("text-embedding-ada-002", "embeddings"),
            model: "text-embedding-ada-002".into(),
            input: vec!["The food was delicious and the waiter...".into()],
            response: Recorded::json(EMBEDDINGS),
            vectors: vec![vec![0.0023064255, -0.009327292, -0.0028842222]],
            input_tokens: Some(8),
        })
    }
}

/// The v1 GA shape (the default).
mod v1 {
    use super::AzureFixtures;
    switchboard_testkit::conformance_tests!(
        AzureFixtures { dated: false },
        switchboard_azure_openai::AzureOpenAi
    );
}

/// The dated `deployments/{deployment}` shape with `api-version`.
mod deployments {
    use super::AzureFixtures;
    switchboard_testkit::conformance_tests!(
        AzureFixtures { dated: true },
        switchboard_azure_openai::AzureOpenAi
    );
}
