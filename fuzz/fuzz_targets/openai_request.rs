//! `switchboard_protocol::openai::parse_chat_request` on any bytes: an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchboard_protocol::openai::parse_chat_request;

fuzz_target!(|data: &[u8]| {
    let _ = parse_chat_request(data);
});
