//! Switchboard's HTTP gateway.
//!
//! - Inbound OpenAI API: `POST /v1/chat/completions` (stream and not),
//!   `GET /v1/models`, `POST /v1/embeddings`.
//! - Inbound Anthropic API: `POST /v1/messages` (stream and not).
//! - Plugin management under `/plugins` (admin bearer token).
//! - `GET /healthz`, `GET /readyz`, `GET /metrics` (Prometheus),
//!   `GET /openapi.json`.
//!
//! ```no_run
//! # async fn demo(sb: std::sync::Arc<switchboard_gateway::Switchboard>) -> std::io::Result<()> {
//! let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 8080));
//! let server = switchboard_server::Server::bind(sb, addr).await?;
//! server.run(switchboard_server::shutdown_signal()).await
//! # }
//! ```
#![deny(missing_docs)]

mod admin;
mod anthropic;
mod auth;
mod body;
mod error;
mod metrics;
mod middleware;
mod openai;
mod ops;
mod overhead;
mod response;
mod serve;
mod state;
mod stream;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post, put};
use switchboard_gateway::Switchboard;

pub use serve::{Server, ShutdownHandle, reload_on_sighup, shutdown_signal};

/// The OpenAPI document of the server, as JSON.
pub fn openapi_json() -> String {
    use utoipa::OpenApi;
    ops::ApiDoc::openapi().to_json().unwrap_or_default()
}

/// Builds the axum application for `sb`.
pub fn app(sb: Arc<Switchboard>) -> Router {
    app_with_state(Arc::new(state::AppState::new(sb)))
}

pub(crate) fn app_with_state(state: state::Shared) -> Router {
    let admin = Router::new()
        .route("/plugins", get(admin::list))
        .route("/plugins/metadata", get(admin::metadata))
        .route("/plugins/health", get(admin::health))
        .route("/plugins/discover", post(admin::discover))
        .route("/plugins/{name}/status", get(admin::status))
        .route("/plugins/{name}/config-schema", get(admin::config_schema))
        .route("/plugins/{name}/config", put(admin::put_config))
        .route("/plugins/{name}/reload", post(admin::reload))
        .route("/plugins/{name}/enable", post(admin::enable))
        .route("/plugins/{name}/disable", post(admin::disable))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            admin::require_admin,
        ));
    Router::new()
        .route("/v1/chat/completions", post(openai::chat_completions))
        .route("/v1/models", get(openai::models))
        .route("/v1/embeddings", post(openai::embeddings))
        .route("/v1/messages", post(anthropic::messages))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/openapi.json", get(ops::openapi))
        .merge(admin)
        .fallback(fallback)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::request_context,
        ))
        .with_state(state)
}

async fn fallback(uri: axum::http::Uri) -> error::ApiError {
    error::ApiError::openai(switchboard_core::Error::not_found(format!(
        "no route for {}; see /openapi.json",
        uri.path()
    )))
}
