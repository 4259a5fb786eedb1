//! Capturing request and answer bodies along one request: hashed or kept
//! (bounded), in the request's scratch map.

use std::io::Write;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use switchboard_core::{ChatRequest, ChatResponse};

use crate::config::BodiesMode;

/// What `request-log` keeps in a request's scratch map.
#[derive(Debug)]
pub(crate) struct Capture {
    /// Whether this request is logged at all.
    pub(crate) sampled: bool,
    request: Option<Body>,
    response: Option<Body>,
}

/// One body, as the mode keeps it.
#[derive(Debug)]
enum Body {
    Hash(Sha256),
    Full(BoundedText),
}

/// At most `cap` bytes of text, counting what did not fit.
#[derive(Debug)]
struct BoundedText {
    buf: Vec<u8>,
    cap: usize,
    total: u64,
}

impl Write for BoundedText {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let room = self.cap.saturating_sub(self.buf.len());
        self.buf.extend_from_slice(&data[..data.len().min(room)]);
        self.total = self.total.saturating_add(data.len() as u64);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl BoundedText {
    fn new(cap: usize) -> Self {
        BoundedText {
            buf: Vec::new(),
            cap,
            total: 0,
        }
    }

    /// The text kept (cut at a character boundary), with a marker when cut.
    fn finish(&self) -> String {
        let valid = match std::str::from_utf8(&self.buf) {
            Ok(s) => s,
            Err(e) => std::str::from_utf8(&self.buf[..e.valid_up_to()]).unwrap_or_default(),
        };
        let mut text = valid.to_owned();
        if self.total > valid.len() as u64 {
            text.push_str(&format!("…[truncated: {} bytes in all]", self.total));
        }
        text
    }
}

impl Body {
    fn new(mode: BodiesMode, cap: usize) -> Option<Body> {
        match mode {
            BodiesMode::Drop => None,
            BodiesMode::Hash => Some(Body::Hash(Sha256::new())),
            BodiesMode::Full => Some(Body::Full(BoundedText::new(cap))),
        }
    }

    fn push_str(&mut self, text: &str) {
        match self {
            Body::Hash(h) => h.update(text.as_bytes()),
            Body::Full(b) => {
                let _ = b.write(text.as_bytes());
            }
        }
    }

    fn value(&self) -> Value {
        match self {
            Body::Hash(h) => Value::String(hex(&h.clone().finalize())),
            Body::Full(b) => Value::String(b.finish()),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

impl Capture {
    /// A request that is not logged.
    pub(crate) fn skipped() -> Self {
        Capture {
            sampled: false,
            request: None,
            response: None,
        }
    }

    /// A logged request, its body captured as `mode` says: `hash` hashes
    /// the whole request's JSON, `full` keeps its messages' JSON.
    pub(crate) fn sampled(mode: BodiesMode, cap: usize, request: &ChatRequest) -> Self {
        let body = Body::new(mode, cap).map(|mut body| {
            // Serializing plain data into memory cannot fail; a failure
            // would only leave the body short.
            let _ = match &mut body {
                Body::Hash(h) => serde_json::to_writer(HashWriter(h), request),
                Body::Full(b) => serde_json::to_writer(b, &request.messages),
            };
            body
        });
        Capture {
            sampled: true,
            request: body,
            response: Body::new(mode, cap),
        }
    }

    /// Records a complete answer's text.
    pub(crate) fn set_response(&mut self, response: &ChatResponse) {
        if let Some(body) = &mut self.response {
            body.push_str(&response.text());
        }
    }

    /// Adds streamed answer text.
    pub(crate) fn push_response_text(&mut self, text: &str) {
        if let Some(body) = &mut self.response {
            body.push_str(text);
        }
    }

    /// Whether bodies are captured (mode is not `drop`).
    pub(crate) fn wants_bodies(&self) -> bool {
        self.response.is_some()
    }

    /// Adds the body fields to a log line.
    pub(crate) fn add_fields(&self, line: &mut Map<String, Value>) {
        let (req_key, resp_key) = match &self.response {
            Some(Body::Hash(_)) => ("request_sha256", "response_sha256"),
            Some(Body::Full(_)) => ("request_body", "response_body"),
            None => return,
        };
        if let Some(body) = &self.request {
            line.insert(req_key.into(), body.value());
        }
        if let Some(body) = &self.response {
            line.insert(resp_key.into(), body.value());
        }
    }
}

/// Feeds serialized JSON into a hasher.
struct HashWriter<'a>(&'a mut Sha256);

impl Write for HashWriter<'_> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0.update(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_text_cuts_at_a_char_boundary_with_a_marker() {
        let mut b = BoundedText::new(4);
        let _ = b.write("aéé".as_bytes());
        assert_eq!(b.finish(), "aé…[truncated: 5 bytes in all]");
        let mut b = BoundedText::new(8);
        let _ = b.write(b"short");
        assert_eq!(b.finish(), "short");
    }

    #[test]
    fn hex_is_lowercase() {
        assert_eq!(hex(&[0x00, 0xab, 0x7f]), "00ab7f");
    }
}
