//! `[extensions.functions]`: every key has a default.

use schemars::JsonSchema;
use serde::Deserialize;
use switchboard_core::Error;

/// The `functions` extension's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct FunctionsConfig {
    /// Whether only the admin token may `define` and `remove` functions
    /// (any allowed client may call them either way).
    pub admin_only_define: bool,
    /// How many functions may be defined at once.
    pub max_functions: usize,
    /// The largest prompt template, in bytes.
    pub max_template_bytes: usize,
}

impl Default for FunctionsConfig {
    fn default() -> Self {
        FunctionsConfig {
            admin_only_define: false,
            max_functions: 1000,
            max_template_bytes: 64 * 1024,
        }
    }
}

impl FunctionsConfig {
    /// Checks the limits are usable.
    pub fn check(&self) -> Result<(), Error> {
        if self.max_functions == 0 {
            return Err(Error::config(
                "extensions.functions.max_functions must be at least 1",
            ));
        }
        if self.max_template_bytes == 0 {
            return Err(Error::config(
                "extensions.functions.max_template_bytes must be at least 1",
            ));
        }
        Ok(())
    }
}
