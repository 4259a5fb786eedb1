//! Loading the configuration: every layer (TOML and YAML files, profile
//! files, `SWITCHBOARD_*` variables, `${VAR}` substitution, `.env`) and the
//! exact text of every kind of error.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::json;
use switchboard_core::{Catalog, ErrorKind};
use switchboard_gateway::config::types::{AccessLog, Strategy, TargetSpec};
use switchboard_gateway::config::{ConfigError, ConfigLoader, LoadedConfig, ProviderFeature};
use switchboard_mock as _;

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "switchboard-config-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).expect("write file");
        path
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

static KNOWN: &[ProviderFeature] = &[
    ProviderFeature {
        provider: "mock",
        feature: "mock",
        enabled: true,
    },
    ProviderFeature {
        provider: "openai",
        feature: "openai",
        enabled: false,
    },
    ProviderFeature {
        provider: "anthropic",
        feature: "anthropic",
        enabled: false,
    },
];

fn catalog() -> &'static Catalog {
    switchboard_core::catalog().expect("catalog")
}

fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// A loader for `file` with an empty environment.
fn loader(file: &Path) -> ConfigLoader {
    ConfigLoader::new()
        .file(file)
        .env_vars(Vec::new())
        .known_providers(KNOWN)
}

fn ok(loader: ConfigLoader) -> LoadedConfig {
    match loader.load(catalog()) {
        Ok(loaded) => loaded,
        Err(e) => panic!("expected the config to load, got:\n{e}"),
    }
}

fn err(loader: ConfigLoader) -> String {
    match loader.load(catalog()) {
        Ok(loaded) => panic!("expected an error, got {:?}", loaded.config),
        Err(e) => e.to_string(),
    }
}

const TOML: &str = r#"
[server]
listen = "0.0.0.0:9000"

[router]
max_attempts = 2

[providers.mock]
token_delay_ms = 5
script = ["hello"]

[providers.backup]
kind = "mock"
enabled = false
models = ["mock-1", { id = "mock-small", context_length = 1000 }]

[models.fast]
strategy = "weighted"
targets = ["mock/mock-1", { target = "backup/mock-small", weight = 3 }]
"#;

const YAML: &str = r#"
server:
  listen: "0.0.0.0:9000"
router:
  max_attempts: 2
providers:
  mock:
    token_delay_ms: 5
    script: [hello]
  backup:
    kind: mock
    enabled: false
    models:
      - mock-1
      - id: mock-small
        context_length: 1000
models:
  fast:
    strategy: weighted
    targets:
      - mock/mock-1
      - target: backup/mock-small
        weight: 3
"#;

// ---- layers ----

#[test]
fn no_file_gives_the_defaults() {
    let loaded = ok(ConfigLoader::new().env_vars(Vec::new()));
    assert!(loaded.config.providers.is_empty());
    assert!(loaded.config.models.is_empty());
    assert_eq!(loaded.config.router.max_attempts, 4);
    assert!(loaded.files.is_empty());
}

#[test]
fn an_empty_file_gives_the_defaults() {
    let dir = TempDir::new();
    let toml = dir.write("switchboard.toml", "# nothing yet\n");
    let yaml = dir.write("other.yaml", "# nothing yet\n---\n");
    for file in [toml, yaml] {
        let loaded = ok(loader(&file));
        assert!(loaded.config.providers.is_empty());
        assert_eq!(loaded.files, vec![file]);
    }
}

