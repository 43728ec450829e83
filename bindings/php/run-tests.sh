#!/usr/bin/env bash
# Builds the C library (cargo build --release -p wa-flows-crypto-ffi) and runs the PHP
# package's tests over it through FFI: the vectors in tests/vectors, the API, and the example
# endpoint (examples/serve.php + index.php on PHP's built-in server) end to end. Installs
# Debian's php-cli with apt when php or its FFI extension is missing. No Composer needed: the
# tests load the package with autoload.php. Respects CARGO_TARGET_DIR; an argument filters
# the tests by name.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
case "$TARGET" in /*) ;; *) TARGET="$ROOT/$TARGET" ;; esac

if ! command -v php >/dev/null || ! php -m 2>/dev/null | grep -x FFI >/dev/null; then
  echo "installing with apt: php-cli"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq php-cli
fi
php --version | head -n 1

(cd "$ROOT" && cargo build --release -p wa-flows-crypto-ffi)
export WA_FLOWS_CRYPTO_LIB="$TARGET/release/libwa_flows_crypto_ffi.so"
export WA_FLOWS_CRYPTO_HEADER="$ROOT/bindings/c/include/wa_flows_crypto.h"

cd "$HERE"
for file in src/*.php examples/*.php tests/*.php autoload.php; do
  php -l "$file" >/dev/null
done
# ffi.enable=1: Debian's default (preload) allows FFI in the CLI only; say so for any php.ini.
exec php -d ffi.enable=1 -d zend.assertions=1 -d error_reporting=-1 tests/run.php "$@"
