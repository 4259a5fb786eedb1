//! `functions`: self-defining functions, the worked example of the
//! extension architecture. A client defines a function at runtime (a prompt
//! template with typed parameters, a model, an optional output schema) and
//! then calls it by name like any other method:
//! `POST /v1/functions/{name}` (or `/v1/extensions/functions/{name}`).
//!
//! Definitions live in the store (namespace [`NAMESPACE`]), so they survive
//! restarts and reloads and are shared by every process using the same store.

mod config;
mod definition;
mod invoke;
mod methods;
mod registry;
mod template;

use std::sync::Arc;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_core::extension::{ExtensionContext, Gateway, MethodCall, MethodInfo};
use switchboard_core::{Error, Extension, ExtensionInit, extension};

pub use config::FunctionsConfig;
pub use definition::{
    BUILT_IN_METHODS, CompiledFunction, FunctionDefinition, MAX_NAME_LEN, MAX_SCHEMA_BYTES,
    MAX_TEXT_BYTES, is_valid_name, text_result_schema,
};
pub use registry::NAMESPACE;

use crate::registry::Registry;

/// Self-defining functions: define a prompt template with typed parameters
/// at runtime, then call it by name, with structured output validated
/// against an optional JSON Schema.
#[extension(
    name = "functions",
    config = FunctionsConfig,
    hooks(methods),
    mount = "/v1/functions"
)]
pub struct Functions {
    registry: Arc<Registry>,
    gateway: Arc<dyn Gateway>,
}

impl std::fmt::Debug for Functions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Functions")
            .field("config", self.registry.config())
            .field("functions", &self.registry.cached_definitions().len())
            .finish_non_exhaustive()
    }
}

/// The arguments of `get` and `remove`.
#[derive(Deserialize)]
struct NameArgument {
    name: String,
}

/// Deserializes a built-in method's arguments; errors name the field.
fn parse_arguments<T: serde::de::DeserializeOwned>(method: &str, args: &Value) -> Result<T, Error> {
    serde_path_to_error::deserialize(args).map_err(|e| {
        let path = e.path().to_string();
        let message = format!("`{method}`: invalid arguments: {}", e.inner());
        if path == "." {
            Error::invalid_request(message)
        } else {
            Error::invalid_param(path, message)
        }
    })
}

impl Functions {
    fn check_admin(&self, call: &MethodCall) -> Result<(), Error> {
        if self.registry.config().admin_only_define && !call.admin {
            return Err(Error::permission(format!(
                "`{}` needs the admin token (admin_only_define is set)",
                call.method
            )));
        }
        Ok(())
    }

    async fn define(&self, call: &MethodCall) -> Result<Value, Error> {
        self.check_admin(call)?;
        if let Some(name) = call.arguments.get("name").and_then(Value::as_str) {
            definition::check_name(name)?;
        }
        let def: FunctionDefinition = parse_arguments("define", &call.arguments)?;
        let compiled = CompiledFunction::new(def, self.registry.config().max_template_bytes)?;
        let (function, replaced) = self.registry.define(compiled).await?;
        Ok(json!({
            "function": methods::definition_view(&function.definition),
            "replaced": replaced,
        }))
    }

    async fn list(&self) -> Result<Value, Error> {
        self.registry.load().await?;
        let functions: Vec<Value> = self
            .registry
            .cached_definitions()
            .iter()
            .map(|f| methods::definition_view(&f.definition))
            .collect();
        Ok(json!({ "functions": functions }))
    }

    async fn get(&self, call: &MethodCall) -> Result<Value, Error> {
        let NameArgument { name } = parse_arguments("get", &call.arguments)?;
        definition::check_name(&name)?;
        match self.registry.lookup(&name).await? {
            Some(f) => Ok(methods::definition_view(&f.definition)),
            None => Err(self.unknown(&name)),
        }
    }

    async fn remove(&self, call: &MethodCall) -> Result<Value, Error> {
        self.check_admin(call)?;
        let NameArgument { name } = parse_arguments("remove", &call.arguments)?;
        definition::check_name(&name)?;
        if self.registry.remove(&name).await? {
            Ok(json!({ "removed": name }))
        } else {
            Err(self.unknown(&name))
        }
    }

    /// A 404 naming the functions there are.
    fn unknown(&self, name: &str) -> Error {
        let known: Vec<String> = self
            .registry
            .cached_definitions()
            .iter()
            .map(|f| f.definition.name.clone())
            .take(20)
            .collect();
        let known = if known.is_empty() {
            "none are defined".to_owned()
        } else {
            format!("defined: {}", known.join(", "))
        };
        Error::not_found(format!("no function `{name}` is defined ({known})"))
    }

    /// Reloads the cache in the background when it is stale, so a function
    /// another process defined appears in `methods()` soon.
    fn refresh_if_stale(&self) {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if !self.registry.claim_refresh() {
            return;
        }
        let registry = Arc::clone(&self.registry);
        handle.spawn(async move {
            if let Err(e) = registry.load().await {
                tracing::warn!(error = %e, "functions: reloading definitions from the store failed");
            }
            registry.refreshed();
        });
    }
}

#[async_trait]
impl Extension for Functions {
    fn methods(&self) -> Vec<MethodInfo> {
        self.refresh_if_stale();
        let mut all = methods::built_ins(self.registry.config().admin_only_define);
        all.extend(
            self.registry
                .cached_definitions()
                .iter()
                .map(|f| methods::function_method(&f.definition)),
        );
        all
    }

    async fn method(&self, name: &str) -> Option<MethodInfo> {
        if let Some(m) = methods::built_ins(self.registry.config().admin_only_define)
            .into_iter()
            .find(|m| m.name == name)
        {
            return Some(m);
        }
        if !is_valid_name(name) {
            return None;
        }
        // The cache, else the store: a function another process (the CLI)
        // defined is callable at once.
        match self.registry.lookup(name).await {
            Ok(Some(function)) => Some(methods::function_method(&function.definition)),
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(error = %e, function = name, "functions: looking a function up in the store failed");
                None
            }
        }
    }

    async fn call(&self, call: MethodCall) -> Result<Value, Error> {
        match call.method.as_str() {
            "define" => self.define(&call).await,
            "list" => self.list().await,
            "get" => self.get(&call).await,
            "remove" => self.remove(&call).await,
            name => {
                if !is_valid_name(name) {
                    return Err(self.unknown(name));
                }
                let Some(function) = self.registry.lookup(name).await? else {
                    return Err(self.unknown(name));
                };
                invoke::invoke(&self.gateway, &function, &call).await
            }
        }
    }

    fn status(&self) -> Value {
        json!({ "functions": self.registry.cached_definitions().len() })
    }
}

#[async_trait]
impl ExtensionInit for Functions {
    type Config = FunctionsConfig;

    fn validate(config: &FunctionsConfig) -> Result<(), Error> {
        config.check()
    }

    async fn init(config: FunctionsConfig, ctx: ExtensionContext) -> Result<Self, Error> {
        config.check()?;
        let registry = Arc::new(Registry::new(ctx.store, config));
        registry.load().await?;
        Ok(Functions {
            registry,
            gateway: ctx.gateway,
        })
    }
}
