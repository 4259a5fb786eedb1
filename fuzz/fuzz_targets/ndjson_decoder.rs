//! The NDJSON framing decoder: any bytes, in two pieces, then finished.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchboard_protocol::ndjson::NdjsonDecoder;

fuzz_target!(|data: &[u8]| {
    let Some((&split, body)) = data.split_first() else {
        return;
    };
    let at = if body.is_empty() {
        0
    } else {
        split as usize % body.len()
    };
    let mut dec = NdjsonDecoder::new().with_max_line_size(4096);
    if split & 1 == 1 {
        dec = dec.accept_unterminated_last_line();
    }
    for piece in [&body[..at], &body[at..]] {
        dec.push(piece);
        while let Ok(Some(line)) = dec.next_line() {
            assert!(line.len() <= 4096);
        }
    }
    for _line in dec.finish().flatten() {}
});
