//! Shared helpers: the fixtures, event-stream encoding, a fake environment.

use std::collections::HashMap;

use aws_smithy_eventstream::frame::write_message_to;
use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use serde_json::{Value, json};
use switchboard_bedrock::{BedrockConfig, BedrockProvider};
use switchboard_core::{Error, ProviderContext};

/// A file of `tests/data/`.
macro_rules! data {
    ($name:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/", $name))
    };
}
pub(crate) use data;

/// The recorded model of the SAMPLES answers.
pub(crate) const MODEL: &str = "anthropic.claude-3-sonnet-20240229-v1:0";
/// Its path segment (`:` percent-encoded).
pub(crate) const MODEL_IN_PATH: &str = "anthropic.claude-3-sonnet-20240229-v1%3A0";

/// One event-stream frame as Bedrock sends events: `:event-type`,
/// `:content-type`, `:message-type: event`, the JSON payload.
pub(crate) fn event_frame(event: &str, payload: &Value) -> Vec<u8> {
    let message = Message::new(payload.to_string().into_bytes())
        .add_header(Header::new(
            ":event-type",
            HeaderValue::String(event.to_owned().into()),
        ))
        .add_header(Header::new(
            ":content-type",
            HeaderValue::String("application/json".into()),
        ))
        .add_header(Header::new(
            ":message-type",
            HeaderValue::String("event".into()),
        ));
    let mut out = Vec::new();
    write_message_to(&message, &mut out).expect("the frame encodes");
    out
}

/// An `:message-type: exception` frame.
pub(crate) fn exception_frame(kind: &str, message: &str) -> Vec<u8> {
    let message = Message::new(json!({ "message": message }).to_string().into_bytes())
        .add_header(Header::new(
            ":exception-type",
            HeaderValue::String(kind.to_owned().into()),
        ))
        .add_header(Header::new(
            ":content-type",
            HeaderValue::String("application/json".into()),
        ))
        .add_header(Header::new(
            ":message-type",
            HeaderValue::String("exception".into()),
        ));
    let mut out = Vec::new();
    write_message_to(&message, &mut out).expect("the frame encodes");
    out
}

/// A `[{event, payload}]` list (tests/data/*_constructed.json), framed.
pub(crate) fn frames_of(events_json: &str) -> Vec<Vec<u8>> {
    let events: Vec<Value> = serde_json::from_str(events_json).expect("the event list is JSON");
    events
        .iter()
        .map(|e| {
            event_frame(
                e["event"].as_str().expect("each event names its type"),
                &e["payload"],
            )
        })
        .collect()
}

/// The frames of an event list as one body.
pub(crate) fn stream_body(events_json: &str) -> Vec<u8> {
    frames_of(events_json).concat()
}

/// The frames of the hex snapshot (lines starting with `#` are comments).
pub(crate) fn hex_frames(text: &str) -> Vec<Vec<u8>> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            (0..l.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&l[i..i + 2], 16).expect("hex digits"))
                .collect()
        })
        .collect()
}

/// A fake process environment.
#[derive(Debug, Default, Clone)]
pub(crate) struct FakeEnv(pub(crate) HashMap<String, String>);

impl FakeEnv {
    pub(crate) fn with(mut self, name: &str, value: &str) -> Self {
        self.0.insert(name.to_owned(), value.to_owned());
        self
    }

    pub(crate) fn get(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }
}

/// A provider built from `config` with `env` as its environment.
pub(crate) async fn build_with_env(config: Value, env: &FakeEnv) -> Result<BedrockProvider, Error> {
    let config: BedrockConfig = serde_json::from_value(config).expect("the config deserializes");
    let lookup = |name: &str| env.get(name);
    BedrockProvider::with_env(config, ProviderContext::standalone("bedrock"), &lookup).await
}
