//! stub
use proc_macro::TokenStream;
#[proc_macro_attribute]
pub fn provider(_args: TokenStream, item: TokenStream) -> TokenStream { item }
