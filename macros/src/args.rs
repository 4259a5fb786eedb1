//! Parsing and validating the attribute's arguments into a small model.

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Ident, LitStr, Token, Type};

mod kw {
    syn::custom_keyword!(name);
    syn::custom_keyword!(display_name);
    syn::custom_keyword!(config);
    syn::custom_keyword!(capabilities);
    syn::custom_keyword!(version);
    syn::custom_keyword!(author);
    syn::custom_keyword!(homepage);
}

/// Capability names `capabilities(...)` accepts; the fields of
/// `switchboard_core::Capabilities` (a core test checks they agree).
pub(crate) const CAPABILITIES: &[&str] = &[
    "streaming",
    "tools",
    "vision",
    "embeddings",
    "json_schema",
    "reasoning",
];

/// The validated arguments of one `#[provider(...)]`.
pub(crate) struct ProviderArgs {
    pub(crate) name: LitStr,
    pub(crate) display_name: Option<LitStr>,
    pub(crate) config: Type,
    pub(crate) capabilities: Vec<Ident>,
    pub(crate) version: Option<LitStr>,
    pub(crate) author: Option<LitStr>,
    pub(crate) homepage: Option<LitStr>,
}

/// One `key = value` or `capabilities(...)` as written.
enum Arg {
    Name(kw::name, LitStr),
    DisplayName(kw::display_name, LitStr),
    Config(kw::config, Box<Type>),
    Capabilities(kw::capabilities, Punctuated<Ident, Token![,]>),
    Version(kw::version, LitStr),
    Author(kw::author, LitStr),
    Homepage(kw::homepage, LitStr),
}

impl Parse for Arg {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let la = input.lookahead1();
        if la.peek(kw::name) {
            let k = input.parse()?;
            input.parse::<Token![=]>()?;
            Ok(Arg::Name(k, input.parse()?))
        } else if la.peek(kw::display_name) {
            let k = input.parse()?;
            input.parse::<Token![=]>()?;
            Ok(Arg::DisplayName(k, input.parse()?))
        } else if la.peek(kw::config) {
            let k = input.parse()?;
            input.parse::<Token![=]>()?;
            Ok(Arg::Config(k, Box::new(input.parse()?)))
        } else if la.peek(kw::capabilities) {
            let k = input.parse()?;
            let content;
            syn::parenthesized!(content in input);
            Ok(Arg::Capabilities(
                k,
                content.parse_terminated(Ident::parse, Token![,])?,
            ))
        } else if la.peek(kw::version) {
            let k = input.parse()?;
            input.parse::<Token![=]>()?;
            Ok(Arg::Version(k, input.parse()?))
        } else if la.peek(kw::author) {
            let k = input.parse()?;
            input.parse::<Token![=]>()?;
            Ok(Arg::Author(k, input.parse()?))
        } else if la.peek(kw::homepage) {
            let k = input.parse()?;
            input.parse::<Token![=]>()?;
            Ok(Arg::Homepage(k, input.parse()?))
        } else {
            Err(la.error())
        }
    }
}

/// Collects several errors so they are reported together (serde's `Ctxt`).
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    pub(crate) fn push(&mut self, err: syn::Error) {
        match &mut self.0 {
            Some(e) => e.combine(err),
            None => self.0 = Some(err),
        }
    }

    pub(crate) fn finish(self) -> Result<(), syn::Error> {
        self.0.map_or(Ok(()), Err)
    }
}

fn set_once<T>(slot: &mut Option<T>, value: T, key: &str, span: Span, errors: &mut Errors) {
    if slot.is_some() {
        errors.push(syn::Error::new(
            span,
            format!("expected only a single `{key}` argument"),
        ));
    } else {
        *slot = Some(value);
    }
}

impl ProviderArgs {
    /// Parses the attribute's token stream, reporting every problem at once.
    pub(crate) fn parse(tokens: proc_macro2::TokenStream) -> Result<Self, syn::Error> {
        let parsed =
            syn::parse::Parser::parse2(Punctuated::<Arg, Token![,]>::parse_terminated, tokens)?;
        let mut errors = Errors::default();
        let mut name = None;
        let mut display_name = None;
        let mut config = None;
        let mut capabilities: Option<Vec<Ident>> = None;
        let mut version = None;
        let mut author = None;
        let mut homepage = None;
        for arg in parsed {
            match arg {
                Arg::Name(k, v) => set_once(&mut name, v, "name", k.span, &mut errors),
                Arg::DisplayName(k, v) => {
                    set_once(&mut display_name, v, "display_name", k.span, &mut errors)
                }
                Arg::Config(k, v) => set_once(&mut config, *v, "config", k.span, &mut errors),
                Arg::Capabilities(k, list) => {
                    let mut seen: Vec<Ident> = Vec::new();
                    for cap in list {
                        let s = cap.to_string();
                        if !CAPABILITIES.contains(&s.as_str()) {
                            errors.push(syn::Error::new(
                                cap.span(),
                                format!(
                                    "unknown capability `{s}`; expected one of: {}",
                                    CAPABILITIES.join(", ")
                                ),
                            ));
                        } else if seen.iter().any(|c| c == &cap) {
                            errors.push(syn::Error::new(
                                cap.span(),
                                format!("capability `{s}` is listed twice"),
                            ));
                        } else {
                            seen.push(cap);
                        }
                    }
                    set_once(&mut capabilities, seen, "capabilities", k.span, &mut errors);
                }
                Arg::Version(k, v) => set_once(&mut version, v, "version", k.span, &mut errors),
                Arg::Author(k, v) => set_once(&mut author, v, "author", k.span, &mut errors),
                Arg::Homepage(k, v) => set_once(&mut homepage, v, "homepage", k.span, &mut errors),
            }
        }
        if let Some(n) = &name {
            let value = n.value();
            let valid = !value.is_empty()
                && value.len() <= 64
                && value.starts_with(|c: char| c.is_ascii_lowercase())
                && value
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !valid {
                errors.push(syn::Error::new(
                    n.span(),
                    "provider `name` must start with a lowercase letter and contain only \
                     lowercase letters, digits and `-` (it is the `kind` in config files)",
                ));
            }
        }
        for (slot, key) in [(&display_name, "display_name"), (&version, "version")] {
            if let Some(lit) = slot
                && lit.value().trim().is_empty()
            {
                errors.push(syn::Error::new(
                    lit.span(),
                    format!("`{key}` must not be empty"),
                ));
            }
        }
        if name.is_none() {
            errors.push(syn::Error::new(
                Span::call_site(),
                "missing `name` argument: add `name = \"my-provider\"` to #[provider(...)]",
            ));
        }
        if config.is_none() {
            errors.push(syn::Error::new(
                Span::call_site(),
                "missing `config` argument: add `config = MyConfig` to #[provider(...)]",
            ));
        }
        errors.finish()?;
        match (name, config) {
            (Some(name), Some(config)) => Ok(ProviderArgs {
                name,
                display_name,
                config,
                capabilities: capabilities.unwrap_or_default(),
                version,
                author,
                homepage,
            }),
            // Unreachable: a missing argument was reported above.
            _ => Err(syn::Error::new(
                Span::call_site(),
                "invalid #[provider] arguments",
            )),
        }
    }
}
