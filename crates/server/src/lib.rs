//! Switchboard's HTTP gateway.
//!
//! - Inbound OpenAI API: `POST /v1/chat/completions` (stream and not),
//!   `GET /v1/models`, `POST /v1/embeddings`.
//! - Inbound Anthropic API: `POST /v1/messages` (stream and not).
//! - Inbound Gemini API: `POST /v1beta/models/{model}:generateContent` and
//!   `:streamGenerateContent?alt=sse` (also under `/v1/models/`).
//! - Inbound OpenAI Responses API: `POST /v1/responses` (stream and not),
//!   `GET` and `DELETE /v1/responses/{id}`. Finished responses (unless
//!   `store: false`) are kept for `previous_response_id`: in the extension
//!   store's `responses` namespace when one is open, else the newest in
//!   memory; `[server.responses]` sets how long (`retention_secs`, 30 days)
//!   and how many in memory (`max_in_memory`, 1000).
//! - Plugin management under `/plugins` (admin bearer token); `GET /plugins`
//!   lists provider instances (`kind: "provider"`, the provider kind under
//!   `provider`) and configured extensions (`kind: "extension"`); each
//!   instance (and `/extensions` entry) names under `env_refs` the keys its
//!   config file sets through `${VAR}` (variable names, never values).
//! - Extension management under `/extensions` (admin bearer token):
//!   `GET /extensions`, `POST /extensions/{name}/enable|disable`,
//!   `PUT /extensions/{name}/config` (the extension's own settings, a JSON
//!   object), `GET /extensions/{name}/config-schema`. Runtime changes last
//!   until the next reload from file.
//! - Extension methods: `POST /v1/extensions/{extension}/{method}` (the
//!   arguments as the JSON body; client-key auth; methods marked `admin`
//!   need the admin token), and for an extension with a `mount`,
//!   `POST {mount}/{method}` and `GET {mount}` (method `get`, the query
//!   string as an object of strings).
//! - `GET /healthz`, `GET /readyz`, `GET /metrics` (Prometheus),
//!   `GET /openapi.json`.
//! - With the `console` feature, the web console at `/ui` (static assets
//!   from `switchboard-console`; its API calls carry the admin token).
//!
//! ```no_run
//! # async fn demo(sb: std::sync::Arc<switchboard_gateway::Switchboard>) -> std::io::Result<()> {
//! let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 8080));
//! let server = switchboard_server::Server::bind(sb, addr).await?;
//! server.run(switchboard_server::shutdown_signal()).await
//! # }
//! ```
#![deny(missing_docs)]

// Code map. Requests: `serve` (accepting, limits) and `conn` (one
// connection's deadlines, write timeout, in-flight count) → `router` →
// `middleware` (request id, the `access_log` line, panics, and `browser`:
// Host, Origin, CORS) → a handler. Chat: `openai`, `anthropic` and `gemini`
// implement `chat::InboundChatApi`; `chat::handle_chat` is the one path,
// using `auth`, `body`, `response`, `stream` (SSE) and `overhead` (timing
// into `metrics`); when an extension runs it hands over to `hooked` (the
// request context, `Switchboard::chat_with`, extension headers).
// `extensions` serves extension methods, `admin_extensions` /extensions. Also `openai` (models, embeddings), `admin` (/plugins),
// `ops` (health, metrics, OpenAPI), `error` (wire-format errors), `state`,
// `console` (the `/ui` assets, behind the `console` feature).
mod access_log;
mod admin;
mod admin_extensions;
mod admin_keys;
mod anthropic;
mod auth;
mod body;
mod browser;
mod chat;
mod conn;
#[cfg(feature = "console")]
mod console;
mod error;
mod extensions;
mod forwarded;
mod gemini;
mod hooked;
mod inbound;
mod metrics;
mod middleware;
mod openai;
mod ops;
mod overhead;
mod response;
mod responses;
mod responses_memory;
mod responses_store;
mod router;
mod serve;
mod stall;
mod state;
mod stream;
mod workers;

use std::sync::Arc;

use axum::Router;
use switchboard_gateway::Switchboard;

pub use serve::{Server, ShutdownHandle, reload_on_sighup, shutdown_signal};

/// The OpenAPI document of the server, as JSON.
pub fn openapi_json() -> String {
    use utoipa::OpenApi;
    ops::ApiDoc::openapi().to_json().unwrap_or_default()
}

/// Builds the axum application for `sb`.
pub fn app(sb: Arc<Switchboard>) -> Router {
    router::app(Arc::new(state::AppState::new(sb)))
}
