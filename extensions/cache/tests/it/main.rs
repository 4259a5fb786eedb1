//! Tests of the `cache` extension: the testkit's conformance check, the
//! cache key, the memory backend's bounds, the hooks driven as the gateway
//! drives them, and a real gateway (server + mock provider) answering hits
//! in both API formats, complete and streamed.

mod aliases;
mod conformance;
mod hooks;
mod key;
mod memory;
mod redis;
mod server;
