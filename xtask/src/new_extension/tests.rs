//! Tests of `cargo xtask new-extension`, the last one generating an
//! extension into a copy of the workspace, building it with the facade and
//! running its tests (the conformance check included).

use std::process::Command;
use std::time::Instant;

use super::*;
use crate::new_provider::tests::{Scratch, cargo, copy_sources, rustfmt_clean, snapshot};

/// Adds what the registration needs to a copied workspace, if it is not
/// there yet: `extensions/*` in the members, and each marker (a facade
/// without an `all-extensions` feature gets one).
fn prepare(root: &Path) {
    let manifest = root.join("Cargo.toml");
    let mut text = fs::read_to_string(&manifest).expect("Cargo.toml");
    if !workspace_has_extensions(&text) {
        text = text.replacen("\"providers/*\",", "\"providers/*\", \"extensions/*\",", 1);
    }
    if !text.contains(MARKERS[0].1) {
        text = text.replacen(
            "# <new-provider-workspace-dep-marker>",
            "# <new-extension-workspace-dep-marker>\n# <new-provider-workspace-dep-marker>",
            1,
        );
    }
    fs::write(&manifest, text).expect("write Cargo.toml");

    let facade = root.join("crates/switchboard/Cargo.toml");
    let mut text = fs::read_to_string(&facade).expect("facade Cargo.toml");
    if !text.contains(MARKERS[1].1) {
        let all = if text.contains("\nall-extensions = [") {
            "\nall-extensions = ["
        } else {
            text = text.replacen("[features]\n", "[features]\nall-extensions = [\n]\n", 1);
            "\nall-extensions = ["
        };
        text = text.replacen(all, &format!("{all}\n    {}", MARKERS[1].1), 1);
    }
    if !text.contains(MARKERS[2].1) {
        text = text.replacen(
            "# <new-provider-feature-marker>",
            "# <new-provider-feature-marker>\n# <new-extension-feature-marker>",
            1,
        );
    }
    if !text.contains(MARKERS[3].1) {
        text = text.replacen(
            "# <new-provider-dependency-marker>",
            "# <new-provider-dependency-marker>\n# <new-extension-dependency-marker>",
            1,
        );
    }
    fs::write(&facade, text).expect("write facade Cargo.toml");

    let lib = root.join("crates/switchboard/src/lib.rs");
    let mut text = fs::read_to_string(&lib).expect("facade lib.rs");
    if !text.contains(MARKERS[4].1) {
        let line = "// <new-provider-use-marker>: `cargo xtask new-provider` inserts above.\n";
        assert!(
            text.contains(line),
            "the facade's provider use marker moved"
        );
        text = text.replacen(
            line,
            &format!(
                "{line}\n// Extension crates, named so their registrations are linked.\n{}\n",
                MARKERS[4].1
            ),
            1,
        );
    }
    fs::write(&lib, text).expect("write facade lib.rs");
}

/// A workspace holding only the registration files, prepared.
fn mini_workspace(tag: &str) -> Scratch {
    let scratch = Scratch::new(tag);
    let root = crate::workspace_root();
    for file in [
        "Cargo.toml",
        "crates/switchboard/Cargo.toml",
        "crates/switchboard/src/lib.rs",
    ] {
        let to = scratch.0.join(file);
        fs::create_dir_all(to.parent().expect("a parent")).expect("mkdir");
        fs::copy(root.join(file), &to).expect("copying a registration file");
    }
    fs::create_dir_all(scratch.0.join("extensions")).expect("mkdir extensions");
    prepare(&scratch.0);
    scratch
}

fn message(result: anyhow::Result<Generated>) -> String {
    match result {
        Ok(done) => panic!("expected an error, generated {:?}", done.created),
        Err(e) => format!("{e:#}"),
    }
}

#[test]
fn arguments_parse() {
    assert_eq!(parse_args(&["acme"]), Ok(Some("acme".into())));
    assert_eq!(parse_args(&["acme", "--help"]), Ok(None));
    for (args, want) in [
        (&[][..], "missing the extension name"),
        (&["a", "b"][..], "unexpected argument `b`"),
        (&["a", "--force"][..], "unknown option `--force`"),
    ] {
        let err = parse_args(args).expect_err(want);
        assert!(err.contains(want), "{args:?}: {err}");
    }
}

