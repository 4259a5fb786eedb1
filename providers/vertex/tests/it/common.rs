//! Shared helpers: providers on fake upstreams, the throwaway test key.

use serde_json::{Value, json};
use switchboard_core::{ProviderContext, ProviderInit};
use switchboard_vertex::{VertexConfig, VertexProvider};
use wiremock::{MockServer, ResponseTemplate};

/// A service account key file whose key is a THROWAWAY TEST KEY made for
/// these tests (see `tests/data/README.md`); it grants nothing.
pub(crate) const SA_KEY_JSON: &str =
    include_str!("../data/service_account_throwaway_test_key.json");

/// The public half of that key, DER `RSAPublicKey`, written by `openssl`.
pub(crate) const SA_PUBLIC_KEY_DER: &[u8] = include_bytes!("../data/throwaway_test_key.public.der");

pub(crate) const INSTANCE: &str = "vertex-test";

pub(crate) fn fixture(text: &str) -> Value {
    serde_json::from_str(text).expect("fixture is JSON")
}

/// A provider from `config` (JSON), built as the gateway builds it.
pub(crate) async fn provider(config: Value) -> VertexProvider {
    let config: VertexConfig = serde_json::from_value(config).expect("valid config");
    VertexProvider::init(config, ProviderContext::standalone(INSTANCE))
        .await
        .expect("builds")
}

/// A provider on `api` authenticating with the test service account at
/// `token`'s `/token`, in `location`.
pub(crate) async fn sa_provider(
    api: &MockServer,
    token: &MockServer,
    location: &str,
) -> VertexProvider {
    provider(json!({
        "location": location,
        "base_url": api.uri(),
        "token_url": format!("{}/token", token.uri()),
        "credentials_json": SA_KEY_JSON,
    }))
    .await
}

/// A provider on `api` with a static access token.
pub(crate) async fn token_provider(api: &MockServer, location: &str) -> VertexProvider {
    provider(json!({
        "project": "my-project",
        "location": location,
        "base_url": api.uri(),
        "access_token": "TEST_ACCESS_TOKEN",
    }))
    .await
}

/// The token endpoint's answer.
pub(crate) fn token_answer(token: &str, expires_in: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "access_token": token,
        "expires_in": expires_in,
        "token_type": "Bearer",
    }))
}

pub(crate) fn json_response(body: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.as_bytes().to_vec(), "application/json")
}

/// A Gemini text answer (a Gemini API recording; same shape on Vertex).
pub(crate) const GEMINI_TEXT: &str =
    include_str!("../data/gemini_generate_content_response_text.json");
