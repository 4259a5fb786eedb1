//! The conformance cases and their assertions.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::Value;
use switchboard_core::{
    Capabilities, ChatEvent, ChatRequest, ChatResponse, ChatStream, ContentPart, EmbeddingsRequest,
    Error, ErrorKind, Message, Provider, ProviderContext, ResponseAccumulator, ResponseFormat,
    Role,
};
use wiremock::MockServer;

use crate::upstream::{EndlessUpstream, refused_base_url};
use crate::{ErrorCase, Recorded, Scenario, Target, WireFixtures};

/// The API key every case configures. Distinctive, so that a leak into an
/// error message or a `Debug` rendering is found by a plain substring search.
pub const TEST_API_KEY: &str = "sk-test-SECRET-1234";

/// The instance name every case builds the provider as; errors and answers
/// must name it.
pub const INSTANCE: &str = "conformance";

/// The request timeout of the timeout cases.
pub const SHORT_TIMEOUT: Duration = Duration::from_millis(400);

/// How long the upstream of the timeout cases waits before answering.
const UPSTREAM_DELAY: Duration = Duration::from_secs(6);

/// The request timeout of every other case (hangs fail instead of blocking).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);

/// The most any single provider call may take before the case fails.
const CALL_LIMIT: Duration = Duration::from_secs(20);

/// How soon after the stream is dropped the upstream connection must close.
pub const CANCEL_LIMIT: Duration = Duration::from_secs(2);

/// A 1×1 transparent PNG, base64.
pub const TINY_PNG_BASE64: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

/// An image URL for the URL image case.
pub const IMAGE_URL: &str = "https://upload.wikimedia.org/wikipedia/commons/thumb/d/dd/Gfp-wisconsin-madison-the-nature-boardwalk.jpg/2560px-Gfp-wisconsin-madison-the-nature-boardwalk.jpg";

/// One conformance case. Each becomes one `#[test]` of the same name under
/// [`conformance_tests!`](crate::conformance_tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Case {
    /// A plain answer: text, finish reason, the instance name, the key sent upstream.
    PlainChat,
    /// The plain answer's usage matches the recording exactly.
    UsageReported,
    /// Streamed text: `Start` first, `Finish` last, deltas concatenate to the text.
    StreamText,
    /// The stream reports usage matching the recording.
    StreamUsage,
    /// A tool definition reaches the upstream; the tool call comes back.
    ToolCall,
    /// A streamed tool call whose arguments arrive in several fragments.
    ToolCallStream,
    /// Several tool calls in one answer.
    ParallelToolCalls,
    /// Several streamed tool calls, told apart by `index`.
    ParallelToolCallsStream,
    /// An inline (base64) image reaches the upstream.
    ImageInput,
    /// An image by URL reaches the upstream.
    ImageUrlInput,
    /// A JSON-schema response format reaches the upstream; the JSON comes back.
    JsonSchema,
    /// 401 → `auth`.
    Error401Auth,
    /// 403 → `permission`.
    Error403Permission,
    /// 404 → `not_found`.
    Error404NotFound,
    /// 400 → `invalid_request`.
    Error400InvalidRequest,
    /// 400 with the context-window error → `context_length_exceeded`.
    Error400ContextLength,
    /// 429 with `Retry-After: 7` → `rate_limited` with a 7 s delay.
    Error429RateLimited,
    /// 500 → retryable.
    Error500,
    /// 502 → retryable.
    Error502,
    /// 503 → retryable.
    Error503,
    /// 529 → retryable.
    Error529,
    /// An upstream slower than the request timeout → `timeout`, promptly.
    Timeout,
    /// The same for a streamed request.
    StreamTimeout,
    /// Dropping a stream midway closes the upstream connection.
    Cancellation,
    /// An upstream that ends the stream in the middle of an event → `protocol` error.
    StreamTruncated,
    /// Nothing listening at the base URL → `unavailable`.
    ConnectionRefused,
    /// The key is in no `Debug` output and no error, even when the upstream echoes it.
    SecretHygiene,
    /// Embeddings come back in input order.
    Embeddings,
    /// The model list comes back.
    Models,
}

