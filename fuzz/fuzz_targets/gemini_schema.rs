//! Gemini's JSON Schema sanitizer (`switchboard_gemini::sanitize_schema`) on
//! any JSON value.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(schema) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = switchboard_gemini::sanitize_schema(&schema);
    }
});
