//! Chat requests, messages, responses and usage.

mod message;
mod request;
mod response;
#[cfg(test)]
mod tests;

pub use message::{ContentPart, ImageSource, Message, Role, ToolCall};
pub use request::{ChatRequest, Reasoning, ReasoningEffort, ResponseFormat, Tool, ToolChoice};
pub use response::{ChatResponse, FinishReason, Usage};
