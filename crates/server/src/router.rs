//! The routes of the application.

use axum::Router;
use axum::http::Uri;
use axum::routing::{get, post, put};
use switchboard_core::Error;

use crate::error::ApiError;
use crate::middleware::request_context;
use crate::state::SharedState;
use crate::{
    admin, admin_extensions, admin_keys, anthropic, extensions, gemini, openai, ops, responses,
};

/// The application: every route, the admin guard, the request-context
/// middleware (with the browser checks), and a JSON 404 for the rest.
pub(crate) fn app(state: SharedState) -> Router {
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
        .route("/extensions", get(admin_extensions::list))
        .route("/extensions/{name}/enable", post(admin_extensions::enable))
        .route(
            "/extensions/{name}/disable",
            post(admin_extensions::disable),
        )
        .route(
            "/extensions/{name}/config",
            put(admin_extensions::put_config),
        )
        .route(
            "/extensions/{name}/config-schema",
            get(admin_extensions::config_schema),
        )
        .route("/keys", post(admin_keys::create).get(admin_keys::list))
        .route(
            "/keys/{id}",
            get(admin_keys::show)
                .patch(admin_keys::update)
                .delete(admin_keys::revoke),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            admin::require_admin,
        ));
    let app = Router::new()
        .route("/v1/chat/completions", post(openai::chat_completions))
        .route("/v1/models", get(openai::models))
        .route("/v1/embeddings", post(openai::embeddings))
        .route("/v1/messages", post(anthropic::messages))
        .route("/v1beta/models/{*method}", post(gemini::generate_content))
        .route("/v1/models/{*method}", post(gemini::generate_content))
        .route("/v1/responses", post(responses::create))
        .route(
            "/v1/responses/{id}",
            get(responses::retrieve).delete(responses::delete),
        )
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/openapi.json", get(ops::openapi))
        .merge(extensions::routes())
        .merge(admin);
    #[cfg(feature = "console")]
    let app = app.merge(crate::console::routes());
    app.fallback(fallback)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            request_context,
        ))
        .with_state(state)
}

/// Any other path: an OpenAI-style 404 pointing at the OpenAPI document.
async fn fallback(uri: Uri) -> ApiError {
    ApiError::openai(Error::not_found(format!(
        "no route for {}; see /openapi.json",
        uri.path()
    )))
}
