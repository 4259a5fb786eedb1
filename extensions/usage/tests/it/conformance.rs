//! The testkit's extension conformance check, on the defaults.

use serde_json::json;
use switchboard_ext_usage::UsageExtension;

#[test]
fn usage_conforms() {
    switchboard_testkit::assert_extension_conforms(UsageExtension::DESCRIPTOR, json!({}));
}
