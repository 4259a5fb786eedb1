//! The testkit's extension conformance check, on the defaults and with deny
//! patterns (so refusals mid-stream are exercised too).

use serde_json::json;
use switchboard_ext_guardrails::Guardrails;

#[test]
fn guardrails_conform() {
    switchboard_testkit::assert_extension_conforms(Guardrails::DESCRIPTOR, json!({}));
    switchboard_testkit::assert_extension_conforms(
        Guardrails::DESCRIPTOR,
        json!({"deny": ["forbidden"], "redact": {"card": "block"}}),
    );
}
