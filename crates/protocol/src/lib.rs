#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

pub mod anthropic;
mod base64;
pub mod decoded;
pub mod framing;
pub mod gemini;
pub mod lenient;
pub mod ndjson;
pub mod openai;
pub mod openai_responses;
pub mod retry_after;
pub mod sse;

use serde::Deserialize;
use switchboard_core::Error;

/// Parses a request body received from a client. A body that is not JSON is
/// an invalid request; a value of the wrong type is an invalid request whose
/// `param` is the JSON path of the value.
pub(crate) fn parse_inbound<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, Error> {
    // Fast path: a plain parse. Tracking the path of every value (to name
    // the failing field) is only paid for a body that fails.
    if let Ok(value) = serde_json::from_slice(body) {
        return Ok(value);
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return Error::invalid_request(format!("the request body is not valid JSON: {inner}"));
        }
        let detail = explain(&inner.to_string());
        let missing = detail
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split_once('`'))
            .map(|(field, _)| field.to_owned());
        match (path.as_str(), missing) {
            ("." | "", Some(field)) => {
                Error::invalid_param(field, format!("invalid request body: {detail}"))
            }
            ("." | "", None) => Error::invalid_request(format!("invalid request body: {detail}")),
            (_, Some(field)) => {
                let param = format!("{path}.{field}");
                Error::invalid_param(param, format!("invalid `{path}`: {detail}"))
            }
            (_, None) => Error::invalid_param(path.clone(), format!("invalid `{path}`: {detail}")),
        }
    })?;
    de.end()
        .map_err(|e| Error::invalid_request(format!("the request body is not valid JSON: {e}")))?;
    Ok(value)
}

/// Replaces serde's "did not match any variant of untagged enum X" with
/// what the field accepts.
fn explain(message: &str) -> String {
    const SHAPES: &[(&str, &str)] = &[
        (
            "untagged enum MessageContent",
            "expected a string or an array of content parts",
        ),
        (
            "untagged enum Stop",
            "expected a string or an array of strings",
        ),
        (
            "untagged enum EmbeddingInput",
            "expected a string, an array of strings, or arrays of token ids",
        ),
        ("untagged enum ErrorCode", "expected a string or an integer"),
    ];
    for (needle, replacement) in SHAPES {
        if let Some(at) = message.find(needle) {
            let position = message[at + needle.len()..].trim_start();
            return if position.is_empty() {
                (*replacement).to_owned()
            } else {
                format!("{replacement} {position}")
            };
        }
    }
    message.to_owned()
}

/// Parses a body received from an upstream; anything unexpected is a
/// protocol error naming `what` was expected.
pub(crate) fn parse_upstream<'a, T: Deserialize<'a>>(
    body: &'a [u8],
    what: &str,
) -> Result<T, Error> {
    serde_json::from_slice(body).map_err(|e| {
        Error::protocol(format!("the upstream's {what} could not be read: {e}")).with_source(e)
    })
}
