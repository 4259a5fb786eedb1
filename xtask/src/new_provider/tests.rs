//! Tests of `cargo xtask new-provider`, the last one generating a provider
//! into a copy of the workspace and building it.

use std::collections::BTreeMap;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use super::*;

/// A directory under the system temp dir, removed when dropped.
pub(crate) struct Scratch(pub(crate) PathBuf);

impl Scratch {
    pub(crate) fn new(tag: &str) -> Scratch {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir = std::env::temp_dir().join(format!("xtask-{tag}-{}-{nanos}", std::process::id()));
        fs::create_dir_all(&dir).expect("creating a scratch directory");
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // `XTASK_KEEP_SCRATCH=1` keeps it for a look after a failure.
        if std::env::var_os("XTASK_KEEP_SCRATCH").is_some() {
            eprintln!("kept {}", self.0.display());
            return;
        }
        let _ = fs::remove_dir_all(&self.0);
    }
}

const REGISTRATION_FILES: &[&str] = &[
    "Cargo.toml",
    "crates/switchboard/Cargo.toml",
    "crates/switchboard/src/lib.rs",
];

/// A workspace holding only the real registration files.
fn mini_workspace(tag: &str) -> Scratch {
    let scratch = Scratch::new(tag);
    let root = crate::workspace_root();
    for file in REGISTRATION_FILES {
        let to = scratch.0.join(file);
        fs::create_dir_all(to.parent().expect("a parent")).expect("mkdir");
        fs::copy(root.join(file), &to).expect("copying a registration file");
    }
    fs::create_dir_all(scratch.0.join("providers")).expect("mkdir providers");
    scratch
}

/// Every file under `dir` with its bytes.
pub(crate) fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            for entry in fs::read_dir(&path).expect("read_dir") {
                stack.push(entry.expect("entry").path());
            }
        } else {
            files.insert(path.clone(), fs::read(&path).expect("read"));
        }
    }
    files
}

fn opts(name: &str) -> Options {
    Options {
        name: name.into(),
        ..Options::default()
    }
}

fn message(result: anyhow::Result<Generated>) -> String {
    match result {
        Ok(done) => panic!("expected an error, generated {:?}", done.created),
        Err(e) => format!("{e:#}"),
    }
}

#[test]
fn arguments_parse() {
    assert_eq!(
        parse_args(&["acme", "--display", "Acme Cloud", "--model=acme-2"]),
        Ok(Invocation::Run(Options {
            name: "acme".into(),
            display: Some("Acme Cloud".into()),
            base_url: None,
            model: Some("acme-2".into()),
        }))
    );
    assert_eq!(parse_args(&["acme", "-h"]), Ok(Invocation::Help));
    for (args, want) in [
        (&[][..], "missing the provider name"),
        (&["--display", "X"][..], "missing the provider name"),
        (&["a", "b"][..], "unexpected argument `b`"),
        (&["a", "--base-url"][..], "`--base-url` needs a value"),
        (&["a", "--model", "x", "--model", "y"][..], "given twice"),
        (&["a", "--force"][..], "unknown option `--force`"),
    ] {
        match parse_args(args) {
            Err(UsageError(msg)) => assert!(msg.contains(want), "{args:?}: {msg}"),
            other => panic!("{args:?}: expected a usage error, got {other:?}"),
        }
    }
}

#[test]
fn names_are_checked_and_derived() {
    let n = Names::new(&opts("acme-ai2")).expect("a valid name");
    assert_eq!(
        (n.snake.as_str(), n.pascal.as_str(), n.upper.as_str()),
        ("acme_ai2", "AcmeAi2", "ACME_AI2")
    );
    assert_eq!(n.display, "Acme Ai2");
    assert_eq!(n.base_url, "https://api.acme-ai2.invalid/v1");
    assert_eq!(n.model, "acme-ai2-1");
    for bad in [
        "",
        "Acme",
        "2acme",
        "acme_ai",
        "acme ai",
        "-acme",
        &"a".repeat(65),
    ] {
        let err = Names::new(&opts(bad)).expect_err(bad).to_string();
        assert!(err.starts_with("invalid provider name"), "{bad}: {err}");
    }
    let err = Names::new(&opts("async"))
        .expect_err("a keyword")
        .to_string();
    assert!(err.contains("Rust keyword"), "{err}");
    for (o, want) in [
        (
            Options {
                display: Some("Acme \"AI\"".into()),
                ..opts("acme")
            },
            "invalid --display",
        ),
        (
            Options {
                base_url: Some("ftp://acme".into()),
                ..opts("acme")
            },
            "must start with https://",
        ),
        (
            Options {
                model: Some("acme 1".into()),
                ..opts("acme")
            },
            "invalid --model",
        ),
    ] {
        let err = Names::new(&o).expect_err(want).to_string();
        assert!(err.contains(want), "{err}");
    }
}

