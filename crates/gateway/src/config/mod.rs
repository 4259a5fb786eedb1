//! Configuration: the file's [types], loading it in layers ([`ConfigLoader`]),
//! the whole-config JSON Schema ([`config_schema`]), and the two value
//! helpers the runtime applies to instance configs: [`redact`] (credentials
//! out, for status views) and [`merge_patch`] (runtime updates).
//!
//! Layers, lowest first:
//!
//! 1. defaults (the types' `Default`s);
//! 2. the main file, `.toml`, `.yaml` or `.yml`;
//! 3. its profile file `<stem>.<profile>.<ext>` next to it (profile from
//!    [`ConfigLoader::profile`] or `SWITCHBOARD_PROFILE`; a requested profile
//!    whose file is missing is an error);
//! 4. `SWITCHBOARD_*` environment variables, `__` separating nested keys:
//!    `SWITCHBOARD_PROVIDERS__OPENAI__API_KEY`, `SWITCHBOARD_ROUTER__MAX_ATTEMPTS=3`.
//!    Only variables whose first segment is a section (`server`, `router`,
//!    `health`, `providers`, `models`, `extensions`, `state`) are keys, so `SWITCHBOARD_PROFILE`,
//!    `SWITCHBOARD_CONFIG` and `SWITCHBOARD_LOG` are not; segments are
//!    lowercased;
//! 5. runtime updates, applied in memory by the registry.
//!
//! String values of the files may use `${VAR}` and `${VAR:-default}` (the
//! default also replaces an empty value); `$${` is a literal `${`. A string
//! that came from a variable is read as the number or boolean its key needs
//! (`max_attempts = "${N:-3}"`). Variables come from the environment, then
//! from a `.env` file next to the main file, then from one in the current
//! directory; `.env` files never change the process environment.
//!
//! `[extensions.<name>]` tables hold the gateway's `enabled` (default
//! `false`) and `order` (default 0; ties by name), and the extension's own
//! keys, checked by its config type (an unknown name lists the linked
//! extensions and the feature that adds it). `[models.<alias>] extensions`
//! and a client key's `extensions` narrow which enabled extensions apply.
//! `[state] path` is the store's SQLite file (default `switchboard.db` next
//! to the config file, in memory without one; `":memory:"` allowed), opened
//! only when an extension is enabled.
//!
//! Zero-config start: with [`ConfigLoader::env_providers`] or
//! `[server] env_providers = true`, every provider whose conventional key
//! variable is set (`OPENAI_API_KEY`, `ANTHROPIC_API_KEY`, ...; the table is
//! [`env_providers::ENV_PROVIDERS`]) gets an instance, unless the file
//! already has one of that name.
//!
//! `[providers.<instance>]` tables are checked by the provider's own config
//! type (`kind`, defaulting to the instance name, picks the provider), and
//! `[models.<alias>]` targets must name configured instances. Loading
//! reports every problem at once, each with the file or variable that
//! supplied the bad value, its key path, what was found and what was
//! expected, and a "did you mean" where a name is close.

mod diagnostics;
mod env;
pub mod env_providers;
mod issue;
mod json_schema;
mod key_path;
mod limits;
mod loader;
mod merge_patch;
mod redact;
mod subst;
pub mod types;
mod validate;

pub use issue::{ConfigError, ConfigIssue};
pub use json_schema::config_schema;
pub use limits::MAX_DURATION;
pub(crate) use limits::{check_config, check_instance as check_instance_durations};
pub use loader::{ConfigLoader, LoadedConfig};
pub use merge_patch::merge_patch;
pub(crate) use redact::{is_headers_key, looks_like_credential, schema_is_secret};
pub use redact::{redact, redact_text, secret_values};
pub use types::ProviderFeature;
