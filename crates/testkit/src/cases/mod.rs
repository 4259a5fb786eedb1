//! The conformance cases: their list, the capabilities each needs, and the
//! check that runs each. One file per concern; [`CaseRun`] (in `harness`)
//! is what they drive the provider with.

use std::fmt;

use switchboard_core::ContentPart;

pub(crate) mod assertions;
mod chat;
mod embeddings;
mod errors;
mod harness;
mod images;
mod json_schema;
mod models;
mod secrets;
pub(crate) mod settings;
mod streaming;
mod timeouts;
mod tools;

pub(crate) use crate::cases::harness::CaseRun;

use crate::cases::assertions::CheckResult;
use crate::cases::settings::{IMAGE_URL, TINY_PNG_BASE64};
use crate::fixtures::{ErrorCase, WireFixtures};

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

impl<F: WireFixtures + ?Sized> CaseRun<'_, F> {
    /// Runs `case` (whose capabilities the provider declares).
    pub(crate) async fn case(&mut self, case: Case) -> CheckResult {
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
}
