//! `cargo xtask new-provider <name> [--display NAME] [--base-url URL] [--model ID]`:
//! scaffolds `providers/<name>/` from `xtask/templates/` and registers the
//! crate in the workspace and in the `switchboard` facade at marker comments.
//!
//! It never overwrites: every file is created with `create_new`, an existing
//! `providers/<name>` is refused, and every check (the name, conflicts with
//! existing crates, features and providers, the markers) runs before anything
//! is written. A registration line that is already there is left alone, so
//! registering twice is a no-op.

use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};

pub(crate) const USAGE: &str =
    "usage: cargo xtask new-provider <name> [--display NAME] [--base-url URL] [--model ID]

Creates providers/<name>/ (the crate switchboard-<name>) and links it into
`switchboard` as the Cargo feature <name>. Never overwrites a file.

  <name>            lowercase letters, digits and `-`, starting with a letter
  --display NAME    human-friendly name (default: from <name>: `acme-ai` -> `Acme Ai`)
  --base-url URL    default API root (default: the placeholder https://api.<name>.invalid/v1)
  --model ID        the model models() lists and the tests request (default: <name>-1)";

/// What `new-provider` was asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Options {
    pub(crate) name: String,
    pub(crate) display: Option<String>,
    pub(crate) base_url: Option<String>,
    pub(crate) model: Option<String>,
}

/// A parsed command line.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Invocation {
    Help,
    Run(Options),
}

/// A command line that does not parse (exit code 2, with the usage).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct UsageError(pub(crate) String);

/// Parses the arguments after `new-provider`.
pub(crate) fn parse_args(args: &[&str]) -> Result<Invocation, UsageError> {
    let mut opts = Options::default();
    let mut name: Option<&str> = None;
    let mut it = args.iter().copied();
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag, Some(value)),
            _ => (arg, None),
        };
        let slot = match flag {
            "-h" | "--help" => return Ok(Invocation::Help),
            "--display" => &mut opts.display,
            "--base-url" => &mut opts.base_url,
            "--model" => &mut opts.model,
            _ if flag.starts_with('-') => {
                return Err(UsageError(format!("unknown option `{flag}`")));
            }
            _ => {
                if let Some(first) = name {
                    return Err(UsageError(format!(
                        "unexpected argument `{arg}` (the provider name is already `{first}`)"
                    )));
                }
                name = Some(arg);
                continue;
            }
        };
        let Some(value) = inline.or_else(|| it.next()) else {
            return Err(UsageError(format!("`{flag}` needs a value")));
        };
        if slot.is_some() {
            return Err(UsageError(format!("`{flag}` is given twice")));
        }
        *slot = Some(value.to_owned());
    }
    let Some(name) = name else {
        return Err(UsageError("missing the provider name".into()));
    };
    opts.name = name.to_owned();
    Ok(Invocation::Run(opts))
}

/// Scaffolds the provider under `root` and prints what it did and what to do next.
pub(crate) fn run(root: &Path, opts: &Options) -> anyhow::Result<()> {
    let done = generate(root, opts)?;
    let n = &done.names.name;
    let dir = format!("providers/{n}");
    println!("created the crate `switchboard-{n}` (provider and feature `{n}`):");
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
        println!("note: rustfmt was not found; run `cargo fmt -p switchboard-{n}`");
    }
    let mut steps = Vec::new();
    if opts.base_url.is_none() {
        steps.push(format!(
            "set the real API root: `DEFAULT_BASE_URL` in {dir}/src/lib.rs (and README.md) is the placeholder `{}`",
            done.names.base_url
        ));
    }
    steps.extend([
        format!(
            "implement `chat` and `chat_stream` in {dir}/src/lib.rs (every TODO), and say what the provider is in its doc comment and README.md"
        ),
        format!(
            "record real upstream bodies into {dir}/tests/data/, each with its source in tests/data/README.md, and replace the placeholders in {dir}/tests/conformance.rs"
        ),
        "declare each capability in `#[provider(capabilities(...))]` once it works (the conformance cases follow them)".into(),
        format!("cargo test -p switchboard-{n}   (the conformance cases fail until the steps above are done)"),
        format!(
            "cargo xtask schema   (writes schemas/providers/{n}.schema.json; until then `cargo xtask schema --check` fails)"
        ),
        format!("cargo run --features {n} -- providers"),
    ]);
    println!("\nnext steps:");
    for (i, step) in steps.iter().enumerate() {
        println!("  {}. {step}", i + 1);
    }
    Ok(())
}

