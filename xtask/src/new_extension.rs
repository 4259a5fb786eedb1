//! `cargo xtask new-extension <name>`: scaffolds `extensions/<name>/` (the
//! crate `switchboard-ext-<name>`) from `xtask/templates/extension/` and
//! registers it in the workspace and in the `switchboard` facade at marker
//! comments, the way `new-provider` does (see `new_provider.rs`).
//!
//! It never overwrites: every file is created with `create_new`, an existing
//! `extensions/<name>` is refused, and every check (the name, conflicts with
//! existing crates, features and extensions, the markers) runs before
//! anything is written. A registration that is already there is left alone.

use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::new_provider::{
    Insertion, RUST_KEYWORDS, apply, capitalized, edition, registered_names, render, rustfmt,
};

pub(crate) const USAGE: &str = "usage: cargo xtask new-extension <name>

Creates extensions/<name>/ (the crate switchboard-ext-<name>: a minimal
extension with an `on_request` hook, a `stats` method and the testkit's
conformance test) and links it into `switchboard` as the Cargo feature
<name>, also in `all-extensions`. Never overwrites a file.

  <name>   lowercase letters, digits and `-`, starting with a letter
           (it is `[extensions.<name>]` in config files)";

/// Parses the arguments after `new-extension`: `Ok(None)` for `--help`.
pub(crate) fn parse_args(args: &[&str]) -> Result<Option<String>, String> {
    let mut name = None;
    for arg in args {
        match *arg {
            "-h" | "--help" => return Ok(None),
            flag if flag.starts_with('-') => return Err(format!("unknown option `{flag}`")),
            other => {
                if let Some(first) = &name {
                    return Err(format!(
                        "unexpected argument `{other}` (the extension name is already `{first}`)"
                    ));
                }
                name = Some(other.to_owned());
            }
        }
    }
    name.map(Some)
        .ok_or_else(|| "missing the extension name".to_owned())
}

/// Every spelling of the extension's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExtNames {
    /// `acme-tag`: the extension name, feature and `extensions/` directory.
    pub(crate) name: String,
    /// `acme_tag`: the crate's Rust name is `switchboard_ext_acme_tag`.
    pub(crate) snake: String,
    /// `AcmeTag`: the type names.
    pub(crate) pascal: String,
}

impl ExtNames {
    /// Checks `name` (the rule `#[extension]` enforces) and derives the rest.
    pub(crate) fn new(name: &str) -> anyhow::Result<ExtNames> {
        let valid = !name.is_empty()
            && name.len() <= 64
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && !name.ends_with('-')
            && !name.contains("--")
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !valid {
            bail!(
                "invalid extension name `{name}`: it must start with a lowercase letter and contain only lowercase letters, digits and single `-` (at most 64), as #[extension] requires"
            );
        }
        let snake = name.replace('-', "_");
        if RUST_KEYWORDS.contains(&snake.as_str()) {
            bail!("invalid extension name `{name}`: `{snake}` is a Rust keyword");
        }
        let pascal = name.split('-').map(capitalized).collect();
        Ok(ExtNames {
            name: name.to_owned(),
            snake,
            pascal,
        })
    }

