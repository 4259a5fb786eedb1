//! The record of one finished request, handed to [`Extension::on_complete`](super::Extension::on_complete).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use super::context::{ClientKeyInfo, InboundApi, Scratch};
use crate::Usage;

/// How a request ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
#[non_exhaustive]
pub enum Outcome {
    /// Answered in full.
    Ok,
    /// Ended with an error (before or during the answer).
    Error {
        /// The error's kind ([`ErrorKind::code`](crate::ErrorKind::code)).
        kind: &'static str,
        /// Its HTTP status.
        status: u16,
    },
    /// The client went away before the answer finished.
    Cancelled,
}

/// Everything known about one finished request.
#[derive(Debug, Serialize)]
pub struct CompletionRecord {
    /// The request id.
    pub request_id: Arc<str>,
    /// When the request arrived.
    pub started_at: SystemTime,
    /// The inbound API.
    pub api: InboundApi,
    /// The client key's id and metadata, if keys are configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_key: Option<ClientKeyInfo>,
    /// The model the client asked for.
    pub requested_model: Arc<str>,
    /// The instance that answered (or was tried last), if any was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<Arc<str>>,
    /// The model as that instance names it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Upstream attempts made.
    pub attempts: u32,
    /// Moves to another target.
    pub fallbacks: u32,
    /// Whether the answer was streamed.
    pub streamed: bool,
    /// Whether an extension answered it (no provider was called).
    pub answered_by_extension: bool,
    /// Token counts as the upstream reported them; `None` when it reported
    /// none (unknown is not zero). For a cancelled stream: what was received.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// Whether `usage` covers only part of the answer (a cancelled or
    /// failed stream).
    pub usage_partial: bool,
    /// The answer's text length in characters (for estimates when `usage`
    /// is unknown).
    pub output_chars: u64,
    /// How it ended.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// From arrival to the last byte of the answer (or the error).
    #[serde(serialize_with = "ser_ms")]
    pub latency: Duration,
    /// From arrival to the first streamed content, for streams.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "ser_opt_ms")]
    pub time_to_first_token: Option<Duration>,
    /// What the extensions left in the request's scratch map.
    #[serde(skip)]
    pub scratch: Scratch,
}

fn ser_ms<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64() * 1000.0)
}

fn ser_opt_ms<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => ser_ms(d, s),
        None => s.serialize_none(),
    }
}
