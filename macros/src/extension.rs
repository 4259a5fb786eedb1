//! `#[extension(...)]`: the twin of `#[provider]` for extension plugins.
//! Parses its arguments (reporting every problem at once, each at its
//! token) and generates the descriptor and its registration.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Ident, ItemStruct, LitStr, Token, Type};

use crate::args::Errors;
use crate::expand::{check_struct, description};

mod kw {
    syn::custom_keyword!(name);
    syn::custom_keyword!(config);
    syn::custom_keyword!(hooks);
    syn::custom_keyword!(mount);
    syn::custom_keyword!(version);
    syn::custom_keyword!(author);
    syn::custom_keyword!(homepage);
}

/// Hook names `hooks(...)` accepts, and the `Hooks` constant each sets.
const HOOKS: &[(&str, &str)] = &[
    ("on_request", "REQUEST"),
    ("on_response", "RESPONSE"),
    ("on_event", "EVENT"),
    ("on_complete", "COMPLETE"),
    ("methods", "METHODS"),
    ("on_models", "MODELS"),
    ("authenticate", "AUTH"),
];

enum Arg {
    Name(kw::name, LitStr),
    Config(kw::config, Box<Type>),
    Hooks(kw::hooks, Punctuated<Ident, Token![,]>),
    Mount(kw::mount, LitStr),
    Version(kw::version, LitStr),
    Author(kw::author, LitStr),
    Homepage(kw::homepage, LitStr),
}

impl Parse for Arg {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        fn value<K: Parse, V: Parse>(input: ParseStream<'_>) -> syn::Result<(K, V)> {
            let k = input.parse()?;
            input.parse::<Token![=]>()?;
            Ok((k, input.parse()?))
        }
        let la = input.lookahead1();
        if la.peek(kw::name) {
            value(input).map(|(k, v)| Arg::Name(k, v))
        } else if la.peek(kw::config) {
            value(input).map(|(k, v): (_, Type)| Arg::Config(k, Box::new(v)))
        } else if la.peek(kw::hooks) {
            let k = input.parse()?;
            let content;
            syn::parenthesized!(content in input);
            Ok(Arg::Hooks(
                k,
                content.parse_terminated(Ident::parse, Token![,])?,
            ))
        } else if la.peek(kw::mount) {
            value(input).map(|(k, v)| Arg::Mount(k, v))
        } else if la.peek(kw::version) {
            value(input).map(|(k, v)| Arg::Version(k, v))
        } else if la.peek(kw::author) {
            value(input).map(|(k, v)| Arg::Author(k, v))
        } else if la.peek(kw::homepage) {
            value(input).map(|(k, v)| Arg::Homepage(k, v))
        } else {
            Err(la.error())
        }
    }
}

struct ExtensionArgs {
    name: LitStr,
    config: Type,
    hooks: Vec<Ident>,
    mount: Option<LitStr>,
    version: Option<LitStr>,
    author: Option<LitStr>,
    homepage: Option<LitStr>,
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

impl ExtensionArgs {
    fn parse(tokens: TokenStream) -> Result<Self, syn::Error> {
        let parsed =
            syn::parse::Parser::parse2(Punctuated::<Arg, Token![,]>::parse_terminated, tokens)?;
        let mut errors = Errors::default();
        let (mut name, mut config, mut hooks, mut mount) = (None, None, None, None);
        let (mut version, mut author, mut homepage) = (None, None, None);
        for arg in parsed {
            match arg {
                Arg::Name(k, v) => set_once(&mut name, v, "name", k.span, &mut errors),
                Arg::Config(k, v) => set_once(&mut config, *v, "config", k.span, &mut errors),
                Arg::Hooks(k, list) => {
                    let mut seen: Vec<Ident> = Vec::new();
                    for hook in list {
                        let s = hook.to_string();
                        if !HOOKS.iter().any(|(h, _)| *h == s) {
                            let names: Vec<&str> = HOOKS.iter().map(|(h, _)| *h).collect();
                            errors.push(syn::Error::new(
                                hook.span(),
                                format!(
                                    "unknown hook `{s}`; expected one of: {}",
                                    names.join(", ")
                                ),
                            ));
                        } else if seen.iter().any(|h| h == &hook) {
                            errors.push(syn::Error::new(
                                hook.span(),
                                format!("hook `{s}` is listed twice"),
                            ));
                        } else {
                            seen.push(hook);
                        }
                    }
                    set_once(&mut hooks, seen, "hooks", k.span, &mut errors);
                }
                Arg::Mount(k, v) => set_once(&mut mount, v, "mount", k.span, &mut errors),
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
                    "extension `name` must start with a lowercase letter and contain only \
                     lowercase letters, digits and `-` (it is `[extensions.<name>]` in config files)",
                ));
            }
        }
        if let Some(m) = &mount {
            let value = m.value();
            let valid = value.starts_with("/v1/")
                && value.len() > 4
                && !value.ends_with('/')
                && value[1..].split('/').all(|seg| {
                    !seg.is_empty()
                        && seg
                            .chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                });
            if !valid {
                errors.push(syn::Error::new(
                    m.span(),
                    "`mount` must be a path under `/v1/` of lowercase segments, like \
                     \"/v1/functions\" (methods are then served at `{mount}/{method}`)",
                ));
            }
        }
        if let Some(v) = &version
            && v.value().trim().is_empty()
        {
            errors.push(syn::Error::new(v.span(), "`version` must not be empty"));
        }
        if name.is_none() {
            errors.push(syn::Error::new(
                Span::call_site(),
                "missing `name` argument: add `name = \"my-extension\"` to #[extension(...)]",
            ));
        }
        if config.is_none() {
            errors.push(syn::Error::new(
                Span::call_site(),
                "missing `config` argument: add `config = MyConfig` to #[extension(...)]",
            ));
        }
        errors.finish()?;
        match (name, config) {
            (Some(name), Some(config)) => Ok(ExtensionArgs {
                name,
                config,
                hooks: hooks.unwrap_or_default(),
                mount,
                version,
                author,
                homepage,
            }),
            _ => Err(syn::Error::new(
                Span::call_site(),
                "invalid #[extension] arguments",
            )),
        }
    }
}

