//! The hook chain for complete answers: `on_request` in order (an answer
//! skips routing), the router, `on_response` in order; and the helpers that
//! turn a panicking hook into an `internal` error.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use futures::FutureExt;
use switchboard_core::extension::{Hooks, Outcome, RequestAction, RequestContext};
use switchboard_core::{ChatRequest, ChatResponse, Error};

use super::record::{RecordDraft, error_outcome};
use super::set::{ExtensionSet, LoadedExtension};
use crate::router::{RouteInfo, Routed, Router};

/// An answer an extension gave in `on_request`.
pub(crate) struct ExtensionAnswer {
    pub(crate) by: Arc<str>,
    pub(crate) response: ChatResponse,
}

/// The message of a caught panic.
pub(crate) fn panic_error(name: &str, hook: &str, panic: Box<dyn std::any::Any + Send>) -> Error {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    tracing::error!(extension = %name, hook, panic = %what, "extension hook panicked");
    Error::internal(format!("extension `{name}` failed in `{hook}`"))
}

/// Runs `on_request` of `active` in order.
pub(crate) async fn run_on_request(
    active: &[Arc<LoadedExtension>],
    ctx: &mut RequestContext,
    request: &mut ChatRequest,
) -> Result<Option<ExtensionAnswer>, Error> {
    for e in active.iter().filter(|e| e.has(Hooks::REQUEST)) {
        let run = AssertUnwindSafe(e.ext.on_request(ctx, request)).catch_unwind();
        match run.await {
            Ok(Ok(RequestAction::Continue)) => {}
            Ok(Ok(RequestAction::Answer(response))) => {
                ctx.answered_by = Some(e.name.clone());
                return Ok(Some(ExtensionAnswer {
                    by: e.name.clone(),
                    response,
                }));
            }
            Ok(Ok(_)) => {}
            Ok(Err(err)) => return Err(err),
            Err(panic) => return Err(panic_error(&e.name, "on_request", panic)),
        }
    }
    Ok(None)
}

/// Runs `on_response` of `active` in order.
pub(crate) async fn run_on_response(
    active: &[Arc<LoadedExtension>],
    ctx: &mut RequestContext,
    response: &mut ChatResponse,
) -> Result<(), Error> {
    for e in active.iter().filter(|e| e.has(Hooks::RESPONSE)) {
        let run = AssertUnwindSafe(e.ext.on_response(ctx, response)).catch_unwind();
        match run.await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => return Err(err),
            Err(panic) => return Err(panic_error(&e.name, "on_response", panic)),
        }
    }
    Ok(())
}

/// The route of an answer an extension gave: its name as the instance, no attempts.
pub(crate) fn extension_route(by: &Arc<str>, model: &str) -> RouteInfo {
    RouteInfo {
        instance: by.clone(),
        model: model.to_owned(),
        attempts: 0,
        fallbacks: 0,
        upstream_time: Duration::ZERO,
    }
}

/// Fills the context's fields the caller left empty.
pub(crate) fn prepare_context(ctx: &mut RequestContext, request: &ChatRequest, stream: bool) {
    ctx.stream = stream;
    if ctx.requested_model.is_empty() {
        ctx.requested_model = Arc::from(request.model.as_str());
    }
}

/// A complete answer through every applicable extension's hooks.
pub(crate) async fn chat(
    router: &Router,
    set: &ExtensionSet,
    ctx: &mut RequestContext,
    mut request: ChatRequest,
) -> Result<Routed<ChatResponse>, Error> {
    let (started, started_at) = (Instant::now(), SystemTime::now());
    prepare_context(ctx, &request, false);
    let active = set.active(ctx, &request.model);
    if active.is_empty() {
        return router.chat(request).await;
    }
    let mut draft = RecordDraft::new(ctx, started, started_at, &active);
    let result = async {
        let mut routed = match run_on_request(&active, ctx, &mut request).await? {
            Some(answer) => {
                draft.answered_by_extension = true;
                Routed {
                    route: extension_route(&answer.by, &request.model),
                    value: answer.response,
                }
            }
            None => router.chat(request).await?,
        };
        draft.route = Some(routed.route.clone());
        run_on_response(&active, ctx, &mut routed.value).await?;
        Ok(routed)
    }
    .await;
    let outcome = match &result {
        Ok(routed) => {
            draft.usage = Some(routed.value.usage);
            draft.output_chars = routed.value.text().chars().count() as u64;
            Outcome::Ok
        }
        Err(e) => error_outcome(e),
    };
    if !draft.recipients.is_empty() {
        draft.send(outcome, false, std::mem::take(&mut ctx.scratch));
    }
    result
}