#[test]
fn toml_file() {
    let dir = TempDir::new();
    let file = dir.write("switchboard.toml", TOML);
    let loaded = ok(loader(&file));
    let c = &loaded.config;
    assert_eq!(c.server.listen.to_string(), "0.0.0.0:9000");
    assert_eq!(c.router.max_attempts, 2);
    assert_eq!(c.router.backoff_base_ms, 250, "defaults fill the rest");
    let mock = &c.providers["mock"];
    assert_eq!(mock.kind, None);
    assert_eq!(mock.kind_or("mock"), "mock");
    assert!(mock.enabled);
    assert_eq!(mock.settings["token_delay_ms"], json!(5));
    assert_eq!(mock.settings["script"], json!(["hello"]));
    let backup = &c.providers["backup"];
    assert_eq!(backup.kind.as_deref(), Some("mock"));
    assert!(!backup.enabled);
    assert!(!backup.settings.contains_key("kind") && !backup.settings.contains_key("enabled"));
    let fast = &c.models["fast"];
    assert_eq!(fast.strategy, Strategy::Weighted);
    assert_eq!(
        fast.targets,
        vec![
            TargetSpec::Plain("mock/mock-1".into()),
            TargetSpec::Weighted {
                target: "backup/mock-small".into(),
                weight: 3
            }
        ]
    );
    assert_eq!(loaded.files, vec![file]);
}

#[test]
fn yaml_and_yml_files_load_like_toml() {
    let dir = TempDir::new();
    let from_toml = ok(loader(&dir.write("switchboard.toml", TOML))).config;
    for name in ["switchboard.yaml", "switchboard.yml"] {
        let from_yaml = ok(loader(&dir.write(name, YAML))).config;
        assert_eq!(
            serde_json::to_value(&from_yaml).expect("serializes"),
            serde_json::to_value(&from_toml).expect("serializes"),
            "{name}"
        );
    }
}

#[test]
fn a_yaml_instance_without_settings_is_a_default_instance() {
    let dir = TempDir::new();
    let file = dir.write("switchboard.yaml", "providers:\n  mock:\nserver:\n");
    let loaded = ok(loader(&file));
    assert!(loaded.config.providers["mock"].settings.is_empty());
}

#[test]
fn profile_file_is_read_over_the_main_file() {
    let dir = TempDir::new();
    let main = dir.write("switchboard.toml", TOML);
    let prod = dir.write(
        "switchboard.prod.toml",
        "[router]\nmax_attempts = 6\n\n[providers.mock]\ntoken_delay_ms = 0\n",
    );
    let loaded = ok(loader(&main).profile(Some("prod".into())));
    let c = &loaded.config;
    assert_eq!(c.router.max_attempts, 6);
    assert_eq!(c.providers["mock"].settings["token_delay_ms"], json!(0));
    assert_eq!(
        c.providers["mock"].settings["script"],
        json!(["hello"]),
        "tables merge key by key"
    );
    assert_eq!(loaded.files, vec![main.clone(), prod.clone()]);

    // The profile may also come from SWITCHBOARD_PROFILE.
    let loaded = ok(loader(&main).env_vars(vars(&[("SWITCHBOARD_PROFILE", "prod")])));
    assert_eq!(loaded.config.router.max_attempts, 6);
    assert_eq!(loaded.files, vec![main, prod]);
}

#[test]
fn a_profile_without_its_file_is_an_error() {
    let dir = TempDir::new();
    let main = dir.write("switchboard.toml", TOML);
    let prod = dir.path("switchboard.prod.toml");
    assert_eq!(
        err(loader(&main).profile(Some("prod".into()))),
        format!(
            "{}: file not found; profile `prod` reads it over {}",
            prod.display(),
            main.display()
        )
    );
    assert_eq!(
        err(loader(&main).env_vars(vars(&[("SWITCHBOARD_PROFILE", "prod")]))),
        format!(
            "{}: file not found; profile `prod` (from SWITCHBOARD_PROFILE) reads it over {}",
            prod.display(),
            main.display()
        )
    );
}

