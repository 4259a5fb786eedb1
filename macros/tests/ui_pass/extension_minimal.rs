//! A complete minimal extension: one hook, one method, a mount.

use serde_json::{json, Value};
use switchboard_core::extension::{ExtensionContext, MethodCall, MethodInfo, RequestContext};
use switchboard_core::{
    async_trait, extension, ChatRequest, Error, Extension, ExtensionInit, RequestAction,
};

/// Settings of the minimal extension.
#[derive(Debug, Clone, Default, serde::Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct MinimalConfig {
    /// A header value to add to every answer.
    pub tag: String,
}

/// Tags every answer.
#[extension(
    name = "minimal",
    config = MinimalConfig,
    hooks(on_request, methods),
    mount = "/v1/minimal",
    version = "1.2.3",
    author = "Someone <someone@example.com>",
    homepage = "https://example.com"
)]
pub struct Minimal {
    tag: String,
}

#[async_trait]
impl ExtensionInit for Minimal {
    type Config = MinimalConfig;

    async fn init(config: MinimalConfig, _ctx: ExtensionContext) -> Result<Self, Error> {
        Ok(Minimal { tag: config.tag })
    }
}

#[async_trait]
impl Extension for Minimal {
    async fn on_request(
        &self,
        ctx: &mut RequestContext,
        _request: &mut ChatRequest,
    ) -> Result<RequestAction, Error> {
        ctx.set_response_header("x-tag", self.tag.clone());
        Ok(RequestAction::Continue)
    }

    fn methods(&self) -> Vec<MethodInfo> {
        vec![MethodInfo::new(
            "tag",
            "The configured tag.",
            json!({"type": "object"}),
            json!({"type": "string"}),
        )]
    }

    async fn call(&self, call: MethodCall) -> Result<Value, Error> {
        match call.method.as_str() {
            "tag" => Ok(Value::String(self.tag.clone())),
            other => Err(Error::not_found(format!("no method `{other}`"))),
        }
    }
}

fn main() {
    assert_eq!(Minimal::DESCRIPTOR.name, "minimal");
}
