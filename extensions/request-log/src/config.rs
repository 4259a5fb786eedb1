//! `[extensions.request-log]`: where lines go, how files rotate, what of
//! the bodies is kept, and how many requests are logged.

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::Deserialize;
use switchboard_core::Error;

/// What a log line keeps of the request and answer bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BodiesMode {
    /// No body fields at all.
    #[default]
    Drop,
    /// `request_sha256` (of the request's JSON) and `response_sha256` (of
    /// the answer text), lowercase hex: equal bodies, equal hashes.
    Hash,
    /// `request_body` (the messages as JSON text) and `response_body` (the
    /// answer text), each cut at `max_body_bytes` with a marker.
    Full,
}

/// The configuration of the `request-log` extension. Every key has a
/// default: `enabled = true` alone logs every request, without bodies, to
/// `switchboard-requests.jsonl`.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RequestLogConfig {
    /// The active log file; rotated files get `.1`, `.2`, … appended.
    pub path: PathBuf,
    /// Rotate before a line would make the active file larger than this.
    pub max_bytes: u64,
    /// How many files to keep, the active one included (at least 1).
    pub max_files: u32,
    /// `drop`, `hash` or `full`.
    pub bodies: BodiesMode,
    /// The most bytes of each body kept in `full` mode.
    pub max_body_bytes: usize,
    /// The fraction of requests logged, from 0.0 to 1.0, drawn per request.
    pub sample_rate: f64,
    /// Lines waiting for the writer; when full, lines are dropped and
    /// counted (`switchboard_request_log_dropped_total`).
    pub queue_capacity: usize,
}

impl Default for RequestLogConfig {
    fn default() -> Self {
        RequestLogConfig {
            path: PathBuf::from("switchboard-requests.jsonl"),
            max_bytes: 10 * 1024 * 1024,
            max_files: 5,
            bodies: BodiesMode::Drop,
            max_body_bytes: 64 * 1024,
            sample_rate: 1.0,
            queue_capacity: 1024,
        }
    }
}

impl RequestLogConfig {
    /// Checks the values beyond their types.
    pub fn validate(&self) -> Result<(), Error> {
        if !(0.0..=1.0).contains(&self.sample_rate) {
            return Err(Error::config(
                "request-log: `sample_rate` must be between 0.0 and 1.0",
            ));
        }
        if self.max_files == 0 || self.max_files > 1000 {
            return Err(Error::config(
                "request-log: `max_files` must be between 1 and 1000",
            ));
        }
        if self.max_bytes < 1024 {
            return Err(Error::config(
                "request-log: `max_bytes` must be at least 1024",
            ));
        }
        if self.max_body_bytes == 0 || self.max_body_bytes > 16 * 1024 * 1024 {
            return Err(Error::config(
                "request-log: `max_body_bytes` must be between 1 and 16 MiB",
            ));
        }
        if self.queue_capacity == 0 || self.queue_capacity > 1_000_000 {
            return Err(Error::config(
                "request-log: `queue_capacity` must be between 1 and 1000000",
            ));
        }
        if self.path.as_os_str().is_empty() {
            return Err(Error::config("request-log: `path` must not be empty"));
        }
        Ok(())
    }
}
