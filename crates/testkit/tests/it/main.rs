//! The extension conformance check passes a well-behaved extension and
//! reports each way a misbehaving one breaks the contract.

mod extension_conformance;
