//! Integration tests of the usage extension: cost on the providers'
//! documented usage blocks, the hooks driven as the gateway drives them
//! (with an in-memory store), and the `get` method's visibility rules.

mod conformance;
mod fixtures;
mod hooks;
mod memory_store;
mod methods;