#[test]
fn environment_variables_override_the_files() {
    let dir = TempDir::new();
    let main = dir.write("switchboard.toml", TOML);
    let loaded = ok(loader(&main).env_vars(vars(&[
        ("SWITCHBOARD_ROUTER__MAX_ATTEMPTS", "3"),
        ("SWITCHBOARD_PROVIDERS__MOCK__TOKEN_DELAY_MS", "7"),
        ("SWITCHBOARD_PROVIDERS__BACKUP__ENABLED", "true"),
        ("SWITCHBOARD_PROVIDERS__EXTRA__KIND", "mock"),
        ("SWITCHBOARD_PROVIDERS__EXTRA__SCRIPT", "[one, two]"),
        ("SWITCHBOARD_SERVER__ADMIN_TOKEN", "12345"),
        // Not configuration keys.
        ("SWITCHBOARD_PROFILE", ""),
        ("SWITCHBOARD_CONFIG", "elsewhere.toml"),
        ("SWITCHBOARD_LOG", "debug"),
        ("OTHER__THING", "x"),
    ])));
    let c = &loaded.config;
    assert_eq!(c.router.max_attempts, 3);
    assert_eq!(c.providers["mock"].settings["token_delay_ms"], json!(7));
    assert_eq!(c.providers["mock"].settings["script"], json!(["hello"]));
    assert!(c.providers["backup"].enabled);
    assert_eq!(c.providers["extra"].kind.as_deref(), Some("mock"));
    assert_eq!(
        c.providers["extra"].settings["script"],
        json!(["one", "two"])
    );
    assert_eq!(
        c.server.admin_token.as_ref().map(|t| t.expose().to_owned()),
        Some("12345".to_owned())
    );
}

#[test]
fn variables_are_substituted_in_file_strings() {
    let dir = TempDir::new();
    let file = dir.write(
        "switchboard.toml",
        r#"
[router]
max_attempts = "${ATTEMPTS:-3}"
timeout_ms = "${TIMEOUT}"

[server]
watch_config = "${WATCH}"
admin_token = "${TOKEN}"

[providers.mock]
token_delay_ms = "${DELAY}"
script = ["${GREETING}, ${NAME:-world}!", "price: $5", "literal $${NAME}"]
mode = "${MODE:-script}"
"#,
    );
    let loaded = ok(loader(&file).env_vars(vars(&[
        ("TIMEOUT", "1000"),
        ("WATCH", "true"),
        ("TOKEN", "007"),
        ("DELAY", "4"),
        ("GREETING", "Hello"),
        ("MODE", ""),
    ])));
    let c = &loaded.config;
    assert_eq!(c.router.max_attempts, 3);
    assert_eq!(c.router.timeout_ms, 1000);
    assert!(c.server.watch_config);
    assert_eq!(
        c.server.admin_token.as_ref().map(|t| t.expose().to_owned()),
        Some("007".to_owned()),
        "a secret stays a string"
    );
    let mock = &c.providers["mock"].settings;
    assert_eq!(mock["token_delay_ms"], json!(4));
    assert_eq!(
        mock["script"],
        json!(["Hello, world!", "price: $5", "literal ${NAME}"])
    );
    assert_eq!(
        mock["mode"],
        json!("script"),
        "an empty value takes the default"
    );
    // Which keys came from which variables: names, never values.
    let refs = &loaded.env_references;
    assert_eq!(refs["server.admin_token"], vec!["TOKEN".to_owned()]);
    assert_eq!(refs["providers.mock.mode"], vec!["MODE".to_owned()]);
    assert_eq!(
        refs["providers.mock.script[0]"],
        vec!["GREETING".to_owned(), "NAME".to_owned()]
    );
    assert!(!refs.contains_key("providers.mock.script[1]"));
    assert!(!format!("{refs:?}").contains("007"));
}

