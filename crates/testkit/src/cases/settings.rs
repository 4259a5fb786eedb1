//! The fixed values every case uses: the key and instance name it
//! configures, its time limits, and its test images.

use std::time::Duration;

/// The API key every case configures. Distinctive, so that a leak into an
/// error message or a `Debug` rendering is found by a plain substring search.
pub const TEST_API_KEY: &str = "sk-test-SECRET-1234";

/// The instance name every case builds the provider as; errors and answers
/// must name it.
pub const INSTANCE: &str = "conformance";

/// The request timeout of the timeout cases.
pub const SHORT_TIMEOUT: Duration = Duration::from_millis(400);

/// How long the upstream of the timeout cases waits before answering.
pub(crate) const UPSTREAM_DELAY: Duration = Duration::from_secs(6);

/// The request timeout of every other case (hangs fail instead of blocking).
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);

/// The most any single provider call may take before the case fails.
pub(crate) const CALL_LIMIT: Duration = Duration::from_secs(20);

/// How soon after the stream is dropped the upstream connection must close.
pub const CANCEL_LIMIT: Duration = Duration::from_secs(2);

/// A 1×1 transparent PNG, base64.
pub const TINY_PNG_BASE64: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

/// An image URL for the URL image case.
pub const IMAGE_URL: &str = "https://upload.wikimedia.org/wikipedia/commons/thumb/d/dd/Gfp-wisconsin-madison-the-nature-boardwalk.jpg/2560px-Gfp-wisconsin-madison-the-nature-boardwalk.jpg";
