#!/usr/bin/env bash
# Miri over the C ABI crate's tests (crates/wa-flows-crypto-ffi: its unit tests and
# tests/abi.rs, which calls every kind of entry point as a C host does: raw pointers,
# out-parameters, handles, NULLs and short buffers). Miri checks each call for undefined
# behaviour: out-of-bounds reads and writes through the caller's pointers, use after free,
# double free, invalid references, data races, leaks.
#
# RSA runs in aws-lc, C code Miri cannot interpret, so tests that load or generate a key are
# ignored under Miri (`cfg_attr(miri, ignore)`); the C suite covers those calls under
# ASan+UBSan and valgrind instead.
#   scripts/miri.sh            needs the nightly toolchain; adds its miri and rust-src
set -euo pipefail
cd "$(dirname "$0")/.."
if ! rustup toolchain list | grep -q nightly; then
    echo "no nightly toolchain: skipping Miri" >&2
    exit 0
fi
installed=$(rustup component list --toolchain nightly --installed)
for component in miri rust-src; do
    grep -q "^$component" <<<"$installed" || rustup component add --toolchain nightly "$component"
done
# Own target directory: Miri's build artefacts are not the native ones.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target/miri}
cargo +nightly miri setup --quiet
cargo +nightly miri test -p wa-flows-crypto-ffi
