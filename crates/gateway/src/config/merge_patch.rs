//! JSON merge patch (RFC 7386), for runtime config updates.

use serde_json::{Map, Value};

/// JSON merge patch (RFC 7386): objects merge recursively, `null` deletes,
/// anything else replaces. Small enough not to warrant a dependency.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(target) = target {
        for (k, v) in patch {
            if v.is_null() {
                target.remove(k);
            } else {
                merge_patch(target.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let mut v = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge_patch(&mut v, &json!({"a": "z", "c": {"f": null}}));
        assert_eq!(v, json!({"a": "z", "c": {"d": "e"}}));
        merge_patch(&mut v, &json!({"c": [1]}));
        assert_eq!(v, json!({"a": "z", "c": [1]}));
    }
}
