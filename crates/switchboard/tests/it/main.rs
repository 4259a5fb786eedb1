//! The integration tests of this crate, as one test binary (one link instead
//! of one per file).

mod catalog;
mod cli;
mod cli_config;
mod fault_matrix;
mod logging;
mod multi_node;
mod serve;
mod shared_state;
mod virtual_keys;
mod zero_config;
