//! Gemini streams (`streamGenerateContent?alt=sse`) → core events.

mod decode;

pub use self::decode::GeminiStreamDecoder;
