#!/usr/bin/env bash
# Runs every test of the project: Rust (both RSA engines), C (plain, ASan+UBSan, valgrind),
# Python, npm/wasm (Node, Deno, Bun, workerd, Chromium), Go and PHP, the endpoint examples, the
# release artifacts installed where users run them, mutation testing of the lines changed since
# main, and the fuzz targets. Installs what it needs first, so it works word for word on a fresh
# machine.
#
#   ./scripts/test.sh            everything
#   ./scripts/test.sh rust       only the Rust workspace (also: c, python, node, go, php, examples,
#                                dist, mutants, fuzz)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
only=${1:-all}

suites=0
started=$(date +%s)
step() {
    printf '\n==> [%ss] %s\n' "$(($(date +%s) - started))" "$*"
    suites=$((suites + 1))
}

bash scripts/install-deps.sh "$only"
background=
background_log=$root/target/dist-background.log

# One C compiler cache for the run: aws-lc-sys and ring compile the same C with the same flags
# in the MSRV, nightly (public API), package-verification and sdist builds as in the first one,
# each into its own target directory. It lives in target/, so a fresh clone starts it empty.
if command -v ccache >/dev/null; then
    export CCACHE_DIR=${CCACHE_DIR:-$root/target/ccache}
    export CC_x86_64_unknown_linux_gnu=${CC_x86_64_unknown_linux_gnu:-ccache cc}
fi

if [[ $only == all || $only == rust ]]; then
    step "cargo fmt --check"
    cargo fmt --all --check
    step "cargo clippy (-D warnings)"
    cargo clippy --workspace --all-targets -- -D warnings
    step "cargo deny: bans (rsa < 0.10), licenses, sources"
    # The advisories check needs the RustSec database from the network: see deny.toml.
    target/tools/bin/cargo-deny check bans licenses sources
    msrv=$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml | head -1)
    step "MSRV: the published crates build with Rust $msrv"
    CARGO_TARGET_DIR=target/msrv cargo "+$msrv" check --locked -p wa-flows-crypto \
        -p wa-flows-crypto-cli -p wa-flows-crypto-ffi
    step "public API: the Rust core's is exactly crates/wa-flows-crypto/api.txt (rustdoc JSON, nightly)"
    bash scripts/check-rust-api.sh
    step "cargo test --workspace (aws-lc and RustCrypto RSA engines)"
    cargo test --workspace
    # Unit and integration tests only: the doctests ran above and do not depend on the engine.
    step "cargo test -p wa-flows-crypto --no-default-features --lib --tests (RustCrypto engine only, as on wasm32)"
    cargo test -p wa-flows-crypto --no-default-features --lib --tests
fi

# Two parts of the dist suite share no build with the other suites: the static CLI (aws-lc for
# musl) and the crates' `cargo publish --dry-run` with the packaged core's doctests (each
# packaged crate built afresh). They run in the background, one after the other, while the C,
# Python, npm, Go, PHP and example suites run, which spend much of their time in one thread
# (valgrind, pytest, browsers, servers); the dist suite then waits for them and tests the rest.
# Their own target directory keeps cargo's lock on target/ free for the suites.
if [[ $only == all ]]; then
    CARGO_TARGET_DIR=$root/target/dist-background setsid bash -c \
        'bash scripts/dist.sh cli && bash scripts/test-dist.sh crates' >"$background_log" 2>&1 &
    background=$!
    trap '[[ -z $background ]] || kill -- "-$background" 2>/dev/null || true' EXIT
fi

if [[ $only == all || $only == c ]]; then
    step "C ABI: header diff, C tests plain / ASan+UBSan / valgrind"
    bash bindings/c/run-tests.sh
fi

if [[ $only == all || $only == python ]]; then
    step "Python package"
    bash bindings/python/run-tests.sh
fi

if [[ $only == all || $only == node ]]; then
    step "npm package (wasm): Node engines, packaging, workerd"
    bash bindings/node/run-tests.sh
fi

if [[ $only == all || $only == go ]]; then
    step "Go package (cgo): vectors, shared key under -race, the example endpoint"
    bash bindings/go/run-tests.sh
fi

if [[ $only == all || $only == php ]]; then
    step "PHP package (FFI): vectors, the example endpoint on php -S"
    bash bindings/php/run-tests.sh
fi

if [[ $only == all || $only == examples ]]; then
    step "endpoint examples: end to end, and the CLI's check-endpoint against each"
    bash scripts/test-examples.sh
fi

if [[ $only == all || $only == dist ]]; then
    step "release artifacts: C prefix, static CLI, wheel + sdist, crates (scripts/test-dist.sh)"
    if [[ -n $background ]]; then
        # The background part's log first: the CLI build, the crates' checks.
        status=0
        wait "$background" || status=$?
        background=
        grep -E '^(==>|-->) |^ *(Packaged|Verifying|Uploading) |^test result|checks passed' "$background_log" || true
        ((status == 0)) || { cat "$background_log"; echo "FAIL: scripts/dist.sh cli, scripts/test-dist.sh crates" >&2; exit 1; }
        WFC_DIST_BUILT=cli bash scripts/test-dist.sh c cli python
    else
        bash scripts/test-dist.sh
    fi
fi

if [[ $only == all || $only == mutants ]]; then
    step "mutation testing of the lines changed since the merge base with main (cargo-mutants --in-diff)"
    bash scripts/mutants.sh --changed
fi

if [[ $only == all || $only == fuzz ]]; then
    step "fuzz smoke run (every target, 5 s each; needs nightly)"
    bash fuzz/run.sh 5
fi

cd "$root"
printf '\nall tests passed\n'
# Every step above stops the script on failure, so reaching here means none failed.
echo "suites: $((suites)) passed, 0 failed"