#[test]
fn names_are_checked_and_derived() {
    let n = ExtNames::new("acme-tag2").expect("valid");
    assert_eq!(
        (n.snake.as_str(), n.pascal.as_str()),
        ("acme_tag2", "AcmeTag2")
    );
    for bad in [
        "",
        "Acme",
        "2acme",
        "acme_tag",
        "acme tag",
        "acme-",
        "a--b",
        &"a".repeat(65),
    ] {
        let err = ExtNames::new(bad).expect_err(bad).to_string();
        assert!(err.starts_with("invalid extension name"), "{bad}: {err}");
    }
    let err = ExtNames::new("match").expect_err("keyword").to_string();
    assert!(err.contains("Rust keyword"), "{err}");
}

#[test]
fn templates_render_completely() {
    let n = ExtNames::new("acme-tag").expect("valid");
    for (file, template) in TEMPLATES {
        let text = render(template, &n.vars()).expect(file);
        assert!(
            !text.contains("{{"),
            "{file}: a placeholder is left:\n{text}"
        );
    }
    let lib = render(TEMPLATES[2].1, &n.vars()).expect("lib.rs");
    assert!(lib.contains(
        "#[extension(name = \"acme-tag\", config = AcmeTagConfig, hooks(on_request, methods))]"
    ));
    let tests = render(TEMPLATES[3].1, &n.vars()).expect("tests");
    assert!(tests.contains("use switchboard_ext_acme_tag::AcmeTag;"));
    assert!(tests.contains("assert_extension_conforms(AcmeTag::DESCRIPTOR"));
}

#[test]
fn missing_markers_are_named_and_nothing_is_written() {
    let ws = mini_workspace("ext-markers");
    for (file, marker) in MARKERS {
        let path = ws.0.join(file);
        let text = fs::read_to_string(&path).expect("read");
        fs::write(&path, text.replace(marker, "# gone")).expect("write");
    }
    let before = snapshot(&ws.0);
    let err = message(generate(&ws.0, "acme"));
    for (file, marker) in MARKERS {
        assert!(
            err.contains(&format!(
                "{file}: the marker `{marker}` is missing (add a line `{marker}`"
            )),
            "{marker}: {err}"
        );
    }
    assert!(!err.contains('\n'), "not one line: {err}");
    assert!(snapshot(&ws.0) == before, "a failed run wrote files");
}

#[test]
fn a_workspace_without_extension_members_is_refused() {
    let ws = mini_workspace("ext-members");
    let path = ws.0.join("Cargo.toml");
    let text = fs::read_to_string(&path).expect("read");
    fs::write(&path, text.replace("\"extensions/*\", ", "")).expect("write");
    let before = snapshot(&ws.0);
    let err = message(generate(&ws.0, "acme"));
    assert!(err.contains("do not include \"extensions/*\""), "{err}");
    assert!(snapshot(&ws.0) == before, "a refused run wrote files");
}

#[test]
fn existing_crates_features_and_extensions_are_refused() {
    let ws = mini_workspace("ext-conflicts");
    let taken = ws.0.join("extensions/other/src");
    fs::create_dir_all(&taken).expect("mkdir");
    fs::write(
        taken.join("lib.rs"),
        "#[extension(config = C, name = \"taken\", hooks(on_request))]\npub struct T;\n",
    )
    .expect("write");
    fs::create_dir_all(ws.0.join("extensions/mine")).expect("mkdir");
    let manifest = ws.0.join("Cargo.toml");
    let text = fs::read_to_string(&manifest).expect("read");
    let text = text.replacen(
        "# <new-extension-workspace-dep-marker>",
        "switchboard-ext-clash = \"1\"\n# <new-extension-workspace-dep-marker>",
        1,
    );
    fs::write(&manifest, text).expect("write");
    let before = snapshot(&ws.0);
    for (name, want) in [
        ("mine", "extensions/mine already exists"),
        (
            "taken",
            "an extension named `taken` is registered already, in extensions/other/src/lib.rs",
        ),
        (
            "linkme",
            "crates/switchboard/Cargo.toml: feature `linkme` exists already",
        ),
        (
            "clash",
            "Cargo.toml: workspace dependency `switchboard-ext-clash` exists already, as `switchboard-ext-clash = \"1\"`",
        ),
    ] {
        let err = message(generate(&ws.0, name));
        assert!(err.contains(want), "{name}: {err}");
    }
    assert!(snapshot(&ws.0) == before, "a refused run wrote files");
}

