//! Core → wire for OpenAI-compatible services: fitting the typed request to
//! one service's quirks (parameters it does not support, fields it names
//! differently, no `developer` role, no usage chunk).
//!
//! The fitting works on the typed [`ChatCompletionRequest`] (its named
//! fields, then its `extra` passthrough map), so a provider never has to
//! reshape the request through a [`serde_json::Map`].

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use switchboard_core::{ChatRequest, Error};

use super::to_wire::{RequestOptions, to_wire_request};
use crate::openai::types::{ChatCompletionRequest, ChatMessage, ResponseFormat};

/// What to do with a request parameter the service does not support.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnsupportedParams {
    /// Fail with `invalid_request` naming the parameter, before anything is sent.
    #[default]
    Reject,
    /// Leave it out of the request and list it in the answer's
    /// `extra["dropped_params"]` (a streamed answer has no such record).
    Drop,
}

/// One parameter a service does not support, as written in a config:
/// a top-level field (`logprobs`), a field of any message
/// (`messages[].name`), a response format type (`response_format=json_object`)
/// or `n>1`. [`Display`](fmt::Display) writes it back as it was parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamSpec {
    /// A top-level field that is present and not `null`.
    Field(String),
    /// A field of any message (`messages[].name`).
    MessageField(String),
    /// A `response_format` of this type (`response_format=json_object`).
    ResponseFormat(String),
    /// `n` greater than 1 (`n>1`).
    NAboveOne,
}

impl ParamSpec {
    /// Parses `logprobs`, `messages[].name`, `response_format=json_object` or
    /// `n>1`; the error says what is expected.
    pub fn parse(s: &str) -> Result<ParamSpec, String> {
        let valid = |name: &str| {
            !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        };
        let spec = if s == "n>1" {
            ParamSpec::NAboveOne
        } else if let Some(field) = s.strip_prefix("messages[].") {
            ParamSpec::MessageField(field.to_owned())
        } else if let Some(kind) = s.strip_prefix("response_format=") {
            ParamSpec::ResponseFormat(kind.to_owned())
        } else {
            ParamSpec::Field(s.to_owned())
        };
        let ok = match &spec {
            ParamSpec::Field(f) | ParamSpec::MessageField(f) | ParamSpec::ResponseFormat(f) => {
                valid(f)
            }
            ParamSpec::NAboveOne => true,
        };
        if ok {
            Ok(spec)
        } else {
            Err(format!(
                "`{s}` is not a parameter: expected a field name (`logprobs`), `messages[].<field>`, `response_format=<type>` or `n>1`"
            ))
        }
    }

    /// Whether the request has this parameter (a `null` value does not count).
    pub fn is_present(&self, wire: &ChatCompletionRequest<'_>) -> bool {
        match self {
            ParamSpec::Field(f) => field_present(wire, f),
            ParamSpec::MessageField(f) => wire.messages.iter().any(|m| message_field_present(m, f)),
            ParamSpec::ResponseFormat(kind) => {
                response_format_type(wire.response_format.as_ref()) == Some(kind.as_str())
            }
            ParamSpec::NAboveOne => wire.n.is_some_and(|n| n > 1),
        }
    }

    /// Takes the parameter out of the request.
    fn remove(&self, wire: &mut ChatCompletionRequest<'_>) -> Result<(), Error> {
        match self {
            ParamSpec::Field(f) => {
                take_field(wire, f)?;
            }
            ParamSpec::MessageField(f) => {
                for m in &mut wire.messages {
                    take_message_field(m, f)?;
                }
            }
            ParamSpec::ResponseFormat(_) => wire.response_format = None,
            ParamSpec::NAboveOne => wire.n = None,
        }
        Ok(())
    }
}

impl fmt::Display for ParamSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamSpec::Field(name) => f.write_str(name),
            ParamSpec::MessageField(name) => write!(f, "messages[].{name}"),
            ParamSpec::ResponseFormat(kind) => write!(f, "response_format={kind}"),
            ParamSpec::NAboveOne => f.write_str("n>1"),
        }
    }
}

