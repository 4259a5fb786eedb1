//! The AWS event-stream framing (`application/vnd.amazon.eventstream`) as a
//! protocol-crate [`Framing`]: bytes in, [`Message`]s out.
//!
//! Each frame is a 12-byte prelude (total length, headers length, CRC32),
//! headers, the payload and a CRC32 of the whole; `aws-smithy-eventstream`'s
//! [`read_message_from`] checks both CRCs and decodes the headers. This file
//! only cuts the byte stream at frame boundaries and bounds the buffer.
//! Source: <https://docs.aws.amazon.com/AmazonS3/latest/API/RESTSelectObjectAppendix.html>
//! (the same encoding) and the aws-smithy-eventstream crate.

use aws_smithy_eventstream::frame::read_message_from;
use aws_smithy_types::event_stream::Message;
use bytes::{Buf, BytesMut};
use switchboard_core::Error;
use switchboard_protocol::framing::Framing;

/// The largest frame accepted: 16 MiB, the event-stream format's own limit
/// on a message (larger lengths are an error, not a reason to buffer).
pub const MAX_FRAME: usize = 16 * 1024 * 1024;

/// The smallest frame: a prelude and a message CRC, no headers, no payload.
const MIN_FRAME: usize = 16;

/// Cuts a byte stream into event-stream [`Message`]s.
#[derive(Debug, Default)]
pub struct EventStreamFraming {
    buf: BytesMut,
    ended: bool,
    failed: bool,
}

impl Framing for EventStreamFraming {
    type Frame = Message;

    fn push(&mut self, bytes: &[u8]) {
        if !self.ended && !self.failed {
            self.buf.extend_from_slice(bytes);
        }
    }

    fn next_frame(&mut self) -> Result<Option<Message>, Error> {
        if self.failed {
            return Ok(None);
        }
        let result = self.take_frame();
        if result.is_err() {
            self.close();
        }
        result
    }

    fn end_input(&mut self) {
        self.ended = true;
    }

    fn close(&mut self) {
        self.failed = true;
        self.buf = BytesMut::new();
    }
}

impl EventStreamFraming {
    fn take_frame(&mut self) -> Result<Option<Message>, Error> {
        if self.buf.len() < 4 {
            return self.incomplete();
        }
        let total = usize::try_from((&self.buf[..4]).get_u32()).unwrap_or(usize::MAX);
        if !(MIN_FRAME..=MAX_FRAME).contains(&total) {
            return Err(Error::protocol(format!(
                "an event-stream frame announced {total} bytes (allowed: {MIN_FRAME} to {MAX_FRAME})"
            )));
        }
        if self.buf.len() < total {
            return self.incomplete();
        }
        let frame = self.buf.split_to(total).freeze();
        read_message_from(frame)
            .map(Some)
            .map_err(|e| Error::protocol(format!("an invalid event-stream frame: {e}")))
    }

    fn incomplete(&self) -> Result<Option<Message>, Error> {
        if self.ended && !self.buf.is_empty() {
            return Err(Error::protocol(format!(
                "the event stream ended in the middle of a frame ({} bytes left over)",
                self.buf.len()
            )));
        }
        Ok(None)
    }
}

/// A header's value as text, when the message has it and it is a string.
pub fn header<'m>(message: &'m Message, name: &str) -> Option<&'m str> {
    message
        .headers()
        .iter()
        .find(|h| h.name().as_str() == name)
        .and_then(|h| h.value().as_string().ok())
        .map(|s| s.as_str())
}