impl Case {
    /// Every case, in the order the suite runs them.
    pub const ALL: &'static [Case] = &[
        Case::PlainChat,
        Case::UsageReported,
        Case::StreamText,
        Case::StreamUsage,
        Case::ToolCall,
        Case::ToolCallStream,
        Case::ParallelToolCalls,
        Case::ParallelToolCallsStream,
        Case::ImageInput,
        Case::ImageUrlInput,
        Case::JsonSchema,
        Case::Error401Auth,
        Case::Error403Permission,
        Case::Error404NotFound,
        Case::Error400InvalidRequest,
        Case::Error400ContextLength,
        Case::Error429RateLimited,
        Case::Error500,
        Case::Error502,
        Case::Error503,
        Case::Error529,
        Case::Timeout,
        Case::StreamTimeout,
        Case::Cancellation,
        Case::StreamTruncated,
        Case::ConnectionRefused,
        Case::SecretHygiene,
        Case::Embeddings,
        Case::Models,
    ];

    /// The case's snake_case name (also its test function's name).
    pub fn name(self) -> &'static str {
        match self {
            Case::PlainChat => "plain_chat",
            Case::UsageReported => "usage_reported",
            Case::StreamText => "stream_text",
            Case::StreamUsage => "stream_usage",
            Case::ToolCall => "tool_call",
            Case::ToolCallStream => "tool_call_stream",
            Case::ParallelToolCalls => "parallel_tool_calls",
            Case::ParallelToolCallsStream => "parallel_tool_calls_stream",
            Case::ImageInput => "image_input",
            Case::ImageUrlInput => "image_url_input",
            Case::JsonSchema => "json_schema",
            Case::Error401Auth => "error_401_auth",
            Case::Error403Permission => "error_403_permission",
            Case::Error404NotFound => "error_404_not_found",
            Case::Error400InvalidRequest => "error_400_invalid_request",
            Case::Error400ContextLength => "error_400_context_length",
            Case::Error429RateLimited => "error_429_rate_limited",
            Case::Error500 => "error_500",
            Case::Error502 => "error_502",
            Case::Error503 => "error_503",
            Case::Error529 => "error_529",
            Case::Timeout => "timeout",
            Case::StreamTimeout => "stream_timeout",
            Case::Cancellation => "cancellation",
            Case::StreamTruncated => "stream_truncated",
            Case::ConnectionRefused => "connection_refused",
            Case::SecretHygiene => "secret_hygiene",
            Case::Embeddings => "embeddings",
            Case::Models => "models",
        }
    }

    /// The case named `name`.
    pub fn from_name(name: &str) -> Option<Case> {
        Case::ALL.iter().copied().find(|c| c.name() == name)
    }

    /// The capabilities a provider must declare for the case to run.
    pub fn requires(self) -> &'static [&'static str] {
        match self {
            Case::StreamText
            | Case::StreamUsage
            | Case::StreamTimeout
            | Case::Cancellation
            | Case::StreamTruncated => &["streaming"],
            Case::ToolCall | Case::ParallelToolCalls => &["tools"],
            Case::ToolCallStream | Case::ParallelToolCallsStream => &["tools", "streaming"],
            Case::ImageInput | Case::ImageUrlInput => &["vision"],
            Case::JsonSchema => &["json_schema"],
            Case::Embeddings => &["embeddings"],
            _ => &[],
        }
    }

    fn error_case(self) -> Option<ErrorCase> {
        Some(match self {
            Case::Error401Auth => ErrorCase::Unauthorized,
            Case::Error403Permission => ErrorCase::Forbidden,
            Case::Error404NotFound => ErrorCase::NotFound,
            Case::Error400InvalidRequest => ErrorCase::BadRequest,
            Case::Error400ContextLength => ErrorCase::ContextLengthExceeded,
            Case::Error429RateLimited => ErrorCase::RateLimited,
            Case::Error500 => ErrorCase::Server(500),
            Case::Error502 => ErrorCase::Server(502),
            Case::Error503 => ErrorCase::Server(503),
            Case::Error529 => ErrorCase::Server(529),
            _ => return None,
        })
    }
}

impl fmt::Display for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

fn has_capability(caps: &Capabilities, name: &str) -> bool {
    match name {
        "streaming" => caps.streaming,
        "tools" => caps.tools,
        "vision" => caps.vision,
        "embeddings" => caps.embeddings,
        "json_schema" => caps.json_schema,
        "reasoning" => caps.reasoning,
        _ => false,
    }
}

/// How one case went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every assertion held.
    Passed,
    /// The case did not run, and why.
    Skipped(String),
    /// The first assertion that failed.
    Failed(String),
}

type R = Result<(), String>;

macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}

/// Runs one case against the provider described by `target`.
pub async fn run_case<F: WireFixtures + ?Sized>(
    case: Case,
    target: &Target,
    fixtures: &F,
) -> Outcome {
    let caps = target.descriptor.capabilities;
    let missing: Vec<&str> = case
        .requires()
        .iter()
        .copied()
        .filter(|c| !has_capability(&caps, c))
        .collect();
    if !missing.is_empty() {
        return Outcome::Skipped(format!(
            "provider `{}` does not declare capability {}",
            target.descriptor.name,
            missing
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(" and ")
        ));
    }
    let mut run = Run {
        target,
        fx: fixtures,
        skipped: None,
    };
    let result = run.case(case).await;
    match (result, run.skipped) {
        (Err(msg), _) => Outcome::Failed(msg),
        (Ok(()), Some(reason)) => Outcome::Skipped(reason),
        (Ok(()), None) => Outcome::Passed,
    }
}

struct Run<'a, F: ?Sized> {
    target: &'a Target,
    fx: &'a F,
    skipped: Option<String>,
}

