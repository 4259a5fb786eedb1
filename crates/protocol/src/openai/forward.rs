//! The same-format fast path's two reads of OpenAI bytes: a client's
//! request with only `model` changed ([`retarget_request`]), and what the
//! gateway must know of an upstream's answer it passes back as it came
//! ([`forwarded_usage`]).
//!
//! Both read the JSON without building it: values are borrowed
//! ([`RawValue`]) or skipped ([`IgnoredAny`]), which is what makes the fast
//! path cheaper than parsing into the core vocabulary and encoding again.

use std::borrow::Cow;
use std::fmt;

use bytes::Bytes;
use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use serde_json::value::RawValue;
use switchboard_core::upstream::Upstream;
use switchboard_core::{Error, ForwardRequest, ForwardedReply, Usage};

use super::error::error_from_value;
use super::response::usage_from_wire;
use super::types::CompletionUsage;
use crate::lenient;

/// A provider's [`forward`](switchboard_core::Provider::forward) for an
/// OpenAI Chat Completions endpoint: `POST path` on `upstream` with the
/// client's body, only its `model` changed, and the answer as it came once
/// [`forwarded_usage`] has read it.
pub async fn forward_chat(
    upstream: &Upstream,
    path: &str,
    request: &ForwardRequest,
) -> Result<ForwardedReply, Error> {
    let body = if request.retargeted() {
        retarget_request(&request.body, &request.request.model).map_err(|e| upstream.error(e))?
    } else {
        request.body.clone()
    };
    let reply = upstream.post(path, body).await?;
    let usage = reply.decode(forwarded_usage)?;
    Ok(ForwardedReply {
        body: reply.body,
        usage,
        upstream_request_id: reply.request_id,
    })
}

/// The request `body` (a JSON object) with its top-level `model` set to
/// `model`; every other member is written back byte for byte, in order.
/// A body already naming `model` is returned as is. Whitespace between
/// top-level members is not kept.
pub fn retarget_request(body: &Bytes, model: &str) -> Result<Bytes, Error> {
    let members = Members::parse(body)?;
    if members.names_model(model) {
        return Ok(body.clone());
    }
    let mut out = Vec::with_capacity(body.len() + model.len());
    out.push(b'{');
    let mut first = true;
    for (key, value) in members.iter() {
        write_member(&mut out, &mut first, key, |out| {
            if key == "model" {
                let _ = serde_json::to_writer(out, model);
            } else {
                out.extend_from_slice(value.get().as_bytes());
            }
        });
    }
    out.push(b'}');
    Ok(Bytes::from(out))
}

/// Writes `"key":` (after a comma unless it is the object's `first`
/// member), then the value `write` writes.
pub(super) fn write_member(
    out: &mut Vec<u8>,
    first: &mut bool,
    key: &str,
    write: impl FnOnce(&mut Vec<u8>),
) {
    if !std::mem::take(first) {
        out.push(b',');
    }
    // Writing a `str` as JSON cannot fail.
    let _ = serde_json::to_writer(&mut *out, key);
    out.push(b':');
    write(out);
}

/// A JSON object's members in order, values unparsed.
pub(super) struct Members<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'a> Members<'a> {
    /// The members of the JSON object `json`; anything else is an
    /// `invalid_request` error.
    pub(super) fn parse(json: &'a [u8]) -> Result<Self, Error> {
        serde_json::from_slice::<Members<'_>>(json)
            .map_err(|e| Error::invalid_request(format!("the request is not a JSON object: {e}")))
    }

    /// The members, in order.
    pub(super) fn iter(&self) -> impl Iterator<Item = (&str, &'a RawValue)> {
        self.0.iter().map(|(k, v)| (k.as_ref(), *v))
    }

    /// The value of the (last) member named `key`.
    pub(super) fn get(&self, key: &str) -> Option<&'a RawValue> {
        self.iter()
            .filter(|(k, _)| *k == key)
            .map(|(_, v)| v)
            .last()
    }

    /// Whether every `model` member names `model` (so nothing to rewrite).
    pub(super) fn names_model(&self, model: &str) -> bool {
        self.iter()
            .filter(|(k, _)| *k == "model")
            .all(|(_, v)| serde_json::from_str::<&str>(v.get()).is_ok_and(|m| m == model))
    }
}

/// A member name, borrowed unless it has escapes.
#[derive(Deserialize)]
struct Key<'a>(#[serde(borrow)] Cow<'a, str>);

impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members<'de>, A::Error> {
                let mut members = Vec::with_capacity(map.size_hint().unwrap_or(8));
                while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
                    members.push((key, map.next_value::<&'de RawValue>()?));
                }
                Ok(Members(members))
            }
        }
        d.deserialize_map(V)
    }
}

/// What the gateway reads of a chat completion it passes back unchanged.
#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    error: Option<Value>,
    #[serde(default, deserialize_with = "lenient::null_as_default")]
    choices: Vec<IgnoredAny>,
    #[serde(default)]
    usage: Option<CompletionUsage>,
}

/// The token counts of an upstream chat completion `body` that goes back
/// to the client as it came. It is checked as the full path checks it: a
/// body that is not a chat completion, or has no choices, is a
/// [`Protocol`](switchboard_core::ErrorKind::Protocol) error; an error
/// object sent with a 2xx status is that error.
pub fn forwarded_usage(body: &[u8]) -> Result<Usage, Error> {
    let answer: Answer = crate::parse_upstream(body, "chat completion")?;
    if let Some(err) = answer.error.as_ref().filter(|e| !e.is_null()) {
        return Err(error_from_value(err));
    }
    if answer.choices.is_empty() {
        return Err(Error::protocol("the chat completion has no choices"));
    }
    Ok(answer
        .usage
        .as_ref()
        .map(usage_from_wire)
        .unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_model_changes_and_the_rest_stays_byte_for_byte() {
        let body = Bytes::from_static(
            br#"{"model":"up/gpt-4o","messages":[{"role":"user","content":"Hi \u00e9 \"q\""}],"x_custom":{"a":[1,2.50,null]},"temperature":0.70}"#,
        );
        let out = retarget_request(&body, "gpt-4o").expect("object");
        assert_eq!(
            std::str::from_utf8(&out).expect("utf-8"),
            r#"{"model":"gpt-4o","messages":[{"role":"user","content":"Hi \u00e9 \"q\""}],"x_custom":{"a":[1,2.50,null]},"temperature":0.70}"#
        );
    }

    #[test]
    fn a_body_already_naming_the_model_is_not_copied() {
        let body = Bytes::from_static(b"{ \"model\" : \"gpt-4o\" , \"messages\": [] }");
        let out = retarget_request(&body, "gpt-4o").expect("object");
        assert_eq!(out, body);
        assert_eq!(out.as_ptr(), body.as_ptr(), "the same bytes, not a copy");
    }

    #[test]
    fn escaped_member_names_and_models_are_written_as_json() {
        let body = Bytes::from_static(br#"{"mo\u0064el":"a","k\"ey":1}"#);
        let out = retarget_request(&body, "b\"c").expect("object");
        let v: Value = serde_json::from_slice(&out).expect("JSON");
        assert_eq!(v["model"], "b\"c");
        assert_eq!(v["k\"ey"], 1);
    }

    #[test]
    fn a_body_that_is_not_an_object_is_refused() {
        for body in [&b"[1]"[..], b"\"x\"", b"{\"model\":", b""] {
            let err = retarget_request(&Bytes::copy_from_slice(body), "m").expect_err("refused");
            assert_eq!(err.kind(), &switchboard_core::ErrorKind::InvalidRequest);
        }
    }

    #[test]
    fn usage_is_read_and_bad_answers_are_refused() {
        let usage = forwarded_usage(
            br#"{"id":"x","choices":[{"index":0}],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7,"prompt_tokens_details":{"cached_tokens":1}},"extra":{"deep":[1]}}"#,
        )
        .expect("answer");
        assert_eq!(
            (usage.input_tokens, usage.output_tokens, usage.total_tokens),
            (3, 4, 7)
        );
        assert_eq!(usage.cached_input_tokens, 1);
        let none = forwarded_usage(br#"{"choices":[{}]}"#).expect("no usage");
        assert_eq!(none, Usage::default());
        for body in [&b"{\"choices\":[]}"[..], b"{}", b"not json", b"[]"] {
            let err = forwarded_usage(body).expect_err("refused");
            assert_eq!(
                err.kind(),
                &switchboard_core::ErrorKind::Protocol,
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        // An error object with a 2xx status is that error, as on the full path.
        let err = forwarded_usage(
            br#"{"error":{"message":"slow down","type":"invalid_request_error","code":null}}"#,
        )
        .expect_err("an error");
        assert_eq!(err.kind(), &switchboard_core::ErrorKind::InvalidRequest);
        assert!(err.to_string().contains("slow down"), "{err}");
    }
}
