//! Misuse of `#[provider]` is a compile error pointing at the offending token.
//! Snapshots are for the toolchain on the project's machines (`rustc --version`
//! in `.ci/run` output); regenerate with `TRYBUILD=overwrite cargo test -p switchboard-macros --test ui`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