/// How [`to_wire_request_with`] fits a request to one OpenAI-compatible
/// service. The default fits nothing: the request is what
/// [`to_wire_request`] writes.
#[derive(Debug, Clone, PartialEq)]
pub struct WireOptions {
    /// The options of the typed encoding (token field, `reasoning_content`).
    pub request: RequestOptions,
    /// The service's name, for error messages (`Groq`, `this endpoint`).
    pub service: String,
    /// The parameters the service does not support, checked in order.
    pub unsupported: Vec<ParamSpec>,
    /// What happens to a request that has one of them.
    pub unsupported_params: UnsupportedParams,
    /// Fields the service names differently: OpenAI name → the service's
    /// name (Mistral: `seed` → `random_seed`), applied after the drops.
    pub renames: Vec<(String, String)>,
    /// Send `developer` messages as `system` (for services without the
    /// `developer` role).
    pub developer_as_system: bool,
    /// Whether a streamed request asks for the final usage chunk
    /// (`stream_options.include_usage: true`).
    pub include_usage: bool,
}

impl Default for WireOptions {
    fn default() -> Self {
        WireOptions {
            request: RequestOptions::default(),
            service: "this endpoint".to_owned(),
            unsupported: Vec::new(),
            unsupported_params: UnsupportedParams::Reject,
            renames: Vec::new(),
            developer_as_system: false,
            include_usage: true,
        }
    }
}

impl WireOptions {
    /// Whether a non-streamed request goes to the service as OpenAI's own:
    /// no field renamed, dropped, refused or rewritten. Only then may a
    /// provider forward a client's OpenAI request unchanged.
    pub fn is_plain(&self) -> bool {
        self.request == RequestOptions::default()
            && self.unsupported.is_empty()
            && self.renames.is_empty()
            && !self.developer_as_system
    }
}

/// A request fitted to a service, and the parameters left out of it (under
/// [`UnsupportedParams::Drop`], as spelled in [`WireOptions::unsupported`]:
/// what a provider reports as `extra["dropped_params"]`).
#[derive(Debug, Clone, PartialEq)]
pub struct FittedRequest<'a> {
    /// The request to send.
    pub request: ChatCompletionRequest<'a>,
    /// The parameters dropped, in the order of [`WireOptions::unsupported`].
    pub dropped: Vec<String>,
}

/// Converts a core request into an OpenAI request fitted to one service:
/// [`to_wire_request`] with [`WireOptions::request`], then
/// [`WireOptions::apply`], then, when `stream` is set, the stream fields
/// (`stream_options.include_usage` per [`WireOptions::include_usage`]).
/// The stream fields are written after the fitting, so an `unsupported`
/// entry `stream_options` does not reject streamed requests.
pub fn to_wire_request_with<'a>(
    req: &'a ChatRequest,
    opts: &WireOptions,
    stream: bool,
) -> Result<FittedRequest<'a>, Error> {
    let mut request = to_wire_request(req, &opts.request)?;
    let dropped = opts.apply(&mut request)?;
    if stream {
        request = request.streaming(opts.include_usage);
    }
    Ok(FittedRequest { request, dropped })
}

impl WireOptions {
    /// Fits `wire` in place and returns the parameters dropped:
    ///
    /// 1. `developer` messages become `system` messages, if
    ///    [`developer_as_system`](Self::developer_as_system);
    /// 2. each [`unsupported`](Self::unsupported) parameter the request has
    ///    is either an [`InvalidRequest`](switchboard_core::ErrorKind::InvalidRequest)
    ///    error whose `param` is the parameter as spelled in the list
    ///    (nothing is sent), or left out and listed;
    /// 3. [`renames`](Self::renames) move a field's value to the service's
    ///    name (into `extra`); a request giving both names is an
    ///    `InvalidRequest` error naming the OpenAI one.
    ///
    /// `model`, `messages` and a message's `role` are always sent: a drop
    /// or rename of them is an `InvalidRequest` error naming them.
    pub fn apply(&self, wire: &mut ChatCompletionRequest<'_>) -> Result<Vec<String>, Error> {
        if self.developer_as_system {
            for m in &mut wire.messages {
                if m.role == "developer" {
                    m.role = "system".into();
                }
            }
        }
        let mut dropped = Vec::new();
        for spec in &self.unsupported {
            if !spec.is_present(wire) {
                continue;
            }
            let raw = spec.to_string();
            match self.unsupported_params {
                UnsupportedParams::Reject => {
                    return Err(Error::invalid_param(
                        raw.clone(),
                        format!(
                            "`{raw}` is not supported by {}; leave it out, or set `unsupported_params = \"drop\"` on this instance to drop it",
                            self.service
                        ),
                    ));
                }
                UnsupportedParams::Drop => {
                    spec.remove(wire)?;
                    dropped.push(raw);
                }
            }
        }
        for (from, to) in &self.renames {
            if let Some(value) = take_field(wire, from)? {
                if field_exists(wire, to) {
                    return Err(Error::invalid_param(
                        from.clone(),
                        format!(
                            "{} calls `{from}` `{to}`; give only one of them",
                            self.service
                        ),
                    ));
                }
                wire.extra.insert(to.clone(), value);
            }
        }
        Ok(dropped)
    }
}

