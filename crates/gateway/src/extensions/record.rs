//! Completion records: what is known of a request while it runs, turned
//! into a [`CompletionRecord`] once it finished and queued for every
//! extension with `on_complete`.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use switchboard_core::extension::{CompletionRecord, Hooks, Outcome, RequestContext, Scratch};
use switchboard_core::{Error, Usage};

use super::set::LoadedExtension;
use crate::router::RouteInfo;

/// A request's record in the making.
pub(crate) struct RecordDraft {
    pub(crate) request_id: Arc<str>,
    pub(crate) started_at: SystemTime,
    pub(crate) started: Instant,
    pub(crate) api: switchboard_core::extension::InboundApi,
    pub(crate) client_key: Option<switchboard_core::extension::ClientKeyInfo>,
    pub(crate) requested_model: Arc<str>,
    pub(crate) streamed: bool,
    pub(crate) route: Option<RouteInfo>,
    pub(crate) answered_by_extension: bool,
    pub(crate) usage: Option<Usage>,
    pub(crate) output_chars: u64,
    pub(crate) time_to_first_token: Option<Duration>,
    /// The extensions to hand the record to (those with `on_complete`).
    pub(crate) recipients: Vec<Arc<LoadedExtension>>,
}

impl RecordDraft {
    /// A draft for the request of `ctx`, for those of `active` with `on_complete`.
    pub(crate) fn new(
        ctx: &RequestContext,
        started: Instant,
        started_at: SystemTime,
        active: &[Arc<LoadedExtension>],
    ) -> Self {
        RecordDraft {
            request_id: ctx.request_id.clone(),
            started_at,
            started,
            api: ctx.api,
            client_key: ctx.client_key.clone(),
            requested_model: ctx.requested_model.clone(),
            streamed: ctx.stream,
            route: None,
            answered_by_extension: false,
            usage: None,
            output_chars: 0,
            time_to_first_token: None,
            recipients: active
                .iter()
                .filter(|e| e.has(Hooks::COMPLETE))
                .cloned()
                .collect(),
        }
    }

    /// Finishes the record with `outcome` and queues it for every recipient.
    pub(crate) fn send(self, outcome: Outcome, usage_partial: bool, scratch: Scratch) {
        if self.recipients.is_empty() {
            return;
        }
        let (instance, model, attempts, fallbacks) = match &self.route {
            Some(r) => (
                Some(r.instance.clone()),
                Some(r.model.clone()),
                r.attempts,
                r.fallbacks,
            ),
            None => (None, None, 0, 0),
        };
        let record = Arc::new(CompletionRecord {
            request_id: self.request_id,
            started_at: self.started_at,
            api: self.api,
            client_key: self.client_key,
            requested_model: self.requested_model,
            instance,
            model,
            attempts,
            fallbacks,
            streamed: self.streamed,
            answered_by_extension: self.answered_by_extension,
            usage: self.usage,
            usage_partial,
            output_chars: self.output_chars,
            outcome,
            latency: self.started.elapsed(),
            time_to_first_token: self.time_to_first_token,
            scratch,
        });
        for e in &self.recipients {
            e.deliver(&record);
        }
    }
}

/// The outcome of an error.
pub(crate) fn error_outcome(e: &Error) -> Outcome {
    Outcome::Error {
        kind: e.kind().code(),
        status: e.kind().http_status(),
    }
}
