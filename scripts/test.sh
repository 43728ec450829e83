#!/usr/bin/env bash
# Runs every test of the project: Rust (both RSA engines), C (plain, ASan+UBSan, valgrind),
# Python, npm/wasm (Node and workerd), Go and PHP, and the fuzz regression corpus.
# Installs what it needs first, so it works word for word on a fresh machine.
#
#   ./scripts/test.sh            everything
#   ./scripts/test.sh rust       only the Rust workspace (also: c, python, node, go, php, examples, fuzz)
#   ./scripts/test.sh dist       the release artifacts (scripts/dist.sh), installed and run
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

# Not yet part of `all`: the release artifacts, built and tried where users run them.
if [[ $only == dist ]]; then
    step "release artifacts: C prefix, static CLI, wheel + sdist, crates (scripts/test-dist.sh)"
    bash scripts/test-dist.sh
fi

if [[ $only == all || $only == fuzz ]]; then
    step "fuzz smoke run (every target, 5 s each; needs nightly)"
    bash fuzz/run.sh 5
fi

cd "$root"
printf '\nall tests passed\n'
# Every step above stops the script on failure, so reaching here means none failed.
echo "suites: $((suites)) passed, 0 failed"