#[test]
fn templates_render_completely() {
    let n = Names::new(&Options {
        display: Some("Acme AI".into()),
        ..opts("acme-ai")
    })
    .expect("valid");
    for (file, template) in TEMPLATES {
        let text = render(template, &n.vars()).expect(file);
        assert!(
            !text.contains("{{"),
            "{file}: a placeholder is left:\n{text}"
        );
    }
    let lib = render(TEMPLATES[2].1, &n.vars()).expect("lib.rs");
    assert!(lib.contains("pub struct AcmeAiConfig"));
    assert!(lib.contains("#[provider(name = \"acme-ai\", display_name = \"Acme AI\""));
    assert!(lib.contains("`${ACME_AI_API_KEY}`"));
    assert!(render("{{nope}}", &n.vars()).is_err());
    assert!(render("{{name", &n.vars()).is_err());
}

#[test]
fn missing_markers_are_named_and_nothing_is_written() {
    let ws = mini_workspace("markers");
    let lib = ws.0.join("crates/switchboard/src/lib.rs");
    let text = fs::read_to_string(&lib).expect("lib.rs");
    fs::write(&lib, text.replace("// <new-provider-marker>", "// gone")).expect("write");
    let before = snapshot(&ws.0);
    let err = message(generate(&ws.0, &opts("acme")));
    assert!(
        err.contains(
            "crates/switchboard/src/lib.rs: the marker `// <new-provider-marker>` is missing"
        ),
        "{err}"
    );
    assert!(!err.contains('\n'), "not one line: {err}");
    assert!(snapshot(&ws.0) == before, "a failed run wrote files");
}

#[test]
fn existing_crates_features_and_providers_are_refused() {
    let ws = mini_workspace("conflicts");
    let taken = ws.0.join("providers/other/src");
    fs::create_dir_all(&taken).expect("mkdir");
    fs::write(
        taken.join("lib.rs"),
        "#[provider(display_name = \"T\", name = \"taken\", config = C)]\npub struct T;\n",
    )
    .expect("write");
    fs::create_dir_all(ws.0.join("providers/mine")).expect("mkdir");
    let before = snapshot(&ws.0);
    for (name, want) in [
        ("mine", "providers/mine already exists"),
        (
            "taken",
            "a provider named `taken` is registered already, in providers/other/src/lib.rs",
        ),
        (
            "linkme",
            "crates/switchboard/Cargo.toml: feature `linkme` exists already",
        ),
        (
            "testkit",
            "Cargo.toml: workspace dependency `switchboard-testkit` exists already",
        ),
    ] {
        let err = message(generate(&ws.0, &opts(name)));
        assert!(err.contains(want), "{name}: {err}");
    }
    assert!(snapshot(&ws.0) == before, "a refused run wrote files");
}

#[test]
fn registration_is_idempotent_and_files_are_never_overwritten() {
    let ws = mini_workspace("idempotent");
    let done = generate(&ws.0, &opts("acme")).expect("first run");
    assert_eq!(done.registered.len(), 6, "{:?}", done.registered);
    assert!(done.already.is_empty());
    let registered = snapshot(&ws.0);
    // Inserted just above each marker, with the marker's indentation (the
    // `pub use` lines where rustfmt sorts them, in the run above it).
    let manifest = fs::read_to_string(ws.0.join("crates/switchboard/Cargo.toml")).expect("read");
    assert!(manifest.contains("    \"acme\",\n    # <new-provider-all-marker>"));
    let lib = fs::read_to_string(ws.0.join("crates/switchboard/src/lib.rs")).expect("read");
    assert!(lib.contains(
        "    ProviderFeature {\n        provider: \"acme\",\n        feature: \"acme\",\n        enabled: cfg!(feature = \"acme\"),\n    },\n    // <new-provider-marker>"
    ));
    assert!(lib.contains(
        "#[cfg(feature = \"acme\")]\n#[cfg_attr(docsrs, doc(cfg(feature = \"acme\")))]\npub use switchboard_acme as acme;\n"
    ));

    // rustfmt leaves the facade as it is (if it was formatted before).
    let lib_rs = "crates/switchboard/src/lib.rs";
    if rustfmt_clean(&crate::workspace_root().join(lib_rs)) == Some(true) {
        assert_eq!(
            rustfmt_clean(&ws.0.join(lib_rs)),
            Some(true),
            "rustfmt would change the facade's lib.rs:\n{lib}"
        );
    }

    // A second run refuses and changes nothing.
    let err = message(generate(&ws.0, &opts("acme")));
    assert!(err.contains("providers/acme already exists"), "{err}");
    assert!(snapshot(&ws.0) == registered, "a refused run changed files");

    // Without the crate, a run re-creates it and leaves the registrations alone.
    fs::remove_dir_all(ws.0.join("providers/acme")).expect("rm");
    let again = generate(&ws.0, &opts("acme")).expect("second run");
    assert!(again.registered.is_empty(), "{:?}", again.registered);
    assert_eq!(again.already.len(), 6);
    assert!(snapshot(&ws.0) == registered, "registrations changed");

    // A file that appears meanwhile is not overwritten: create_new fails.
    let path = ws.0.join("providers/acme/README.md");
    fs::write(&path, "mine").expect("write");
    let err = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .expect_err("create_new refuses an existing file");
    assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
}

