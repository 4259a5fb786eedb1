//! The testkit's extension conformance check, writing into a temp dir.

use serde_json::json;
use switchboard_ext_request_log::RequestLog;

#[test]
fn request_log_conforms() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("requests.jsonl");
    switchboard_testkit::assert_extension_conforms(
        RequestLog::DESCRIPTOR,
        json!({"path": path, "bodies": "full"}),
    );
}
