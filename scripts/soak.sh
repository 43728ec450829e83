#!/usr/bin/env bash
# The long soak: 10^5 decrypt_request + encrypt_response and 10^3 streamed 1 MiB media files
# through C, Python and Node, each in its own process with its resident set (and, in Node, V8's
# heap and wasm linear memory) sampled along the way; each fails on 2 MiB of growth after the
# warm-up (Node's resident set: 8 MiB, bindings/node/test/soak.mjs says why). The
# suites run a short variant of the same programs; this writes docs/evidence/soak.md.
#
#   scripts/soak.sh [REQUESTS [MEDIA]]     defaults 100000 and 1000; needs the test command's
#                                          setup (the Python venv, the npm package built)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
requests=${1:-100000}
media=${2:-1000}
target_dir=${CARGO_TARGET_DIR:-$root/target}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cargo build --release --quiet -p wa-flows-crypto-ffi
python3 bindings/c/tests/gen_fixtures.py tests/vectors "$work/fixtures" >/dev/null
gcc -std=c11 -O2 -I bindings/c/include bindings/c/tests/soak.c -o "$work/soak" \
    -L "$target_dir/release" -Wl,-rpath,"$target_dir/release" -lwa_flows_crypto_ffi -lpthread -ldl -lm

results=$work/results.txt
status=0
run() { # name, command...
    local name=$1; shift
    local started=$SECONDS
    echo "==> $name" >&2
    if "$@" | tee -a "$results"; then
        echo "$name: passed in $((SECONDS - started)) s" >> "$results"
    else
        echo "$name: FAILED in $((SECONDS - started)) s" >> "$results"
        status=1
    fi
}
run c "$work/soak" "$work/fixtures" tests/vectors "$requests" "$media"
run python bindings/python/.venv/bin/python bindings/python/tests/soak.py "$requests" "$media"
run node node --expose-gc bindings/node/test/soak.mjs "$requests" "$media"

mkdir -p docs/evidence
{
    echo "# Soak results"
    echo
    echo "\`scripts/soak.sh $requests $media\` on $(date -u +%Y-%m-%d), $(nproc) cores, commit" \
        "$(git rev-parse --short HEAD). The limit is 2048 KiB of growth"
    echo "(8192 KiB for Node's resident set) after the warm-up (the"
    echo "first tenth of each phase; in Node at least 5000 requests). C and Python: from the end of"
    echo "the warm-up to the highest sample. Node, sampled after a full GC: the median of the last"
    echo "third of the samples less the median of the first third (bindings/node/test/soak.mjs"
    echo "says why); the ranges show every sample."
    echo
    echo '```'
    cat "$results"
    echo '```'
} > docs/evidence/soak.md
cat docs/evidence/soak.md
exit $status
