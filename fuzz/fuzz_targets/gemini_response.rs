//! `switchboard_gemini::fuzzing::decode_response` on any bytes: an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = switchboard_gemini::fuzzing::decode_response(data);
});
