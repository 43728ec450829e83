#!/usr/bin/env bash
# End-to-end tests of the endpoint examples. For each example: its own end-to-end test, then
# the example started on 127.0.0.1 with freshly generated keys, and the CLI's check-endpoint
# played against it three times:
#   signed     mid-rotation: the key as PEM text in PRIVATE_KEY and the previous one in
#              PREVIOUS_PRIVATE_KEY_FILE, APP_SECRET and PREVIOUS_APP_SECRET, and data API 4.0
#              flow token signatures checked when present (the default);
#   required   FLOW_TOKEN_SIGNATURE=required, with one key file and one app secret;
#   unsigned   no app secret, the key given as a file in PRIVATE_KEY_FILE.
#
#   ./scripts/test-examples.sh           every example
#   ./scripts/test-examples.sh rust      only these (names from EXAMPLES below)
#
# Adding an example (Node, Python, the Worker, Go, PHP): add its name to EXAMPLES and define
#   test_NAME    its own end-to-end test (may be a no-op);
#   start_NAME   exec the endpoint in the foreground. It gets PRIVATE_KEY or PRIVATE_KEY_FILE,
#                APP_SECRET (or not), HOST=127.0.0.1 and PORT=0 in the environment and must print
#                `listening on http://HOST:PORT/` (the URL it listens on) to stdout or stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
target_dir=${CARGO_TARGET_DIR:-$root/target}

EXAMPLES=(rust python node worker go php)
selected=("${@:-${EXAMPLES[@]}}")

step() { printf '\n==> %s\n' "$*"; }

# --- the examples ----------------------------------------------------------------------------

test_rust() {
    cargo test -p wa-flows-crypto-endpoint-example
}
start_rust() {
    exec "$target_dir/debug/endpoint"
}

# Python: run-tests.sh creates bindings/python/.venv, installs the examples' dependencies, builds
# and installs the package, then runs the examples' end-to-end test (tests/test_examples.py; the
# Python suite runs the rest).
test_python() {
    bindings/python/run-tests.sh -k test_examples
}
start_python() {
    exec "$root/bindings/python/.venv/bin/python" "$root/bindings/python/examples/endpoint.py"
}

# Node and the Worker: both are the npm package's examples (bindings/node/examples/), sharing one
# handler. They need the package built (pkg/): built here only when it is missing. Their own test
# is bindings/node/test/examples.test.mjs, narrowed to one example by WFC_EXAMPLES.
node_package() {
    if [[ ! -f bindings/node/pkg/wa_flows_crypto_wasm_bg.wasm || ! -d bindings/node/node_modules/workerd ]]; then
        (cd bindings/node && npm install --no-audit --no-fund && npm run build)
    fi
}
test_node() {
    node_package
    (cd bindings/node && WFC_EXAMPLES=node node --test --test-reporter=spec test/examples.test.mjs)
}
start_node() {
    exec node "$root/bindings/node/examples/endpoint.mjs"
}
# The Worker runs in workerd (the package's devDependency) through examples/worker/serve.mjs,
# which reads the same variables, starts workerd on HOST:PORT and prints `listening on …`.
test_worker() {
    node_package
    (cd bindings/node && WFC_EXAMPLES=worker node --test --test-reporter=spec test/examples.test.mjs)
}
start_worker() {
    exec node "$root/bindings/node/examples/worker/serve.mjs"
}

# Go and PHP: their end-to-end tests are part of their own suites (bindings/go/run-tests.sh,
# bindings/php/run-tests.sh); here the Go example is built, the PHP one's test rerun (a few
# seconds), and each started as users start it.
test_go() {
    bash bindings/go/run-tests.sh --build-example "$work/go-endpoint"
}
start_go() {
    exec "$work/go-endpoint"
}
test_php() {
    bash bindings/php/run-tests.sh example
}
start_php() {
    WA_FLOWS_CRYPTO_LIB=$target_dir/release/libwa_flows_crypto_ffi.so \
        exec php -d ffi.enable=1 "$root/bindings/php/examples/serve.php"
}

# --- the harness -----------------------------------------------------------------------------

