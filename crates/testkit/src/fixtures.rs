//! What a provider crate supplies: its wire format, as recorded upstream
//! bodies and a few hooks ([`WireFixtures`]).

use serde_json::Value;
use switchboard_core::{ContentPart, FinishReason, ImageSource, ResponseFormat, Tool, Usage};

/// One recorded upstream HTTP response: status, content type, extra headers
/// and the body bytes exactly as the real service sent them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// The HTTP status (200 unless set).
    pub status: u16,
    /// The `Content-Type` header.
    pub content_type: String,
    /// Other response headers, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Recorded {
    /// A `200` response with `content_type` and `body`.
    pub fn new(content_type: impl Into<String>, body: impl Into<Vec<u8>>) -> Self {
        Recorded {
            status: 200,
            content_type: content_type.into(),
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// A `200 application/json` response.
    pub fn json(body: impl Into<Vec<u8>>) -> Self {
        Self::new("application/json", body)
    }

    /// A `200 text/event-stream` response (server-sent events).
    pub fn sse(body: impl Into<Vec<u8>>) -> Self {
        Self::new("text/event-stream", body)
    }

    /// A `200 application/x-ndjson` response (newline-delimited JSON, as Ollama streams).
    pub fn ndjson(body: impl Into<Vec<u8>>) -> Self {
        Self::new("application/x-ndjson", body)
    }

    /// The same response with another status.
    #[must_use]
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    /// The same response with one more header.
    #[must_use]
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The body as text (lossy), for messages.
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub(crate) fn template(&self) -> wiremock::ResponseTemplate {
        let mut t = wiremock::ResponseTemplate::new(self.status)
            .set_body_raw(self.body.clone(), &self.content_type);
        for (name, value) in &self.headers {
            t = t.insert_header(name.as_str(), value.as_str());
        }
        t
    }
}

/// Where a request reaches the upstream: method, path and required query
/// parameters. The path is absolute on the mock server (it includes any base
/// path the provider's config adds, such as `/v1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The exact path, e.g. `/v1/chat/completions`.
    pub path: String,
    /// Query parameters the request must carry (e.g. Gemini's `alt=sse`).
    pub query: Vec<(String, String)>,
}

impl Route {
    /// A `POST` to `path`.
    pub fn post(path: impl Into<String>) -> Self {
        Route {
            method: "POST".into(),
            path: path.into(),
            query: Vec::new(),
        }
    }

    /// A `GET` of `path`.
    pub fn get(path: impl Into<String>) -> Self {
        Route {
            method: "GET".into(),
            path: path.into(),
            query: Vec::new(),
        }
    }

    /// The same route, also requiring query parameter `name=value`.
    #[must_use]
    pub fn with_query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((name.into(), value.into()));
        self
    }

    pub(crate) fn mock(&self, response: &Recorded) -> wiremock::Mock {
        let mut builder = wiremock::Mock::given(wiremock::matchers::method(self.method.as_str()))
            .and(wiremock::matchers::path(self.path.as_str()));
        for (name, value) in &self.query {
            builder = builder.and(wiremock::matchers::query_param(
                name.as_str(),
                value.as_str(),
            ));
        }
        builder.respond_with(response.template())
    }
}

/// A tool call the answer must contain.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpectedToolCall {
    /// The call id, if the wire format has one worth checking.
    pub id: Option<String>,
    /// The tool's name.
    pub name: String,
    /// The complete arguments, compared as JSON values (not as text).
    pub arguments: Value,
}

impl ExpectedToolCall {
    /// A call of `name` with `arguments`.
    pub fn new(name: impl Into<String>, arguments: Value) -> Self {
        ExpectedToolCall {
            id: None,
            name: name.into(),
            arguments,
        }
    }

    /// The same call, also checking its id.
    #[must_use]
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }
}

/// One exchange: what the kit adds to its request, the upstream's recorded
/// answer, and what the provider must make of it.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Tools the request offers (the tool-call cases need them).
    pub tools: Vec<Tool>,
    /// The request's response format (the JSON-schema case sets it).
    pub response_format: Option<ResponseFormat>,
    /// The recorded upstream response.
    pub response: Recorded,
    /// The answer's text (all text parts joined; empty when there is none).
    pub text: String,
    /// The tool calls, in order.
    pub tool_calls: Vec<ExpectedToolCall>,
    /// The exact token counts, if the recording has them.
    pub usage: Option<Usage>,
    /// Why the answer ended.
    pub finish: FinishReason,
}

impl Scenario {
    /// `response`, expected to say `text` and stop normally, with no usage check.
    pub fn new(response: Recorded, text: impl Into<String>) -> Self {
        Scenario {
            tools: Vec::new(),
            response_format: None,
            response,
            text: text.into(),
            tool_calls: Vec::new(),
            usage: None,
            finish: FinishReason::Stop,
        }
    }

    /// Also expects these token counts (compared field by field).
    #[must_use]
    pub fn usage(mut self, usage: Usage) -> Self {
        self.usage = Some(usage);
        self
    }

