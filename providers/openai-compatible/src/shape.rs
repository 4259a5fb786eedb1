//! Fitting an OpenAI wire request to one service: unsupported parameters
//! (dropped or rejected), renamed fields, the `developer` role.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use switchboard_core::Error;

/// What to do with a request parameter the service does not support.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnsupportedParams {
    /// Fail with `invalid_request` naming the parameter, before anything is sent.
    #[default]
    Reject,
    /// Leave it out of the request and list it in the answer's
    /// `extra["dropped_params"]` (a streamed answer has no such record).
    Drop,
}

/// One entry of an `unsupported` list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ParamSpec {
    /// A top-level field that is present and not `null`.
    Field(String),
    /// A field of any message (`messages[].name`).
    MessageField(String),
    /// A `response_format` of this type (`response_format=json_object`).
    ResponseFormat(String),
    /// `n` greater than 1 (`n>1`).
    NAboveOne,
}

impl ParamSpec {
    /// Parses `logprobs`, `messages[].name`, `response_format=json_object` or `n>1`.
    pub(crate) fn parse(s: &str) -> Result<ParamSpec, String> {
        let valid = |name: &str| {
            !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        };
        let spec = if s == "n>1" {
            ParamSpec::NAboveOne
        } else if let Some(field) = s.strip_prefix("messages[].") {
            ParamSpec::MessageField(field.to_owned())
        } else if let Some(kind) = s.strip_prefix("response_format=") {
            ParamSpec::ResponseFormat(kind.to_owned())
        } else {
            ParamSpec::Field(s.to_owned())
        };
        let ok = match &spec {
            ParamSpec::Field(f) | ParamSpec::MessageField(f) | ParamSpec::ResponseFormat(f) => {
                valid(f)
            }
            ParamSpec::NAboveOne => true,
        };
        if ok {
            Ok(spec)
        } else {
            Err(format!(
                "`{s}` is not a parameter: expected a field name (`logprobs`), `messages[].<field>`, `response_format=<type>` or `n>1`"
            ))
        }
    }

    fn present(&self, body: &Map<String, Value>) -> bool {
        match self {
            ParamSpec::Field(f) => body.get(f).is_some_and(|v| !v.is_null()),
            ParamSpec::MessageField(f) => messages(body)
                .iter()
                .any(|m| m.get(f).is_some_and(|v| !v.is_null())),
            ParamSpec::ResponseFormat(kind) => {
                body.get("response_format")
                    .and_then(|r| r.get("type"))
                    .and_then(Value::as_str)
                    == Some(kind.as_str())
            }
            ParamSpec::NAboveOne => body.get("n").and_then(Value::as_u64).is_some_and(|n| n > 1),
        }
    }

    fn remove(&self, body: &mut Map<String, Value>) {
        match self {
            ParamSpec::Field(f) => {
                body.remove(f);
            }
            ParamSpec::MessageField(f) => {
                if let Some(Value::Array(list)) = body.get_mut("messages") {
                    for m in list.iter_mut().filter_map(Value::as_object_mut) {
                        m.remove(f);
                    }
                }
            }
            ParamSpec::ResponseFormat(_) => {
                body.remove("response_format");
            }
            ParamSpec::NAboveOne => {
                body.remove("n");
            }
        }
    }
}

fn messages(body: &Map<String, Value>) -> Vec<&Map<String, Value>> {
    match body.get("messages") {
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_object).collect(),
        _ => Vec::new(),
    }
}

/// How requests are fitted to one service.
#[derive(Debug, Clone)]
pub(crate) struct Shaping {
    /// The service's name, for error messages.
    pub(crate) service: String,
    pub(crate) unsupported: Vec<(String, ParamSpec)>,
    pub(crate) renames: Vec<(String, String)>,
    pub(crate) developer_to_system: bool,
    pub(crate) policy: UnsupportedParams,
}