    fn vars(&self) -> [(&'static str, &str); 3] {
        [
            ("name", &self.name),
            ("name_snake", &self.snake),
            ("Pascal", &self.pascal),
        ]
    }
}

/// The files of a new extension crate, relative to `extensions/<name>/`.
pub(crate) const TEMPLATES: &[(&str, &str)] = &[
    (
        "Cargo.toml",
        include_str!("../templates/extension/Cargo.toml.tmpl"),
    ),
    (
        "README.md",
        include_str!("../templates/extension/README.md.tmpl"),
    ),
    (
        "src/lib.rs",
        include_str!("../templates/extension/lib.rs.tmpl"),
    ),
    (
        "tests/it/main.rs",
        include_str!("../templates/extension/it_main.rs.tmpl"),
    ),
];

/// The marker comments, with the file each must be in.
pub(crate) const MARKERS: &[(&str, &str)] = &[
    ("Cargo.toml", "# <new-extension-workspace-dep-marker>"),
    (
        "crates/switchboard/Cargo.toml",
        "# <new-extension-all-marker>",
    ),
    (
        "crates/switchboard/Cargo.toml",
        "# <new-extension-feature-marker>",
    ),
    (
        "crates/switchboard/Cargo.toml",
        "# <new-extension-dependency-marker>",
    ),
    (
        "crates/switchboard/src/lib.rs",
        "// <new-extension-link-marker>",
    ),
    ("crates/switchboard/src/lib.rs", "// <new-extension-marker>"),
];

/// A check that a TOML line defines `key` (`key = ...`).
fn toml_key(key: String) -> Box<dyn Fn(&str) -> bool> {
    Box::new(move |line: &str| {
        line.trim_start()
            .strip_prefix(key.as_str())
            .is_some_and(|rest| rest.trim_start().starts_with('='))
    })
}

fn insertions(n: &ExtNames) -> Vec<Insertion> {
    let (name, snake) = (n.name.clone(), n.snake.clone());
    let krate = format!("switchboard-ext-{name}");
    let all_key = format!("\"{name}\"");
    let link_key = format!("use switchboard_ext_{snake} as _;");
    let feature_key = format!("provider: \"{name}\",");
    vec![
        Insertion {
            file: MARKERS[0].0,
            marker: MARKERS[0].1,
            what: format!("workspace dependency `{krate}`"),
            lines: vec![format!(
                "{krate} = {{ path = \"extensions/{name}\", version = \"0.1.0\" }}"
            )],
            claims: toml_key(krate.clone()),
            use_path: None,
        },
        Insertion {
            file: MARKERS[1].0,
            marker: MARKERS[1].1,
            what: format!("`{name}` in feature `all-extensions`"),
            lines: vec![format!("\"{name}\",")],
            claims: Box::new(move |line: &str| line.trim_start().starts_with(all_key.as_str())),
            use_path: None,
        },
        Insertion {
            file: MARKERS[2].0,
            marker: MARKERS[2].1,
            what: format!("feature `{name}`"),
            lines: vec![format!("{name} = [\"dep:{krate}\"]")],
            claims: toml_key(name.clone()),
            use_path: None,
        },
        Insertion {
            file: MARKERS[3].0,
            marker: MARKERS[3].1,
            what: format!("optional dependency `{krate}`"),
            lines: vec![format!("{krate} = {{ workspace = true, optional = true }}")],
            claims: toml_key(krate),
            use_path: None,
        },
        Insertion {
            file: MARKERS[4].0,
            marker: MARKERS[4].1,
            what: format!("link line for `switchboard_ext_{snake}`"),
            lines: vec![
                format!("#[cfg(feature = \"{name}\")]"),
                format!("use switchboard_ext_{snake} as _;"),
            ],
            claims: Box::new(move |line: &str| line.contains(link_key.as_str())),
            // Among the other link lines, where rustfmt sorts it.
            use_path: Some(format!("switchboard_ext_{snake}")),
        },
        Insertion {
            file: MARKERS[5].0,
            marker: MARKERS[5].1,
            what: format!("`EXTENSION_FEATURES` entry `{name}`"),
            // As rustfmt writes it, so `cargo fmt --check` stays clean.
            lines: vec![
                "ProviderFeature {".into(),
                format!("    provider: \"{name}\","),
                format!("    feature: \"{name}\","),
                format!("    enabled: cfg!(feature = \"{name}\"),"),
                "},".into(),
            ],
            claims: Box::new(move |line: &str| line.contains(feature_key.as_str())),
            use_path: None,
        },
    ]
}

/// What [`generate`] did.
#[derive(Debug)]
pub(crate) struct Generated {
    pub(crate) names: ExtNames,
    /// The files created, relative to the workspace root.
    pub(crate) created: Vec<PathBuf>,
    /// Registrations inserted: (file, what).
    pub(crate) registered: Vec<(&'static str, String)>,
    /// Registrations that were already there: (file, what).
    pub(crate) already: Vec<(&'static str, String)>,
    /// Whether the Rust files went through rustfmt.
    pub(crate) formatted: bool,
}

/// Scaffolds the extension under `root` and prints what it did and what to do next.
pub(crate) fn run(root: &Path, name: &str) -> anyhow::Result<()> {
    let done = generate(root, name)?;
    let n = &done.names.name;
    println!("created the crate `switchboard-ext-{n}` (extension and feature `{n}`):");
    for file in &done.created {
        println!("  {}", file.display());
    }
    for (file, what) in &done.registered {
        println!("registered in {file}: {what}");
    }
    for (file, what) in &done.already {
        println!("already registered in {file}: {what}");
    }
    if !done.formatted {
        println!("note: rustfmt was not found; run `cargo fmt -p switchboard-ext-{n}`");
    }
    let steps = [
        format!(
            "say what it does in the doc comment of `{}` and in extensions/{n}/README.md",
            done.names.pascal
        ),
        format!(
            "replace the example hook and method in extensions/{n}/src/lib.rs, and list the hooks you implement in `#[extension(hooks(...))]` (only those are called)"
        ),
        format!("cargo test -p switchboard-ext-{n}   (conformance check and the crate's tests)"),
        format!(
            "cargo xtask schema   (writes schemas/extensions/{n}.schema.json; until then `cargo xtask schema --check` fails)"
        ),
        format!(
            "enable it: `[extensions.{n}]` with `enabled = true` in a config, and `cargo run --features {n} -- serve`"
        ),
    ];
    println!("\nnext steps (docs/extensions.md has the details):");
    for (i, step) in steps.iter().enumerate() {
        println!("  {}. {step}", i + 1);
    }
    Ok(())
}

/// Checks everything, then creates `extensions/<name>/` and registers it.
/// Nothing is written unless every check passes.
pub(crate) fn generate(root: &Path, name: &str) -> anyhow::Result<Generated> {
    let names = ExtNames::new(name)?;
    let dir_rel = PathBuf::from("extensions").join(name);
    let dir = root.join(&dir_rel);
    if fs::symlink_metadata(&dir).is_ok() {
        bail!(
            "{} already exists; new-extension never overwrites (remove it or pick another name)",
            dir_rel.display()
        );
    }
    if let Some((_, file)) = registered_names(root, "extensions", "#[extension(")?
        .into_iter()
        .find(|(n, _)| n == name)
    {
        bail!(
            "an extension named `{name}` is registered already, in {}",
            file.display()
        );
    }

    // The registration edits, all computed (and every marker checked) first.
    let mut texts: Vec<(&'static str, String, bool)> = Vec::new();
    let mut registered = Vec::new();
    let mut already = Vec::new();
    let mut problems = Vec::new();
    for ins in insertions(&names) {
        let idx = match texts.iter().position(|(f, _, _)| *f == ins.file) {
            Some(idx) => idx,
            None => {
                let path = root.join(ins.file);
                let text = fs::read_to_string(&path)
                    .with_context(|| format!("reading {}", path.display()))?;
                texts.push((ins.file, text, false));
                texts.len() - 1
            }
        };
        let (_, text, changed) = &mut texts[idx];
        match apply(text, &ins) {
            Ok(Some(new)) => {
                *text = new;
                *changed = true;
                registered.push((ins.file, ins.what));
            }
            Ok(None) => already.push((ins.file, ins.what)),
            Err(e) => {
                let mut msg = format!("{e:#}");
                if msg.contains("is missing") {
                    msg.push_str(&format!(
                        " (add a line `{}` where `cargo xtask new-extension` should insert; see docs/extensions.md)",
                        ins.marker
                    ));
                }
                problems.push(msg);
            }
        }
    }
    let manifest = texts
        .iter()
        .find(|(f, _, _)| *f == "Cargo.toml")
        .map(|(_, text, _)| text.as_str())
        .unwrap_or_default();
    if !workspace_has_extensions(manifest) {
        problems.push(
            "Cargo.toml: the workspace `members` do not include \"extensions/*\", so the new crate would not build; add it".into(),
        );
    }
    if !problems.is_empty() {
        bail!("{}", problems.join("; "));
    }

    // The crate's files, rendered (and formatted) before any is written.
    let edition = edition(manifest).to_owned();
    let vars = names.vars();
    let mut files = Vec::new();
    let mut formatted = true;
    for (rel, template) in TEMPLATES {
        let mut text = render(template, &vars).with_context(|| format!("rendering {rel}"))?;
        if rel.ends_with(".rs") {
            match rustfmt(root, &edition, &text).with_context(|| format!("formatting {rel}"))? {
                Some(f) => text = f,
                None => formatted = false,
            }
        }
        files.push((dir_rel.join(rel), text));
    }

    // `extensions/` itself may not exist yet; `extensions/<name>` must not.
    fs::create_dir_all(root.join("extensions")).context("creating extensions/")?;
    fs::create_dir(&dir).with_context(|| format!("creating {}", dir_rel.display()))?;
    let mut created = Vec::new();
    for (rel, text) in &files {
        let path = root.join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        }
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .with_context(|| format!("creating {}", rel.display()))?;
        file.write_all(text.as_bytes())
            .with_context(|| format!("writing {}", rel.display()))?;
        created.push(rel.clone());
    }
    for (file, text, changed) in &texts {
        if *changed {
            fs::write(root.join(file), text).with_context(|| format!("writing {file}"))?;
        }
    }
    Ok(Generated {
        names,
        created,
        registered,
        already,
        formatted,
    })
}

/// Whether the root manifest's `members` list `extensions/*`.
fn workspace_has_extensions(manifest: &str) -> bool {
    manifest
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("members"))
        .take_while(|l| !l.trim_start().starts_with('[') || l.contains("members"))
        .any(|l| l.contains("\"extensions/*\""))
}

#[cfg(test)]
mod tests;
