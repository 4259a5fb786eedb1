//! Lets a client pick the model with a request header: `x-model-override`
//! replaces `model` in the request body, within a configured allow-list.

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_core::extension::{ExtensionContext, RequestContext};
use switchboard_core::{
    ChatRequest, Error, Extension, ExtensionInit, RequestAction, async_trait, extension,
};

/// The keys of `[extensions.model-override]`. Every key has a default.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ModelOverrideConfig {
    /// The request header naming the model to use instead (lowercase).
    pub header: String,
    /// The models (aliases or `instance/model`) the header may choose;
    /// empty: any model.
    pub allowed: Vec<String>,
}

impl Default for ModelOverrideConfig {
    fn default() -> Self {
        ModelOverrideConfig {
            header: "x-model-override".to_owned(),
            allowed: Vec::new(),
        }
    }
}

/// What the request asked for before the override, for later hooks
/// (`on_complete` of another extension, say).
#[derive(Debug, Clone)]
pub struct OverriddenModel(pub String);

/// Replaces the request's model with the one named in a request header.
#[extension(name = "model-override", config = ModelOverrideConfig, hooks(on_request))]
#[derive(Debug)]
pub struct ModelOverride {
    header: String,
    allowed: BTreeSet<String>,
}

#[async_trait]
impl ExtensionInit for ModelOverride {
    type Config = ModelOverrideConfig;

    fn validate(config: &ModelOverrideConfig) -> Result<(), Error> {
        let valid = !config.header.is_empty()
            && config
                .header
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !valid {
            return Err(Error::config(
                "`header` must be a lowercase header name (letters, digits and `-`)",
            )
            .with_param("header"));
        }
        if let Some(bad) = config.allowed.iter().find(|m| m.trim().is_empty()) {
            return Err(
                Error::config(format!("`allowed` has an empty model name: {bad:?}"))
                    .with_param("allowed"),
            );
        }
        Ok(())
    }

    async fn init(config: ModelOverrideConfig, _ctx: ExtensionContext) -> Result<Self, Error> {
        Ok(ModelOverride {
            header: config.header,
            allowed: config.allowed.into_iter().collect(),
        })
    }
}

#[async_trait]
impl Extension for ModelOverride {
    async fn on_request(
        &self,
        ctx: &mut RequestContext,
        request: &mut ChatRequest,
    ) -> Result<RequestAction, Error> {
        let Some(model) = ctx.header(&self.header).map(str::trim) else {
            return Ok(RequestAction::Continue);
        };
        if model.is_empty() {
            return Err(Error::invalid_param(
                self.header.clone(),
                format!("the `{}` header is empty", self.header),
            ));
        }
        if !self.allowed.is_empty() && !self.allowed.contains(model) {
            let allowed: Vec<&str> = self.allowed.iter().map(String::as_str).collect();
            return Err(Error::permission(format!(
                "`{}: {model}` is not allowed; allowed models: {}",
                self.header,
                allowed.join(", ")
            )));
        }
        let model = model.to_owned();
        let previous = std::mem::replace(&mut request.model, model.clone());
        ctx.scratch.insert(OverriddenModel(previous));
        ctx.set_response_header("x-switchboard-model-override", model);
        Ok(RequestAction::Continue)
    }

    fn status(&self) -> Value {
        json!({"header": self.header, "allowed": self.allowed})
    }
}
