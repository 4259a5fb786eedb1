//! `switchboard_protocol::anthropic::decode_chat_events` on any bytes: an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchboard_protocol::anthropic::decode_chat_events;

fuzz_target!(|data: &[u8]| {
    let _ = decode_chat_events(data);
});
