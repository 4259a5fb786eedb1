//! The `request-log` extension: one JSON line per finished request (the
//! gateway's completion record, plus the bodies as configured) appended to
//! rotating files by a dedicated writer thread, never on the request path.
//!
//! ```toml
//! [extensions.request-log]
//! enabled = true
//! path = "/var/log/switchboard/requests.jsonl"
//! bodies = "hash"
//! sample_rate = 0.25
//! ```

mod bodies;
mod config;
mod writer;

use std::sync::atomic::Ordering;
use std::time::{Duration, UNIX_EPOCH};

use async_trait::async_trait;
use serde_json::{Map, Value, json};
use switchboard_core::extension::{CompletionRecord, ExtensionContext, RequestContext};
use switchboard_core::{
    ChatEvent, ChatRequest, ChatResponse, Error, Extension, ExtensionInit, RequestAction, extension,
};

pub use config::{BodiesMode, RequestLogConfig};

use bodies::Capture;
use writer::WriterHandle;

/// How long `shutdown` waits for the writer to flush.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// Logs every finished request as one JSON line to rotating files.
#[extension(name = "request-log", config = RequestLogConfig, hooks(on_request, on_response, on_event, on_complete))]
#[derive(Debug)]
pub struct RequestLog {
    config: RequestLogConfig,
    writer: WriterHandle,
}

/// Holds the writer paused until dropped (see [`RequestLog::pause_writer`]).
#[derive(Debug)]
pub struct WriterPause {
    _resume: std::sync::mpsc::Sender<()>,
}

impl RequestLog {
    /// Validates `config`, opens the log file and starts the writer thread.
    pub async fn start(config: RequestLogConfig) -> Result<Self, Error> {
        config.validate()?;
        let writer = WriterHandle::start(
            config.path.clone(),
            config.max_bytes,
            config.max_files,
            config.queue_capacity,
        )
        .await?;
        Ok(RequestLog { config, writer })
    }

    /// Lines dropped so far because the writer's queue was full (or the
    /// writer had stopped).
    pub fn dropped(&self) -> u64 {
        self.writer.counters.dropped.load(Ordering::Relaxed)
    }

    /// Lines handed to the file so far (buffered lines included).
    pub fn written(&self) -> u64 {
        self.writer.counters.written.load(Ordering::Relaxed)
    }

    /// Stops the writer until the returned guard is dropped, so tests can
    /// fill its queue. Not for production use.
    #[doc(hidden)]
    pub async fn pause_writer(&self) -> Result<WriterPause, Error> {
        Ok(WriterPause {
            _resume: self.writer.pause().await?,
        })
    }

    fn draw_sample(&self) -> bool {
        let rate = self.config.sample_rate;
        rate >= 1.0 || (rate > 0.0 && fastrand::f64() < rate)
    }

    /// The JSON line for `record` (with its newline), or `None` when the
    /// request is not sampled.
    fn line(&self, record: &CompletionRecord) -> Option<String> {
        let capture = record.scratch.get::<Capture>();
        match capture {
            Some(c) if !c.sampled => return None,
            Some(_) => {}
            // `on_request` did not run (another extension answered first).
            None if !self.draw_sample() => return None,
            None => {}
        }
        let mut line = match serde_json::to_value(record) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        };
        let started_ms = record
            .started_at
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        line.insert("started_at_ms".into(), json!(started_ms));
        if let Some(c) = capture {
            c.add_fields(&mut line);
        }
        let mut text = Value::Object(line).to_string();
        text.push('\n');
        Some(text)
    }
}

#[async_trait]
impl Extension for RequestLog {
    async fn on_request(
        &self,
        ctx: &mut RequestContext,
        request: &mut ChatRequest,
    ) -> Result<RequestAction, Error> {
        let capture = if self.draw_sample() {
            Capture::sampled(self.config.bodies, self.config.max_body_bytes, request)
        } else {
            Capture::skipped()
        };
        ctx.scratch.insert(capture);
        Ok(RequestAction::Continue)
    }

    async fn on_response(
        &self,
        ctx: &mut RequestContext,
        response: &mut ChatResponse,
    ) -> Result<(), Error> {
        if let Some(c) = ctx.scratch.get_mut::<Capture>() {
            c.set_response(response);
        }
        Ok(())
    }

    fn on_event(
        &self,
        ctx: &mut RequestContext,
        event: ChatEvent,
        out: &mut Vec<ChatEvent>,
    ) -> Result<(), Error> {
        if let ChatEvent::TextDelta { text } = &event
            && let Some(c) = ctx.scratch.get_mut::<Capture>()
            && c.wants_bodies()
        {
            c.push_response_text(text);
        }
        out.push(event);
        Ok(())
    }

    async fn on_complete(&self, record: &CompletionRecord) {
        if let Some(line) = self.line(record) {
            self.writer.send(line);
        }
    }

    fn metrics(&self, out: &mut String) {
        let counters = &self.writer.counters;
        for (name, help, value) in [
            (
                "switchboard_request_log_dropped",
                "Request log lines dropped because the writer's queue was full.",
                &counters.dropped,
            ),
            (
                "switchboard_request_log_written",
                "Request log lines written.",
                &counters.written,
            ),
            (
                "switchboard_request_log_write_errors",
                "Failed writes to the request log file.",
                &counters.write_errors,
            ),
        ] {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} counter\n{name}_total {}\n",
                value.load(Ordering::Relaxed)
            ));
        }
    }

    fn status(&self) -> Value {
        let counters = &self.writer.counters;
        json!({
            "path": self.config.path.display().to_string(),
            "bodies": format!("{:?}", self.config.bodies).to_lowercase(),
            "sample_rate": self.config.sample_rate,
            "written": counters.written.load(Ordering::Relaxed),
            "dropped": counters.dropped.load(Ordering::Relaxed),
            "write_errors": counters.write_errors.load(Ordering::Relaxed),
        })
    }

    async fn shutdown(&self) {
        self.writer.shutdown(SHUTDOWN_TIMEOUT).await;
    }
}

#[async_trait]
impl ExtensionInit for RequestLog {
    type Config = RequestLogConfig;

    fn validate(config: &RequestLogConfig) -> Result<(), Error> {
        config.validate()
    }

    async fn init(config: RequestLogConfig, _ctx: ExtensionContext) -> Result<Self, Error> {
        RequestLog::start(config).await
    }
}
