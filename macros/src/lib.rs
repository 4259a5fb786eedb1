//! The `#[provider]` attribute macro for Switchboard provider crates.
//!
//! ```ignore
//! use switchboard_core::{provider, Provider, ProviderInit};
//!
//! /// Foo's hosted models.
//! #[provider(name = "foo", display_name = "Foo AI", config = FooConfig,
//!            capabilities(streaming, tools))]
//! pub struct Foo { /* ... */ }
//! ```
//!
//! It keeps the struct as written and adds:
//! - `Foo::DESCRIPTOR`, a `&'static ProviderDescriptor` with the metadata
//!   (name, display name, the doc comment as description, version, authors and
//!   homepage from the crate's Cargo metadata unless given), the capabilities,
//!   a fn returning the config's JSON Schema, and fns that deserialize and
//!   validate a JSON config and build the provider through `ProviderInit`;
//! - the descriptor's registration with the core's backend (`inventory` or
//!   `linkme`, chosen by `switchboard-core`'s features), so
//!   `switchboard_core::catalog()` finds it with no manual wiring.
//!
//! Misuse is a compile error pointing at the offending token.
//!
//! Arguments: `name = "..."` (required; lowercase letters, digits and `-`),
//! `config = Type` (required), `display_name = "..."`, `capabilities(...)`
//! (any of `streaming`, `tools`, `vision`, `embeddings`, `json_schema`,
//! `reasoning`), `version = "..."`, `author = "..."`, `homepage = "..."`.

mod args;
mod expand;
mod extension;

use proc_macro::TokenStream;

/// Registers a struct as a Switchboard provider. See the crate docs.
#[proc_macro_attribute]
pub fn provider(args: TokenStream, item: TokenStream) -> TokenStream {
    let item2: proc_macro2::TokenStream = item.clone().into();
    match expand::expand(args.into(), item2.clone()) {
        Ok(tokens) => tokens.into(),
        Err(errors) => {
            // Keep the item so the rest of the crate (and IDE completion)
            // still sees the struct, then add every error we found.
            let compile_errors = errors.to_compile_error();
            quote::quote!(#item2 #compile_errors).into()
        }
    }
}

/// Registers a struct as a Switchboard extension, the twin of `#[provider]`.
///
/// ```ignore
/// /// Counts requests.
/// #[extension(name = "counter", config = CounterConfig, hooks(on_request, methods))]
/// pub struct Counter { /* ... */ }
/// ```
///
/// It adds `Counter::DESCRIPTOR` (name, the doc comment as description,
/// version, authors and homepage from Cargo unless given, the hooks it
/// implements, the config's JSON Schema, and fns that validate a config and
/// build the extension through `ExtensionInit`) and registers it, so
/// `switchboard_core::extension::extension_catalog()` finds it.
///
/// Arguments: `name = "..."` and `config = Type` (required), `hooks(...)`
/// (any of `on_request`, `on_response`, `on_event`, `on_complete`,
/// `methods`: only these are called), `mount = "/v1/..."` (methods also
/// served at `{mount}/{method}`), `version`, `author`, `homepage`.
#[proc_macro_attribute]
pub fn extension(args: TokenStream, item: TokenStream) -> TokenStream {
    let item2: proc_macro2::TokenStream = item.clone().into();
    match extension::expand(args.into(), item2.clone()) {
        Ok(tokens) => tokens.into(),
        Err(errors) => {
            let compile_errors = errors.to_compile_error();
            quote::quote!(#item2 #compile_errors).into()
        }
    }
}
