//! Generating the descriptor and its registration.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Item, ItemStruct};

use crate::args::{CAPABILITIES, Errors, ProviderArgs};

/// Expands `#[provider(args)] item`.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> Result<TokenStream, syn::Error> {
    let mut errors = Errors::default();
    let args = ProviderArgs::parse(args).map_err(|e| errors.push(e)).ok();
    let item = check_struct(item, "provider")
        .map_err(|e| errors.push(e))
        .ok();
    errors.finish()?;
    let (Some(args), Some(item)) = (args, item) else {
        return Err(syn::Error::new(
            proc_macro2::Span::call_site(),
            "invalid #[provider] usage",
        ));
    };
    Ok(generate(&args, &item))
}

/// The item `#[{attr}]` is on, if it is a non-generic struct.
pub(crate) fn check_struct(item: TokenStream, attr: &str) -> Result<ItemStruct, syn::Error> {
    let item: Item = syn::parse2(item)?;
    let keyword_span = match &item {
        Item::Struct(s) => {
            if !s.generics.params.is_empty() || s.generics.where_clause.is_some() {
                return Err(syn::Error::new_spanned(
                    &s.generics,
                    format!(
                        "#[{attr}] does not support generic types: the registered descriptor \
                         must name one concrete type"
                    ),
                ));
            }
            return Ok(s.clone());
        }
        Item::Enum(e) => e.enum_token.span(),
        Item::Fn(f) => f.sig.fn_token.span(),
        Item::Union(u) => u.union_token.span(),
        Item::Trait(t) => t.trait_token.span(),
        Item::Type(t) => t.type_token.span(),
        Item::Impl(i) => i.impl_token.span(),
        Item::Mod(m) => m.mod_token.span(),
        other => other.span(),
    };
    Err(syn::Error::new(
        keyword_span,
        format!("#[{attr}] can only be used on a struct"),
    ))
}

/// The struct's doc comment, lines joined, trimmed.
pub(crate) fn description(item: &ItemStruct) -> String {
    let mut lines = Vec::new();
    for attr in &item.attrs {
        if !attr.path().is_ident("doc") {
            continue;
        }
        if let syn::Meta::NameValue(nv) = &attr.meta
            && let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) = &nv.value
        {
            let line = s.value();
            lines.push(
                line.strip_prefix(' ')
                    .unwrap_or(&line)
                    .trim_end()
                    .to_owned(),
            );
        }
    }
    lines.join("\n").trim().to_owned()
}

fn generate(args: &ProviderArgs, item: &ItemStruct) -> TokenStream {
    let ident = &item.ident;
    let vis = &item.vis;
    let config = &args.config;
    let name = &args.name;
    let display_name = match &args.display_name {
        Some(d) => quote!(#d),
        None => quote!(#name),
    };
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
    let capability_fields = CAPABILITIES.iter().map(|cap| {
        let on = args.capabilities.iter().any(|c| c == cap);
        let field = syn::Ident::new(cap, proc_macro2::Span::call_site());
        quote!(#field: #on)
    });
    // Spanned so a missing impl or bound points at the offending token.
    let assert_provider = quote_spanned! {ident.span()=>
        ::switchboard_core::__private::assert_provider::<#ident>();
    };
    let assert_config = quote_spanned! {config.span()=>
        ::switchboard_core::__private::assert_config::<#config>();
    };
    let assert_init = quote_spanned! {config.span()=>
        ::switchboard_core::__private::assert_init::<#ident, #config>();
    };
    quote! {
        #item

        impl #ident {
            /// The descriptor `#[provider]` generated for this provider: its
            /// metadata, config schema and constructor.
            #vis const DESCRIPTOR: &'static ::switchboard_core::ProviderDescriptor =
                &::switchboard_core::ProviderDescriptor {
                    name: #name,
                    display_name: #display_name,
                    description: #description,
                    version: #version,
                    authors: #authors,
                    homepage: #homepage,
                    crate_name: ::core::env!("CARGO_PKG_NAME"),
                    type_path: ::core::concat!(::core::module_path!(), "::", ::core::stringify!(#ident)),
                    capabilities: ::switchboard_core::Capabilities { #(#capability_fields),* },
                    config_schema: ::switchboard_core::__private::config_schema::<#ident>,
                    validate_config: ::switchboard_core::__private::validate_config::<#ident>,
                    build: ::switchboard_core::__private::build::<#ident>,
                };
        }

        const _: () = {
            #assert_provider
            #assert_config
            #assert_init
        };

        const _: () = {
            ::switchboard_core::__register_provider!(#ident::DESCRIPTOR);
        };
    }
}
