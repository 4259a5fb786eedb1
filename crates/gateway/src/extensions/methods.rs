//! Extension methods: look up, check the caller's rights, validate the
//! arguments against the method's JSON Schema, call.

use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use serde_json::Value;
use switchboard_core::Error;
use switchboard_core::extension::{Hooks, MethodCall};

use super::Hub;
use super::chain::panic_error;

impl Hub {
    /// Calls `method` of extension `extension` (see
    /// [`Switchboard::call_extension`](crate::Switchboard::call_extension)).
    pub(crate) async fn call_extension(
        &self,
        extension: &str,
        call: MethodCall,
    ) -> Result<Value, Error> {
        let set = self.set.load_full();
        let Some(e) = set.get(extension) else {
            let names: Vec<&str> = set.entries.iter().map(|(_, e)| &*e.name).collect();
            return Err(Error::not_found(format!(
                "no enabled extension named `{extension}`; enabled extensions: {}",
                if names.is_empty() {
                    "none".to_owned()
                } else {
                    names.join(", ")
                }
            )));
        };
        let found = if e.has(Hooks::METHODS) {
            AssertUnwindSafe(e.ext.method(&call.method))
                .catch_unwind()
                .await
                .map_err(|panic| panic_error(extension, "method", panic))?
        } else {
            None
        };
        let Some(info) = found else {
            let methods = if e.has(Hooks::METHODS) {
                e.ext.methods()
            } else {
                Vec::new()
            };
            let names: Vec<&str> = methods.iter().map(|m| m.name.as_str()).collect();
            return Err(Error::not_found(format!(
                "extension `{extension}` has no method `{}`; its methods: {}",
                call.method,
                if names.is_empty() {
                    "none".to_owned()
                } else {
                    names.join(", ")
                }
            )));
        };
        if info.admin && !call.admin {
            return Err(Error::permission(format!(
                "method `{extension}.{}` needs the admin token",
                call.method
            )));
        }
        validate_arguments(&info.arguments, &call.arguments)?;
        let run = AssertUnwindSafe(e.ext.call(call)).catch_unwind().await;
        run.unwrap_or_else(|panic| Err(panic_error(extension, "call", panic)))
    }
}

/// Checks `arguments` against `schema`: a 400 naming the bad argument.
pub(crate) fn validate_arguments(schema: &Value, arguments: &Value) -> Result<(), Error> {
    let validator = jsonschema::validator_for(schema)
        .map_err(|e| Error::internal(format!("the method's argument schema is invalid: {e}")))?;
    if let Some(error) = validator.iter_errors(arguments).next() {
        let path = error.instance_path().to_string();
        let param = if path.is_empty() {
            "arguments".to_owned()
        } else {
            path.trim_start_matches('/').replace('/', ".")
        };
        return Err(
            Error::invalid_request(format!("invalid argument `{param}`: {error}"))
                .with_param(param),
        );
    }
    Ok(())
}
