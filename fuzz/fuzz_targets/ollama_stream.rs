//! `switchboard_ollama::fuzzing::decode_stream` on any bytes: an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = switchboard_ollama::fuzzing::decode_stream(data);
});
