//! Routing keys that need more than their type: an alias's `fallback_on`,
//! and the `[router]` durations that must make sense together.

use serde_json::{Map, Value as Json};

use super::Validator;
use crate::config::key_path::KeyPath;
use crate::config::types::{FallbackOn, RouterConfig};

impl Validator<'_> {
    /// An alias's `fallback_on` (removed from `map`), or the default.
    pub(super) fn fallback_on(
        &mut self,
        base: &KeyPath,
        map: &mut Map<String, Json>,
    ) -> FallbackOn {
        match map.remove("fallback_on") {
            None => FallbackOn::default(),
            Some(v) => self
                .typed::<FallbackOn>(&base.key("fallback_on"), v)
                .unwrap_or_default(),
        }
    }

    /// Checks `[router]` values that are valid alone but not together.
    pub(super) fn router_limits(&mut self, router: &RouterConfig) {
        if router.stream_timeout_ms == Some(0) {
            self.issue(
                &KeyPath::root().key("router").key("stream_timeout_ms"),
                "a stream deadline of 0 ms ends every stream at once; remove the key to turn it off"
                    .to_owned(),
            );
        }
    }
}