#[test]
fn registration_is_idempotent_and_files_are_never_overwritten() {
    let ws = mini_workspace("ext-idempotent");
    let lib_rs = "crates/switchboard/src/lib.rs";
    let was_clean = rustfmt_clean(&ws.0.join(lib_rs));
    let done = generate(&ws.0, "acme").expect("first run");
    assert_eq!(
        done.registered.len(),
        MARKERS.len(),
        "{:?}",
        done.registered
    );
    assert_eq!(done.created.len(), TEMPLATES.len());
    let registered = snapshot(&ws.0);
    let root_manifest = fs::read_to_string(ws.0.join("Cargo.toml")).expect("read");
    assert!(root_manifest.contains(
        "switchboard-ext-acme = { path = \"extensions/acme\", version = \"0.1.0\" }\n# <new-extension-workspace-dep-marker>"
    ));
    let manifest = fs::read_to_string(ws.0.join("crates/switchboard/Cargo.toml")).expect("read");
    assert!(
        manifest.contains("    \"acme\",\n    # <new-extension-all-marker>"),
        "{manifest}"
    );
    assert!(
        manifest
            .contains("acme = [\"dep:switchboard-ext-acme\"]\n# <new-extension-feature-marker>")
    );
    assert!(manifest.contains(
        "switchboard-ext-acme = { workspace = true, optional = true }\n# <new-extension-dependency-marker>"
    ));
    let lib = fs::read_to_string(ws.0.join(lib_rs)).expect("read");
    // Sorted among the link lines, where rustfmt keeps it: the link lines
    // around it name extensions before and after `acme`.
    let link = "#[cfg(feature = \"acme\")]\nuse switchboard_ext_acme as _;\n";
    let at = lib.find(link).expect("the link line");
    let before = lib[..at]
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("use switchboard_ext_"));
    let after = lib[at + link.len()..]
        .lines()
        .find_map(|l| l.strip_prefix("use switchboard_ext_"));
    assert!(
        before.is_none_or(|b| b < "acme") && after.is_some_and(|a| a > "acme"),
        "{before:?} < acme < {after:?}"
    );
    if was_clean == Some(true) {
        assert_eq!(
            rustfmt_clean(&ws.0.join(lib_rs)),
            Some(true),
            "rustfmt would change the facade's lib.rs:\n{lib}"
        );
    }

    let err = message(generate(&ws.0, "acme"));
    assert!(err.contains("extensions/acme already exists"), "{err}");
    assert!(snapshot(&ws.0) == registered, "a refused run changed files");

    fs::remove_dir_all(ws.0.join("extensions/acme")).expect("rm");
    let again = generate(&ws.0, "acme").expect("second run");
    assert!(again.registered.is_empty(), "{:?}", again.registered);
    assert_eq!(again.already.len(), MARKERS.len());
    assert!(snapshot(&ws.0) == registered, "registrations changed");
}

/// Generates an extension into a copy of the workspace; the facade builds
/// with its feature, and the crate's tests pass (the testkit's conformance
/// check included). Artifacts are shared with the new-provider test in
/// `target/new-provider-test`.
#[test]
fn generated_extension_builds_and_passes_its_tests() {
    let started = Instant::now();
    let root = crate::workspace_root();
    let scratch = Scratch::new("new-extension");
    let ws = scratch.0.as_path();
    copy_sources(&root, ws);
    prepare(ws);
    let done = generate(ws, "acme-tag").unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(done.created.len(), TEMPLATES.len());
    assert!(done.formatted || Command::new("rustfmt").arg("--version").output().is_err());

    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| root.join("target"), PathBuf::from)
        .join("new-provider-test");
    cargo(
        ws,
        &target,
        &[
            "build",
            "-p",
            "switchboard",
            "--no-default-features",
            "--features",
            "acme-tag",
        ],
    );
    cargo(ws, &target, &["test", "-p", "switchboard-ext-acme-tag"]);
    eprintln!(
        "new-extension test: done in {:.1}s",
        started.elapsed().as_secs_f64()
    );
}
