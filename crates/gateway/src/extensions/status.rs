//! What the management API and the CLI show of an extension.

use serde::Serialize;
use serde_json::Value;
use switchboard_core::extension::MethodInfo;

/// One configured or linked extension's state.
#[derive(Debug, Clone, Serialize)]
pub struct ExtensionStatus {
    /// Its name.
    pub name: String,
    /// Whether the configuration enables it.
    pub enabled: bool,
    /// `running`, `disabled`, or `not_configured`.
    pub state: &'static str,
    /// Its `order`.
    pub order: i32,
    /// The hooks it implements.
    pub hooks: Vec<&'static str>,
    /// Its methods (when running).
    pub methods: Vec<MethodInfo>,
    /// The path prefix its methods are also served under, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mount: Option<&'static str>,
    /// Completion records dropped because its queue was full.
    pub dropped_records: u64,
    /// Its own status (from [`Extension::status`](switchboard_core::extension::Extension::status)).
    #[serde(skip_serializing_if = "Value::is_null")]
    pub detail: Value,
}