#[test]
fn dotenv_next_to_the_file_is_a_fallback_for_variables() {
    let dir = TempDir::new();
    let file = dir.write(
        "switchboard.toml",
        "[providers.mock]\ntoken_delay_ms = \"${DELAY}\"\nscript = [\"${GREETING}\"]\n",
    );
    let env_file = dir.write(
        ".env",
        "DELAY=9\nGREETING=\"from dotenv\"\nSWITCHBOARD_ROUTER__MAX_ATTEMPTS=2\nSWITCHBOARD_ROUTER__RETRIES_PER_TARGET=5\n",
    );
    let loaded = ok(loader(&file).env_vars(vars(&[
        ("GREETING", "from the environment"),
        ("SWITCHBOARD_ROUTER__RETRIES_PER_TARGET", "0"),
    ])));
    let c = &loaded.config;
    assert_eq!(c.providers["mock"].settings["token_delay_ms"], json!(9));
    assert_eq!(
        c.providers["mock"].settings["script"],
        json!(["from the environment"]),
        "the real environment wins over .env"
    );
    assert_eq!(c.router.max_attempts, 2);
    assert_eq!(c.router.retries_per_target, 0);
    assert_eq!(loaded.env_files, vec![env_file]);
    assert!(
        std::env::var_os("DELAY").is_none(),
        "the process environment is untouched"
    );
}

#[test]
fn schema_key_and_schema_comments_are_accepted() {
    let dir = TempDir::new();
    let toml = dir.write(
        "switchboard.toml",
        "#:schema ./schemas/config.schema.json\n\"$schema\" = \"./schemas/config.schema.json\"\n\n[providers.mock]\n",
    );
    let yaml = dir.write(
        "switchboard.yaml",
        "# yaml-language-server: $schema=./schemas/config.schema.json\n$schema: ./schemas/config.schema.json\nproviders:\n  mock: {}\n",
    );
    for file in [toml, yaml] {
        let loaded = ok(loader(&file));
        assert_eq!(
            loaded.config.schema.as_deref(),
            Some("./schemas/config.schema.json")
        );
        assert!(loaded.config.providers.contains_key("mock"));
    }
}

#[test]
fn a_substituted_value_replaced_by_a_higher_layer_needs_no_variable() {
    let dir = TempDir::new();
    let file = dir.write(
        "switchboard.toml",
        "[router]\nmax_attempts = \"${UNSET}\"\n",
    );
    let loaded = ok(loader(&file).env_vars(vars(&[("SWITCHBOARD_ROUTER__MAX_ATTEMPTS", "5")])));
    assert_eq!(loaded.config.router.max_attempts, 5);
}

// ---- errors: exact messages ----

#[test]
fn error_wrong_type_names_file_key_found_and_expected() {
    let dir = TempDir::new();
    let file = dir.write(
        "switchboard.toml",
        "[providers.mock]\ntoken_delay_ms = \"slow\"\n",
    );
    assert_eq!(
        err(loader(&file)),
        format!(
            "{}: providers.mock.token_delay_ms: expected a non-negative integer, found string \"slow\"",
            file.display()
        )
    );
}

#[test]
fn error_literal_strings_are_not_read_as_numbers() {
    let dir = TempDir::new();
    let file = dir.write("switchboard.toml", "[router]\nmax_attempts = \"3\"\n");
    assert_eq!(
        err(loader(&file)),
        format!(
            "{}: router.max_attempts: expected a non-negative integer, found string \"3\"",
            file.display()
        )
    );
}

#[test]
fn error_substituted_value_of_the_wrong_type_names_the_variable() {
    let dir = TempDir::new();
    let file = dir.write("switchboard.toml", "[router]\nmax_attempts = \"${N}\"\n");
    assert_eq!(
        err(loader(&file).env_vars(vars(&[("N", "many")]))),
        format!(
            "{}: router.max_attempts: expected a non-negative integer, found string \"many\" (from `${{N}}`)",
            file.display()
        )
    );
}

#[test]
fn error_environment_variable_of_the_wrong_type() {
    let dir = TempDir::new();
    let file = dir.write("switchboard.toml", "[providers.mock]\n");
    assert_eq!(
        err(loader(&file).env_vars(vars(&[
            ("SWITCHBOARD_ROUTER__MAX_ATTEMPTS", "many"),
            ("SWITCHBOARD_PROVIDERS__MOCK__TOKEN_DELAY_MS", "-1"),
        ]))),
        "environment variable SWITCHBOARD_ROUTER__MAX_ATTEMPTS: router.max_attempts: \
         expected a non-negative integer, found string \"many\"\n\
         environment variable SWITCHBOARD_PROVIDERS__MOCK__TOKEN_DELAY_MS: providers.mock.token_delay_ms: \
         expected a non-negative integer, found string \"-1\""
    );
}

