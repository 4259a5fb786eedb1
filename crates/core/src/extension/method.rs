//! An extension's callable methods: what they are called, what they take and
//! what they give back (the spec's `canHandle` / `handleMethodCall`).

use serde::Serialize;
use serde_json::Value;

use super::context::ClientKeyInfo;

/// One method an extension offers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MethodInfo {
    /// The method's name (`[a-z0-9_-]`, as in `POST /v1/extensions/{extension}/{method}`).
    pub name: String,
    /// What it does.
    pub description: String,
    /// The JSON Schema of its arguments (an object). Arguments are validated
    /// against it before [`Extension::call`](super::Extension::call) runs.
    pub arguments: Value,
    /// The JSON Schema of its result.
    pub result: Value,
    /// Whether only the admin token may call it (client keys may not).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub admin: bool,
}

impl MethodInfo {
    /// A method anyone allowed to call the gateway may call.
    pub fn new(
        name: impl Into<String>,
        description: impl Into<String>,
        arguments: Value,
        result: Value,
    ) -> Self {
        MethodInfo {
            name: name.into(),
            description: description.into(),
            arguments,
            result,
            admin: false,
        }
    }

    /// Only the admin token may call it.
    #[must_use]
    pub fn admin_only(mut self) -> Self {
        self.admin = true;
        self
    }
}

/// One call of a method.
#[derive(Debug, Clone)]
pub struct MethodCall {
    /// The method's name.
    pub method: String,
    /// Its arguments, valid against the method's schema.
    pub arguments: Value,
    /// The client key of the caller, if keys are configured.
    pub client_key: Option<ClientKeyInfo>,
    /// Whether the caller holds the admin token (or no auth is configured).
    pub admin: bool,
    /// The request id.
    pub request_id: std::sync::Arc<str>,
}
