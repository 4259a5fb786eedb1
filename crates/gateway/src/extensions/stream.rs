//! The hook chain for streamed answers: `on_request` in order (an answer is
//! replayed as events), the router, then `on_event` per event wrapping the
//! stream; the completion record is sent when the stream ends, fails, or is
//! dropped by the client before it finished (a cancelled stream, with the
//! usage received so far, marked partial).

use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Instant, SystemTime};

use futures::Stream;
use switchboard_core::extension::{Hooks, Outcome, RequestContext};
use switchboard_core::{ChatEvent, ChatRequest, ChatStream, Error, response_to_events};

use super::chain::{extension_route, panic_error, prepare_context, run_on_request};
use super::record::{RecordDraft, error_outcome};
use super::set::{ExtensionSet, LoadedExtension};
use crate::router::{Routed, Router};

/// A streamed answer through every applicable extension's hooks.
pub(crate) async fn chat_stream(
    router: &Router,
    set: &ExtensionSet,
    ctx: &mut RequestContext,
    mut request: ChatRequest,
) -> Result<Routed<ChatStream>, Error> {
    let (started, started_at) = (Instant::now(), SystemTime::now());
    prepare_context(ctx, &request, true);
    let active = set.active(ctx, &request.model);
    if active.is_empty() {
        return router.chat_stream(request).await;
    }
    let mut draft = RecordDraft::new(ctx, started, started_at, &active);
    let routed = async {
        match run_on_request(&active, ctx, &mut request).await? {
            Some(answer) => {
                draft.answered_by_extension = true;
                let events: Vec<Result<ChatEvent, Error>> = response_to_events(&answer.response)
                    .into_iter()
                    .map(Ok)
                    .collect();
                let stream: ChatStream = Box::pin(futures::stream::iter(events));
                Ok(Routed {
                    route: extension_route(&answer.by, &request.model),
                    value: stream,
                })
            }
            None => router.chat_stream(request).await,
        }
    }
    .await;
    let routed = match routed {
        Ok(r) => r,
        Err(e) => {
            if !draft.recipients.is_empty() {
                draft.send(error_outcome(&e), false, std::mem::take(&mut ctx.scratch));
            }
            return Err(e);
        }
    };
    draft.route = Some(routed.route.clone());
    let on_event: Vec<Arc<LoadedExtension>> = active
        .iter()
        .filter(|e| e.has(Hooks::EVENT))
        .cloned()
        .collect();
    let stream_ctx = RequestContext {
        request_id: ctx.request_id.clone(),
        client_key: ctx.client_key.clone(),
        api: ctx.api,
        stream: true,
        requested_model: ctx.requested_model.clone(),
        headers: std::mem::take(&mut ctx.headers),
        scratch: std::mem::take(&mut ctx.scratch),
        response_headers: ctx.response_headers.clone(),
        answered_by: ctx.answered_by.clone(),
    };
    let hooked = HookedStream {
        inner: routed.value,
        ctx: stream_ctx,
        on_event,
        pending: VecDeque::new(),
        scratch_out: Vec::new(),
        between: Vec::new(),
        between_next: Vec::new(),
        draft: Some(draft),
        done: false,
    };
    Ok(Routed {
        value: Box::pin(hooked),
        route: routed.route,
    })
}

/// A routed stream with `on_event` hooks and a completion record.
struct HookedStream {
    inner: ChatStream,
    ctx: RequestContext,
    on_event: Vec<Arc<LoadedExtension>>,
    /// Events the hooks released, not yet yielded.
    pending: VecDeque<ChatEvent>,
    /// Reused output buffer of one hook.
    scratch_out: Vec<ChatEvent>,
    /// Reused: the events entering the next hook.
    between: Vec<ChatEvent>,
    /// Reused: the events a hook let out.
    between_next: Vec<ChatEvent>,
    /// Sent (and taken) once the stream finished.
    draft: Option<RecordDraft>,
    done: bool,
}

impl HookedStream {
    /// Passes `event` through every `on_event` hook, in order.
    fn hooks(&mut self, event: ChatEvent) -> Result<(), Error> {
        // The events between two hooks live in two buffers kept across
        // events (`current` and `next`, swapped after each hook), so a warm
        // stream allocates nothing here per event.
        let mut current = std::mem::take(&mut self.between);
        let mut next = std::mem::take(&mut self.between_next);
        current.push(event);
        let mut result = Ok(());
        'hooks: for e in &self.on_event {
            next.clear();
            for ev in current.drain(..) {
                self.scratch_out.clear();
                let ctx = &mut self.ctx;
                let out = &mut self.scratch_out;
                let run =
                    std::panic::catch_unwind(AssertUnwindSafe(|| e.ext.on_event(ctx, ev, out)));
                match run {
                    Ok(Ok(())) => next.append(&mut self.scratch_out),
                    Ok(Err(err)) => {
                        result = Err(err);
                        break 'hooks;
                    }
                    Err(panic) => {
                        result = Err(panic_error(&e.name, "on_event", panic));
                        break 'hooks;
                    }
                }
            }
            std::mem::swap(&mut current, &mut next);
        }
        if result.is_ok() {
            self.pending.extend(current.drain(..));
        }
        current.clear();
        next.clear();
        self.between = current;
        self.between_next = next;
        result
    }

    /// Notes what the record needs from an event yielded to the client.
    fn observe(&mut self, event: &ChatEvent) {
        let Some(draft) = &mut self.draft else { return };
        match event {
            ChatEvent::TextDelta { text } => {
                if draft.time_to_first_token.is_none() {
                    draft.time_to_first_token = Some(draft.started.elapsed());
                }
                draft.output_chars += text.chars().count() as u64;
            }
            ChatEvent::Usage(u) => draft.usage = Some(*u),
            _ => {}
        }
    }

    /// Sends the record (once).
    fn finish(&mut self, outcome: Outcome, partial: bool) {
        self.done = true;
        if let Some(draft) = self.draft.take()
            && !draft.recipients.is_empty()
        {
            draft.send(outcome, partial, std::mem::take(&mut self.ctx.scratch));
        }
    }
}

impl Stream for HookedStream {
    type Item = Result<ChatEvent, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(event) = this.pending.pop_front() {
                this.observe(&event);
                return Poll::Ready(Some(Ok(event)));
            }
            if this.done {
                return Poll::Ready(None);
            }
            match this.inner.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => {
                    this.finish(Outcome::Ok, false);
                    return Poll::Ready(None);
                }
                Poll::Ready(Some(Err(e))) => {
                    this.finish(error_outcome(&e), true);
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(Some(Ok(event))) => {
                    if let Err(e) = this.hooks(event) {
                        this.pending.clear();
                        this.finish(error_outcome(&e), true);
                        return Poll::Ready(Some(Err(e)));
                    }
                }
            }
        }
    }
}

impl Drop for HookedStream {
    fn drop(&mut self) {
        if !self.done {
            self.finish(Outcome::Cancelled, true);
        }
    }
}