#[test]
fn error_from_a_dotenv_variable_names_the_dotenv_file() {
    let dir = TempDir::new();
    let file = dir.write("switchboard.toml", "");
    let env_file = dir.write(".env", "SWITCHBOARD_SERVER__LISTEN=localhost\n");
    assert_eq!(
        err(loader(&file)),
        format!(
            "environment variable SWITCHBOARD_SERVER__LISTEN (from {}): server.listen: \
             expected a socket address such as `127.0.0.1:8080`, found string \"localhost\"",
            env_file.display()
        )
    );
}

#[test]
fn error_environment_section_typo() {
    assert_eq!(
        err(ConfigLoader::new().env_vars(vars(&[("SWITCHBOARD_ROUTR__MAX_ATTEMPTS", "3")]))),
        "environment variable SWITCHBOARD_ROUTR__MAX_ATTEMPTS: `routr` is not a configuration \
         section; did you mean SWITCHBOARD_ROUTER__MAX_ATTEMPTS?"
    );
}

#[test]
fn error_missing_variable() {
    let dir = TempDir::new();
    let file = dir.write(
        "switchboard.toml",
        "[server]\nadmin_token = \"${ADMIN_TOKEN}\"\n",
    );
    assert_eq!(
        err(loader(&file)),
        format!(
            "{}: server.admin_token: environment variable `ADMIN_TOKEN` is not set (referenced as \
             `${{ADMIN_TOKEN}}`); set it, add it to a `.env` file, or give a default with \
             `${{ADMIN_TOKEN:-default}}`",
            file.display()
        )
    );
}

#[test]
fn error_malformed_references() {
    let dir = TempDir::new();
    let file = dir.write(
        "switchboard.toml",
        "[providers.mock]\nscript = [\"${OPEN\", \"${not a name}\"]\n",
    );
    assert_eq!(
        err(loader(&file)),
        format!(
            "{f}: providers.mock.script[0]: `${{` is not closed by `}}`; write `$${{` for a literal `${{`\n\
             {f}: providers.mock.script[1]: `${{not a name}}` is not a variable reference: a variable \
             name has letters, digits and `_` and does not start with a digit; write `$${{` for a literal `${{`",
            f = file.display()
        )
    );
}

#[test]
fn error_unknown_provider_key_with_did_you_mean() {
    let dir = TempDir::new();
    let file = dir.write(
        "switchboard.toml",
        "[providers.mock]\ntoken_dealy_ms = 5\nzzz = 1\n",
    );
    assert_eq!(
        err(loader(&file)),
        format!(
            "{f}: providers.mock.token_dealy_ms: unknown key `token_dealy_ms`; did you mean `token_delay_ms`?\n\
             {f}: providers.mock.zzz: unknown key `zzz`; expected one of `models`, `context_length`, \
             `max_output_tokens`, `mode`, `script`, `first_token_latency_ms`, `token_delay_ms`, `fault`, \
             `embedding_dimensions`",
            f = file.display()
        )
    );
}

#[test]
fn error_nested_provider_keys_have_full_paths() {
    let dir = TempDir::new();
    let file = dir.write(
        "switchboard.toml",
        "[providers.mock]\nfault = { kind = \"rate_limitd\" }\nmodels = [\"a\", { id = \"b\", contxt_length = 5 }]\n",
    );
    assert_eq!(
        err(loader(&file)),
        format!(
            "{f}: providers.mock.models[1].contxt_length: unknown key `contxt_length`; did you mean `context_length`?\n\
             {f}: providers.mock.fault.kind: unknown error kind `rate_limitd`; expected one of: auth, \
             permission, not_found, invalid_request, context_length_exceeded, rate_limited, timeout, \
             unavailable, upstream, protocol, unsupported, config, cancelled, content_filter, insufficient_quota, internal",
            f = file.display()
        )
    );
}

