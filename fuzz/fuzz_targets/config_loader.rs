//! The configuration loader on any TOML text, validated against every linked
//! provider: diagnostics, never a panic. The loader reads files, so the input
//! is written to a file of this process first.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use switchboard_gateway::config::ConfigLoader;

fn path() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("sb-fuzz-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir.join("switchboard.toml")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(catalog) = switchboard::catalog() else {
        return;
    };
    if std::fs::write(path(), data).is_err() {
        return;
    }
    let vars = [("FUZZ_KEY".to_owned(), "sk-fuzz".to_owned())];
    let _ = ConfigLoader::new()
        .file(path())
        .env_vars(vars)
        .known_providers(switchboard::PROVIDER_FEATURES)
        .load(catalog);
});