impl<F: WireFixtures + ?Sized> Run<'_, F> {
    async fn case(&mut self, case: Case) -> R {
        if let Some(ec) = case.error_case() {
            return self.error(ec).await;
        }
        match case {
            Case::PlainChat => self.plain_chat().await,
            Case::UsageReported => self.usage_reported().await,
            Case::StreamText => self.stream_text(false).await,
            Case::StreamUsage => self.stream_text(true).await,
            Case::ToolCall => {
                let sc = self.fx.tool_call(false);
                self.tools(sc, false, 1).await
            }
            Case::ToolCallStream => {
                let sc = self.fx.tool_call(true);
                self.tools(sc, true, 1).await
            }
            Case::ParallelToolCalls | Case::ParallelToolCallsStream => {
                let stream = case == Case::ParallelToolCallsStream;
                match self.fx.parallel_tool_calls(stream) {
                    Some(sc) => self.tools(sc, stream, 2).await,
                    None => {
                        self.skipped =
                            Some("the fixtures have no parallel tool-call recording".into());
                        Ok(())
                    }
                }
            }
            Case::ImageInput => {
                self.image(ContentPart::image_base64("image/png", TINY_PNG_BASE64))
                    .await
            }
            Case::ImageUrlInput => {
                if !self.fx.supports_image_urls() {
                    self.skipped = Some("the provider takes no images by URL".into());
                    return Ok(());
                }
                self.image(ContentPart::image_url(IMAGE_URL)).await
            }
            Case::JsonSchema => self.json_schema().await,
            Case::Timeout => self.timeout(false).await,
            Case::StreamTimeout => self.timeout(true).await,
            Case::Cancellation => self.cancellation().await,
            Case::StreamTruncated => self.truncated().await,
            Case::ConnectionRefused => self.refused().await,
            Case::SecretHygiene => self.secret_hygiene().await,
            Case::Embeddings => self.embeddings().await,
            Case::Models => self.models().await,
            _ => Err(format!("case `{case}` has no implementation")),
        }
    }

    // ---- helpers ---------------------------------------------------------

    fn streaming(&self) -> bool {
        self.target.descriptor.capabilities.streaming
    }

    async fn build_with(
        &self,
        base_url: &str,
        timeout: Duration,
    ) -> Result<Arc<dyn Provider>, String> {
        let config = self.fx.config(base_url, TEST_API_KEY);
        let mut ctx = ProviderContext::standalone(INSTANCE);
        ctx.request_timeout = timeout;
        match self.target.descriptor.build(config, ctx).await {
            Ok(p) => Ok(p),
            Err(e) => {
                check_error(&e)?;
                Err(format!("building the provider failed: {e}"))
            }
        }
    }

    async fn build(&self, server: &MockServer) -> Result<Arc<dyn Provider>, String> {
        self.build_with(&server.uri(), DEFAULT_TIMEOUT).await
    }

    fn request(&self) -> ChatRequest {
        ChatRequest::new(self.fx.model(), vec![Message::user("Hello!")])
    }

    fn scenario_request(&self, sc: &Scenario) -> ChatRequest {
        let mut req = self.request();
        req.tools.clone_from(&sc.tools);
        req.response_format.clone_from(&sc.response_format);
        req
    }

    /// A mock server answering chat requests (streamed and not) with `response`.
    async fn chat_server(&self, response: &Recorded) -> MockServer {
        let server = MockServer::start().await;
        let model = self.fx.model();
        let plain = self.fx.chat_route(false, &model);
        let streamed = self.fx.chat_route(true, &model);
        plain.mock(response).mount(&server).await;
        if streamed != plain {
            streamed.mock(response).mount(&server).await;
        }
        server
    }

    async fn chat(
        &self,
        provider: &dyn Provider,
        req: &ChatRequest,
    ) -> Result<ChatResponse, Error> {
        match tokio::time::timeout(CALL_LIMIT, provider.chat(req)).await {
            Ok(r) => r,
            Err(_) => Err(Error::timeout(format!(
                "the conformance kit gave up: chat took over {CALL_LIMIT:?}"
            ))),
        }
    }

    async fn chat_ok(
        &self,
        provider: &dyn Provider,
        req: &ChatRequest,
    ) -> Result<ChatResponse, String> {
        match self.chat(provider, req).await {
            Ok(r) => Ok(r),
            Err(e) => {
                check_error(&e)?;
                Err(format!("chat failed: {e} ({e:?})"))
            }
        }
    }

    /// The stream's events, and the error that ended it, if any. An error
    /// must be the stream's last item.
    async fn stream(
        &self,
        provider: &dyn Provider,
        req: &ChatRequest,
    ) -> Result<(Vec<ChatEvent>, Option<Error>), String> {
        let fut = async {
            let mut stream = match provider.chat_stream(req).await {
                Ok(s) => s,
                Err(e) => return Ok((Vec::new(), Some(e))),
            };
            let mut events = Vec::new();
            while let Some(item) = stream.next().await {
                match item {
                    Ok(ev) => events.push(ev),
                    Err(e) => {
                        if let Some(next) = stream.next().await {
                            return Err(format!(
                                "the stream went on after the error `{e}`: {next:?}"
                            ));
                        }
                        return Ok((events, Some(e)));
                    }
                }
            }
            Ok((events, None))
        };
        match tokio::time::timeout(CALL_LIMIT, fut).await {
            Ok(Ok((events, err))) => {
                if let Some(e) = &err {
                    check_error(e)?;
                }
                Ok((events, err))
            }
            Ok(Err(msg)) => Err(msg),
            Err(_) => Err(format!("the stream did not end within {CALL_LIMIT:?}")),
        }
    }

    async fn stream_ok(
        &self,
        provider: &dyn Provider,
        req: &ChatRequest,
    ) -> Result<Vec<ChatEvent>, String> {
        let (events, err) = self.stream(provider, req).await?;
        match err {
            None => Ok(events),
            Some(e) => Err(format!(
                "the stream failed after {} events: {e} ({e:?})",
                events.len()
            )),
        }
    }

    async fn upstream_body(&self, server: &MockServer) -> Result<Value, String> {
        let requests = server
            .received_requests()
            .await
            .ok_or("request recording is off")?;
        let last = requests
            .last()
            .ok_or("the provider sent no request to the upstream")?;
        serde_json::from_slice(&last.body).map_err(|e| {
            format!(
                "the upstream request body is not JSON ({e}): {}",
                String::from_utf8_lossy(&last.body)
            )
        })
    }

    // ---- cases -----------------------------------------------------------

    async fn plain_chat(&mut self) -> R {
        let sc = self.fx.plain_chat();
        let server = self.chat_server(&sc.response).await;
        let provider = self.build(&server).await?;
        let resp = self.chat_ok(&*provider, &self.request()).await?;
        check_answer(&resp, &sc, false)?;
        ensure!(
            resp.provider == INSTANCE,
            "the answer names provider `{}`, not the instance `{INSTANCE}`",
            resp.provider
        );
        let requests = server.received_requests().await.unwrap_or_default();
        ensure!(
            requests.len() == 1,
            "one chat call sent {} upstream requests",
            requests.len()
        );
        key_reached_upstream(&requests[0])
    }

    async fn usage_reported(&mut self) -> R {
        let sc = self.fx.plain_chat();
        ensure!(
            sc.usage.is_some(),
            "the fixtures' plain_chat scenario gives no usage to check"
        );
        let server = self.chat_server(&sc.response).await;
        let provider = self.build(&server).await?;
        let resp = self.chat_ok(&*provider, &self.request()).await?;
        check_usage(Some(&resp.usage), &sc)
    }

    async fn stream_text(&mut self, usage_only: bool) -> R {
        let sc = self.fx.stream_text();
        if usage_only {
            ensure!(
                sc.usage.is_some(),
                "the fixtures' stream_text scenario gives no usage to check"
            );
        }
        let server = self.chat_server(&sc.response).await;
        let provider = self.build(&server).await?;
        let events = self.stream_ok(&*provider, &self.request()).await?;
        if usage_only {
            let usage = events.iter().rev().find_map(|e| match e {
                ChatEvent::Usage(u) => Some(*u),
                _ => None,
            });
            ensure!(usage.is_some(), "the stream reported no usage: {events:?}");
            return check_usage(usage.as_ref(), &sc);
        }
        let text_deltas = events
            .iter()
            .filter(|e| matches!(e, ChatEvent::TextDelta { text } if !text.is_empty()))
            .count();
        ensure!(
            text_deltas >= 2,
            "the text came in {text_deltas} delta(s); a streamed answer must arrive incrementally"
        );
        check_events(&events, &sc)
    }

    async fn tools(&mut self, sc: Scenario, stream: bool, min_calls: usize) -> R {
        ensure!(
            !sc.tools.is_empty(),
            "the tool scenario offers no tools (use Scenario::tool)"
        );
        ensure!(
            sc.tool_calls.len() >= min_calls,
            "the tool scenario expects {} call(s); this case needs at least {min_calls}",
            sc.tool_calls.len()
        );
        let server = self.chat_server(&sc.response).await;
        let provider = self.build(&server).await?;
        let req = self.scenario_request(&sc);
        if stream {
            let events = self.stream_ok(&*provider, &req).await?;
            check_events(&events, &sc)?;
            let min_fragments = if self.fx.streams_whole_tool_calls() {
                1
            } else {
                2
            };
            check_split_arguments(&events, min_fragments)?;
        } else {
            let resp = self.chat_ok(&*provider, &req).await?;
            check_answer(&resp, &sc, false)?;
        }
        let body = self.upstream_body(&server).await?;
        for tool in &sc.tools {
            self.fx.tool_sent(&body, tool)?;
        }
        Ok(())
    }

    async fn image(&mut self, image: ContentPart) -> R {
        let sc = self.fx.image_input();
        let server = self.chat_server(&sc.response).await;
        let provider = self.build(&server).await?;
        let mut req = self.request();
        req.messages = vec![Message {
            role: Role::User,
            content: vec![ContentPart::text("What is in this image?"), image.clone()],
            ..Message::user("")
        }];
        let resp = self.chat_ok(&*provider, &req).await?;
        check_answer(&resp, &sc, false)?;
        let body = self.upstream_body(&server).await?;
        self.fx.image_sent(&body, &image)
    }

    async fn json_schema(&mut self) -> R {
        let sc = self.fx.json_schema();
        let Some(ResponseFormat::JsonSchema { schema, .. }) = &sc.response_format else {
            return Err(
                "the json_schema scenario sets no JSON-schema response format (use Scenario::response_format)"
                    .into(),
            );
        };
        let server = self.chat_server(&sc.response).await;
        let provider = self.build(&server).await?;
        let resp = self
            .chat_ok(&*provider, &self.scenario_request(&sc))
            .await?;
        check_answer(&resp, &sc, false)?;
        if let Err(e) = serde_json::from_str::<Value>(&resp.text()) {
            return Err(format!("the answer is not JSON ({e}): {}", resp.text()));
        }
        let body = self.upstream_body(&server).await?;
        self.fx.schema_sent(&body, schema)
    }

    async fn error(&mut self, ec: ErrorCase) -> R {
        let message = ec.message();
        let mut response = self.fx.error_body(ec, message).with_status(ec.status());
        if ec == ErrorCase::RateLimited {
            response = response.with_header("retry-after", "7");
        }
        let server = self.chat_server(&response).await;
        let provider = self.build(&server).await?;
        let err = match self.chat(&*provider, &self.request()).await {
            Ok(resp) => return Err(format!("HTTP {} was answered with {resp:?}", ec.status())),
            Err(e) => e,
        };
        check_error(&err)?;
        check_error_kind(ec, &err, message).map_err(|m| format!("chat: {m}"))?;
        if self.streaming() {
            let (events, err) = self.stream(&*provider, &self.request()).await?;
            let Some(err) = err else {
                return Err(format!(
                    "chat_stream: HTTP {} was answered with events {events:?}",
                    ec.status()
                ));
            };
            ensure!(
                events.is_empty(),
                "chat_stream: events {events:?} came before the HTTP {} error",
                ec.status()
            );
            check_error_kind(ec, &err, message).map_err(|m| format!("chat_stream: {m}"))?;
        }
        Ok(())
    }

    async fn timeout(&mut self, stream: bool) -> R {
        let sc = if stream {
            self.fx.stream_text()
        } else {
            self.fx.plain_chat()
        };
        let server = MockServer::start().await;
        let model = self.fx.model();
        let route = self.fx.chat_route(stream, &model);
        wiremock::Mock::given(wiremock::matchers::method(route.method.as_str()))
            .and(wiremock::matchers::path(route.path.as_str()))
            .respond_with(sc.response.template().set_delay(UPSTREAM_DELAY))
            .mount(&server)
            .await;
        let provider = self.build_with(&server.uri(), SHORT_TIMEOUT).await?;
        let start = Instant::now();
        let err = if stream {
            let (events, err) = self.stream(&*provider, &self.request()).await?;
            match err {
                Some(e) => e,
                None => return Err(format!("a stalled upstream was answered with {events:?}")),
            }
        } else {
            match self.chat(&*provider, &self.request()).await {
                Ok(r) => return Err(format!("a stalled upstream was answered with {r:?}")),
                Err(e) => e,
            }
        };
        let took = start.elapsed();
        check_error(&err)?;
        ensure!(
            err.kind() == &ErrorKind::Timeout,
            "an upstream slower than the {SHORT_TIMEOUT:?} request timeout gave a `{}` error, not `timeout`: {err}",
            err.kind().code()
        );
        ensure!(
            took < SHORT_TIMEOUT * 5,
            "the timeout error came after {took:?}, for a {SHORT_TIMEOUT:?} request timeout"
        );
        Ok(())
    }

    async fn cancellation(&mut self) -> R {
        let endless = self.fx.endless_stream();
        let mut upstream = EndlessUpstream::start(endless)
            .await
            .map_err(|e| format!("starting the endless upstream: {e}"))?;
        let provider = self.build_with(&upstream.base_url, DEFAULT_TIMEOUT).await?;
        let req = self.request();
        let mut stream: ChatStream =
            match tokio::time::timeout(CALL_LIMIT, provider.chat_stream(&req)).await {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => {
                    check_error(&e)?;
                    return Err(format!(
                        "chat_stream failed against the endless upstream: {e}"
                    ));
                }
                Err(_) => return Err("chat_stream did not return within the limit".into()),
            };
        let mut seen = Vec::new();
        let got_text = tokio::time::timeout(CALL_LIMIT, async {
            while let Some(item) = stream.next().await {
                match item {
                    Ok(ev) => {
                        let text = matches!(&ev, ChatEvent::TextDelta { text } if !text.is_empty());
                        seen.push(ev);
                        if text {
                            return Ok(());
                        }
                    }
                    Err(e) => return Err(e),
                }
            }
            Err(Error::protocol("the endless stream ended"))
        })
        .await;
        match got_text {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                check_error(&e)?;
                return Err(format!(
                    "the endless stream failed before any text: {e}; events {seen:?}"
                ));
            }
            Err(_) => return Err(format!("no text event within the limit; events {seen:?}")),
        }
        ensure!(
            matches!(seen.first(), Some(ChatEvent::Start { .. })),
            "the first event was {:?}, not `Start`",
            seen.first()
        );
        drop(stream);
        let dropped_at = Instant::now();
        // The provider (and its connection pool) stays alive: only the drop
        // of the stream may close the connection.
        let closed = upstream.closed_within(CANCEL_LIMIT).await;
        drop(provider);
        match closed {
            Some(at) => {
                let after = at.saturating_duration_since(dropped_at);
                ensure!(
                    after <= CANCEL_LIMIT,
                    "the upstream connection closed {after:?} after the stream was dropped"
                );
                Ok(())
            }
            None => Err(format!(
                "the upstream connection was still open {CANCEL_LIMIT:?} after the stream was dropped: \
                 the stream must own the HTTP response so that dropping it hangs up"
            )),
        }
    }

    async fn truncated(&mut self) -> R {
        let sc = self.fx.stream_text();
        let body = &sc.response.body;
        let cut = cut_point(body).ok_or("the stream_text recording is too short to cut")?;
        let mut response = sc.response.clone();
        response.body = body[..cut].to_vec();
        let server = self.chat_server(&response).await;
        let provider = self.build(&server).await?;
        let (events, err) = self.stream(&*provider, &self.request()).await?;
        ensure!(
            !events.iter().any(|e| matches!(e, ChatEvent::Finish { .. })),
            "a stream cut off mid-event reported `Finish`: {events:?}"
        );
        let Some(err) = err else {
            return Err(format!(
                "a stream cut off mid-event ended without an error after {} events",
                events.len()
            ));
        };
        ensure!(
            err.kind() == &ErrorKind::Protocol,
            "a stream cut off mid-event gave a `{}` error, not `protocol`: {err}",
            err.kind().code()
        );
        Ok(())
    }

    async fn refused(&mut self) -> R {
        let base = refused_base_url()
            .await
            .map_err(|e| format!("finding a free port: {e}"))?;
        let provider = self.build_with(&base, DEFAULT_TIMEOUT).await?;
        let err = match self.chat(&*provider, &self.request()).await {
            Ok(r) => return Err(format!("nothing listens, yet chat answered {r:?}")),
            Err(e) => e,
        };
        check_error(&err)?;
        ensure!(
            err.kind() == &ErrorKind::Unavailable,
            "a refused connection gave a `{}` error, not `unavailable`: {err}",
            err.kind().code()
        );
        if self.streaming() {
            let (_, err) = self.stream(&*provider, &self.request()).await?;
            let err = err.ok_or("nothing listens, yet the stream ended cleanly")?;
            ensure!(
                err.kind() == &ErrorKind::Unavailable,
                "chat_stream: a refused connection gave a `{}` error, not `unavailable`: {err}",
                err.kind().code()
            );
        }
        Ok(())
    }

    async fn secret_hygiene(&mut self) -> R {
        // Debug of the config and of the built provider.
        let config = self.fx.config("http://127.0.0.1:9", TEST_API_KEY);
        let rendered = (self.target.debug)(config, INSTANCE)
            .await
            .map_err(|e| format!("building the provider for its Debug output failed: {e}"))?;
        ensure!(
            !rendered.contains(TEST_API_KEY),
            "the API key appears in Debug output: {rendered}"
        );
        // The key does reach the upstream (so the other checks mean something).
        let sc = self.fx.plain_chat();
        let server = self.chat_server(&sc.response).await;
        let provider = self.build(&server).await?;
        self.chat_ok(&*provider, &self.request()).await?;
        let requests = server.received_requests().await.unwrap_or_default();
        let first = requests.first().ok_or("no upstream request")?;
        key_reached_upstream(first)?;
        // An upstream that echoes the key back in its error message.
        let echo = format!(
            "Incorrect API key provided: {TEST_API_KEY}. You can find your API key at https://example.com."
        );
        let response = self
            .fx
            .error_body(ErrorCase::Unauthorized, &echo)
            .with_status(401);
        let server = self.chat_server(&response).await;
        let provider = self.build(&server).await?;
        let err = match self.chat(&*provider, &self.request()).await {
            Ok(r) => return Err(format!("HTTP 401 was answered with {r:?}")),
            Err(e) => e,
        };
        check_error(&err).map_err(|m| format!("upstream echoed the key: {m}"))?;
        ensure!(
            err.kind() == &ErrorKind::Auth,
            "HTTP 401 gave `{}`",
            err.kind().code()
        );
        if self.streaming() {
            let (_, err) = self.stream(&*provider, &self.request()).await?;
            ensure!(err.is_some(), "chat_stream: HTTP 401 gave no error");
        }
        Ok(())
    }

    async fn embeddings(&mut self) -> R {
        let Some(sc) = self.fx.embeddings() else {
            return Err(
                "the provider declares `embeddings` but the fixtures give no embeddings scenario"
                    .into(),
            );
        };
        let server = MockServer::start().await;
        sc.route.mock(&sc.response).mount(&server).await;
        let provider = self.build(&server).await?;
        let req = EmbeddingsRequest::new(sc.model.clone(), sc.input.clone());
        let resp = match tokio::time::timeout(CALL_LIMIT, provider.embed(&req)).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => {
                check_error(&e)?;
                return Err(format!("embed failed: {e}"));
            }
            Err(_) => return Err("embed did not return within the limit".into()),
        };
        ensure!(
            resp.embeddings == sc.vectors,
            "embeddings {:?}, expected {:?}",
            resp.embeddings,
            sc.vectors
        );
        if let Some(n) = sc.input_tokens {
            ensure!(
                resp.usage.input_tokens == n,
                "embedding usage {:?}, expected {n} input tokens",
                resp.usage
            );
        }
        ensure!(
            resp.provider == INSTANCE,
            "the embeddings name provider `{}`, not `{INSTANCE}`",
            resp.provider
        );
        let body = self.upstream_body(&server).await?;
        for text in &sc.input {
            ensure!(
                crate::any_string(&body, &|s| s == text),
                "the input `{text}` is not in the upstream request {body}"
            );
        }
        Ok(())
    }

    async fn models(&mut self) -> R {
        let Some(sc) = self.fx.models() else {
            self.skipped = Some("the fixtures have no model-list recording".into());
            return Ok(());
        };
        let server = MockServer::start().await;
        sc.route.mock(&sc.response).mount(&server).await;
        let provider = self.build(&server).await?;
        let models = match tokio::time::timeout(CALL_LIMIT, provider.models()).await {
            Ok(Ok(m)) => m,
            Ok(Err(e)) => {
                check_error(&e)?;
                return Err(format!("models failed: {e}"));
            }
            Err(_) => return Err("models did not return within the limit".into()),
        };
        let ids: Vec<&str> = models.iter().map(|m| m.id.as_str()).collect();
        ensure!(ids == sc.ids, "models {ids:?}, expected {:?}", sc.ids);
        Ok(())
    }
}

