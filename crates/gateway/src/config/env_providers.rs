//! Zero-config start: provider instances made from the conventional
//! environment variables of each service (`OPENAI_API_KEY`,
//! `ANTHROPIC_API_KEY`, ...).
//!
//! The detection is data: [`ENV_PROVIDERS`] has one row per instance it can
//! create, naming the provider kind, fixed settings (an `openai-compatible`
//! preset), the variables that switch the row on, and which variable fills
//! which setting. Adding a preset adds a row. Rows whose provider is not
//! linked into the binary are skipped.
//!
//! Values are read through a lookup function, so callers choose the source
//! (the process environment, a loader's variables, a test's map). Values are
//! never logged: [`EnvProviderFound`] names the variables only.

use serde_json::{Map, Value};

use super::types::{Config, InstanceConfig};

/// How a variable's value becomes a setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueShape {
    /// The value as it is.
    Verbatim,
    /// A `host[:port]` or URL (`OLLAMA_HOST`): without a scheme, `http://`
    /// is added, and `default_port` when there is no port (a URL with a
    /// scheme keeps that scheme's port); the all-interfaces address
    /// `0.0.0.0` becomes `127.0.0.1`.
    HostPort {
        /// The port added when the value names none.
        default_port: u16,
    },
}

/// One setting filled from the first of `vars` that is set (and not empty).
#[derive(Debug, Clone, Copy)]
pub struct EnvSetting {
    /// The instance's config key (`api_key`, `base_url`, ...).
    pub key: &'static str,
    /// The variables to read, in order of preference.
    pub vars: &'static [&'static str],
    /// How the value is turned into the setting.
    pub shape: ValueShape,
}

