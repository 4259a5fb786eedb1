#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

/// The `Content-Security-Policy` of every console answer: scripts, styles,
/// images and API calls from the gateway itself only; no inline scripts or
/// styles, no `eval`, no frames, no forms posting elsewhere.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; \
     manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The `Cache-Control` of every asset: the file names carry no hash, so a
/// browser keeps a copy but asks again (`If-None-Match`) before using it; an
/// unchanged asset costs a 304.
pub const CACHE_CONTROL: &str = "no-cache";

/// One embedded file of the console.
#[derive(Debug, Clone, Copy)]
pub struct Asset {
    /// The path under `/ui/` (`index.html`, `js/app.js`).
    pub path: &'static str,
    /// The file's bytes, as built into the binary.
    pub body: &'static [u8],
    /// The `Content-Type` to serve it with.
    pub content_type: &'static str,
    hash: u64,
}

impl Asset {
    /// The strong `ETag` of the file: a hash of its bytes, quoted.
    pub fn etag(&self) -> String {
        format!("\"{:016x}\"", self.hash)
    }

    /// Whether an `If-None-Match` header value names this file's ETag (or `*`).
    pub fn matches(&self, if_none_match: &str) -> bool {
        let etag = self.etag();
        if_none_match
            .split(',')
            .map(|t| t.trim().trim_start_matches("W/"))
            .any(|t| t == "*" || t == etag)
    }
}

/// FNV-1a (64 bits), computed at compile time for the ETags.
const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    hash
}

/// The content type of a file name's extension.
const HTML: &str = "text/html; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const SVG: &str = "image/svg+xml";

macro_rules! assets {
    ($($path:literal => $type:expr),* $(,)?) => {
        &[$(Asset {
            path: $path,
            body: include_bytes!(concat!("../assets/", $path)),
            content_type: $type,
            hash: fnv1a(include_bytes!(concat!("../assets/", $path))),
        }),*]
    };
}

/// Every file of the console. A new file is listed here (and nowhere else).
static ASSETS: &[Asset] = assets![
    "index.html" => HTML,
    "style.css" => CSS,
    "favicon.svg" => SVG,
    "js/app.js" => JS,
    "js/api.js" => JS,
    "js/dom.js" => JS,
    "js/metrics.js" => JS,
    "js/overview.js" => JS,
    "js/plugin.js" => JS,
    "js/schema-form.js" => JS,
    "js/keys.js" => JS,
    "js/usage.js" => JS,
    "js/playground.js" => JS,
    "js/chat-stream.js" => JS,
    "js/snippets.js" => JS,
    "js/functions.js" => JS,
];

/// Every embedded file.
pub fn assets() -> &'static [Asset] {
    ASSETS
}

/// The file at `path` under `/ui/` (`""` or `/` is `index.html`), or `None`
/// for anything else. Lookup is by exact name in the embedded table, so no
/// path reaches the file system; `..`, `.`, empty segments and backslashes
/// are refused outright all the same.
pub fn asset(path: &str) -> Option<&'static Asset> {
    let path = path.strip_prefix('/').unwrap_or(path);
    if path.is_empty() {
        return ASSETS.iter().find(|a| a.path == "index.html");
    }
    if path.contains('\\')
        || path.contains('\0')
        || path
            .split('/')
            .any(|segment| segment.is_empty() || segment == "." || segment == "..")
    {
        return None;
    }
    ASSETS.iter().find(|a| a.path == path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_is_served_for_the_root() {
        for root in ["", "/"] {
            let index = asset(root).map(|a| a.path);
            assert_eq!(index, Some("index.html"));
        }
        assert!(asset("js/app.js").is_some_and(|a| a.content_type == JS));
    }

    #[test]
    fn traversal_and_unknown_paths_are_refused() {
        for bad in [
            "../Cargo.toml",
            "js/../index.html",
            "./index.html",
            "js//app.js",
            "js\\app.js",
            "nope.js",
            "src/lib.rs",
        ] {
            assert!(asset(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn etags_differ_and_match() {
        let index = asset("index.html").map(Asset::etag);
        let css = asset("style.css").map(Asset::etag);
        assert_ne!(index, css);
        let a = asset("style.css").expect("style.css");
        assert!(a.matches(&a.etag()));
        assert!(a.matches(&format!("\"x\", W/{}", a.etag())));
        assert!(!a.matches("\"0\""));
    }

    #[test]
    fn html_has_no_inline_script() {
        let index = std::str::from_utf8(asset("index.html").expect("index").body).expect("utf-8");
        for tag in index.split("<script").skip(1) {
            assert!(tag.contains("src="), "inline script in index.html: {tag}");
        }
        assert!(!index.contains("style="), "inline style in index.html");
    }

    #[test]
    fn js_never_writes_html_from_data() {
        for a in assets().iter().filter(|a| a.content_type == JS) {
            let text = std::str::from_utf8(a.body).expect("utf-8");
            assert!(!text.contains("innerHTML"), "{} uses innerHTML", a.path);
            assert!(!text.contains("outerHTML"), "{} uses outerHTML", a.path);
            assert!(
                !text.contains("insertAdjacentHTML"),
                "{} uses insertAdjacentHTML",
                a.path
            );
            assert!(!text.contains("eval("), "{} uses eval", a.path);
        }
    }
}
