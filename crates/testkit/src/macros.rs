//! The macro that turns the suite into one `#[test]` per case in a provider
//! crate.

/// Generates one `#[test]` per conformance case (named after the case) for a
/// provider type and a [`WireFixtures`](crate::WireFixtures) value:
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
