#!/usr/bin/env bash
# The cross-runtime comparison, end to end on a fresh machine: builds the Rust runner, creates
# bindings/python/.venv with our package, pywa and cryptography, builds the npm package
# (npm install + npm run build), then runs compare.py, which writes benches/results/latest.md,
# latest.json and compare.svg.
#
#   benches/compare/run.sh [--skip-setup] [--seconds S] [--passes N] [--note TEXT]
#
# Needs: cargo/rustup, python3 (>= 3.9, with venv), node (>= 20.19) with npm, openssl (optional:
# the reference rows). Honours CARGO_TARGET_DIR (default: <repo>/target).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}"
venv="$repo/bindings/python/.venv"
node_pkg="$repo/bindings/node"

setup=1
compare_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --skip-setup) setup=0 ;;
    --seconds) compare_args+=(--seconds "$2"); shift ;;
    --passes) compare_args+=(--passes "$2"); shift ;;
    --note) compare_args+=(--note "$2"); shift ;;
    *) echo "unknown argument: $1 (see the header of $0)" >&2; exit 2 ;;
  esac
  shift
done

start=$SECONDS
step() { printf '\n== %s (%ss)\n' "$1" "$((SECONDS - start))" >&2; }

if [ "$setup" = 1 ]; then
  step "Rust runner (cargo build --release -p wa-flows-crypto-benches --bin compare)"
  cargo build --release -p wa-flows-crypto-benches --bin compare --manifest-path "$repo/Cargo.toml"

  step "Python: $venv with our package, pywa and cryptography"
  # The same pip commands as bindings/python/run-tests.sh, without pytest and the test-only extras.
  [ -x "$venv/bin/python" ] || "${PYTHON:-python3}" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "maturin>=1.9,<2" "cffi>=1.17" pywa httpx cryptography
  PATH="$venv/bin:$PATH" VIRTUAL_ENV="$venv" "$venv/bin/python" -m pip install --quiet \
    --disable-pip-version-check --no-build-isolation --force-reinstall --no-deps "$repo/bindings/python"

  step "npm package: wasm32 target, wasm-bindgen-cli, npm install, npm run build"
  manifest="$repo/crates/wa-flows-crypto-wasm/Cargo.toml"
  version="$(sed -n 's/^wasm-bindgen *= *"=\([0-9.]*\)".*/\1/p' "$manifest")"
  rustup target add wasm32-unknown-unknown
  if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$version" ]; then
    cargo install wasm-bindgen-cli --version "$version" --locked \
      || cargo install wasm-bindgen-cli --version "$version"
  fi
  (cd "$node_pkg" && npm install --no-audit --no-fund && npm run build)
fi

step "compare"
python3 "$here/compare.py" \
  --rust-bin "$CARGO_TARGET_DIR/release/compare" \
  --python "$venv/bin/python" \
  ${compare_args[@]+"${compare_args[@]}"}

step "done"
