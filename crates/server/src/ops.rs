//! `/healthz`, `/readyz`, `/metrics`, `/openapi.json`.

use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use switchboard_gateway::InstanceState;
use utoipa::OpenApi;

use crate::response::json_response;
use crate::state::SharedState;

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "Alive")))]
pub(crate) async fn healthz() -> Response {
    json_response(StatusCode::OK, br#"{"status":"ok"}"#.to_vec())
}

/// Readiness: accepting traffic and at least one instance is ready.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "Ready"), (status = 503, description = "Not ready (shutting down, or no ready instance)")))]
pub(crate) async fn readyz(State(state): State<SharedState>) -> Response {
    let instances = state.sb.registry().instances();
    let ready = instances
        .iter()
        .filter(|i| i.state() == InstanceState::Ready)
        .count();
    let accepting = state.ready.load(Ordering::Relaxed);
    let ok = accepting && ready > 0;
    let body = json!({
        "status": if ok { "ready" } else { "not_ready" },
        "accepting": accepting,
        "instances": instances.len(),
        "ready_instances": ready,
    });
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    json_response(status, body.to_string().into_bytes())
}

/// Prometheus metrics, text exposition format.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Prometheus text")))]
pub(crate) async fn metrics(State(state): State<SharedState>) -> Response {
    state.metrics.observe_health(state.sb.registry());
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        {
            let mut text = state.metrics.render();
            state.sb.extension_metrics(&mut text);
            text
        },
    )
        .into_response()
}

/// The OpenAPI document of this server, generated from the handlers.
#[derive(OpenApi)]
#[openapi(
    info(title = "Switchboard gateway", description = "OpenAI- and Anthropic-compatible LLM gateway with a plugin-management API."),
    paths(
        crate::openai::chat_completions, crate::openai::models, crate::openai::embeddings,
        crate::anthropic::messages,
        crate::gemini::generate_content,
        crate::admin::list, crate::admin::metadata, crate::admin::health, crate::admin::discover,
        crate::admin::status, crate::admin::config_schema, crate::admin::put_config,
        crate::admin::reload, crate::admin::enable, crate::admin::disable,
        healthz, readyz, metrics, openapi
    ),
    tags(
        (name = "openai", description = "OpenAI-compatible inference API"),
        (name = "anthropic", description = "Anthropic-compatible inference API"),
        (name = "gemini", description = "Gemini-compatible inference API (Google's `generateContent`)"),
        (name = "management", description = "Plugin management (admin bearer token)"),
        (name = "operations", description = "Health, readiness, metrics"),
    )
)]
pub(crate) struct ApiDoc;

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "operations", responses((status = 200, description = "OpenAPI 3.1 JSON")))]
pub(crate) async fn openapi() -> Response {
    match ApiDoc::openapi().to_json() {
        Ok(doc) => json_response(StatusCode::OK, doc.into_bytes()),
        Err(e) => json_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"error": {"message": e.to_string(), "type": "server_error"}})
                .to_string()
                .into_bytes(),
        ),
    }
}
