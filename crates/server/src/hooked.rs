//! The chat path when extensions run: the request's [`RequestContext`]
//! (request id, client key id and metadata, API, safe headers) and the
//! answer through [`Switchboard::chat_with`](switchboard_gateway::Switchboard::chat_with),
//! with the headers extensions set.

use axum::Extension;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use switchboard_core::extension::{InboundApi, RequestContext};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::inbound::{InboundChat, InboundChatApi};
use crate::middleware::RequestId;
use crate::overhead::Arrival;
use crate::response::{event_stream_response, json_response, route_headers};
use crate::state::SharedState;
use crate::stream::{Answer, sse_body};

/// Request headers never handed to extensions.
const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "x-api-key",
    "x-goog-api-key",
    "cookie",
    "set-cookie",
];

/// The context of one chat request.
pub(crate) fn request_context<O>(
    headers: &HeaderMap,
    request_id: Option<Extension<RequestId>>,
    caller: Caller,
    api: InboundApi,
    inbound: &InboundChat<O>,
) -> RequestContext {
    let id = request_id
        .map(|Extension(RequestId(id))| id)
        .unwrap_or_else(|| std::sync::Arc::from(""));
    let mut ctx = RequestContext::new(id, api);
    ctx.client_key = caller.key_info();
    ctx.stream = inbound.stream;
    ctx.requested_model = std::sync::Arc::from(inbound.request.model.as_str());
    ctx.headers = headers
        .iter()
        .filter(|(n, _)| !SECRET_HEADERS.contains(&n.as_str()))
        .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    ctx
}

/// Adds the headers extensions set (invalid ones are skipped).
fn extension_headers(headers: &mut HeaderMap, ctx: &RequestContext) {
    headers.reserve(ctx.response_headers.len());
    for (name, value) in &ctx.response_headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.insert(n, v);
        }
    }
}

/// [`handle_chat`](crate::chat::handle_chat) through the extensions' hooks.
pub(crate) async fn handle_chat_hooked<A: InboundChatApi>(
    arrival: Arrival,
    state: SharedState,
    mut ctx: RequestContext,
    inbound: InboundChat<A::StreamOptions>,
) -> Result<Response, ApiError> {
    let InboundChat {
        request,
        stream,
        stream_options,
    } = inbound;
    if stream {
        let routed = state
            .sb
            .chat_stream_with(&mut ctx, request)
            .await
            .map_err(|e| {
                state.metrics.request(A::METRICS_LABEL, e.kind().code());
                A::error(e).with_headers(std::mem::take(&mut ctx.response_headers))
            })?;
        state.metrics.route(&routed.route);
        let answer = Answer::new(
            state.clone(),
            A::METRICS_LABEL,
            A::stream_encoder(stream_options),
            routed.route.clone(),
            arrival.at,
        );
        let body = sse_body(answer, routed.value);
        let mut response = event_stream_response(body, &routed.route);
        extension_headers(response.headers_mut(), &ctx);
        return Ok(response);
    }
    let routed = state.sb.chat_with(&mut ctx, request).await.map_err(|e| {
        state.metrics.request(A::METRICS_LABEL, e.kind().code());
        A::error(e).with_headers(std::mem::take(&mut ctx.response_headers))
    })?;
    let body = A::response_body(&routed.value).map_err(A::error)?;
    arrival.answered(
        &state.metrics,
        A::METRICS_LABEL,
        &routed.route,
        &routed.value.usage,
    );
    state.metrics.route(&routed.route);
    state.metrics.request(A::METRICS_LABEL, "ok");
    let mut response = json_response(StatusCode::OK, body);
    route_headers(response.headers_mut(), &routed.route);
    extension_headers(response.headers_mut(), &ctx);
    Ok(response)
}
