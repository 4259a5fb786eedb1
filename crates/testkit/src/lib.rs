#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

mod cases;
mod fixtures;
mod upstream;

use std::fmt;
use std::future::Future;
use std::io::Write as _;
use std::pin::Pin;

use serde_json::Value;
use switchboard_core::{Error, ProviderContext, ProviderDescriptor, ProviderInit};

pub use crate::cases::{
    CANCEL_LIMIT, Case, IMAGE_URL, INSTANCE, Outcome, SHORT_TIMEOUT, TEST_API_KEY, TINY_PNG_BASE64,
    check_error, run_case,
};
pub use crate::fixtures::{
    EmbeddingsScenario, EndlessStream, ErrorCase, ExpectedToolCall, ModelsScenario, Recorded,
    Route, Scenario, WireFixtures, any_string, contains_value,
};
pub use crate::upstream::{EndlessUpstream, refused_base_url};

/// The future [`Target::debug`] returns.
pub type DebugFuture = Pin<Box<dyn Future<Output = Result<String, Error>> + Send>>;

/// The provider under test: its descriptor (capabilities, constructor) and a
/// way to render its config and a built instance with `Debug`, for the
/// secret check.
#[derive(Clone, Copy)]
pub struct Target {
    /// The descriptor `#[provider]` generated.
    pub descriptor: &'static ProviderDescriptor,
    /// Deserializes a config, builds the provider for an instance name, and
    /// returns the `Debug` output of both.
    pub debug: fn(Value, &'static str) -> DebugFuture,
}

impl Target {
    /// The target for provider type `P`, described by `descriptor` (pass `P::DESCRIPTOR`).
    pub fn new<P>(descriptor: &'static ProviderDescriptor) -> Self
    where
        P: ProviderInit + fmt::Debug,
        P::Config: fmt::Debug,
    {
        Target {
            descriptor,
            debug: debug_render::<P>,
        }
    }
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Target")
            .field("provider", &self.descriptor.name)
            .finish_non_exhaustive()
    }
}

fn debug_render<P>(config: Value, instance: &'static str) -> DebugFuture
where
    P: ProviderInit + fmt::Debug,
    P::Config: fmt::Debug,
{
    Box::pin(async move {
        let config: P::Config = serde_json::from_value(config).map_err(|e| {
            Error::config(format!("the fixtures' config does not deserialize: {e}"))
        })?;
        let config_debug = format!("{config:?}");
        let provider = P::init(config, ProviderContext::standalone(instance)).await?;
        Ok(format!("{config_debug}\n{provider:?}"))
    })
}

/// The outcome of every case for one provider.
#[derive(Debug, Clone)]
pub struct Report {
    /// The provider's name.
    pub provider: &'static str,
    /// Each case and how it went, in [`Case::ALL`] order.
    pub results: Vec<(Case, Outcome)>,
}

impl Report {
    /// The cases that passed.
    pub fn passed(&self) -> Vec<Case> {
        self.filter(|o| matches!(o, Outcome::Passed))
    }

    /// The cases that were skipped.
    pub fn skipped(&self) -> Vec<Case> {
        self.filter(|o| matches!(o, Outcome::Skipped(_)))
    }

    /// The cases that failed.
    pub fn failed(&self) -> Vec<Case> {
        self.filter(|o| matches!(o, Outcome::Failed(_)))
    }

    /// Whether no case failed.
    pub fn is_success(&self) -> bool {
        self.failed().is_empty()
    }

    fn filter(&self, pred: impl Fn(&Outcome) -> bool) -> Vec<Case> {
        self.results
            .iter()
            .filter(|(_, o)| pred(o))
            .map(|(c, _)| *c)
            .collect()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (case, outcome) in &self.results {
            match outcome {
                Outcome::Passed => writeln!(f, "ok      {case}")?,
                Outcome::Skipped(why) => writeln!(f, "SKIPPED {case}: {why}")?,
                Outcome::Failed(why) => writeln!(f, "FAILED  {case}: {why}")?,
            }
        }
        write!(
            f,
            "conformance of `{}`: {} passed, {} failed, {} skipped",
            self.provider,
            self.passed().len(),
            self.failed().len(),
            self.skipped().len()
        )
    }
}

/// Runs every case, one after the other, and reports how each went.
pub async fn run_conformance<F: WireFixtures + ?Sized>(target: &Target, fixtures: &F) -> Report {
    let mut results = Vec::with_capacity(Case::ALL.len());
    for case in Case::ALL {
        results.push((*case, run_case(*case, target, fixtures).await));
    }
    Report {
        provider: target.descriptor.name,
        results,
    }
}

/// Runs the case named `name` on a fresh runtime: panics with the reason if
/// it fails, and prints a `SKIPPED` line (to the real stderr, past the test
/// harness's capture) if it does not apply. Called by [`conformance_tests!`].
pub fn run_test<F: WireFixtures + ?Sized>(name: &str, target: Target, fixtures: &F) {
    let Some(case) = Case::from_name(name) else {
        panic!("no conformance case is named `{name}`");
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("cannot start a tokio runtime: {e}"));
    match runtime.block_on(run_case(case, &target, fixtures)) {
        Outcome::Passed => {}
        Outcome::Skipped(why) => {
            let _ = writeln!(
                std::io::stderr().lock(),
                "conformance `{}`: SKIPPED {case}: {why}",
                target.descriptor.name
            );
        }
        Outcome::Failed(why) => panic!(
            "conformance `{}`: case `{case}` failed: {why}",
            target.descriptor.name
        ),
    }
}

/// Fails unless `names` is exactly the list of [`Case::ALL`] (the macro's
/// list and the kit's must not drift apart).
pub fn assert_case_list(names: &[&str]) {
    let all: Vec<&str> = Case::ALL.iter().map(|c| c.name()).collect();
    assert_eq!(
        names,
        all.as_slice(),
        "conformance_tests! and Case::ALL list different cases"
    );
}

/// Generates one `#[test]` per conformance case (named after the case) for a
/// provider type and a [`WireFixtures`] value:
///
/// ```ignore
/// // tests/conformance.rs
/// struct MyFixtures;
/// impl switchboard_testkit::WireFixtures for MyFixtures { /* ... */ }
/// switchboard_testkit::conformance_tests!(MyFixtures, my_crate::MyProvider);
/// ```
///
/// The provider type must implement `ProviderInit + Debug` (with a `Debug`
/// config) and have the `DESCRIPTOR` that `#[provider]` generates. The
/// fixtures expression is evaluated once per test. The provider crate needs
/// no async runtime of its own: each test runs on a fresh tokio runtime.
#[macro_export]
macro_rules! conformance_tests {
    ($fixtures:expr, $provider:ty $(,)?) => {
        $crate::__conformance_tests! {
            ($fixtures) ($provider)
            plain_chat usage_reported stream_text stream_usage tool_call tool_call_stream
            parallel_tool_calls parallel_tool_calls_stream image_input image_url_input
            json_schema error_401_auth error_403_permission error_404_not_found
            error_400_invalid_request error_400_context_length error_429_rate_limited
            error_500 error_502 error_503 error_529 timeout stream_timeout cancellation
            stream_truncated connection_refused secret_hygiene embeddings models
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_tests {
    (($fixtures:expr) ($provider:ty) $($case:ident)*) => {
        $(
            #[test]
            fn $case() {
                $crate::run_test(
                    ::core::stringify!($case),
                    $crate::Target::new::<$provider>(<$provider>::DESCRIPTOR),
                    &$fixtures,
                );
            }
        )*

        #[test]
        fn conformance_case_list_is_complete() {
            $crate::assert_case_list(&[$(::core::stringify!($case)),*]);
        }
    };
}