/// The typed top-level fields that are `Option`s, for [`field_present`],
/// [`field_exists`] and [`take_field`].
macro_rules! with_optional_fields {
    ($m:ident!($($args:tt)*)) => {
        $m!(
            ($($args)*);
            temperature, top_p, max_tokens, max_completion_tokens, stop, seed,
            presence_penalty, frequency_penalty, n, tools, tool_choice,
            parallel_tool_calls, response_format, reasoning_effort, stream,
            stream_options, user, metadata, logprobs, top_logprobs
        )
    };
}

/// Whether the request has the top-level field `name` with a non-null value.
fn field_present(wire: &ChatCompletionRequest<'_>, name: &str) -> bool {
    macro_rules! check {
        (($wire:ident, $name:ident); $($f:ident),*) => {
            match $name {
                "model" | "messages" => true,
                $(stringify!($f) => $wire.$f.is_some(),)*
                other => $wire.extra.get(other).is_some_and(|v| !v.is_null()),
            }
        };
    }
    with_optional_fields!(check!(wire, name))
}

/// Whether the serialized request has the key `name` at all (even `null`).
fn field_exists(wire: &ChatCompletionRequest<'_>, name: &str) -> bool {
    macro_rules! check {
        (($wire:ident, $name:ident); $($f:ident),*) => {
            match $name {
                "model" | "messages" => true,
                $(stringify!($f) => $wire.$f.is_some(),)*
                other => $wire.extra.contains_key(other),
            }
        };
    }
    with_optional_fields!(check!(wire, name))
}

fn always_sent(name: &str) -> Error {
    Error::invalid_param(
        name.to_owned(),
        format!("`{name}` is always sent; it cannot be dropped or renamed"),
    )
}

fn to_json<T: Serialize>(name: &str, value: &T) -> Result<Value, Error> {
    serde_json::to_value(value).map_err(|e| {
        Error::invalid_request(format!("`{name}` could not be serialized: {e}")).with_source(e)
    })
}

/// Takes the top-level field `name` out of the request, as JSON (`None`
/// when the request does not have it; a `null` in `extra` is taken too).
fn take_field(wire: &mut ChatCompletionRequest<'_>, name: &str) -> Result<Option<Value>, Error> {
    macro_rules! take {
        (($wire:ident, $name:ident); $($f:ident),*) => {
            match $name {
                "model" | "messages" => Err(always_sent($name)),
                $(stringify!($f) => $wire.$f.take().map(|v| to_json($name, &v)).transpose(),)*
                other => Ok($wire.extra.remove(other)),
            }
        };
    }
    with_optional_fields!(take!(wire, name))
}

fn message_field_present(m: &ChatMessage<'_>, name: &str) -> bool {
    match name {
        "role" => true,
        "content" => m.content.is_some(),
        "refusal" => m.refusal.is_some(),
        "name" => m.name.is_some(),
        "tool_calls" => m.tool_calls.is_some(),
        "tool_call_id" => m.tool_call_id.is_some(),
        other => m.extra.get(other).is_some_and(|v| !v.is_null()),
    }
}

fn take_message_field(m: &mut ChatMessage<'_>, name: &str) -> Result<(), Error> {
    match name {
        "role" => return Err(always_sent("messages[].role")),
        "content" => m.content = None,
        "refusal" => m.refusal = None,
        "name" => m.name = None,
        "tool_calls" => m.tool_calls = None,
        "tool_call_id" => m.tool_call_id = None,
        other => {
            m.extra.remove(other);
        }
    }
    Ok(())
}

/// The `type` a response format is written with.
fn response_format_type<'r>(f: Option<&'r ResponseFormat<'_>>) -> Option<&'r str> {
    match f? {
        ResponseFormat::Text => Some("text"),
        ResponseFormat::JsonObject => Some("json_object"),
        ResponseFormat::JsonSchema { .. } => Some("json_schema"),
        ResponseFormat::Other(map) => map.get("type").and_then(Value::as_str),
    }
}