/// Expands `#[extension(args)] item`.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> Result<TokenStream, syn::Error> {
    let mut errors = Errors::default();
    let args = ExtensionArgs::parse(args).map_err(|e| errors.push(e)).ok();
    let item = check_struct(item, "extension")
        .map_err(|e| errors.push(e))
        .ok();
    errors.finish()?;
    let (Some(args), Some(item)) = (args, item) else {
        return Err(syn::Error::new(
            Span::call_site(),
            "invalid #[extension] usage",
        ));
    };
    Ok(generate(&args, &item))
}

fn generate(args: &ExtensionArgs, item: &ItemStruct) -> TokenStream {
    let ident = &item.ident;
    let vis = &item.vis;
    let config = &args.config;
    let name = &args.name;
    let description = description(item);
    let version = match &args.version {
        Some(v) => quote!(#v),
        None => quote!(::core::env!("CARGO_PKG_VERSION")),
    };
    let authors = match &args.author {
        Some(a) => quote!(#a),
        None => quote!(::core::env!("CARGO_PKG_AUTHORS")),
    };
    let homepage = match &args.homepage {
        Some(h) => quote!(#h),
        None => quote!(::core::env!("CARGO_PKG_HOMEPAGE")),
    };
    let mount = match &args.mount {
        Some(m) => quote!(#m),
        None => quote!(""),
    };
    let hooks = args.hooks.iter().map(|h| {
        let constant = HOOKS
            .iter()
            .find(|(n, _)| h == n)
            .map(|(_, c)| *c)
            .unwrap_or("NONE");
        let constant = Ident::new(constant, h.span());
        quote!(.union(::switchboard_core::extension::Hooks::#constant))
    });
    let assert_extension = quote_spanned! {ident.span()=>
        ::switchboard_core::__private::assert_extension::<#ident>();
    };
    let assert_config = quote_spanned! {config.span()=>
        ::switchboard_core::__private::assert_config::<#config>();
    };
    let assert_init = quote_spanned! {config.span()=>
        ::switchboard_core::__private::assert_extension_init::<#ident, #config>();
    };
    quote! {
        #item

        impl #ident {
            /// The descriptor `#[extension]` generated for this extension:
            /// its metadata, hooks, config schema and constructor.
            #vis const DESCRIPTOR: &'static ::switchboard_core::extension::ExtensionDescriptor =
                &::switchboard_core::extension::ExtensionDescriptor {
                    name: #name,
                    description: #description,
                    version: #version,
                    authors: #authors,
                    homepage: #homepage,
                    crate_name: ::core::env!("CARGO_PKG_NAME"),
                    type_path: ::core::concat!(::core::module_path!(), "::", ::core::stringify!(#ident)),
                    hooks: ::switchboard_core::extension::Hooks::NONE #(#hooks)*,
                    mount: #mount,
                    config_schema: ::switchboard_core::__private::extension_config_schema::<#ident>,
                    validate_config: ::switchboard_core::__private::validate_extension_config::<#ident>,
                    build: ::switchboard_core::__private::build_extension::<#ident>,
                };
        }

        const _: () = {
            #assert_extension
            #assert_config
            #assert_init
        };

        const _: () = {
            ::switchboard_core::__register_extension!(#ident::DESCRIPTOR);
        };
    }
}
