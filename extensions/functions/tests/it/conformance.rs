//! The testkit's extension conformance check, on the defaults.

use serde_json::json;
use switchboard_ext_functions::Functions;

#[test]
fn functions_conform() {
    switchboard_testkit::assert_extension_conforms(Functions::DESCRIPTOR, json!({}));
}
