//! The one inbound chat path: authorize, read and parse the body, route the
//! request, and answer in the caller's wire format, streamed or not. The
//! OpenAI and Anthropic APIs are impls of [`InboundChatApi`].

use axum::Extension;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use switchboard_core::ChatRequest;
use switchboard_core::Error;
use switchboard_gateway::{Forwarded, RouteInfo, StreamForwarded};

use crate::auth::{authorize_caller, check_model};
use crate::body::read_body;
use crate::browser::require_json;
use crate::error::ApiError;
use crate::forwarded::forwarded_body;
use crate::hooked::{handle_chat_hooked, request_context};
pub(crate) use crate::inbound::{InboundChat, InboundChatApi};
use crate::middleware::RequestId;
use crate::overhead::Arrival;
use crate::response::{event_stream_response, json_response, route_headers};
use crate::state::SharedState;
use crate::stream::{Answer, sse_body};

/// The header of a forwarded answer naming the upstream's request id (the
/// full path keeps it in the answer's `extra` instead; a forwarded body is
/// the upstream's, unchanged).
const UPSTREAM_REQUEST_ID: &str = "x-switchboard-upstream-request-id";

/// Answers a chat request on API `A`.
///
/// A streamed answer is passed on or re-encoded event by event (see
/// [`stream_answer`]); a complete one is written at once (for an API that
/// forwards, as the upstream sent it when the provider speaks the same
/// format), its overhead measured up to the write (see
/// [`Arrival::answered`]). A routing error counts as a request with its
/// kind as status. An API's route is a plain `fn` returning this future, so
/// the generic path adds no layer of its own.
pub(crate) fn handle_chat<A: InboundChatApi>(
    arrival: Arrival,
    state: SharedState,
    request_id: Option<Extension<RequestId>>,
    headers: HeaderMap,
    body: Body,
) -> impl Future<Output = Result<Response, ApiError>> {
    handle_chat_with::<A>(arrival, state, request_id, headers, body, A::parse)
}

/// [`handle_chat`] with `parse` instead of [`InboundChatApi::parse`], for an
/// API whose request is also in the path (Gemini: the model, streaming).
pub(crate) async fn handle_chat_with<A: InboundChatApi>(
    arrival: Arrival,
    state: SharedState,
    request_id: Option<Extension<RequestId>>,
    headers: HeaderMap,
    body: Body,
    parse: impl FnOnce(&[u8]) -> Result<InboundChat<A::StreamOptions>, Error>,
) -> Result<Response, ApiError> {
    require_json(&headers, A::ERROR_FORMAT)?;
    let caller = authorize_caller(&state.sb, &headers, A::ERROR_FORMAT).await?;
    let bytes = read_body(&state.sb, body, A::ERROR_FORMAT).await?;
    let inbound = parse(&bytes).map_err(A::error)?;
    check_model(
        caller.models.as_deref(),
        &inbound.request.model,
        A::ERROR_FORMAT,
    )?;
    if state.sb.has_extensions() {
        let ctx = request_context(&headers, request_id, caller, A::API, &inbound);
        return handle_chat_hooked::<A>(arrival, state, ctx, inbound).await;
    }
    let InboundChat {
        request,
        stream,
        stream_options,
    } = inbound;
    if stream {
        return stream_answer::<A>(arrival, state, request, stream_options, bytes).await;
    }
    let failed = |e: Error| routing_failed::<A>(&state, e);
    let (body, route, usage, upstream_id) =
        if A::FORWARD && state.sb.config().server.forward_same_format {
            match state.sb.chat_forward(A::API, request, bytes).await {
                Ok(Forwarded::Reply(r)) => (
                    Body::from(r.value.body),
                    r.route,
                    r.value.usage,
                    r.value.upstream_request_id,
                ),
                Ok(Forwarded::Parsed(r)) => {
                    let body = A::response_body(&r.value).map_err(A::error)?;
                    (Body::from(body), r.route, r.value.usage, None)
                }
                Err(e) => return Err(failed(e)),
            }
        } else {
            let routed = state.sb.chat(request).await.map_err(failed)?;
            let body = A::response_body(&routed.value).map_err(A::error)?;
            (Body::from(body), routed.route, routed.value.usage, None)
        };
    arrival.answered(&state.metrics, A::METRICS_LABEL, &route, &usage);
    state.metrics.route(&route);
    state.metrics.request(A::METRICS_LABEL, "ok");
    let mut response = json_response(StatusCode::OK, body);
    route_headers(response.headers_mut(), &route);
    if let Some(v) = upstream_id.and_then(|id| HeaderValue::from_str(&id).ok()) {
        response.headers_mut().insert(UPSTREAM_REQUEST_ID, v);
    }
    Ok(response)
}

/// A streamed answer on API `A`: forwarded as the upstream sent it when
/// the API and the provider speak the same format (see
/// [`Switchboard::chat_forward_stream`](switchboard_gateway::Switchboard::chat_forward_stream)),
/// else re-encoded event by event (see [`sse_body`]).
async fn stream_answer<A: InboundChatApi>(
    arrival: Arrival,
    state: SharedState,
    request: ChatRequest,
    stream_options: A::StreamOptions,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let failed = |e: Error| routing_failed::<A>(&state, e);
    let routed = if A::FORWARD && state.sb.config().server.forward_same_format {
        state
            .sb
            .chat_forward_stream(A::API, request, bytes)
            .await
            .map_err(failed)?
    } else {
        StreamForwarded::Events(state.sb.chat_stream(request).await.map_err(failed)?)
    };
    let encoder = A::stream_encoder(stream_options);
    let answer = |route: &RouteInfo| {
        Answer::new(
            state.clone(),
            A::METRICS_LABEL,
            encoder,
            route.clone(),
            arrival.at,
        )
    };
    let (body, route) = match routed {
        StreamForwarded::Frames(r) => (forwarded_body(answer(&r.route), r.value), r.route),
        StreamForwarded::Events(r) => (sse_body(answer(&r.route), r.value), r.route),
    };
    state.metrics.route(&route);
    let body = if arrival.h2 {
        let ms = state.sb.config().server.write_timeout_ms.max(1);
        crate::stall::watch(body, std::time::Duration::from_millis(ms))
    } else {
        body
    };
    Ok(event_stream_response(body, &route))
}

/// A routing error on API `A`: counted as a request with its kind as
/// status, and answered in `A`'s format.
fn routing_failed<A: InboundChatApi>(state: &SharedState, e: Error) -> ApiError {
    state.metrics.request(A::METRICS_LABEL, e.kind().code());
    A::error(e)
}