/// What [`generate`] did.
#[derive(Debug)]
pub(crate) struct Generated {
    pub(crate) names: Names,
    /// The files created, relative to the workspace root.
    pub(crate) created: Vec<PathBuf>,
    /// Registrations inserted: (file, what).
    pub(crate) registered: Vec<(&'static str, String)>,
    /// Registrations that were already there: (file, what).
    pub(crate) already: Vec<(&'static str, String)>,
    /// Whether the Rust files went through rustfmt.
    pub(crate) formatted: bool,
}

/// Every spelling of the provider's name, and the other template values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Names {
    /// `acme-ai`: the provider name, feature and `providers/` directory.
    pub(crate) name: String,
    /// `acme_ai`: the crate's Rust name and the facade module.
    pub(crate) snake: String,
    /// `AcmeAi`: the prefix of the type names.
    pub(crate) pascal: String,
    /// `ACME_AI`: the prefix of the API key's environment variable.
    pub(crate) upper: String,
    pub(crate) display: String,
    pub(crate) base_url: String,
    pub(crate) model: String,
}

/// Words `pub use switchboard_x as x;` cannot use as `x`.
pub(crate) const RUST_KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "static", "struct", "super", "trait", "true", "try", "type", "typeof",
    "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

impl Names {
    /// Checks the options and derives every spelling.
    pub(crate) fn new(opts: &Options) -> anyhow::Result<Names> {
        let name = opts.name.as_str();
        // The rule `#[provider]` enforces (switchboard-macros `args.rs`).
        let valid = !name.is_empty()
            && name.len() <= 64
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !valid {
            bail!(
                "invalid provider name `{name}`: it must start with a lowercase letter and contain only lowercase letters, digits and `-` (at most 64), as #[provider] requires"
            );
        }
        let snake = name.replace('-', "_");
        if RUST_KEYWORDS.contains(&snake.as_str()) {
            bail!(
                "invalid provider name `{name}`: `{snake}` is a Rust keyword, and the facade re-exports the crate as `switchboard::{snake}`"
            );
        }
        let words: Vec<&str> = name.split('-').filter(|w| !w.is_empty()).collect();
        let pascal: String = words.iter().map(|w| capitalized(w)).collect();
        let display = match &opts.display {
            Some(d) => checked_text("--display", d.trim(), false)?.to_owned(),
            None => words
                .iter()
                .map(|w| capitalized(w))
                .collect::<Vec<_>>()
                .join(" "),
        };
        let base_url = match &opts.base_url {
            Some(url) => {
                let url = checked_text("--base-url", url.trim(), true)?;
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    bail!("invalid --base-url `{url}`: it must start with https:// or http://");
                }
                url.to_owned()
            }
            None => format!("https://api.{name}.invalid/v1"),
        };
        let model = match &opts.model {
            Some(m) => checked_text("--model", m.trim(), true)?.to_owned(),
            None => format!("{name}-1"),
        };
        Ok(Names {
            name: name.to_owned(),
            upper: snake.to_ascii_uppercase(),
            snake,
            pascal,
            display,
            base_url,
            model,
        })
    }

    /// The template placeholders and their values.
    fn vars(&self) -> [(&'static str, &str); 7] {
        [
            ("name", &self.name),
            ("name_snake", &self.snake),
            ("Pascal", &self.pascal),
            ("NAME_UPPER", &self.upper),
            ("display", &self.display),
            ("base_url", &self.base_url),
            ("model", &self.model),
        ]
    }
}

pub(crate) fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// `value`, if it can go into a Rust or TOML string literal as is.
pub(crate) fn checked_text<'a>(
    flag: &str,
    value: &'a str,
    no_spaces: bool,
) -> anyhow::Result<&'a str> {
    if value.is_empty() {
        bail!("invalid {flag}: it must not be empty");
    }
    if let Some(c) = value
        .chars()
        .find(|&c| c == '"' || c == '\\' || c.is_control() || (no_spaces && c.is_whitespace()))
    {
        bail!("invalid {flag} `{value}`: it must not contain {c:?}");
    }
    Ok(value)
}

