//! The model list.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::lenient;

fn model_type() -> Cow<'static, str> {
    Cow::Borrowed("model")
}

/// `GET /v1/models` response body: one page of models, newest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelList<'a> {
    /// The models of this page.
    #[serde(borrow, default, deserialize_with = "lenient::null_as_default")]
    pub data: Vec<Model<'a>>,
    /// Whether another page follows (ask for it with `after_id=<last_id>`).
    #[serde(default)]
    pub has_more: bool,
    /// The first id of this page.
    #[serde(borrow, default, deserialize_with = "lenient::opt_cow")]
    pub first_id: Option<Cow<'a, str>>,
    /// The last id of this page.
    #[serde(borrow, default, deserialize_with = "lenient::opt_cow")]
    pub last_id: Option<Cow<'a, str>>,
    /// Other fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One model of a [`ModelList`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model<'a> {
    /// `model`.
    #[serde(rename = "type", borrow, default = "model_type")]
    pub kind: Cow<'a, str>,
    /// The model id.
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    /// A human-friendly name.
    #[serde(borrow, default, deserialize_with = "lenient::opt_cow")]
    pub display_name: Option<Cow<'a, str>>,
    /// RFC 3339 release time.
    #[serde(borrow, default, deserialize_with = "lenient::opt_cow")]
    pub created_at: Option<Cow<'a, str>>,
    /// Other fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