/// One row of the detection table: an instance created when its variables are set.
#[derive(Debug, Clone, Copy)]
pub struct EnvProvider {
    /// The instance name (`openai`, `xai`, ...).
    pub instance: &'static str,
    /// The provider kind (`#[provider(name)]`).
    pub kind: &'static str,
    /// Settings that do not come from the environment (`preset = "xai"`).
    pub fixed: &'static [(&'static str, &'static str)],
    /// The row applies when every variable of any one group is set.
    pub triggers: &'static [&'static [&'static str]],
    /// Settings read from the environment.
    pub settings: &'static [EnvSetting],
}

const fn key(key: &'static str, vars: &'static [&'static str]) -> EnvSetting {
    EnvSetting {
        key,
        vars,
        shape: ValueShape::Verbatim,
    }
}

/// A hosted `openai-compatible` preset keyed by one variable, with an
/// optional base-URL override variable (the full API root).
const fn preset(
    instance: &'static str,
    fixed: &'static [(&'static str, &'static str)],
    triggers: &'static [&'static [&'static str]],
    settings: &'static [EnvSetting],
) -> EnvProvider {
    EnvProvider {
        instance,
        kind: "openai-compatible",
        fixed,
        triggers,
        settings,
    }
}

/// Every instance the environment can create, in creation order.
pub const ENV_PROVIDERS: &[EnvProvider] = &[
    EnvProvider {
        instance: "openai",
        kind: "openai",
        fixed: &[],
        triggers: &[&["OPENAI_API_KEY"]],
        settings: &[
            key("api_key", &["OPENAI_API_KEY"]),
            key("base_url", &["OPENAI_BASE_URL"]),
            key("organization", &["OPENAI_ORG_ID"]),
            key("project", &["OPENAI_PROJECT_ID"]),
        ],
    },
    EnvProvider {
        instance: "anthropic",
        kind: "anthropic",
        fixed: &[],
        triggers: &[&["ANTHROPIC_API_KEY"]],
        settings: &[
            key("api_key", &["ANTHROPIC_API_KEY"]),
            key("base_url", &["ANTHROPIC_BASE_URL"]),
        ],
    },
    EnvProvider {
        instance: "gemini",
        kind: "gemini",
        fixed: &[],
        triggers: &[&["GEMINI_API_KEY"], &["GOOGLE_API_KEY"]],
        settings: &[
            key("api_key", &["GEMINI_API_KEY", "GOOGLE_API_KEY"]),
            key("base_url", &["GEMINI_BASE_URL", "GOOGLE_GEMINI_BASE_URL"]),
        ],
    },
    EnvProvider {
        instance: "ollama",
        kind: "ollama",
        fixed: &[],
        triggers: &[&["OLLAMA_HOST"]],
        settings: &[
            EnvSetting {
                key: "base_url",
                vars: &["OLLAMA_HOST"],
                shape: ValueShape::HostPort {
                    default_port: 11434,
                },
            },
            key("api_key", &["OLLAMA_API_KEY"]),
        ],
    },
    EnvProvider {
        instance: "bedrock",
        kind: "bedrock",
        fixed: &[],
        triggers: &[
            &["AWS_BEARER_TOKEN_BEDROCK"],
            &["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"],
        ],
        // The provider reads the credentials from the same variables itself
        // (a bearer token first, then the access key pair and session token),
        // so only the region is copied here.
        settings: &[key("region", &["AWS_REGION", "AWS_DEFAULT_REGION"])],
    },
    EnvProvider {
        instance: "azure-openai",
        kind: "azure-openai",
        fixed: &[],
        triggers: &[&["AZURE_OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT"]],
        settings: &[
            key("api_key", &["AZURE_OPENAI_API_KEY"]),
            key("endpoint", &["AZURE_OPENAI_ENDPOINT"]),
        ],
    },
    EnvProvider {
        instance: "cohere",
        kind: "cohere",
        fixed: &[],
        triggers: &[&["CO_API_KEY"], &["COHERE_API_KEY"]],
        settings: &[
            key("api_key", &["CO_API_KEY", "COHERE_API_KEY"]),
            key("base_url", &["CO_API_URL"]),
        ],
    },
    preset(
        "groq",
        &[("preset", "groq")],
        &[&["GROQ_API_KEY"]],
        // GROQ_BASE_URL (groq-python) is the host without `/openai/v1`, so
        // it is not read.
        &[key("api_key", &["GROQ_API_KEY"])],
    ),
    preset(
        "mistral",
        &[("preset", "mistral")],
        &[&["MISTRAL_API_KEY"]],
        &[key("api_key", &["MISTRAL_API_KEY"])],
    ),
    preset(
        "openrouter",
        &[("preset", "openrouter")],
        &[&["OPENROUTER_API_KEY"]],
        &[
            key("api_key", &["OPENROUTER_API_KEY"]),
            key("base_url", &["OPENROUTER_BASE_URL"]),
        ],
    ),
    preset(
        "deepseek",
        &[("preset", "deepseek")],
        &[&["DEEPSEEK_API_KEY"]],
        &[
            key("api_key", &["DEEPSEEK_API_KEY"]),
            key("base_url", &["DEEPSEEK_BASE_URL"]),
        ],
    ),
    preset(
        "together",
        &[("preset", "together")],
        &[&["TOGETHER_API_KEY"]],
        &[
            key("api_key", &["TOGETHER_API_KEY"]),
            key("base_url", &["TOGETHER_BASE_URL"]),
        ],
    ),
    preset(
        "deepinfra",
        &[("preset", "deepinfra")],
        &[&["DEEPINFRA_API_KEY"]],
        &[key("api_key", &["DEEPINFRA_API_KEY"])],
    ),
    preset(
        "xai",
        &[("preset", "xai")],
        &[&["XAI_API_KEY"]],
        &[
            key("api_key", &["XAI_API_KEY"]),
            key("base_url", &["XAI_BASE_URL"]),
        ],
    ),
    preset(
        "fireworks",
        &[("preset", "fireworks")],
        &[&["FIREWORKS_API_KEY"]],
        &[key("api_key", &["FIREWORKS_API_KEY"])],
    ),
    preset(
        "cerebras",
        &[("preset", "cerebras")],
        &[&["CEREBRAS_API_KEY"]],
        &[
            key("api_key", &["CEREBRAS_API_KEY"]),
            key("base_url", &["CEREBRAS_BASE_URL"]),
        ],
    ),
    preset(
        "perplexity",
        &[("preset", "perplexity")],
        &[&["PERPLEXITY_API_KEY"]],
        &[key("api_key", &["PERPLEXITY_API_KEY"])],
    ),
    preset(
        "nebius",
        &[("preset", "nebius")],
        &[&["NEBIUS_API_KEY"]],
        &[key("api_key", &["NEBIUS_API_KEY"])],
    ),
    preset(
        "sambanova",
        &[("preset", "sambanova")],
        &[&["SAMBANOVA_API_KEY"]],
        &[key("api_key", &["SAMBANOVA_API_KEY"])],
    ),
    preset(
        "huggingface",
        &[("preset", "huggingface")],
        &[&["HF_TOKEN"], &["HUGGING_FACE_HUB_TOKEN"]],
        &[key("api_key", &["HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"])],
    ),
];

/// An instance the environment created, and the variables it came from
/// (names only, never values).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EnvProviderFound {
    /// The instance name.
    pub instance: String,
    /// The provider kind.
    pub kind: String,
    /// The variables read, in the row's order.
    pub vars: Vec<&'static str>,
    /// The instance's settings. Not serialized: it holds the key.
    #[serde(skip)]
    pub config: InstanceConfig,
}

fn lookup_nonempty(env: &dyn Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    env(name).filter(|v| !v.trim().is_empty())
}

fn shape_value(value: &str, shape: ValueShape) -> String {
    match shape {
        ValueShape::Verbatim => value.to_owned(),
        ValueShape::HostPort { default_port } => {
            let value = value.trim().trim_end_matches('/');
            let (scheme, rest, explicit) = match value.split_once("://") {
                Some((scheme, rest)) => (scheme, rest, true),
                None => ("http", value, false),
            };
            let (host, path) = match rest.find('/') {
                Some(i) => rest.split_at(i),
                None => (rest, ""),
            };
            let host = match host.strip_prefix("0.0.0.0") {
                Some(port) => format!("127.0.0.1{port}"),
                None => host.to_owned(),
            };
            let has_port = match host.rfind(':') {
                Some(i) => {
                    !host.ends_with(']') && host[i + 1..].bytes().all(|b| b.is_ascii_digit())
                }
                None => false,
            };
            let host = if has_port || explicit || host.is_empty() {
                host
            } else {
                format!("{host}:{default_port}")
            };
            format!("{scheme}://{host}{path}")
        }
    }
}

/// The instances the environment gives, for the rows whose provider kind
/// `linked` accepts. `env` returns a variable's value; empty values count
/// as unset.
pub fn detect_env_providers(
    env: &dyn Fn(&str) -> Option<String>,
    linked: &dyn Fn(&str) -> bool,
) -> Vec<EnvProviderFound> {
    let mut found = Vec::new();
    for row in ENV_PROVIDERS {
        if !linked(row.kind) {
            continue;
        }
        let Some(trigger) = row
            .triggers
            .iter()
            .find(|group| group.iter().all(|v| lookup_nonempty(env, v).is_some()))
        else {
            continue;
        };
        let mut vars: Vec<&'static str> = trigger.to_vec();
        let mut settings = Map::new();
        for (k, v) in row.fixed {
            settings.insert((*k).to_owned(), Value::String((*v).to_owned()));
        }
        for setting in row.settings {
            let hit = setting
                .vars
                .iter()
                .find_map(|v| lookup_nonempty(env, v).map(|value| (*v, value)));
            if let Some((var, value)) = hit {
                settings.insert(
                    setting.key.to_owned(),
                    Value::String(shape_value(&value, setting.shape)),
                );
                if !vars.contains(&var) {
                    vars.push(var);
                }
            }
        }
        found.push(EnvProviderFound {
            instance: row.instance.to_owned(),
            kind: row.kind.to_owned(),
            vars,
            config: InstanceConfig {
                kind: Some(row.kind.to_owned()),
                enabled: true,
                settings,
            },
        });
    }
    found
}

/// Adds each found instance whose name `config` does not already use (the
/// file's own instances win), and returns the ones added.
pub fn add_env_providers(
    config: &mut Config,
    found: Vec<EnvProviderFound>,
) -> Vec<EnvProviderFound> {
    let mut added = Vec::new();
    for f in found {
        if config.providers.contains_key(&f.instance) {
            continue;
        }
        config
            .providers
            .insert(f.instance.clone(), f.config.clone());
        added.push(f);
    }
    added
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn rows_are_unique_and_well_formed() {
        for (i, row) in ENV_PROVIDERS.iter().enumerate() {
            assert!(
                ENV_PROVIDERS[i + 1..]
                    .iter()
                    .all(|r| r.instance != row.instance),
                "{} twice",
                row.instance
            );
            assert!(!row.triggers.is_empty(), "{}", row.instance);
            for group in row.triggers {
                assert!(!group.is_empty(), "{}", row.instance);
            }
        }
    }

    #[test]
    fn only_set_and_linked_rows_become_instances() {
        let vars = env(&[
            ("OPENAI_API_KEY", "sk-test"),
            ("OPENAI_BASE_URL", "http://127.0.0.1:9/v1"),
            ("GOOGLE_API_KEY", "g-key"),
            ("XAI_API_KEY", "xai-key"),
            ("MISTRAL_API_KEY", "  "),
            ("AWS_ACCESS_KEY_ID", "AKIA"),
        ]);
        let found = detect_env_providers(&vars, &|kind| kind != "gemini");
        let names: Vec<&str> = found.iter().map(|f| f.instance.as_str()).collect();
        assert_eq!(names, ["openai", "xai"]);
        assert_eq!(found[0].vars, ["OPENAI_API_KEY", "OPENAI_BASE_URL"]);
        assert_eq!(
            found[0].config.settings["base_url"],
            Value::from("http://127.0.0.1:9/v1")
        );
        assert_eq!(found[1].config.kind.as_deref(), Some("openai-compatible"));
        assert_eq!(found[1].config.settings["preset"], Value::from("xai"));
        assert!(!format!("{:?}", found).contains("sk-test"));
        assert!(
            !serde_json::to_string(&found)
                .unwrap_or_default()
                .contains("sk-test")
        );

        let found = detect_env_providers(&vars, &|_| true);
        let gemini = found
            .iter()
            .find(|f| f.instance == "gemini")
            .expect("gemini");
        assert_eq!(gemini.vars, ["GOOGLE_API_KEY"]);
        assert_eq!(gemini.config.settings["api_key"], Value::from("g-key"));
    }

    #[test]
    fn alternatives_pick_the_first_set_group() {
        let vars = env(&[
            ("AWS_ACCESS_KEY_ID", "AKIA"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
            ("AWS_REGION", "eu-west-1"),
            ("AZURE_OPENAI_API_KEY", "k"),
        ]);
        let found = detect_env_providers(&vars, &|_| true);
        let names: Vec<&str> = found.iter().map(|f| f.instance.as_str()).collect();
        assert_eq!(names, ["bedrock"], "azure needs its endpoint too");
        assert_eq!(
            found[0].vars,
            ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"]
        );
        assert_eq!(found[0].config.settings["region"], Value::from("eu-west-1"));
    }

    #[test]
    fn ollama_host_becomes_a_url() {
        for (value, url) in [
            ("0.0.0.0", "http://127.0.0.1:11434"),
            ("0.0.0.0:11500", "http://127.0.0.1:11500"),
            ("gpu-box", "http://gpu-box:11434"),
            ("https://ollama.example/", "https://ollama.example"),
            ("http://127.0.0.1:8081", "http://127.0.0.1:8081"),
            ("[::1]:11434", "http://[::1]:11434"),
        ] {
            let host = ValueShape::HostPort {
                default_port: 11434,
            };
            assert_eq!(shape_value(value, host), url, "{value}");
        }
    }

    #[test]
    fn the_file_wins_over_the_environment() {
        let mut config = Config::default();
        config.providers.insert(
            "openai".into(),
            InstanceConfig {
                kind: Some("mock".into()),
                enabled: true,
                settings: Map::new(),
            },
        );
        let found = detect_env_providers(
            &env(&[("OPENAI_API_KEY", "k"), ("ANTHROPIC_API_KEY", "a")]),
            &|_| true,
        );
        let added = add_env_providers(&mut config, found);
        assert_eq!(added.len(), 1);
        assert_eq!(added[0].instance, "anthropic");
        assert_eq!(config.providers["openai"].kind.as_deref(), Some("mock"));
        assert!(config.providers.contains_key("anthropic"));
    }
}
