//! The C test suite of `bindings/c/tests`, built with the system C compiler against the
//! `libwa_flows_crypto_ffi.so` of this very cargo build, and run on the repository's vectors.
//!
//! `bindings/c/run-tests.sh` runs the same C tests (also under sanitizers and valgrind), so
//! this test is ignored in a plain `cargo test`. It exists for mutation testing: cargo-mutants
//! can only run cargo's tests, and the C ABI's behaviour is pinned down by the C suite, not by
//! the few Rust tests of the crate. `scripts/mutants.sh --ffi` runs it with `--include-ignored`.
//! Needs `gcc` and `python3`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test: it fails loudly"
)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The shared library cargo built with this test: cdylib outputs go next to the test binaries
/// in `deps/`.
fn library_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap().to_path_buf();
    assert!(
        deps.join("libwa_flows_crypto_ffi.so").is_file(),
        "no libwa_flows_crypto_ffi.so next to {}",
        exe.display()
    );
    deps
}

fn run(command: &mut Command) {
    let shown = format!("{command:?}");
    let status = command.status().unwrap_or_else(|e| panic!("{shown}: {e}"));
    assert!(status.success(), "{shown}: {status}");
}

#[test]
#[ignore = "needs gcc and python3; run by scripts/mutants.sh --ffi (run-tests.sh runs the C tests itself)"]
fn the_c_test_suite_passes_against_this_build() {
    let repo = repo();
    let c = repo.join("bindings/c");
    let vectors = repo.join("tests/vectors");
    let lib = library_dir();
    let build = lib.join(format!("c-suite-{}", std::process::id()));
    std::fs::create_dir_all(&build).unwrap();
    let fixtures = build.join("fixtures");
    run(Command::new("python3")
        .arg(c.join("tests/gen_fixtures.py"))
        .arg(&vectors)
        .arg(&fixtures));
    for test in ["test_vectors", "test_api", "test_threads"] {
        let exe = build.join(test);
        run(Command::new("gcc")
            .args([
                "-std=c11",
                "-Wall",
                "-Wextra",
                "-Werror",
                "-pedantic",
                "-O1",
                "-I",
            ])
            .arg(c.join("include"))
            .arg(c.join(format!("tests/{test}.c")))
            .arg("-o")
            .arg(&exe)
            .arg("-L")
            .arg(&lib)
            .arg(format!("-Wl,-rpath,{}", lib.display()))
            .args(["-lwa_flows_crypto_ffi", "-lpthread", "-ldl", "-lm"]));
        let mut command = Command::new(&exe);
        if test != "test_api" {
            command.arg(&fixtures);
        }
        run(command.arg(&vectors).env("WFC_FIXTURES", &fixtures));
    }
    std::fs::remove_dir_all(&build).unwrap();
}