    /// Expects this finish reason.
    #[must_use]
    pub fn finish(mut self, finish: FinishReason) -> Self {
        self.finish = finish;
        self
    }

    /// Offers `tool` in the request.
    #[must_use]
    pub fn tool(mut self, tool: Tool) -> Self {
        self.tools.push(tool);
        self
    }

    /// Expects `call` in the answer (and finish reason `tool_calls`).
    #[must_use]
    pub fn tool_call(mut self, call: ExpectedToolCall) -> Self {
        self.tool_calls.push(call);
        self.finish = FinishReason::ToolCalls;
        self
    }

    /// Sends `format` as the request's response format.
    #[must_use]
    pub fn response_format(mut self, format: ResponseFormat) -> Self {
        self.response_format = Some(format);
        self
    }
}

/// A stream that never ends, for the cancellation case: `head` is written
/// once, then `repeat` over and over (every 20 ms) until the client goes away.
#[derive(Debug, Clone)]
pub struct EndlessStream {
    /// The `Content-Type` of the stream.
    pub content_type: String,
    /// The first bytes: enough for the provider to emit a start event and some text.
    pub head: Vec<u8>,
    /// One complete event carrying a little text, repeated forever.
    pub repeat: Vec<u8>,
}

/// An embeddings exchange.
#[derive(Debug, Clone)]
pub struct EmbeddingsScenario {
    /// Where embedding requests go.
    pub route: Route,
    /// The embedding model to request.
    pub model: String,
    /// The texts to embed.
    pub input: Vec<String>,
    /// The recorded upstream answer.
    pub response: Recorded,
    /// The vectors the provider must return, in input order.
    pub vectors: Vec<Vec<f32>>,
    /// The input token count, if the recording has it.
    pub input_tokens: Option<u64>,
}

/// A model-listing exchange.
#[derive(Debug, Clone)]
pub struct ModelsScenario {
    /// Where the model list is fetched.
    pub route: Route,
    /// The recorded upstream answer.
    pub response: Recorded,
    /// The model ids the provider must list, in order.
    pub ids: Vec<String>,
}

/// An upstream error the kit provokes. The kit serves the fixture's body for
/// it with [`status`](ErrorCase::status) (and `Retry-After: 7` for
/// [`RateLimited`](ErrorCase::RateLimited)) and checks the error kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCase {
    /// 401: the key was rejected → `auth`.
    Unauthorized,
    /// 403: not allowed → `permission`.
    Forbidden,
    /// 404: unknown model → `not_found`.
    NotFound,
    /// 400: an ordinary bad request → `invalid_request`.
    BadRequest,
    /// 400: the provider's context-window error → `context_length_exceeded`.
    ContextLengthExceeded,
    /// 429 with `Retry-After: 7` → `rate_limited` with a 7 s delay.
    RateLimited,
    /// A 5xx (500, 502, 503) or 529 → a retryable error.
    Server(u16),
}

impl ErrorCase {
    /// The HTTP status the kit serves.
    pub fn status(self) -> u16 {
        match self {
            ErrorCase::Unauthorized => 401,
            ErrorCase::Forbidden => 403,
            ErrorCase::NotFound => 404,
            ErrorCase::BadRequest | ErrorCase::ContextLengthExceeded => 400,
            ErrorCase::RateLimited => 429,
            ErrorCase::Server(status) => status,
        }
    }

    /// The message the kit asks the fixture to put in its error body (and
    /// expects to find in the error's message).
    pub fn message(self) -> &'static str {
        match self {
            ErrorCase::Unauthorized => "Incorrect API key provided: sk-te****1234.",
            ErrorCase::Forbidden => "You are not allowed to sample from this model",
            ErrorCase::NotFound => "The model `no-such-model` does not exist",
            ErrorCase::BadRequest => "Invalid value for 'temperature': must be a number",
            ErrorCase::ContextLengthExceeded => {
                "This model's maximum context length is 4097 tokens. However, you requested 4120 tokens (3120 in the messages, 1000 in the completion). Please reduce the length of the messages or completion."
            }
            ErrorCase::RateLimited => "Rate limit reached for requests",
            ErrorCase::Server(_) => "The server had an error while processing your request",
        }
    }
}

/// A provider's wire format, for the conformance suite.
///
/// The kit owns the cases and the assertions; an implementation of this
/// trait says how to configure the provider for a mock upstream and renders
/// each case's upstream answers in the provider's own format, preferably
/// from real recorded bodies. Methods with defaults are hooks for formats
/// that differ from the common case.
pub trait WireFixtures: Send + Sync {
    /// The provider config (as its JSON) for an upstream at `base_url` (the
    /// mock server's root, e.g. `http://127.0.0.1:4711`, no trailing slash),
    /// authenticating with `api_key`. Leave timeouts unset: the kit sets the
    /// request timeout through the provider context.
    fn config(&self, base_url: &str, api_key: &str) -> Value;

    /// The chat model id to request.
    fn model(&self) -> String;

    /// Where chat requests for `model` go, streamed or not.
    fn chat_route(&self, stream: bool, model: &str) -> Route;