#[test]
fn error_unknown_top_level_and_section_keys() {
    let dir = TempDir::new();
    let file = dir.write(
        "switchboard.toml",
        "[sever]\nlisten = \"127.0.0.1:1\"\n\n[router]\nmax_atempts = 2\n",
    );
    assert_eq!(
        err(loader(&file)),
        format!(
            "{f}: sever: unknown key `sever`; did you mean `server`?\n\
             {f}: router.max_atempts: unknown key `max_atempts`; did you mean `max_attempts`?",
            f = file.display()
        )
    );
}

#[test]
fn access_log_settings() {
    let defaults = ok(ConfigLoader::new().env_vars(Vec::new())).config;
    assert_eq!(defaults.server.access_log, AccessLog::Sampled);
    assert_eq!(defaults.server.access_log_sample, 0.01);

    let dir = TempDir::new();
    let file = dir.write(
        "switchboard.toml",
        "[server]\naccess_log = \"errors\"\naccess_log_sample = 0.5\n",
    );
    let c = ok(loader(&file)).config;
    assert_eq!(c.server.access_log, AccessLog::Errors);
    assert_eq!(c.server.access_log_sample, 0.5);
    let from_env = ok(loader(&file).env_vars(vars(&[("SWITCHBOARD_SERVER__ACCESS_LOG", "off")])));
    assert_eq!(from_env.config.server.access_log, AccessLog::Off);

    let file = dir.write("bad.toml", "[server]\naccess_log = \"some\"\n");
    assert_eq!(
        err(loader(&file)),
        format!(
            "{}: server.access_log: unknown value \"some\", expected one of `off`, `errors`, \
             `sampled`, `all`",
            file.display()
        )
    );
    let file = dir.write("worse.toml", "[server]\naccess_log_sample = 2\n");
    let text = err(loader(&file));
    assert!(
        text.contains("server.access_log_sample: 2 is not a fraction"),
        "{text}"
    );
}

#[test]
fn error_unknown_kind_lists_linked_providers_and_the_feature() {
    let dir = TempDir::new();
    let file = dir.write(
        "switchboard.toml",
        "[providers.openai]\napi_key = \"x\"\n\n[providers.claude]\nkind = \"anthropic\"\n\n\
         [providers.local]\nkind = \"mokc\"\n\n[providers.fast]\n",
    );
    assert_eq!(
        err(loader(&file)),
        format!(
            "{f}: providers.claude.kind: unknown provider kind `anthropic` (linked providers: \
             `mock`); `anthropic` is in the `anthropic` feature: build with `--features anthropic`\n\
             {f}: providers.fast: no `kind`, and the instance name `fast` is not a provider kind \
             (linked providers: `mock`); set `kind` to one of them\n\
             {f}: providers.local.kind: unknown provider kind `mokc` (linked providers: `mock`); \
             did you mean `mock`?\n\
             {f}: providers.openai: no `kind`, and the instance name `openai` is not a provider \
             kind (linked providers: `mock`); `openai` is in the `openai` feature: build with \
             `--features openai`",
            f = file.display()
        )
    );
}

