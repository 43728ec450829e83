#!/usr/bin/env bash
# The package as `npm pack` makes it, installed into a fresh project from its tarball, run in
# Deno, Bun, workerd and a real headless Chromium: every request, response and signature vector
# of tests/vectors and the streamed 1 MiB media vector (suite.mjs). Prints `<runtime>: N passed,
# 0 failed` per runtime; exits non-zero if any runtime failed.
# Needs node/npm. Installs Deno and Bun (npm ci here), workerd (bindings/node's devDependencies,
# if missing) and Debian's chromium (if /usr/bin/chromium is missing and $CHROMIUM is not set).
# Builds the package (npm run build) only if bindings/node/pkg holds no build.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
package="$(cd "$here/../.." && pwd)"
repo="$(cd "$package/../.." && pwd)"
vectors="${WFC_VECTORS_DIR:-$repo/tests/vectors}"
start=$SECONDS
step() { printf '\n== runtimes: %s (%ss)\n' "$1" "$((SECONDS - start))"; }

step "chromium"
if [ -z "${CHROMIUM:-}" ] && [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
  else
    sudo apt-get update -q && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
  fi
fi
"${CHROMIUM:-/usr/bin/chromium}" --version

step "deno and bun (npm ci in test/runtimes)"
(cd "$here" && npm ci --no-audit --no-fund)
if [ ! -e "$package/node_modules/workerd/package.json" ]; then
  step "workerd (npm install in bindings/node)"
  (cd "$package" && npm install --no-audit --no-fund)
fi

if [ ! -e "$package/pkg/wa_flows_crypto_wasm_bg.wasm" ]; then
  step "build (npm run build in bindings/node)"
  (cd "$package" && npm run build)
fi

step "npm pack, and a project that installs the tarball"
work="$(mktemp -d "${TMPDIR:-/tmp}/wfc-runtimes-XXXXXX")"
trap 'rm -rf "$work"' EXIT
(cd "$package" && npm pack --silent --pack-destination "$work" >/dev/null)
tarball="$(ls "$work"/*.tgz)"
consumer="$work/consumer"
mkdir "$consumer"
printf '{ "name": "runtimes-consumer", "private": true, "type": "module" }\n' >"$consumer/package.json"
(cd "$consumer" && npm install --offline --no-audit --no-fund --silent "$tarball")
cp "$here/suite.mjs" "$here/cli.mjs" "$consumer/"
echo "$(basename "$tarball") installed in $consumer"

failed=()
times=()
run() {
  local name="$1"
  shift
  step "$name"
  local t0=$SECONDS
  if ! "$@"; then failed+=("$name"); fi
  times+=("$name $((SECONDS - t0))s")
}
bin="$here/node_modules/.bin"
run deno env DENO_NO_UPDATE_CHECK=1 DENO_NO_PROMPT=1 sh -c 'cd "$1" && exec "$2" run --allow-read="$1,$3" cli.mjs "$3"' _ "$consumer" "$bin/deno" "$vectors"
run bun sh -c 'cd "$1" && exec "$2" cli.mjs "$3"' _ "$consumer" "$bin/bun" "$vectors"
run workerd node "$here/workerd.mjs" "$consumer" "$vectors"
run chromium node "$here/chromium.mjs" "$consumer" "$vectors"

step "done"
echo "runtimes took ${times[*]}; total $((SECONDS - start)) s"
if [ ${#failed[@]} -gt 0 ]; then
  echo "runtimes FAILED: ${failed[*]}" >&2
  exit 1
fi