// ---- assertions ---------------------------------------------------------

/// Checks that an error does not leak the key (its `Display`, `Debug`, and
/// every source's `Display`) and names the instance.
pub fn check_error(err: &Error) -> R {
    let mut texts = vec![err.to_string(), format!("{err:?}")];
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        texts.push(s.to_string());
        source = s.source();
    }
    for t in &texts {
        ensure!(
            !t.contains(TEST_API_KEY),
            "the API key appears in an error: {t}"
        );
    }
    ensure!(
        err.instance() == Some(INSTANCE),
        "the error does not name the instance `{INSTANCE}` (instance: {:?}): {err}",
        err.instance()
    );
    Ok(())
}

fn check_error_kind(ec: ErrorCase, err: &Error, message: &str) -> R {
    let kind = err.kind();
    let ok = match ec {
        ErrorCase::Unauthorized => kind == &ErrorKind::Auth,
        ErrorCase::Forbidden => kind == &ErrorKind::Permission,
        ErrorCase::NotFound => kind == &ErrorKind::NotFound,
        ErrorCase::BadRequest => kind == &ErrorKind::InvalidRequest,
        ErrorCase::ContextLengthExceeded => kind == &ErrorKind::ContextLengthExceeded,
        ErrorCase::RateLimited => {
            kind == &ErrorKind::RateLimited {
                retry_after: Some(Duration::from_secs(7)),
            }
        }
        ErrorCase::Server(_) => err.is_retryable(),
    };
    ensure!(
        ok,
        "HTTP {} gave {kind:?}, which is not what {ec:?} must map to: {err}",
        ec.status()
    );
    ensure!(
        err.message().contains(message),
        "the error message does not keep the upstream's message `{message}`: {err}"
    );
    Ok(())
}