#[test]
fn error_alias_problems() {
    let dir = TempDir::new();
    let file = dir.write(
        "switchboard.toml",
        r#"
[providers.mock]
[providers.backup]
kind = "mock"

[models.a]
targets = ["mokc/mock-1", "mock-1", "nowhere/x"]

[models.b]
targets = []

[models.c]
strategy = "weighted"
targets = [{ target = "mock/mock-1", weight = 0 }, { target = "backup/mock-1", wieght = 2 }]

[models.d]
strategy = "fallbak"
targets = ["mock/mock-1"]
tragets = []

[models.e]
"#,
    );
    assert_eq!(
        err(loader(&file)),
        format!(
            "{f}: models.a.targets[0]: unknown instance `mokc` in target `mokc/mock-1` (configured \
             instances: `backup`, `mock`); did you mean `mock`?\n\
             {f}: models.a.targets[1]: expected `instance/model`, found string \"mock-1\"\n\
             {f}: models.a.targets[2]: unknown instance `nowhere` in target `nowhere/x` (configured \
             instances: `backup`, `mock`)\n\
             {f}: models.b.targets: an alias needs at least one `instance/model` target\n\
             {f}: models.c.targets[0].weight: a `weighted` alias needs positive weights, found 0\n\
             {f}: models.c.targets[1].wieght: unknown key `wieght`; did you mean `weight`?\n\
             {f}: models.d.tragets: unknown key `tragets`; did you mean `targets`?\n\
             {f}: models.d.strategy: unknown value \"fallbak\", expected one of `fallback`, \
             `round-robin`, `weighted`, `least-latency`; did you mean `fallback`?\n\
             {f}: models.e.targets: required key is missing: an alias needs at least one \
             `instance/model` target",
            f = file.display()
        )
    );
}

#[test]
fn error_every_problem_is_reported_at_once() {
    let dir = TempDir::new();
    let file = dir.write(
        "switchboard.yaml",
        r#"
server:
  listen: nowhere
  body_limit_bytes: big
router:
  max_attempts: -1
health:
  error_ratio: high
providers:
  mock:
    token_delay_ms: slow
    script: hi
"#,
    );
    assert_eq!(
        err(loader(&file)),
        format!(
            "{f}: server.body_limit_bytes: expected a non-negative integer, found string \"big\"\n\
             {f}: server.listen: expected a socket address such as `127.0.0.1:8080`, found string \"nowhere\"\n\
             {f}: router.max_attempts: expected an integer from 0 to 4294967295, found integer -1\n\
             {f}: health.error_ratio: expected a number, found string \"high\"\n\
             {f}: providers.mock.script: expected an array, found string \"hi\"\n\
             {f}: providers.mock.token_delay_ms: expected a non-negative integer, found string \"slow\"",
            f = file.display()
        )
    );
}

#[test]
fn error_unsupported_extension() {
    let dir = TempDir::new();
    let file = dir.write("switchboard.json", "{}");
    assert_eq!(
        err(loader(&file)),
        format!(
            "{}: unsupported file extension `.json`: use `.toml`, `.yaml` or `.yml`",
            file.display()
        )
    );
}

#[test]
fn error_missing_file() {
    let dir = TempDir::new();
    let file = dir.path("switchboard.toml");
    assert_eq!(
        err(loader(&file).profile(Some("prod".into()))),
        format!("{}: file not found", file.display())
    );
}

#[test]
fn error_syntax() {
    let dir = TempDir::new();
    let toml = dir.write("switchboard.toml", "[router]\nmax_attempts = \n");
    assert_eq!(
        err(loader(&toml)),
        format!(
            "{}: TOML parse error at line 2, column 16: invalid string; expected `\"`, `'`",
            toml.display()
        )
    );
    let yaml = dir.write("switchboard.yaml", "router:\n  max_attempts: 1\n bad: [\n");
    let message = err(loader(&yaml));
    assert!(
        message.starts_with(&format!("{}: YAML parse error: ", yaml.display())),
        "{message}"
    );
    assert_eq!(message.lines().count(), 1, "{message}");
}

#[test]
fn error_profile_without_a_file() {
    assert_eq!(
        err(ConfigLoader::new()
            .env_vars(Vec::new())
            .profile(Some("prod".into()))),
        "profile `prod` was requested, but there is no configuration file to read \
         `<file>.prod.<ext>` next to"
    );
}

#[test]
fn error_converts_to_a_config_error() {
    let dir = TempDir::new();
    let file = dir.write("switchboard.toml", "[sever]\n");
    let e: ConfigError = loader(&file).load(catalog()).expect_err("invalid");
    assert_eq!(e.issues.len(), 1);
    assert_eq!(e.issues[0].file.as_deref(), Some(file.as_path()));
    assert_eq!(e.issues[0].key, "sever");
    let core: switchboard_core::Error = e.clone().into();
    assert_eq!(core.kind(), &ErrorKind::Config);
    assert_eq!(core.message(), e.to_string());
}

