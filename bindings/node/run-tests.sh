#!/usr/bin/env bash
# Installs what a fresh machine needs, builds the npm package from source, and tests it:
# the wasm crate's Rust tests (wasm-bindgen-test in Node) and `npm test` (node:test).
# Honours CARGO_TARGET_DIR (default: <repo>/target).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}"
crate_manifest="$repo/crates/wa-flows-crypto-wasm/Cargo.toml"

# The wasm-bindgen CLI must be exactly the version of the wasm-bindgen crate.
version="$(sed -n 's/^wasm-bindgen *= *"=\([0-9.]*\)".*/\1/p' "$crate_manifest")"
if [ -z "$version" ]; then
  echo "cannot read the pinned wasm-bindgen version from $crate_manifest" >&2
  exit 1
fi

start=$SECONDS
step() { printf '\n== %s (%ss)\n' "$1" "$((SECONDS - start))"; }

step "rust target wasm32-unknown-unknown"
rustup target add wasm32-unknown-unknown

step "wasm-bindgen-cli $version"
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$version" ]; then
  # --locked first, as upstream pinned it; if the registry lacks a locked dependency version
  # (mirrors lag behind), resolve afresh within the same semver ranges.
  cargo install wasm-bindgen-cli --version "$version" --locked \
    || cargo install wasm-bindgen-cli --version "$version"
fi
wasm-bindgen --version

step "npm dependencies"
cd "$here"
# Exactly the committed lock file (it lists workerd's packages for every platform, so npm ci
# accepts it on any of them).
npm ci --no-audit --no-fund

step "build (npm run build)"
npm run build

step "Rust tests of the wasm crate (wasm-bindgen-test in Node)"
npm run test:rust

step "npm test"
npm test

step "the npm pack tarball in Deno, Bun, workerd and headless Chromium (test/runtimes/run.sh)"
bash "$here/test/runtimes/run.sh"

step "done"