fn key_reached_upstream(req: &wiremock::Request) -> R {
    let in_headers = req
        .headers
        .values()
        .any(|v| v.to_str().is_ok_and(|s| s.contains(TEST_API_KEY)));
    let in_url = req.url.as_str().contains(TEST_API_KEY);
    ensure!(
        in_headers || in_url,
        "the configured API key reached the upstream in no header and not in the URL"
    );
    Ok(())
}

fn check_usage(usage: Option<&switchboard_core::Usage>, sc: &Scenario) -> R {
    if let Some(expected) = &sc.usage {
        ensure!(
            usage == Some(expected),
            "usage {usage:?}, expected {expected:?}"
        );
    }
    Ok(())
}

fn check_answer(resp: &ChatResponse, sc: &Scenario, streamed: bool) -> R {
    ensure!(
        resp.text() == sc.text,
        "answer text {:?}, expected {:?}",
        resp.text(),
        sc.text
    );
    ensure!(
        resp.finish_reason == sc.finish,
        "finish reason `{}`, expected `{}`",
        resp.finish_reason,
        sc.finish
    );
    ensure!(
        resp.tool_calls.len() == sc.tool_calls.len(),
        "{} tool call(s) {:?}, expected {}",
        resp.tool_calls.len(),
        resp.tool_calls,
        sc.tool_calls.len()
    );
    for (i, (got, want)) in resp.tool_calls.iter().zip(&sc.tool_calls).enumerate() {
        ensure!(
            got.name == want.name,
            "tool call {i} is `{}`, expected `{}`",
            got.name,
            want.name
        );
        if let Some(id) = &want.id {
            ensure!(
                &got.id == id,
                "tool call {i} has id `{}`, expected `{id}`",
                got.id
            );
        }
        let args: Value = serde_json::from_str(&got.arguments).map_err(|e| {
            format!(
                "tool call {i}'s arguments are not complete JSON ({e}): {:?}",
                got.arguments
            )
        })?;
        ensure!(
            args == want.arguments,
            "tool call {i}'s arguments are {args}, expected {}",
            want.arguments
        );
    }
    if !streamed {
        check_usage(Some(&resp.usage), sc)?;
    }
    Ok(())
}

