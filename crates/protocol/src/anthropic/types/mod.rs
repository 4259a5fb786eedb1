//! Anthropic Messages API wire types: requests, responses, stream events,
//! errors and the model list.
//!
//! Strings are `Cow<'a, str>`: deserializing from a byte buffer borrows every
//! string that has no escapes, and converting a core value into a wire value
//! borrows from it instead of cloning. Use `'static` with owned strings when
//! neither applies.
//!
//! Requests, messages, content blocks, tools and responses keep the fields
//! they do not know in a flattened `extra` map, and content blocks of types
//! this module does not name (`document`, `server_tool_use`,
//! `web_search_tool_result`, ...) are kept whole as [`ContentBlock::Other`],
//! so parsing and re-serializing loses nothing. Stream events and deltas of
//! unknown types parse as `Unknown` (the API's versioning policy says new
//! event types may appear and must be tolerated).

mod error;
mod models;
mod request;
mod response;
mod stream;

pub use error::*;
pub use models::*;
pub use request::*;
pub use response::*;
pub use stream::*;
