#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

mod cases;
mod extension;
mod fixtures;
mod macros;
pub mod postgres;
pub mod redis;
mod runner;
mod store_suite;
mod target;
mod upstream;

pub use crate::cases::Case;
pub use crate::cases::assertions::check_error;
pub use crate::cases::settings::{
    CANCEL_LIMIT, IMAGE_URL, INSTANCE, SHORT_TIMEOUT, TEST_API_KEY, TINY_PNG_BASE64,
};
pub use crate::extension::{
    ExtensionCheck, ExtensionReport, FakeGateway, MemoryStore, assert_extension_conforms,
    check_extension, completion_record, test_extension_context,
};
pub use crate::fixtures::{
    EmbeddingsScenario, EndlessStream, ErrorCase, ExpectedToolCall, ModelsScenario, Recorded,
    Route, Scenario, WireFixtures, any_string, contains_value,
};
pub use crate::postgres::{test_postgres_url, try_test_postgres_url, unique_schema};
pub use crate::runner::{Outcome, Report, assert_case_list, run_case, run_conformance, run_test};
pub use crate::store_suite::{StoreLimits, assert_store_conforms, store_case_names};
pub use crate::target::{DebugFuture, Target};
pub use crate::upstream::{EndlessUpstream, refused_base_url};
