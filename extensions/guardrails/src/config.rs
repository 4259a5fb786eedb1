//! `[extensions.guardrails]`: which detectors run and how, and the output
//! deny patterns.

use schemars::JsonSchema;
use serde::Deserialize;

/// What a detector does with what it finds in a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DetectorMode {
    /// Replace each match with a placeholder such as `[REDACTED_EMAIL]`.
    #[default]
    Redact,
    /// Refuse the whole request with a `content_filter` error naming the
    /// detector (never the match).
    Block,
    /// Do not look.
    Off,
}

/// A named custom pattern for input redaction.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomPattern {
    /// The detector's name: the placeholder is `[REDACTED_<NAME>]` (upper
    /// case, `-` and spaces as `_`), and a refusal names it.
    pub name: String,
    /// The regular expression (Rust `regex` syntax).
    pub regex: String,
    /// `redact` (default) or `block`.
    #[serde(default)]
    pub mode: DetectorMode,
}

/// Input redaction: one mode per built-in detector, plus custom patterns.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RedactConfig {
    /// E-mail addresses → `[REDACTED_EMAIL]`.
    pub email: DetectorMode,
    /// Phone numbers, international (`+44 20 7946 0958`) and common
    /// national formats (`(415) 555-2671`, `030 1234 5678`) → `[REDACTED_PHONE]`.
    pub phone: DetectorMode,
    /// Payment card numbers (13–19 digits, optional spaces or dashes,
    /// Luhn-checked) → `[REDACTED_CARD]`.
    pub card: DetectorMode,
    /// API-key-like strings (`sk-…`, `sk-ant-…`, `AKIA…`, `ghp_…`, `AIza…`,
    /// `xox?-…`) → `[REDACTED_API_KEY]`.
    pub api_key: DetectorMode,
    /// Extra named patterns, applied after the built-in detectors.
    pub patterns: Vec<CustomPattern>,
}

/// The configuration of the `guardrails` extension. Every key has a
/// default: `enabled = true` alone redacts with every built-in detector and
/// denies nothing.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct GuardrailsConfig {
    /// Input redaction of user, system, developer and tool message text.
    pub redact: RedactConfig,
    /// Output deny patterns (regular expressions): an answer matching any
    /// is refused with a `content_filter` error; streamed answers are
    /// checked across chunk boundaries.
    pub deny: Vec<String>,
    /// Whether `deny` patterns ignore case.
    pub deny_case_insensitive: bool,
    /// The longest text (in characters) a deny pattern can match: streamed
    /// text is held back this much so a match split over chunks is caught.
    pub max_match_chars: usize,
}

impl Default for GuardrailsConfig {
    fn default() -> Self {
        GuardrailsConfig {
            redact: RedactConfig::default(),
            deny: Vec::new(),
            deny_case_insensitive: false,
            max_match_chars: DEFAULT_MAX_MATCH_CHARS,
        }
    }
}

/// The default of [`GuardrailsConfig::max_match_chars`].
pub const DEFAULT_MAX_MATCH_CHARS: usize = 256;

/// The most `max_match_chars` may be (bounds the per-stream hold-back).
pub const MAX_MATCH_CHARS_LIMIT: usize = 64 * 1024;

/// The most patterns (`deny` and `redact.patterns` each) a config may have.
pub const MAX_PATTERNS: usize = 256;