impl Shaping {
    /// Fits `body` in place; returns the parameters dropped.
    pub(crate) fn apply(&self, body: &mut Map<String, Value>) -> Result<Vec<String>, Error> {
        if self.developer_to_system
            && let Some(Value::Array(list)) = body.get_mut("messages")
        {
            for m in list.iter_mut().filter_map(Value::as_object_mut) {
                if m.get("role").and_then(Value::as_str) == Some("developer") {
                    m.insert("role".into(), Value::String("system".into()));
                }
            }
        }
        let mut dropped = Vec::new();
        for (raw, spec) in &self.unsupported {
            if !spec.present(body) {
                continue;
            }
            match self.policy {
                UnsupportedParams::Reject => {
                    return Err(Error::invalid_param(
                        raw.clone(),
                        format!(
                            "`{raw}` is not supported by {}; leave it out, or set `unsupported_params = \"drop\"` on this instance to drop it",
                            self.service
                        ),
                    ));
                }
                UnsupportedParams::Drop => {
                    spec.remove(body);
                    dropped.push(raw.clone());
                }
            }
        }
        for (from, to) in &self.renames {
            if let Some(value) = body.remove(from) {
                if body.contains_key(to) {
                    return Err(Error::invalid_param(
                        from.clone(),
                        format!(
                            "{} calls `{from}` `{to}`; give only one of them",
                            self.service
                        ),
                    ));
                }
                body.insert(to.clone(), value);
            }
        }
        Ok(dropped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use switchboard_core::ErrorKind;

    fn shaping(unsupported: &[&str], policy: UnsupportedParams) -> Shaping {
        Shaping {
            service: "Test".into(),
            unsupported: unsupported
                .iter()
                .map(|s| ((*s).to_owned(), ParamSpec::parse(s).expect("valid")))
                .collect(),
            renames: vec![("seed".into(), "random_seed".into())],
            developer_to_system: true,
            policy,
        }
    }

    fn body(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn rejects_naming_the_parameter() {
        let s = shaping(
            &["logprobs", "messages[].name", "n>1"],
            UnsupportedParams::Reject,
        );
        let mut b = body(json!({"messages": [{"role": "user", "content": "x", "name": "bob"}]}));
        let err = s.apply(&mut b).expect_err("name is unsupported");
        assert_eq!(err.kind(), &ErrorKind::InvalidRequest);
        assert_eq!(err.param(), Some("messages[].name"));
        let mut ok = body(json!({"messages": [], "n": 1, "logprobs": null}));
        assert!(
            s.apply(&mut ok).is_ok(),
            "n = 1 and a null logprobs are fine"
        );
        let mut n2 = body(json!({"messages": [], "n": 2}));
        assert_eq!(s.apply(&mut n2).expect_err("n>1").param(), Some("n>1"));
    }

    #[test]
    fn drops_and_reports() {
        let s = shaping(
            &["logprobs", "messages[].name", "response_format=json_object"],
            UnsupportedParams::Drop,
        );
        let mut b = body(json!({
            "messages": [{"role": "developer", "content": "x", "name": "bob"}],
            "logprobs": true, "seed": 7, "response_format": {"type": "json_object"}
        }));
        let dropped = s.apply(&mut b).expect("dropped");
        assert_eq!(
            dropped,
            vec!["logprobs", "messages[].name", "response_format=json_object"]
        );
        assert_eq!(
            Value::Object(b),
            json!({"messages": [{"role": "system", "content": "x"}], "random_seed": 7})
        );
    }

    #[test]
    fn parses_specs() {
        assert_eq!(ParamSpec::parse("n>1"), Ok(ParamSpec::NAboveOne));
        assert!(ParamSpec::parse("messages[].").is_err());
        assert!(ParamSpec::parse("bad name").is_err());
        assert_eq!(
            ParamSpec::parse("response_format=json_object"),
            Ok(ParamSpec::ResponseFormat("json_object".into()))
        );
    }
}
