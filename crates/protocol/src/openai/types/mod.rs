//! OpenAI Chat Completions, Models and Embeddings wire types.
//!
//! Strings are `Cow<'a, str>`: deserializing from a byte buffer borrows every
//! string that has no escapes, and converting a core value into a wire value
//! borrows from it instead of cloning. Use `'static` with owned strings when
//! neither applies.
//!
//! Numbers the core holds as `f32` (temperature, penalties, embedding
//! values) are `f32` here too. Serialize with `serde_json::to_vec` or
//! `to_writer`, which write an `f32` as its shortest decimal (`0.7`);
//! `serde_json::to_value` widens it to the exact `f64` (`0.699999988079071`).
//!
//! Requests, messages, content parts, tools and responses keep the fields
//! they do not know in a flattened `extra` map, so parsing and re-serializing
//! loses nothing. Stream chunks do not: they are the hot path, and a
//! [`ChatEvent`](switchboard_core::ChatEvent) has no place for unknown chunk
//! fields anyway; every chunk field seen in the wild that carries meaning is
//! named (including Groq's `x_groq` and the `obfuscation` padding).

mod chunk;
mod embeddings;
mod error;
mod models;
mod request;
mod response;

pub use chunk::*;
pub use embeddings::*;
pub use error::*;
pub use models::*;
pub use request::*;
pub use response::*;
