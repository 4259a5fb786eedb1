//! Key paths into the configuration tree: `providers.openai.timeout`,
//! `models.fast.targets[1].weight`.

use std::fmt;

use serde_json::Value as Json;

/// One step of a [`KeyPath`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Seg {
    /// A table key.
    Key(String),
    /// An array index.
    Index(usize),
}

/// A path from the configuration's root to one value.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct KeyPath(pub(crate) Vec<Seg>);

impl KeyPath {
    /// The root.
    pub(crate) fn root() -> Self {
        KeyPath(Vec::new())
    }

    /// `self` followed by key `k`.
    pub(crate) fn key(&self, k: &str) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Key(k.to_owned()));
        p
    }

    /// `self` followed by index `i`.
    pub(crate) fn index(&self, i: usize) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Index(i));
        p
    }

    /// `self` followed by every step of `rest`.
    pub(crate) fn join(&self, rest: &KeyPath) -> Self {
        let mut p = self.clone();
        p.0.extend(rest.0.iter().cloned());
        p
    }

    /// Whether `self` is `other` or lies inside it.
    pub(crate) fn starts_with(&self, other: &KeyPath) -> bool {
        self.0.starts_with(&other.0)
    }

    /// The path without its last step (the root stays the root).
    pub(crate) fn parent(&self) -> KeyPath {
        let mut p = self.clone();
        p.0.pop();
        p
    }

    /// Whether this is the root.
    pub(crate) fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The last key, if the path ends with one.
    pub(crate) fn last_key(&self) -> Option<&str> {
        match self.0.last() {
            Some(Seg::Key(k)) => Some(k),
            _ => None,
        }
    }

    /// Parses a path as serde_path_to_error and providers print it:
    /// `fault.kind`, `models[0].context_length`, `.` for the root.
    pub(crate) fn parse(s: &str) -> KeyPath {
        let mut segs = Vec::new();
        if s.is_empty() || s == "." {
            return KeyPath(segs);
        }
        for part in s.split('.') {
            // The key before any `[i]` suffixes.
            let key_end = part.find('[').unwrap_or(part.len());
            let (key, mut tail) = part.split_at(key_end);
            if !key.is_empty() {
                segs.push(Seg::Key(key.to_owned()));
            }
            while let Some(open) = tail.strip_prefix('[') {
                let Some(close) = open.find(']') else {
                    break;
                };
                match open[..close].parse::<usize>() {
                    Ok(i) => segs.push(Seg::Index(i)),
                    Err(_) => segs.push(Seg::Key(open[..close].to_owned())),
                }
                tail = &open[close + 1..];
            }
            if !tail.is_empty() {
                // Not a `[i]` suffix after all: keep the text as part of the key.
                segs.push(Seg::Key(tail.to_owned()));
            }
        }
        KeyPath(segs)
    }

    /// The value at this path, if it exists.
    pub(crate) fn get<'a>(&self, mut v: &'a Json) -> Option<&'a Json> {
        for seg in &self.0 {
            v = match (seg, v) {
                (Seg::Key(k), Json::Object(m)) => m.get(k)?,
                (Seg::Index(i), Json::Array(a)) => a.get(*i)?,
                _ => return None,
            };
        }
        Some(v)
    }

    /// The value at this path, mutably.
    pub(crate) fn get_mut<'a>(&self, mut v: &'a mut Json) -> Option<&'a mut Json> {
        for seg in &self.0 {
            v = match (seg, v) {
                (Seg::Key(k), Json::Object(m)) => m.get_mut(k)?,
                (Seg::Index(i), Json::Array(a)) => a.get_mut(*i)?,
                _ => return None,
            };
        }
        Some(v)
    }

    /// Removes the value at this path; false if there is nothing to remove
    /// or the path ends with an array index.
    pub(crate) fn remove(&self, root: &mut Json) -> bool {
        let Some(Seg::Key(last)) = self.0.last() else {
            return false;
        };
        match self.parent().get_mut(root) {
            Some(Json::Object(m)) => m.remove(last).is_some(),
            _ => false,
        }
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Index(n) => write!(f, "[{n}]")?,
                Seg::Key(k) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    let bare = !k.is_empty()
                        && k.chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$');
                    if bare {
                        f.write_str(k)?;
                    } else {
                        write!(f, "{k:?}")?;
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn parses_and_prints() {
        for s in [
            "fault.kind",
            "models[0].context_length",
            "a[1][2].b",
            "providers.mock",
        ] {
            assert_eq!(KeyPath::parse(s).to_string(), s);
        }
        assert!(KeyPath::parse(".").is_root());
        assert_eq!(
            KeyPath::root().key("models").key("gpt-4.1").to_string(),
            "models.\"gpt-4.1\""
        );
    }

    #[test]
    fn gets_and_removes() {
        let mut v = json!({"a": {"b": [1, {"c": 2}]}});
        let p = KeyPath::parse("a.b[1].c");
        assert_eq!(p.get(&v), Some(&json!(2)));
        assert!(p.remove(&mut v));
        assert_eq!(v, json!({"a": {"b": [1, {}]}}));
        assert!(!KeyPath::parse("a.b[0]").remove(&mut v));
        assert!(!KeyPath::parse("x.y").remove(&mut v));
    }
}