    /// A plain answer (not streamed), with its usage.
    fn plain_chat(&self) -> Scenario;

    /// A streamed text answer, with usage in the stream.
    fn stream_text(&self) -> Scenario;

    /// One tool call, streamed or not. When streamed, each call's arguments
    /// must arrive in at least two fragments (the kit checks).
    fn tool_call(&self, stream: bool) -> Scenario;

    /// Several tool calls in one answer, streamed or not, or `None` when the
    /// fixtures have no such recording (the case is then reported skipped).
    fn parallel_tool_calls(&self, stream: bool) -> Option<Scenario> {
        let _ = stream;
        None
    }

    /// The answer to a request with an image (the kit adds the image).
    fn image_input(&self) -> Scenario;

    /// Whether the provider accepts images by `http(s)` URL (else only inline data).
    fn supports_image_urls(&self) -> bool {
        true
    }

    /// Whether the wire format sends each tool call whole in one chunk
    /// (Ollama, Gemini) rather than arguments in fragments (OpenAI,
    /// Anthropic). When true, the streamed tool-call cases accept one
    /// complete arguments fragment per call instead of requiring two or more.
    fn streams_whole_tool_calls(&self) -> bool {
        false
    }

    /// A JSON answer to a request with a JSON-schema response format; the
    /// scenario sets the format (see [`Scenario::response_format`]).
    fn json_schema(&self) -> Scenario;

    /// The provider's error body for `case`, carrying `message` where the
    /// format puts the human-readable message. The kit sets the status.
    fn error_body(&self, case: ErrorCase, message: &str) -> Recorded;

    /// A stream that never ends, for the cancellation case.
    fn endless_stream(&self) -> EndlessStream;

    /// The embeddings exchange; required when the provider declares `embeddings`.
    fn embeddings(&self) -> Option<EmbeddingsScenario> {
        None
    }

    /// The model-listing exchange, if the provider lists models upstream.
    fn models(&self) -> Option<ModelsScenario> {
        None
    }

    /// Whether the upstream request `body` carries `image`. The default looks
    /// for the URL, or the base64 data, in any string of the body.
    fn image_sent(&self, body: &Value, image: &ContentPart) -> Result<(), String> {
        let needle = match image {
            ContentPart::Image {
                source: ImageSource::Url { url },
                ..
            } => url.as_str(),
            ContentPart::Image {
                source: ImageSource::Base64 { data, .. },
                ..
            } => data.as_str(),
            _ => return Err("not an image part".into()),
        };
        if any_string(body, &|s| s.contains(needle)) {
            Ok(())
        } else {
            Err(format!(
                "no string in the upstream request contains `{needle}`"
            ))
        }
    }

    /// Whether the upstream request `body` carries the JSON `schema`. The
    /// default looks for the schema as a sub-value of the body.
    fn schema_sent(&self, body: &Value, schema: &Value) -> Result<(), String> {
        if contains_value(body, schema) {
            Ok(())
        } else {
            Err(format!(
                "the schema {schema} is not a sub-value of the upstream request"
            ))
        }
    }

    /// Whether the upstream request `body` carries `tool`. The default looks
    /// for its name in a string and its parameter schema as a sub-value.
    fn tool_sent(&self, body: &Value, tool: &Tool) -> Result<(), String> {
        if !any_string(body, &|s| s == tool.name) {
            return Err(format!(
                "the tool name `{}` is not in the upstream request",
                tool.name
            ));
        }
        if !contains_value(body, &tool.parameters) {
            return Err(format!(
                "the parameters of tool `{}` ({}) are not a sub-value of the upstream request",
                tool.name, tool.parameters
            ));
        }
        Ok(())
    }
}

/// Whether any string anywhere in `value` satisfies `pred`.
pub fn any_string(value: &Value, pred: &dyn Fn(&str) -> bool) -> bool {
    match value {
        Value::String(s) => pred(s),
        Value::Array(items) => items.iter().any(|v| any_string(v, pred)),
        Value::Object(map) => map.iter().any(|(k, v)| pred(k) || any_string(v, pred)),
        _ => false,
    }
}

/// Whether `needle` equals `haystack` or one of its sub-values.
pub fn contains_value(haystack: &Value, needle: &Value) -> bool {
    if haystack == needle {
        return true;
    }
    match haystack {
        Value::Array(items) => items.iter().any(|v| contains_value(v, needle)),
        Value::Object(map) => map.values().any(|v| contains_value(v, needle)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sub_values_are_found() {
        let body = json!({"a": [{"b": {"type": "object"}}], "c": "hello world"});
        assert!(contains_value(&body, &json!({"type": "object"})));
        assert!(!contains_value(&body, &json!({"type": "string"})));
        assert!(any_string(&body, &|s| s.contains("world")));
        assert!(!any_string(&body, &|s| s.contains("mars")));
    }

    #[test]
    fn statuses() {
        assert_eq!(ErrorCase::RateLimited.status(), 429);
        assert_eq!(ErrorCase::ContextLengthExceeded.status(), 400);
        assert_eq!(ErrorCase::Server(529).status(), 529);
    }
}