/// The files of a new provider crate, relative to `providers/<name>/`.
const TEMPLATES: &[(&str, &str)] = &[
    ("Cargo.toml", include_str!("../templates/Cargo.toml.tmpl")),
    ("README.md", include_str!("../templates/README.md.tmpl")),
    ("src/lib.rs", include_str!("../templates/lib.rs.tmpl")),
    (
        "tests/conformance.rs",
        include_str!("../templates/conformance.rs.tmpl"),
    ),
    (
        "tests/data/README.md",
        include_str!("../templates/data_README.md.tmpl"),
    ),
];

/// Replaces every `{{key}}` in `template` in one pass (values are never
/// expanded again). A `{` right before a placeholder stays: `${{{NAME_UPPER}}_KEY}`
/// becomes `${ACME_KEY}`.
pub(crate) fn render(template: &str, vars: &[(&str, &str)]) -> anyhow::Result<String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        if rest[start + 2..].starts_with('{') {
            out.push_str(&rest[..=start]);
            rest = &rest[start + 1..];
            continue;
        }
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .context("a template has an unclosed `{{`")?;
        let key = &after[..end];
        let Some((_, value)) = vars.iter().find(|(k, _)| *k == key) else {
            bail!("a template uses the unknown placeholder `{key}`");
        };
        out.push_str(value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// One registration line (or block) to insert above a marker comment.
pub(crate) struct Insertion {
    /// The file, relative to the workspace root.
    pub(crate) file: &'static str,
    pub(crate) marker: &'static str,
    /// What it registers, for the report.
    pub(crate) what: String,
    /// The lines, indented relative to the marker.
    pub(crate) lines: Vec<String>,
    /// Whether a line registers this name already (in some other form when
    /// the block itself is not there: a conflict).
    pub(crate) claims: Box<dyn Fn(&str) -> bool>,
    /// For the facade's `pub use` lines, which rustfmt keeps sorted: the
    /// path, so the block goes into the run of `pub use` items above the
    /// marker where rustfmt would put it (else `cargo fmt --check` fails).
    pub(crate) use_path: Option<String>,
}

fn insertions(n: &Names) -> Vec<Insertion> {
    let (name, snake) = (n.name.clone(), n.snake.clone());
    let dep_key = format!("switchboard-{name}");
    let dep_key2 = dep_key.clone();
    let feature_key = name.clone();
    let all_key = format!("\"{name}\"");
    let use_key = format!(" as {snake};");
    let provider_key = format!("provider: \"{name}\"");
    let toml_key = |key: String| -> Box<dyn Fn(&str) -> bool> {
        Box::new(move |line: &str| {
            line.trim_start()
                .strip_prefix(key.as_str())
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
    };
    vec![
        Insertion {
            file: "Cargo.toml",
            marker: "# <new-provider-workspace-dep-marker>",
            what: format!("workspace dependency `switchboard-{name}`"),
            lines: vec![format!(
                "switchboard-{name} = {{ path = \"providers/{name}\", version = \"0.1.0\" }}"
            )],
            claims: toml_key(dep_key),
            use_path: None,
        },
        Insertion {
            file: "crates/switchboard/Cargo.toml",
            marker: "# <new-provider-all-marker>",
            what: format!("`{name}` in feature `all-providers`"),
            lines: vec![format!("\"{name}\",")],
            claims: Box::new(move |line: &str| line.trim_start().starts_with(all_key.as_str())),
            use_path: None,
        },
        Insertion {
            file: "crates/switchboard/Cargo.toml",
            marker: "# <new-provider-feature-marker>",
            what: format!("feature `{name}`"),
            lines: vec![format!("{name} = [\"dep:switchboard-{name}\"]")],
            claims: toml_key(feature_key),
            use_path: None,
        },
        Insertion {
            file: "crates/switchboard/Cargo.toml",
            marker: "# <new-provider-dependency-marker>",
            what: format!("optional dependency `switchboard-{name}`"),
            lines: vec![format!(
                "switchboard-{name} = {{ workspace = true, optional = true }}"
            )],
            claims: toml_key(dep_key2),
            use_path: None,
        },
        Insertion {
            file: "crates/switchboard/src/lib.rs",
            marker: "// <new-provider-use-marker>",
            what: format!("re-export `switchboard::{snake}`"),
            lines: vec![
                format!("#[cfg(feature = \"{name}\")]"),
                format!("#[cfg_attr(docsrs, doc(cfg(feature = \"{name}\")))]"),
                format!("pub use switchboard_{snake} as {snake};"),
            ],
            claims: Box::new(move |line: &str| line.contains(use_key.as_str())),
            use_path: Some(format!("switchboard_{snake}")),
        },
        Insertion {
            file: "crates/switchboard/src/lib.rs",
            marker: "// <new-provider-marker>",
            what: format!("`PROVIDER_FEATURES` entry `{name}`"),
            // As rustfmt writes it, so `cargo fmt --check` stays clean.
            lines: vec![
                "ProviderFeature {".into(),
                format!("    provider: \"{name}\","),
                format!("    feature: \"{name}\","),
                format!("    enabled: cfg!(feature = \"{name}\"),"),
                "},".into(),
            ],
            claims: Box::new(move |line: &str| line.contains(provider_key.as_str())),
            use_path: None,
        },
    ]
}

/// `text` with `ins` applied above its marker, or `None` when the block is
/// already there. Fails on a missing or repeated marker and on a conflicting
/// registration.
pub(crate) fn apply(text: &str, ins: &Insertion) -> anyhow::Result<Option<String>> {
    let lines: Vec<&str> = text.lines().collect();
    let at: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].contains(ins.marker))
        .collect();
    let [at] = at[..] else {
        if at.is_empty() {
            bail!("{}: the marker `{}` is missing", ins.file, ins.marker);
        }
        bail!(
            "{}: the marker `{}` appears {} times (expected once)",
            ins.file,
            ins.marker,
            at.len()
        );
    };
    let indent: String = lines[at]
        .chars()
        .take_while(|c| c.is_whitespace())
        .collect();
    let block: Vec<String> = ins.lines.iter().map(|l| format!("{indent}{l}")).collect();
    if lines.windows(block.len()).any(|w| w == block.as_slice()) {
        return Ok(None);
    }
    if let Some(line) = lines.iter().find(|l| (ins.claims)(l)) {
        bail!(
            "{}: {} exists already, as `{}` (remove it or pick another name)",
            ins.file,
            ins.what,
            line.trim()
        );
    }
    let at = match &ins.use_path {
        Some(path) => sorted_use_position(&lines, at, path),
        None => at,
    };
    let mut out = String::with_capacity(text.len() + 256);
    for (i, line) in lines.iter().enumerate() {
        if i == at {
            for b in &block {
                out.push_str(b);
                out.push('\n');
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    if !text.ends_with('\n') {
        out.pop();
    }
    Ok(Some(out))
}

/// The path of a `pub use <path> as <name>;` (or `use <path> as _;`) line.
fn use_path(line: &str) -> Option<&str> {
    let line = line.trim_start();
    line.strip_prefix("pub use ")
        .or_else(|| line.strip_prefix("use "))?
        .split([' ', ';'])
        .next()
}

/// Where a `pub use path` item goes in the run of `#[...]` and `pub use`
/// lines that ends at the marker line `marker`: before the first item whose
/// path sorts after `path` (rustfmt's version order), else above the marker.
fn sorted_use_position(lines: &[&str], marker: usize, path: &str) -> usize {
    let attribute = |i: usize| lines[i].trim_start().starts_with("#[");
    let mut start = marker;
    while start > 0 && (attribute(start - 1) || use_path(lines[start - 1]).is_some()) {
        start -= 1;
    }
    let later =
        (start..marker).find(|&i| use_path(lines[i]).is_some_and(|p| version_cmp(p, path).is_gt()));
    let Some(mut item) = later else {
        return marker;
    };
    while item > start && attribute(item - 1) {
        item -= 1;
    }
    item
}

/// rustfmt's "version sort" of paths, as far as crate names need it: runs of
/// digits compare as numbers, everything else byte by byte (`_` before letters).
fn version_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    fn runs(s: &str) -> Vec<&str> {
        let mut runs = Vec::new();
        let mut start = 0;
        for (i, c) in s.char_indices().skip(1) {
            let prev = s[..i]
                .chars()
                .next_back()
                .is_some_and(|p| p.is_ascii_digit());
            if prev != c.is_ascii_digit() {
                runs.push(&s[start..i]);
                start = i;
            }
        }
        runs.push(&s[start..]);
        runs
    }
    for (x, y) in runs(a).into_iter().zip(runs(b)) {
        let digits = |r: &str| r.starts_with(|c: char| c.is_ascii_digit());
        let ord = if digits(x) && digits(y) {
            let (x, y) = (x.trim_start_matches('0'), y.trim_start_matches('0'));
            x.len().cmp(&y.len()).then_with(|| x.cmp(y))
        } else {
            x.cmp(y)
        };
        if ord.is_ne() {
            return ord;
        }
    }
    a.len().cmp(&b.len())
}

/// The names of the providers registered with `#[provider(name = "...")]`
/// anywhere under `providers/*/src`, with the file.
fn registered_providers(root: &Path) -> anyhow::Result<Vec<(String, PathBuf)>> {
    registered_names(root, "providers", "#[provider(")
}

/// The names registered with `<attr> name = "...", ...)]` (`attr` is
/// `#[provider(` or `#[extension(`) anywhere under `<dir>/*/src`, with the file.
pub(crate) fn registered_names(
    root: &Path,
    dir: &str,
    attr: &str,
) -> anyhow::Result<Vec<(String, PathBuf)>> {
    let mut found = Vec::new();
    let mut stack = Vec::new();
    if let Ok(entries) = fs::read_dir(root.join(dir)) {
        for entry in entries {
            stack.push(entry?.path().join("src"));
        }
    }
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            for entry in fs::read_dir(&path)? {
                stack.push(entry?.path());
            }
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text =
            fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        for (start, _) in text.match_indices(attr) {
            let attr = &text[start..];
            let attr = &attr[..attr.find("]\n").unwrap_or(attr.len())];
            // `name = "..."`, not `display_name = "..."`.
            for (i, _) in attr.match_indices("name") {
                let before = attr[..i].chars().next_back();
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    continue;
                }
                let rest = attr[i + 4..].trim_start();
                if let Some(rest) = rest.strip_prefix('=')
                    && let Some(rest) = rest.trim_start().strip_prefix('"')
                    && let Some(end) = rest.find('"')
                {
                    let rel = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
                    found.push((rest[..end].to_owned(), rel));
                    break;
                }
            }
        }
    }
    Ok(found)
}

/// The workspace's Rust edition, for rustfmt.
pub(crate) fn edition(root_manifest: &str) -> &str {
    root_manifest
        .lines()
        .find_map(|l| l.trim().strip_prefix("edition = \""))
        .and_then(|rest| rest.split('"').next())
        .unwrap_or("2024")
}

/// `source` as rustfmt formats it, `Ok(None)` if there is no rustfmt.
pub(crate) fn rustfmt(root: &Path, edition: &str, source: &str) -> anyhow::Result<Option<String>> {
    let child = Command::new("rustfmt")
        .args(["--edition", edition, "--emit", "stdout"])
        .current_dir(root)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        return Ok(None);
    };
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(source.as_bytes())?;
    }
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!(
            "rustfmt rejects the generated code (a template bug): {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(Some(String::from_utf8(out.stdout)?))
}

