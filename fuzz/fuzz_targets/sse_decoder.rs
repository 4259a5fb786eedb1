//! The SSE framing decoder: any bytes, fed in two pieces at a split point
//! taken from the first byte, then finished. Must never panic; every event
//! is within the size limit (the limit counts the bytes read; invalid UTF-8
//! becomes U+FFFD, three bytes for one, so an event's text is at most three
//! times the limit).
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchboard_protocol::sse::SseDecoder;

fuzz_target!(|data: &[u8]| {
    let Some((&split, body)) = data.split_first() else {
        return;
    };
    let at = if body.is_empty() {
        0
    } else {
        split as usize % body.len()
    };
    let mut dec = SseDecoder::new().with_max_event_size(4096);
    for piece in [&body[..at], &body[at..]] {
        dec.push(piece);
        while let Ok(Some(event)) = dec.next_event() {
            assert!(event.data.len() <= 3 * 4096);
            let _ = event.event_type();
        }
    }
    for event in dec.finish().flatten() {
        let _ = event.is_done();
    }
});
