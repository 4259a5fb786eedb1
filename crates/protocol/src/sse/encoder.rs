//! SSE framing, encoding side: events and comments → frames.

use bytes::{BufMut, Bytes, BytesMut};
use serde::Serialize;
use switchboard_core::Error;

/// The OpenAI end-of-stream frame, `data: [DONE]` and a blank line.
pub const DONE_FRAME: &[u8] = b"data: [DONE]\n\n";

/// [`DONE_FRAME`] as [`Bytes`].
pub fn done_frame() -> Bytes {
    Bytes::from_static(DONE_FRAME)
}

fn put_event_name(buf: &mut BytesMut, event: &str) {
    buf.put_slice(b"event: ");
    // A line break in the name would end the field early and let the rest be
    // read as other fields, so line breaks are dropped.
    for piece in event.split(['\r', '\n']) {
        buf.put_slice(piece.as_bytes());
    }
    buf.put_u8(b'\n');
}

fn put_data_lines(buf: &mut BytesMut, data: &str) {
    let bytes = data.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' | b'\r' => {
                buf.put_slice(b"data: ");
                buf.put_slice(&bytes[start..i]);
                buf.put_u8(b'\n');
                if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    buf.put_slice(b"data: ");
    buf.put_slice(&bytes[start..]);
    buf.put_u8(b'\n');
}

/// Frames `data` as one event with no name: `data: <data>\n\n`. Line breaks in
/// `data` become separate `data:` lines, which a decoder joins back with `\n`.
pub fn encode_data(data: &str) -> Bytes {
    let mut buf = BytesMut::with_capacity(data.len() + 8);
    put_data_lines(&mut buf, data);
    buf.put_u8(b'\n');
    buf.freeze()
}

/// Frames a named event (Anthropic style): `event: <name>\ndata: <data>\n\n`.
pub fn encode_event(event: &str, data: &str) -> Bytes {
    let mut buf = BytesMut::with_capacity(event.len() + data.len() + 16);
    put_event_name(&mut buf, event);
    put_data_lines(&mut buf, data);
    buf.put_u8(b'\n');
    buf.freeze()
}

/// Serializes `value` as compact JSON straight into one frame, with an
/// optional event name. Compact JSON never contains a raw line break, so the
/// frame always has exactly one `data:` line.
pub fn encode_json<T: Serialize + ?Sized>(event: Option<&str>, value: &T) -> Result<Bytes, Error> {
    let mut buf = BytesMut::with_capacity(256);
    encode_json_into(&mut buf, event, value)?;
    Ok(buf.freeze())
}

/// The room [`encode_json_into`] makes before writing a frame: a typical
/// chat chunk or Anthropic event is 150–400 bytes.
const FRAME_RESERVE: usize = 512;

/// Like [`encode_json`], appending to `buf` (to batch several frames in one write).
pub fn encode_json_into<T: Serialize + ?Sized>(
    buf: &mut BytesMut,
    event: Option<&str>,
    value: &T,
) -> Result<(), Error> {
    // serde_json writes a value in many small pieces: a buffer growing from
    // empty would reallocate at every doubling (8, 16, …, 512 bytes: about a
    // dozen times for one chat chunk; counted by the `allocs` bench). One
    // reservation up front is one allocation for a typical frame (none when
    // the buffer already has the room).
    buf.reserve(FRAME_RESERVE);
    if let Some(event) = event {
        put_event_name(buf, event);
    }
    buf.put_slice(b"data: ");
    serde_json::to_writer(buf.writer(), value).map_err(|e| {
        Error::protocol(format!("could not serialize an event: {e}")).with_source(e)
    })?;
    buf.put_slice(b"\n\n");
    Ok(())
}

/// A comment frame (`: <text>\n\n`), e.g. a keep-alive that clients ignore.
pub fn encode_comment(text: &str) -> Bytes {
    let mut buf = BytesMut::with_capacity(text.len() + 4);
    for line in text.split(['\r', '\n']) {
        buf.put_slice(b": ");
        buf.put_slice(line.as_bytes());
        buf.put_u8(b'\n');
    }
    buf.put_u8(b'\n');
    buf.freeze()
}