# `cargo test --workspace` builds the CLI and the examples too, with the features the
# dev-dependencies add; a plain `cargo build` would compile the dependency tree again without
# them. Building them this way reuses what the test step built.
step "build the CLI and the Rust example (cargo test --workspace --no-run)"
cargo test --workspace --no-run
cli=$target_dir/debug/wa-flows-crypto

work=$(mktemp -d)
server_pid=
stop_server() {
    [[ -n $server_pid ]] || return 0
    kill -TERM "$server_pid" 2>/dev/null || true
    # Bounded: a graceful stop gets 10 s, then it is killed.
    for _ in $(seq 100); do
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=
}
cleanup() {
    stop_server
    rm -rf "$work"
}
trap cleanup EXIT

"$cli" keygen --out "$work/keys"
"$cli" keygen --out "$work/previous-keys"
export APP_SECRET_FOR_CHECK="example app secret $RANDOM$RANDOM"
export PREVIOUS_APP_SECRET_FOR_CHECK="previous example app secret $RANDOM$RANDOM"

# check_endpoint NAME MODE: MODE is `signed`, `required` or `unsigned`.
check_endpoint() {
    local name=$1 mode=$2 log=$work/$1-$2.log url=
    step "$name example, $mode: start it and run check-endpoint"
    (
        export HOST=127.0.0.1 PORT=0
        unset PRIVATE_KEY PRIVATE_KEY_FILE PASSPHRASE APP_SECRET PREVIOUS_PRIVATE_KEY \
            PREVIOUS_PRIVATE_KEY_FILE PREVIOUS_PASSPHRASE PREVIOUS_APP_SECRET FLOW_TOKEN_SIGNATURE
        case $mode in
        signed)
            PRIVATE_KEY=$(cat "$work/keys/private.pem")
            export PRIVATE_KEY APP_SECRET=$APP_SECRET_FOR_CHECK
            export PREVIOUS_PRIVATE_KEY_FILE=$work/previous-keys/private.pem
            export PREVIOUS_APP_SECRET=$PREVIOUS_APP_SECRET_FOR_CHECK
            ;;
        required)
            export PRIVATE_KEY_FILE=$work/keys/private.pem APP_SECRET=$APP_SECRET_FOR_CHECK
            export FLOW_TOKEN_SIGNATURE=required
            ;;
        *) export PRIVATE_KEY_FILE=$work/keys/private.pem ;;
        esac
        "start_$name"
    ) >"$log" 2>&1 &
    server_pid=$!
    # Bounded wait for the address it listens on.
    for _ in $(seq 600); do
        url=$(grep -o 'listening on http://[^ ]*' "$log" | head -n 1 | sed 's/^listening on //') || true
        [[ -n $url ]] && break
        if ! kill -0 "$server_pid" 2>/dev/null; then
            cat "$log"
            echo "the $name example exited before listening" >&2
            exit 1
        fi
        sleep 0.1
    done
    if [[ -z $url ]]; then
        cat "$log"
        echo "the $name example did not say where it listens within 60 s" >&2
        exit 1
    fi
    local args=("$url" --public-key "$work/keys/public.pem")
    case $mode in
    signed)
        args+=(--previous-public-key "$work/previous-keys/public.pem"
            --app-secret-env APP_SECRET_FOR_CHECK --app-secret-env PREVIOUS_APP_SECRET_FOR_CHECK)
        ;;
    required) args+=(--app-secret-env APP_SECRET_FOR_CHECK --flow-token-signature required) ;;
    esac
    if ! "$cli" check-endpoint "${args[@]}"; then
        echo "--- $name example log:"
        cat "$log"
        exit 1
    fi
    stop_server
}

for name in "${selected[@]}"; do
    if ! declare -F "start_$name" >/dev/null; then
        echo "unknown example $name (known: ${EXAMPLES[*]})" >&2
        exit 2
    fi
    step "$name example: its end-to-end test"
    "test_$name"
    check_endpoint "$name" signed
    check_endpoint "$name" required
    check_endpoint "$name" unsigned
done

step "endpoint examples passed: ${selected[*]}"
