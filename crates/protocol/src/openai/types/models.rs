//! The model list.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::lenient;

pub(super) fn list_object() -> Cow<'static, str> {
    Cow::Borrowed("list")
}

fn model_object() -> Cow<'static, str> {
    Cow::Borrowed("model")
}

/// `GET /v1/models` response body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelList<'a> {
    /// `list`.
    #[serde(borrow, default = "list_object")]
    pub object: Cow<'a, str>,
    /// The models.
    #[serde(borrow, default, deserialize_with = "lenient::null_as_default")]
    pub data: Vec<Model<'a>>,
    /// Other fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One model of a [`ModelList`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model<'a> {
    /// The model id.
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    /// `model`.
    #[serde(borrow, default = "model_object")]
    pub object: Cow<'a, str>,
    /// Unix seconds (0 when the server does not say).
    #[serde(default, deserialize_with = "lenient::u64")]
    pub created: u64,
    /// The owner.
    #[serde(borrow, default)]
    pub owned_by: Cow<'a, str>,
    /// Other fields, kept verbatim (`shutdown_date`, Groq's `context_window`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
