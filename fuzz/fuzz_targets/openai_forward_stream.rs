//! The fast path's stream reader (`ForwardedChunks`) on any upstream bytes,
//! in two pieces split where the first byte says: never a panic; every
//! frame is an SSE `data:` event (or nothing: the usage chunk the gateway
//! asked for); after an error nothing follows; and when the client did not
//! ask for usage, no frame passed on has a top-level `usage`.
#![no_main]

use bytes::Bytes;
use futures::executor::block_on_stream;
use libfuzzer_sys::fuzz_target;
use switchboard::Error;
use switchboard_protocol::openai::ForwardedChunks;

fuzz_target!(|data: &[u8]| {
    let Some((&control, body)) = data.split_first() else {
        return;
    };
    let usage_asked = control & 1 == 1;
    let at = if body.is_empty() {
        0
    } else {
        (control >> 1) as usize % body.len()
    };
    let pieces = vec![
        Ok::<_, Error>(Bytes::copy_from_slice(&body[..at])),
        Ok(Bytes::copy_from_slice(&body[at..])),
    ];
    let mut failed = false;
    for frame in block_on_stream(ForwardedChunks::new(
        futures::stream::iter(pieces),
        usage_asked,
    )) {
        assert!(!failed, "nothing after an error");
        let Ok(frame) = frame else {
            failed = true;
            continue;
        };
        if frame.bytes.is_empty() {
            assert!(!usage_asked && frame.usage.is_some());
            continue;
        }
        let text = std::str::from_utf8(&frame.bytes).expect("UTF-8");
        // One event of `data:` lines (a chunk's JSON may span several).
        let lines: Vec<&str> = text
            .strip_suffix("\n\n")
            .expect("an SSE event")
            .split('\n')
            .map(|line| line.strip_prefix("data: ").expect("a data line"))
            .collect();
        let json = lines.join("\n");
        if json == "[DONE]" || usage_asked {
            continue;
        }
        let value: serde_json::Value = serde_json::from_str(&json).expect("a JSON chunk");
        assert!(value.get("usage").is_none(), "usage left in: {json}");
    }
});
