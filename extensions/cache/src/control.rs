//! The client's `Cache-Control` request directives, as HTTP caches read them
//! (RFC 9111 §5.2.1): `no-store` keeps the exchange out of the cache
//! entirely (neither read nor written); `no-cache` forbids answering from
//! the cache without going to the origin, so the cache does not read, but
//! it may store the fresh answer (replacing the old entry). `Pragma:
//! no-cache` counts as `no-cache` when no `Cache-Control` header is sent
//! (RFC 9111 §5.4).

use switchboard_core::extension::RequestContext;

/// What the client allows the cache to do with this request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Directive {
    /// Read and write.
    Normal,
    /// Don't answer from the cache; the fresh answer may be stored.
    NoCache,
    /// Neither read nor write.
    NoStore,
}

/// Whether directive `name` (lowercase) is among the comma-separated
/// directives of `value` (names compare case-insensitively; arguments after
/// `=` are ignored).
fn has_directive(value: &str, name: &str) -> bool {
    value.split(',').any(|d| {
        let d = d.split_once('=').map_or(d, |(n, _)| n);
        d.trim().eq_ignore_ascii_case(name)
    })
}

/// The directive of a request, from all its `cache-control` headers (or
/// `pragma` when there is none).
pub fn directive(ctx: &RequestContext) -> Directive {
    let mut cache_control = ctx
        .headers
        .iter()
        .filter(|(n, _)| n == "cache-control")
        .map(|(_, v)| v.as_str())
        .peekable();
    let (mut no_store, mut no_cache) = (false, false);
    if cache_control.peek().is_some() {
        for value in cache_control {
            no_store |= has_directive(value, "no-store");
            no_cache |= has_directive(value, "no-cache");
        }
    } else if let Some(pragma) = ctx.header("pragma") {
        no_cache = has_directive(pragma, "no-cache");
    }
    if no_store {
        Directive::NoStore
    } else if no_cache {
        Directive::NoCache
    } else {
        Directive::Normal
    }
}

#[cfg(test)]
mod tests {
    use switchboard_core::extension::InboundApi;

    use super::*;

    fn of(headers: &[(&str, &str)]) -> Directive {
        let mut ctx = RequestContext::new("r", InboundApi::OpenAi);
        ctx.headers = headers
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect();
        directive(&ctx)
    }

    #[test]
    fn directives_are_read_like_an_http_cache() {
        assert_eq!(of(&[]), Directive::Normal);
        assert_eq!(of(&[("cache-control", "max-age=60")]), Directive::Normal);
        assert_eq!(of(&[("cache-control", "No-Cache")]), Directive::NoCache);
        assert_eq!(
            of(&[("cache-control", "max-age=0, no-store")]),
            Directive::NoStore
        );
        assert_eq!(
            of(&[("cache-control", "no-cache"), ("cache-control", "no-store")]),
            Directive::NoStore,
            "every cache-control header counts"
        );
        assert_eq!(
            of(&[("cache-control", "no-cache=\"set-cookie\"")]),
            Directive::NoCache
        );
        assert_eq!(of(&[("cache-control", "no-stored")]), Directive::Normal);
        assert_eq!(of(&[("pragma", "no-cache")]), Directive::NoCache);
        assert_eq!(
            of(&[("pragma", "no-cache"), ("cache-control", "max-age=5")]),
            Directive::Normal,
            "pragma only counts without cache-control"
        );
    }
}
