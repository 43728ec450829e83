#!/usr/bin/env bash
# Builds the C library (cargo build --release -p wa-flows-crypto-ffi), links the Go package to
# its static archive, and runs go vet, go test and go test -race (the package with the
# vectors in tests/vectors, and the example endpoint end to end). Installs Debian's golang-go
# with apt when `go` is missing. Respects CARGO_TARGET_DIR; extra arguments go to go test;
# `--build-example OUT` only builds the example endpoint to OUT.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
case "$TARGET" in /*) ;; *) TARGET="$ROOT/$TARGET" ;; esac

if ! command -v go >/dev/null; then
  echo "installing with apt: golang-go"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq golang-go
fi
command -v cc >/dev/null || { echo "cgo needs a C compiler (apt-get install gcc)" >&2; exit 1; }
echo "$(go version)"

(cd "$ROOT" && cargo build --release -p wa-flows-crypto-ffi)

# The package links -lwa_flows_crypto, the installed name (scripts/dist.sh); cargo names the
# archive after the crate. A directory holding only the archive makes the link static, so the
# test binaries need no rpath or LD_LIBRARY_PATH.
LIBDIR="$TARGET/go-link"
mkdir -p "$LIBDIR"
ln -sf "$TARGET/release/libwa_flows_crypto_ffi.a" "$LIBDIR/libwa_flows_crypto.a"
export CGO_ENABLED=1 CGO_LDFLAGS="-L$LIBDIR ${CGO_LDFLAGS:-}"
# No module downloads: the package uses the standard library only.
export GOFLAGS="-mod=mod" GOPROXY=off GOTOOLCHAIN=local
export GOCACHE="${GOCACHE:-$TARGET/go-cache}"

cd "$HERE"
# --build-example OUT: only build examples/endpoint (for scripts/test-examples.sh).
if [ "${1:-}" = "--build-example" ]; then
  go build -o "$2" ./examples/endpoint
  exit 0
fi
unformatted=$(gofmt -l .)
[ -z "$unformatted" ] || { echo "gofmt: not formatted: $unformatted" >&2; exit 1; }
go vet ./...
# api.txt is the package's public API, one declaration a line: a change to it is deliberate.
# `run-tests.sh --update-api` rewrites it.
api() {
  go doc -all ./waflows | grep -E '^(func|type|const|var) [A-Z]|^func \(|^	[A-Z][A-Za-z]* += ' |
    sed -e 's/ {$//' -e 's/^\t/const /' | sed -E 's/^const ([A-Za-z]+) += .*/const \1/'
}
if [ "${1:-}" = "--update-api" ]; then
  api > api.txt
  shift
elif ! diff -u api.txt <(api); then
  echo "FAIL: the public API differs from bindings/go/api.txt; run bindings/go/run-tests.sh --update-api" >&2
  exit 1
fi
go test -count=1 "$@" ./...
# cgocheck=2 also checks that no Go pointer is stored in memory handed to C.
GODEBUG=cgocheck=2 go test -count=1 -race "$@" ./...
echo "all Go tests passed (plain, -race with cgocheck=2)"
