//! Misuse of `#[provider]` and `#[extension]` is a compile error pointing at
//! the offending token; a complete minimal extension compiles.
//! Snapshots are for the toolchain on the project's machines (`rustc --version`
//! in `.ci/run` output); regenerate with `TRYBUILD=overwrite cargo test -p switchboard-macros --test ui`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    t.pass("tests/ui_pass/*.rs");
}
