#!/usr/bin/env bash
# The Rust core's public API is exactly crates/wa-flows-crypto/api.txt: rustdoc's JSON output
# (nightly) listed by scripts/rust-api.py, then compared. A public name added, renamed or
# removed fails here until api.txt says so, in the same commit.
#
#   scripts/check-rust-api.sh               compare
#   scripts/check-rust-api.sh --regenerate  rewrite api.txt from the code
set -euo pipefail
cd "$(dirname "$0")/.."
listed=crates/wa-flows-crypto/api.txt
# Its own target directory: rustdoc on nightly shares no build with the stable steps.
target_dir=${CARGO_TARGET_DIR:-target}/api

if ! rustup toolchain list | grep -q '^nightly'; then
    # rustdoc's JSON output is only on nightly, as for the fuzz run.
    rustup toolchain install nightly --profile minimal >/dev/null 2>&1 || {
        echo "no nightly toolchain and none can be installed: skipping the Rust API list" >&2
        exit 0
    }
fi
CARGO_TARGET_DIR=$target_dir cargo +nightly rustdoc --quiet --locked -p wa-flows-crypto --lib \
    -- -Z unstable-options --output-format json
actual=$(mktemp)
trap 'rm -f "$actual"' EXIT
python3 scripts/rust-api.py "$target_dir/doc/wa_flows_crypto.json" > "$actual"
if [[ ${1:-} == --regenerate ]]; then
    cp "$actual" "$listed"
    echo "wrote $listed ($(wc -l < "$listed") names)"
elif ! diff -u "$listed" "$actual"; then
    echo "FAIL: the public API differs from $listed (- listed, + in the code);" \
        "run scripts/check-rust-api.sh --regenerate if the change is meant" >&2
    exit 1
else
    echo "$(wc -l < "$listed") public names, as listed in $listed"
fi
