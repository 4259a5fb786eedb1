//! [`Scrubber`]: the one place that removes an instance's secrets from the
//! errors it reports.

use std::sync::Arc;

use crate::{Error, Secret};

/// Secrets shorter than this are not scrubbed: replacing every occurrence
/// of a two-letter "key" would mangle messages, and it would reveal nothing.
const MIN_SCRUBBED_LEN: usize = 4;

/// The secret values of one provider instance (API keys, credential header
/// values), removed by value from every error message it reports. An
/// upstream may echo a key back ("Incorrect API key provided: sk-..."), and a
/// transport error may quote a header.
#[derive(Clone, Default)]
pub struct Scrubber {
    secrets: Arc<[String]>,
}

impl std::fmt::Debug for Scrubber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Scrubber({} secrets)", self.secrets.len())
    }
}

impl Scrubber {
    /// A scrubber for `secrets`; empty and very short values are skipped.
    pub fn new<I, S>(secrets: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut list: Vec<String> = secrets
            .into_iter()
            .map(|s| s.as_ref().to_owned())
            .filter(|s| s.len() >= MIN_SCRUBBED_LEN)
            .collect();
        // Longest first, so a secret that contains another is replaced whole.
        list.sort_by_key(|s| std::cmp::Reverse(s.len()));
        list.dedup();
        Scrubber {
            secrets: list.into(),
        }
    }

    /// Whether there is nothing to scrub.
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// `text` with every secret replaced by [`Secret::REDACTED`].
    pub fn text(&self, text: &str) -> Option<String> {
        let mut out: Option<String> = None;
        for secret in self.secrets.iter() {
            let current = out.as_deref().unwrap_or(text);
            if current.contains(secret.as_str()) {
                out = Some(current.replace(secret.as_str(), Secret::REDACTED));
            }
        }
        out
    }

    /// `body` with every secret replaced, before anything reads it (an error
    /// body that echoes a key and is then cut short for a message would
    /// otherwise leave part of the key in it).
    pub fn bytes<'a>(&self, body: &'a [u8]) -> std::borrow::Cow<'a, [u8]> {
        use std::borrow::Cow;
        let mut out: Cow<'a, [u8]> = Cow::Borrowed(body);
        for secret in self.secrets.iter() {
            let needle = secret.as_bytes();
            if memchr::memmem::find(&out, needle).is_none() {
                continue;
            }
            let mut replaced = Vec::with_capacity(out.len());
            let mut rest: &[u8] = &out;
            while let Some(at) = memchr::memmem::find(rest, needle) {
                replaced.extend_from_slice(&rest[..at]);
                replaced.extend_from_slice(Secret::REDACTED.as_bytes());
                rest = &rest[at + needle.len()..];
            }
            replaced.extend_from_slice(rest);
            out = Cow::Owned(replaced);
        }
        out
    }

    /// `err` with every secret removed from its message (its source is
    /// dropped when the message had one: the source may quote it too).
    pub fn error(&self, err: Error) -> Error {
        match self.text(err.message()) {
            Some(message) => err.with_message(message),
            None => err,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn secrets_are_removed_by_value_and_the_rest_is_kept() {
        let s = Scrubber::new(["sk-secret-1", "", "ab", "sk-secret-12"]);
        let err = Error::auth("Incorrect API key provided: sk-secret-12 and sk-secret-1.")
            .with_param("api_key")
            .with_instance("up");
        let err = s.error(err);
        assert_eq!(err.message(), "Incorrect API key provided: *** and ***.");
        assert_eq!(err.kind(), &ErrorKind::Auth);
        assert_eq!(err.param(), Some("api_key"));
        assert_eq!(err.instance(), Some("up"));
        assert_eq!(
            &*s.bytes(b"{\"message\": \"bad key sk-secret-12, sk-secret-1\"}"),
            b"{\"message\": \"bad key ***, ***\"}"
        );
        // Short values are not scrubbed.
        assert_eq!(s.text("ab cd"), None);
    }
}
