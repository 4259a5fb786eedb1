//! `switchboard_protocol::anthropic::parse_messages_request` on any bytes: an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchboard_protocol::anthropic::parse_messages_request;

fuzz_target!(|data: &[u8]| {
    let _ = parse_messages_request(data);
});