/// Checks everything, then creates `providers/<name>/` and registers it.
/// Nothing is written unless every check passes.
pub(crate) fn generate(root: &Path, opts: &Options) -> anyhow::Result<Generated> {
    let names = Names::new(opts)?;
    let name = &names.name;
    let dir_rel = PathBuf::from("providers").join(name);
    let dir = root.join(&dir_rel);
    if fs::symlink_metadata(&dir).is_ok() {
        bail!(
            "{} already exists; new-provider never overwrites (remove it or pick another name)",
            dir_rel.display()
        );
    }
    if let Some((_, file)) = registered_providers(root)?
        .into_iter()
        .find(|(n, _)| n == name)
    {
        bail!(
            "a provider named `{name}` is registered already, in {}",
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
            Err(e) => problems.push(format!("{e:#}")),
        }
    }
    if !problems.is_empty() {
        bail!("{}", problems.join("; "));
    }

    // The crate's files, rendered (and formatted) before any is written.
    let edition = texts
        .iter()
        .find(|(f, _, _)| *f == "Cargo.toml")
        .map_or("2024", |(_, text, _)| edition(text))
        .to_owned();
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

    // Writing: the directory must not exist (checked again by create_dir),
    // and no file is ever overwritten.
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

#[cfg(test)]
pub(crate) mod tests;
