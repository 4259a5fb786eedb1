//! Azure's error bodies: the OpenAI error object plus Azure's content-filter
//! code and `innererror`, and `DeploymentNotFound`.

use serde_json::Value;
use switchboard_core::upstream::ErrorResponse;
use switchboard_core::{Error, ErrorKind};
use switchboard_protocol::openai::error_from_response;

/// `error.code` of a prompt refused by Azure's content filter.
pub const CONTENT_FILTER_CODE: &str = "content_filter";
/// `error.innererror.code` of a content-filter refusal.
pub const POLICY_VIOLATION_CODE: &str = "ResponsibleAIPolicyViolation";

/// Whether an error body is Azure's content-filter refusal: `error.code`
/// `content_filter`, or an inner error (`innererror`, or `inner_error` as
/// some versions spell it) with code `ResponsibleAIPolicyViolation`.
pub fn is_content_filter(body: &Value) -> bool {
    let Some(error) = body.get("error") else {
        return false;
    };
    if error.get("code").and_then(Value::as_str) == Some(CONTENT_FILTER_CODE) {
        return true;
    }
    ["innererror", "inner_error"].iter().any(|key| {
        error
            .get(key)
            .and_then(|inner| inner.get("code"))
            .and_then(Value::as_str)
            == Some(POLICY_VIOLATION_CODE)
    })
}

/// Classifies an Azure OpenAI error answer: a content-filter refusal is
/// `content_filter` (with the body's `param`, usually `prompt`); everything
/// else as OpenAI's (`DeploymentNotFound` 404 → `not_found`).
pub fn classify(r: &ErrorResponse<'_>) -> Error {
    let err = error_from_response(r.status, r.retry_after(), r.body);
    let filtered = serde_json::from_slice::<Value>(r.body)
        .ok()
        .is_some_and(|body| is_content_filter(&body));
    if !filtered {
        return err;
    }
    let refused = Error::content_filter(err.message().to_owned());
    match err.param() {
        Some(param) => refused.with_param(param.to_owned()),
        None => refused,
    }
}

/// Names the deployment in a `not_found` error (Azure's
/// `DeploymentNotFound` message does not).
pub(crate) fn name_deployment(err: Error, deployment: &str) -> Error {
    if !matches!(err.kind(), ErrorKind::NotFound) {
        return err;
    }
    let mut named = Error::not_found(format!("deployment `{deployment}`: {}", err.message()))
        .with_param("model");
    if let Some(instance) = err.instance() {
        named = named.with_instance(instance.to_owned());
    }
    named
}