/// Whether rustfmt finds `file` formatted (`None`: no rustfmt).
pub(crate) fn rustfmt_clean(file: &Path) -> Option<bool> {
    Command::new("rustfmt")
        .args(["--check", "--edition", "2024"])
        .arg(file)
        .output()
        .ok()
        .map(|out| out.status.success())
}

#[test]
fn use_lines_go_where_rustfmt_keeps_them() {
    assert!(version_cmp("switchboard_p9", "switchboard_p10").is_lt());
    assert!(version_cmp("switchboard_openai", "switchboard_openai_compatible").is_lt());
    assert!(version_cmp("switchboard_openai_compatible", "switchboard_openaix").is_lt());
    assert!(version_cmp("switchboard_a", "switchboard_a").is_eq());
    let text = "// keeps them linked\n\
                #[cfg(feature = \"b\")]\n\
                #[cfg_attr(docsrs, doc(cfg(feature = \"b\")))]\n\
                pub use switchboard_b as b;\n\
                #[cfg(feature = \"d\")]\n\
                pub use switchboard_d as d;\n\
                // <new-provider-use-marker>\n";
    for (name, next) in [
        ("a", "#[cfg(feature = \"b\")]"),
        ("c", "#[cfg(feature = \"d\")]"),
        ("e", "// <new-provider-use-marker>"),
    ] {
        let names = Names::new(&opts(name)).expect("valid");
        let ins = insertions(&names)
            .into_iter()
            .find(|i| i.use_path.is_some())
            .expect("the use insertion");
        let out = apply(text, &ins).expect("applies").expect("changes");
        let want = format!("pub use switchboard_{name} as {name};\n{next}\n");
        assert!(out.contains(&want), "{name}:\n{out}");
    }
}

/// The workspace's sources (tracked and untracked-but-not-ignored files,
/// without `tests/sdk`), copied with their modification times so cargo
/// can reuse the artifacts of unchanged path crates from an earlier run.
pub(crate) fn copy_sources(from: &Path, to: &Path) -> usize {
    let out = Command::new("git")
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .current_dir(from)
        .output()
        .expect("running git ls-files");
    assert!(out.status.success(), "git ls-files failed: {out:?}");
    let mut copied = 0;
    for rel in out.stdout.split(|b| *b == 0).filter(|r| !r.is_empty()) {
        let rel = Path::new(std::str::from_utf8(rel).expect("a UTF-8 path"));
        let skip = rel.starts_with("tests/sdk")
            || rel.components().any(|c| {
                let c = c.as_os_str().to_string_lossy();
                c == "target" || c == ".git" || c.starts_with(".venv")
            });
        let src = from.join(rel);
        // Deleted but still tracked.
        if skip || !src.is_file() {
            continue;
        }
        let dst = to.join(rel);
        fs::create_dir_all(dst.parent().expect("a parent")).expect("mkdir");
        fs::copy(&src, &dst).expect("copying a source file");
        let modified = fs::metadata(&src)
            .and_then(|m| m.modified())
            .expect("mtime");
        fs::File::options()
            .write(true)
            .open(&dst)
            .and_then(|f| f.set_modified(modified))
            .expect("setting the mtime");
        copied += 1;
    }
    copied
}

/// Runs cargo in `dir` with `target` as the target directory.
pub(crate) fn cargo_output(dir: &Path, target: &Path, args: &[&str]) -> std::process::Output {
    let started = Instant::now();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .output()
        .expect("running cargo");
    eprintln!(
        "new-provider test: cargo {} ({:.1}s)",
        args.join(" "),
        started.elapsed().as_secs_f64()
    );
    out
}