#[test]
fn error_odd_inputs() {
    let dir = TempDir::new();
    let cases = [
        (
            "a.yaml",
            "- just\n- a list\n",
            "{f}: expected a table (`key = value` or `key: value` pairs) at the top of the file",
        ),
        (
            "b.yaml",
            "~\n",
            "{f}: expected a table (`key = value` or `key: value` pairs) at the top of the file",
        ),
        (
            "c.yaml",
            "providers:\n  1: {}\n  mock: [1, 2]\nmodels: 5\n",
            "{f}: providers.1: no `kind`, and the instance name `1` is not a provider kind \
             (linked providers: `mock`); set `kind` to one of them\n\
             {f}: providers.mock: expected a table of provider settings, found an array\n\
             {f}: models: expected a table of model aliases, found integer 5",
        ),
        (
            "d.toml",
            "when = 1979-05-27T07:32:00Z\n[server]\nlisten = 1979-05-27\n",
            "{f}: when: unknown key `when`; expected one of `$schema`, `extensions`, \
             `health`, `models`, `providers`, `router`, `server`, `state`\n\
             {f}: server.listen: expected a socket address such as `127.0.0.1:8080`, found a table",
        ),
        (
            "e.toml",
            "providers = 3\nrouter = []\n[[models.x.targets]]\nweight = -1\n",
            "{f}: router: expected a table, found an empty array\n\
             {f}: providers: expected a table of provider instances, found integer 3\n\
             {f}: models.x.targets[0].weight: expected an integer from 0 to 4294967295, found integer -1\n\
             {f}: models.x.targets[0].target: required key is missing",
        ),
        (
            "f.yaml",
            "providers:\n  mock:\n    kind: [mock]\n    enabled: maybe\n  x/y: {kind: mock}\n",
            "{f}: providers.mock.kind: expected a string (a provider name), found an array\n\
             {f}: providers.mock.enabled: expected a boolean, found string \"maybe\"\n\
             {f}: providers.\"x/y\": an instance name cannot contain `/` (targets are written \
             `instance/model`)",
        ),
        (
            "g.toml",
            "[models.\"a/b\"]\ntargets = [\"/\", \"mock/\", 5, { target = 5 }]\n",
            "{f}: models.\"a/b\": an alias cannot contain `/` (that is how `instance/model` \
             targets are written)\n\
             {f}: models.\"a/b\".targets[0]: expected `instance/model`, found string \"/\"\n\
             {f}: models.\"a/b\".targets[1]: expected `instance/model`, found string \"mock/\"\n\
             {f}: models.\"a/b\".targets[2]: expected `instance/model` or a table with `target` \
             and `weight`, found integer 5\n\
             {f}: models.\"a/b\".targets[3].target: expected a string, found integer 5",
        ),
        (
            "h.toml",
            "[server]\napi_keys = [{ key = 1, nmae = \"x\" }]\nlisten = \"${X:-\"\n",
            "{f}: server.listen: `${` is not closed by `}`; write `$${` for a literal `${`\n\
             {f}: server.api_keys[0].key: expected a string, found a number\n\
             {f}: server.api_keys[0].nmae: unknown key `nmae`; did you mean `name`?",
        ),
        (
            "i.yaml",
            "router:\n  max_attempts: 1e99\n  timeout_ms: 18446744073709551616\n",
            "{f}: router.max_attempts: expected a non-negative integer, found number 1e+99\n\
             {f}: router.timeout_ms: expected a non-negative integer, found number \
             1.8446744073709552e+19",
        ),
    ];
    for (name, text, expected) in cases {
        let file = dir.write(name, text);
        assert_eq!(
            err(loader(&file)),
            expected.replace("{f}", &file.display().to_string()),
            "{name}"
        );
    }
}