fn check_events(events: &[ChatEvent], sc: &Scenario) -> R {
    ensure!(
        matches!(events.first(), Some(ChatEvent::Start { .. })),
        "the first event is {:?}, not `Start`",
        events.first()
    );
    ensure!(
        matches!(events.last(), Some(ChatEvent::Finish { .. })),
        "the last event is {:?}, not `Finish`",
        events.last()
    );
    let starts = events
        .iter()
        .filter(|e| matches!(e, ChatEvent::Start { .. }))
        .count();
    let finishes = events
        .iter()
        .filter(|e| matches!(e, ChatEvent::Finish { .. }))
        .count();
    ensure!(
        starts == 1 && finishes == 1,
        "{starts} `Start` and {finishes} `Finish` events; expected one of each"
    );
    let mut acc = ResponseAccumulator::new();
    for e in events {
        acc.push(e);
    }
    let resp = acc.finish();
    check_answer(&resp, sc, true)?;
    if sc.usage.is_some() {
        let usage = events.iter().rev().find_map(|e| match e {
            ChatEvent::Usage(u) => Some(u),
            _ => None,
        });
        check_usage(usage, sc)?;
    }
    Ok(())
}

/// Every tool call's arguments came in at least `min_fragments` non-empty
/// fragments, each after the call's `ToolCallStart`.
fn check_split_arguments(events: &[ChatEvent], min_fragments: usize) -> R {
    let mut started: Vec<u32> = Vec::new();
    let mut fragments: std::collections::BTreeMap<u32, usize> = Default::default();
    for e in events {
        match e {
            ChatEvent::ToolCallStart { index, .. } => started.push(*index),
            ChatEvent::ToolCallDelta { index, arguments } => {
                ensure!(
                    started.contains(index),
                    "arguments for tool call {index} came before its `ToolCallStart`"
                );
                if !arguments.is_empty() {
                    *fragments.entry(*index).or_default() += 1;
                }
            }
            _ => {}
        }
    }
    for index in &started {
        let n = fragments.get(index).copied().unwrap_or(0);
        ensure!(
            n >= min_fragments,
            "tool call {index}'s arguments came in {n} fragment(s), expected at least {min_fragments}; \
             the recording must split them so the case tests reassembly (or the fixtures must declare \
             `streams_whole_tool_calls`)"
        );
    }
    Ok(())
}

