//! Which publisher serves a model, and the request paths and bodies each
//! one takes.

use serde_json::{Map, Value};
use switchboard_core::Error;

/// The `anthropic_version` a Claude request on Vertex carries in its body
/// (instead of the `anthropic-version` header of Anthropic's own API).
pub const VERTEX_ANTHROPIC_VERSION: &str = "vertex-2023-10-16";

/// A model's publisher on Vertex AI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Publisher {
    /// Google's models (Gemini, Gemma, ...): the `generateContent` API.
    Google,
    /// Anthropic's Claude models: the Messages API through `rawPredict`.
    Anthropic,
}

impl Publisher {
    /// The publisher of `model` (`claude-*` is Anthropic, anything else
    /// Google) and the model id. A `google/` or `anthropic/` prefix names
    /// the publisher explicitly. Ids take letters, digits, `.`, `-`, `_`
    /// and `@` (Claude's `claude-3-5-sonnet-v2@20241022`), so an id cannot
    /// change the URL's path or query.
    pub fn of(model: &str) -> Result<(Publisher, &str), Error> {
        let (publisher, id) = if let Some(id) = model.strip_prefix("anthropic/") {
            (Publisher::Anthropic, id)
        } else if let Some(id) = model.strip_prefix("google/") {
            (Publisher::Google, id)
        } else if model.starts_with("claude") {
            (Publisher::Anthropic, model)
        } else {
            (Publisher::Google, model)
        };
        let valid = !id.is_empty()
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'@'));
        if !valid {
            return Err(Error::invalid_param(
                "model",
                format!(
                    "{model:?} is not a Vertex AI model id (letters, digits, `.`, `-`, `_`, `@`)"
                ),
            ));
        }
        Ok((publisher, id))
    }

    /// The publisher's path segment.
    pub fn segment(self) -> &'static str {
        match self {
            Publisher::Google => "google",
            Publisher::Anthropic => "anthropic",
        }
    }

    /// The method that answers `stream`ed or whole: `generateContent` /
    /// `streamGenerateContent?alt=sse`, `rawPredict` / `streamRawPredict`.
    pub fn method(self, stream: bool) -> &'static str {
        match (self, stream) {
            (Publisher::Google, false) => "generateContent",
            (Publisher::Google, true) => "streamGenerateContent?alt=sse",
            (Publisher::Anthropic, false) => "rawPredict",
            (Publisher::Anthropic, true) => "streamRawPredict",
        }
    }
}

/// `{version}/projects/{project}/locations/{location}/publishers/{publisher}/models/{model}:{method}`.
pub fn model_path(
    version: &str,
    project: &str,
    location: &str,
    publisher: Publisher,
    model: &str,
    stream: bool,
) -> String {
    format!(
        "{version}/projects/{project}/locations/{location}/publishers/{}/models/{model}:{}",
        publisher.segment(),
        publisher.method(stream)
    )
}

/// A Messages API body made a Vertex `rawPredict` body: `model` removed (it
/// is in the URL) and `anthropic_version` set to
/// [`VERTEX_ANTHROPIC_VERSION`] unless the request gave one (Anthropic's
/// SDK, `lib/vertex/_client.py`). `messages_json` is the serialized
/// request; re-reading it keeps every number as written.
pub fn anthropic_body(messages_json: &[u8]) -> Result<Vec<u8>, Error> {
    let mut body: Map<String, Value> = serde_json::from_slice(messages_json)
        .map_err(|e| Error::internal(format!("the Messages request could not be re-read: {e}")))?;
    body.remove("model");
    body.entry("anthropic_version")
        .or_insert_with(|| Value::String(VERTEX_ANTHROPIC_VERSION.to_owned()));
    serde_json::to_vec(&body)
        .map_err(|e| Error::internal(format!("the rawPredict body could not be written: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publishers_by_model_name() {
        assert_eq!(
            Publisher::of("gemini-2.5-flash").ok(),
            Some((Publisher::Google, "gemini-2.5-flash"))
        );
        assert_eq!(
            Publisher::of("claude-3-5-sonnet-v2@20241022").ok(),
            Some((Publisher::Anthropic, "claude-3-5-sonnet-v2@20241022"))
        );
        assert_eq!(
            Publisher::of("anthropic/my-claude").ok(),
            Some((Publisher::Anthropic, "my-claude"))
        );
        assert_eq!(
            Publisher::of("google/gemma-3").ok(),
            Some((Publisher::Google, "gemma-3"))
        );
        for bad in [
            "",
            "claude/../x",
            "gemini?alt=1",
            "a b",
            "google/",
            "m:rawPredict",
        ] {
            assert_eq!(
                Publisher::of(bad).expect_err(bad).param(),
                Some("model"),
                "{bad}"
            );
        }
    }

    #[test]
    fn paths_per_publisher() {
        assert_eq!(
            model_path(
                "v1",
                "p",
                "us-east5",
                Publisher::Anthropic,
                "claude-x",
                true
            ),
            "v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-x:streamRawPredict"
        );
        assert_eq!(
            model_path(
                "v1beta1",
                "p",
                "global",
                Publisher::Google,
                "gemini-2.5-flash",
                false
            ),
            "v1beta1/projects/p/locations/global/publishers/google/models/gemini-2.5-flash:generateContent"
        );
    }

    #[test]
    fn the_anthropic_body_loses_model_and_gains_the_version() {
        let body = anthropic_body(br#"{"model":"claude-x","max_tokens":5,"temperature":0.7}"#)
            .expect("rewrites");
        let v: Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(
            v,
            serde_json::json!({"anthropic_version": VERTEX_ANTHROPIC_VERSION, "max_tokens": 5, "temperature": 0.7})
        );
        assert!(String::from_utf8_lossy(&body).contains("\"temperature\":0.7"));
        let kept = anthropic_body(br#"{"model":"m","anthropic_version":"vertex-2099"}"#)
            .expect("rewrites");
        assert!(String::from_utf8_lossy(&kept).contains("vertex-2099"));
    }
}