/// Runs cargo like [`cargo_output`], fails unless it succeeds; its stdout.
pub(crate) fn cargo(dir: &Path, target: &Path, args: &[&str]) -> Vec<u8> {
    let out = cargo_output(dir, target, args);
    assert!(
        out.status.success(),
        "`cargo {}` failed in {}:\n{}",
        args.join(" "),
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Generates a provider into a copy of the workspace and proves it builds,
/// registers, is listed and can be configured; the scaffold's tests
/// compile and a second run refuses without touching a file. Compiled artifacts are shared in
/// `target/new-provider-test`, so only the first run builds everything.
#[test]
fn generated_provider_builds_registers_and_is_listed() {
    let started = Instant::now();
    let root = crate::workspace_root();
    let scratch = Scratch::new("new-provider");
    let ws = scratch.0.as_path();
    let copied = copy_sources(&root, ws);
    let opts = Options {
        name: "acme-ai".into(),
        display: Some("Acme AI".into()),
        base_url: Some("https://api.acme.test/v1".into()),
        model: Some("acme-1".into()),
    };
    let done = generate(ws, &opts).unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(done.created.len(), TEMPLATES.len());
    assert_eq!(done.registered.len(), 6, "{:?}", done.registered);

    let before = snapshot(ws);
    let err = message(generate(ws, &opts));
    assert!(err.contains("providers/acme-ai already exists"), "{err}");
    assert!(snapshot(ws) == before, "a refused second run changed files");
    eprintln!(
        "new-provider test: copied {copied} files and generated in {:.1}s",
        started.elapsed().as_secs_f64()
    );

    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| root.join("target"), PathBuf::from)
        .join("new-provider-test");
    let features = ["--no-default-features", "--features", "acme-ai"];
    let with = |args: &[&'static str]| -> Vec<&'static str> {
        let mut all = args.to_vec();
        all.extend(features);
        all
    };
    cargo(ws, &target, &with(&["build", "-p", "switchboard"]));
    let mut run = with(&["run", "-q", "-p", "switchboard"]);
    run.extend(["--", "providers", "--json"]);
    let out = cargo(ws, &target, &run);
    let list: serde_json::Value = serde_json::from_slice(&out).unwrap_or_else(|e| {
        panic!(
            "`providers --json` is not JSON ({e}): {}",
            String::from_utf8_lossy(&out)
        )
    });
    let entries = list.as_array().expect("a JSON array");
    let Some(entry) = entries.iter().find(|d| d["name"] == "acme-ai") else {
        panic!("acme-ai is not in the catalog: {list:#}");
    };
    assert_eq!(entry["display_name"], "Acme AI", "{entry:#}");
    assert_eq!(entry["crate"], "switchboard-acme-ai", "{entry:#}");
    assert_eq!(
        entry["capabilities"],
        serde_json::json!(["streaming"]),
        "{entry:#}"
    );
    assert_eq!(entries.len(), 1, "only acme-ai is linked: {list:#}");

    // The binary builds an instance from a config file through the
    // descriptor: it lists the model, and chat reaches the TODO body.
    fs::write(
        ws.join("acme.toml"),
        "[providers.acme]\nkind = \"acme-ai\"\napi_key = \"sk-test\"\n",
    )
    .expect("writing acme.toml");
    let mut models = with(&["run", "-q", "-p", "switchboard"]);
    models.extend(["--", "--config", "acme.toml", "models", "--json"]);
    let out = cargo(ws, &target, &models);
    let models: serde_json::Value = serde_json::from_slice(&out).expect("JSON");
    assert_eq!(models[0]["id"], "acme/acme-1", "{models:#}");
    assert_eq!(models[0]["provider"], "acme", "{models:#}");
    let mut chat = with(&["run", "-q", "-p", "switchboard"]);
    chat.extend([
        "--",
        "--config",
        "acme.toml",
        "chat",
        "--no-stream",
        "Hello",
    ]);
    let out = cargo_output(ws, &target, &chat);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("acme-ai: chat is not implemented yet (TODO)"),
        "chat should fail with the TODO error: {out:?}"
    );

    // The scaffold's unit tests pass and its conformance test compiles
    // (its cases fail until the provider is implemented, by design).
    cargo(ws, &target, &["test", "-p", "switchboard-acme-ai", "--lib"]);
    cargo(
        ws,
        &target,
        &[
            "test",
            "-p",
            "switchboard-acme-ai",
            "--test",
            "conformance",
            "--no-run",
        ],
    );
    eprintln!(
        "new-provider test: done in {:.1}s",
        started.elapsed().as_secs_f64()
    );
}