/// A position inside a line in the last third of `body`: cutting there ends
/// the stream in the middle of an event.
fn cut_point(body: &[u8]) -> Option<usize> {
    if body.len() < 16 {
        return None;
    }
    let mut p = body.len() * 2 / 3;
    while p > 1 {
        let prev = body[p - 1];
        let here = body[p];
        if prev != b'\n' && prev != b'\r' && here != b'\n' && here != b'\r' {
            return Some(p);
        }
        p -= 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        let mut names: Vec<&str> = Case::ALL.iter().map(|c| c.name()).collect();
        for c in Case::ALL {
            assert_eq!(Case::from_name(c.name()), Some(*c));
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Case::ALL.len());
    }

    #[test]
    fn cut_lands_inside_a_line() {
        let body = b"data: {\"a\":1}\n\ndata: {\"b\":2}\n\ndata: [DONE]\n\n";
        let p = cut_point(body).expect("long enough");
        assert!(body[p - 1] != b'\n' && body[p] != b'\n');
        assert!(cut_point(b"short").is_none());
    }

    #[test]
    fn split_arguments_are_required() {
        let start = ChatEvent::ToolCallStart {
            index: 0,
            id: "a".into(),
            name: "f".into(),
        };
        let frag = |s: &str| ChatEvent::ToolCallDelta {
            index: 0,
            arguments: s.into(),
        };
        assert!(check_split_arguments(&[start.clone(), frag("{}")], 2).is_err());
        assert!(check_split_arguments(&[start.clone(), frag("{}")], 1).is_ok());
        assert!(check_split_arguments(std::slice::from_ref(&start), 1).is_err());
        assert!(check_split_arguments(&[start.clone(), frag("{"), frag("}")], 2).is_ok());
        assert!(check_split_arguments(&[frag("{"), start, frag("}")], 2).is_err());
    }

    #[test]
    fn leaked_keys_and_missing_instances_fail() {
        let leaky = Error::auth(format!("bad key {TEST_API_KEY}")).with_instance(INSTANCE);
        assert!(check_error(&leaky).is_err());
        let anonymous = Error::auth("bad key");
        assert!(check_error(&anonymous).is_err());
        let source = Error::auth("bad key")
            .with_instance(INSTANCE)
            .with_source(Error::protocol(TEST_API_KEY.to_owned()));
        assert!(check_error(&source).is_err());
        assert!(check_error(&Error::auth("bad key").with_instance(INSTANCE)).is_ok());
    }
}
