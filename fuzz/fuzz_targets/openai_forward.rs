//! The same-format fast path's request rewrites and answer read on any
//! bytes: `retarget_request`, `stream_request` and `forwarded_usage` never
//! panic, and a rewritten body is a JSON object with the same members in
//! the same order, every `model` member the target's, and (streamed)
//! `stream_options.include_usage` set.
#![no_main]

use std::fmt;

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use switchboard_protocol::openai::{forwarded_usage, retarget_request, stream_request};

/// A JSON object's members in order, duplicates kept.
struct Members(Vec<(String, Box<RawValue>)>);

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Members;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Box<RawValue>>()? {
                    out.push((k, v));
                }
                Ok(Members(out))
            }
        }
        d.deserialize_map(V)
    }
}

fn members(json: &[u8]) -> Vec<(String, Box<RawValue>)> {
    serde_json::from_slice::<Members>(json)
        .expect("a rewritten body is a JSON object")
        .0
}

const TARGET: &str = "target-model";
/// `TARGET` as JSON.
const TARGET_JSON: &str = "\"target-model\"";

fuzz_target!(|data: &[u8]| {
    let _ = forwarded_usage(data);
    let body = Bytes::copy_from_slice(data);
    if let Ok(out) = retarget_request(&body, TARGET) {
        let (before, after) = (members(data), members(&out));
        assert_eq!(before.len(), after.len());
        for ((k0, v0), (k1, v1)) in before.iter().zip(&after) {
            assert_eq!(k0, k1);
            if k1 == "model" {
                assert_eq!(v1.get(), TARGET_JSON);
            } else {
                assert_eq!(v0.get(), v1.get(), "byte for byte");
            }
        }
    }
    for model in [Some(TARGET), None] {
        if let Ok((out, _)) = stream_request(&body, model) {
            let after = members(&out);
            let options = after
                .iter()
                .filter(|(k, _)| k == "stream_options")
                .map(|(_, v)| v)
                .last()
                .expect("stream_options is set");
            let include_usage = members(options.get().as_bytes())
                .into_iter()
                .filter(|(k, _)| k == "include_usage")
                .map(|(_, v)| v.get() == "true")
                .last();
            assert_eq!(include_usage, Some(true));
            if model.is_some() {
                assert!(
                    after
                        .iter()
                        .filter(|(k, _)| k == "model")
                        .all(|(_, v)| v.get() == TARGET_JSON)
                );
            }
        }
    }
});
