//! Integration tests of the `functions` extension, with a fake gateway and
//! an in-memory store.

mod call;
mod conformance;
mod define;
mod fakes;
mod persistence;
mod registration;
