#!/usr/bin/env bash
# Builds the C ABI, checks the checked-in header against a fresh cbindgen run, then builds and
# runs the C tests plain, under AddressSanitizer + UndefinedBehaviorSanitizer, and under
# valgrind. Usage:
#   bindings/c/run-tests.sh               # everything
#   bindings/c/run-tests.sh --regenerate  # rewrite include/wa_flows_crypto.h, then test
# Respects CARGO_TARGET_DIR (default: <repo>/target). Needs gcc, python3, valgrind; installs the
# pinned cbindgen with cargo if it is missing.
set -euo pipefail

CBINDGEN_VERSION=0.29.4

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
case "$TARGET" in /*) ;; *) TARGET="$ROOT/$TARGET" ;; esac
VECTORS="${WFC_VECTORS:-$ROOT/tests/vectors}"
BUILD="$TARGET/c-tests"
HEADER="$HERE/include/wa_flows_crypto.h"
REGENERATE=0
[ "${1:-}" = "--regenerate" ] && REGENERATE=1

step() { printf '\n== %s\n' "$*"; }

# `cargo test --workspace` builds the library too (its doctests need it), with the features the
# dev-dependencies add; a plain `cargo build` resolves features without them and so compiles
# the whole dependency tree a second time. Built this way, CI reuses the test step's build.
# That build leaves the library where cargo reports it (not copied up to target/debug).
step "cargo test --workspace --no-run (builds libwa_flows_crypto_ffi.so)"
LIBDIR=$(cd "$ROOT" && cargo test --workspace --no-run --message-format=json-render-diagnostics | python3 -c '
import json, os, sys
found = None
for line in sys.stdin:  # all of it: leaving early would break the pipe under cargo
    message = json.loads(line)
    if message.get("reason") == "compiler-artifact" and message["target"]["name"] == "wa_flows_crypto_ffi":
        for path in message["filenames"]:
            if path.endswith("/libwa_flows_crypto_ffi.so"):
                found = os.path.dirname(path)
sys.exit("cargo reported no libwa_flows_crypto_ffi.so") if found is None else print(found)
')
[ -f "$LIBDIR/libwa_flows_crypto_ffi.so" ] || { echo "no $LIBDIR/libwa_flows_crypto_ffi.so"; exit 1; }
echo "library: $LIBDIR/libwa_flows_crypto_ffi.so"

step "header: cbindgen $CBINDGEN_VERSION"
if ! command -v cbindgen >/dev/null || [ "$(cbindgen --version)" != "cbindgen $CBINDGEN_VERSION" ]; then
  cargo install cbindgen --version "=$CBINDGEN_VERSION" --locked
fi
mkdir -p "$BUILD"
(cd "$ROOT" && cbindgen --quiet --config crates/wa-flows-crypto-ffi/cbindgen.toml \
  --crate wa-flows-crypto-ffi --output "$BUILD/wa_flows_crypto.h" crates/wa-flows-crypto-ffi)
if [ "$REGENERATE" = 1 ]; then
  cp "$BUILD/wa_flows_crypto.h" "$HEADER"
  echo "rewrote $HEADER"
elif ! diff -u "$HEADER" "$BUILD/wa_flows_crypto.h"; then
  echo "FAIL: bindings/c/include/wa_flows_crypto.h is stale; run bindings/c/run-tests.sh --regenerate"
  exit 1
else
  echo "header is up to date"
fi

step "exported symbols: exactly the header's functions"
nm -D --defined-only "$LIBDIR/libwa_flows_crypto_ffi.so" | awk '$2 == "T" { print $3 }' | sort > "$BUILD/exported.txt"
grep -oE '\bwfc_[a-z0-9_]+\(' "$HEADER" | tr -d '(' | sort -u > "$BUILD/declared.txt"
if ! diff -u "$BUILD/declared.txt" "$BUILD/exported.txt"; then
  echo "FAIL: the library exports functions the header does not declare, or the reverse"
  exit 1
fi
echo "$(wc -l < "$BUILD/exported.txt") functions, all declared"

step "public API: exactly bindings/c/api.txt"
# Every wfc_/WFC_ name the header declares (functions, types, enum constants, macros), comments
# left out: a name added or removed fails here until api.txt says so.
grep -vE '^\s*(/\*|\*|//)' "$HEADER" | grep -oE '\b(wfc|WFC)_[A-Za-z0-9_]+' | LC_ALL=C sort -u > "$BUILD/api.txt"
if ! diff -u "$HERE/api.txt" "$BUILD/api.txt"; then
  echo "FAIL: the header's public names differ from bindings/c/api.txt (- listed, + declared)"
  exit 1
fi
echo "$(wc -l < "$HERE/api.txt") public names, as listed"

step "fixtures from $VECTORS"
python3 "$HERE/tests/gen_fixtures.py" "$VECTORS" "$BUILD/fixtures"
export WFC_FIXTURES="$BUILD/fixtures"

CFLAGS=(-std=c11 -Wall -Wextra -Werror -pedantic -g -I "$HERE/include")
LINK=(-L "$LIBDIR" -Wl,-rpath,"$LIBDIR" -lwa_flows_crypto_ffi -lpthread -ldl -lm)

step "the header compiles as C++ too"
echo '#include "wa_flows_crypto.h"' | g++ -std=c++11 -Wall -Wextra -Werror -pedantic \
  -I "$HERE/include" -x c++ -fsyntax-only -

build() { # name, extra flags...
  local variant="$1"; shift
  mkdir -p "$BUILD/$variant"
  for t in test_vectors test_api test_threads; do
    gcc "${CFLAGS[@]}" "$@" "$HERE/tests/$t.c" -o "$BUILD/$variant/$t" "${LINK[@]}"
  done
  gcc "${CFLAGS[@]}" "$@" "$HERE/examples/flow_endpoint.c" -o "$BUILD/$variant/flow_endpoint" "${LINK[@]}"
}

run_all() { # variant, runner...
  local variant="$1"; shift
  "$@" "$BUILD/$variant/test_vectors" "$WFC_FIXTURES" "$VECTORS"
  "$@" "$BUILD/$variant/test_api" "$VECTORS"
  "$@" "$BUILD/$variant/test_threads" "$WFC_FIXTURES" "$VECTORS"
}

step "plain"
build plain
run_all plain
# The example, on a request made by the vectors' WhatsApp-side implementation.
python3 - "$VECTORS" "$BUILD/ping.json" <<'PY'
import json, sys
vectors = json.load(open(sys.argv[1] + "/requests.json"))["vectors"]
json.dump(next(v["request"] for v in vectors if v["name"] == "ping"), open(sys.argv[2], "w"))
PY
"$BUILD/plain/flow_endpoint" "$VECTORS/keys/rsa2048_pkcs8.pem" "$BUILD/ping.json" | tee "$BUILD/example.out"
grep -q '"action": *"ping"' "$BUILD/example.out"

step "soak, short: resident set flat over repeated requests and media (scripts/soak.sh: long)"
gcc "${CFLAGS[@]}" -O2 "$HERE/tests/soak.c" -o "$BUILD/plain/soak" "${LINK[@]}"
"$BUILD/plain/soak" "$WFC_FIXTURES" "$VECTORS" "${WFC_SOAK_REQUESTS:-300}" "${WFC_SOAK_MEDIA:-10}"

step "AddressSanitizer + UndefinedBehaviorSanitizer"
build asan -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 run_all asan

step "valgrind"
WFC_TEST_QUICK=1 run_all plain valgrind --quiet --leak-check=full --suppressions="$HERE/tests/valgrind.supp" \
  --error-exitcode=1

step "all C tests passed (plain, ASan+UBSan, valgrind)"
