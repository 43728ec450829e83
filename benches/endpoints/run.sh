#!/usr/bin/env bash
# Load benchmark of the endpoints: each server started on 127.0.0.1 with a fresh key, driven by
# benches/src/bin/endpoint_load.rs at 1, 16 and 64 connections, stopped; ours and the peers
# alternately, for several rounds. Writes benches/results/endpoints.jsonl (every run),
# endpoints.md and endpoints.svg (benches/endpoints/report.py).
#
#   benches/endpoints/run.sh                         setup, then 3 rounds of every server
#   benches/endpoints/run.sh --skip-setup --rounds 5 --seconds 10
#   benches/endpoints/run.sh --only "node meta-node" --note "laptop on battery"
#
# Servers: rust node worker python (our examples), gateway (the CLI's decryption gateway in
# front of upstream.mjs), meta-node pywa (the peers in peers/). Honours CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
target_dir=${CARGO_TARGET_DIR:-$root/target}
results=$root/benches/results

rounds=3 seconds=5 warmup=1 setup=1 note= connections=1,16,64
only="node meta-node rust python pywa worker gateway"
while (($#)); do
    case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --note) note=$2; shift 2 ;;
    --skip-setup) setup=0; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
read -r -a servers <<<"$only"

step() { printf '\n==> %s\n' "$*" >&2; }

if ((setup)); then
    step "build the CLI, the Rust example and the load generator (release)"
    cargo build --release -p wa-flows-crypto-cli -p wa-flows-crypto-endpoint-example
    cargo build --release -p wa-flows-crypto-benches --bin endpoint_load
    if [[ ! -x bindings/python/.venv/bin/python ]] || ! bindings/python/.venv/bin/python -c 'import wa_flows_crypto, pywa, fastapi, uvicorn' 2>/dev/null; then
        step "bindings/python/.venv (the pip steps of bindings/python/run-tests.sh)"
        python3 -m venv bindings/python/.venv
        bindings/python/.venv/bin/python -m pip install --quiet --disable-pip-version-check \
            "maturin>=1.9,<2" "cffi>=1.17" pywa httpx cryptography fastapi uvicorn
        bindings/python/.venv/bin/python -m pip install --quiet --disable-pip-version-check \
            --no-build-isolation --force-reinstall --no-deps bindings/python
    fi
    if [[ ! -f bindings/node/pkg/wa_flows_crypto_wasm_bg.wasm || ! -d bindings/node/node_modules/workerd ]]; then
        step "the npm package (npm ci && npm run build)"
        (cd bindings/node && npm ci --no-audit --no-fund && npm run build)
    fi
fi

cli=$target_dir/release/wa-flows-crypto
load=$target_dir/release/endpoint_load
py=$root/bindings/python/.venv/bin/python

work=$(mktemp -d)
server_pid= upstream_pid=
stop_pid() {
    local pid=$1
    [[ -n $pid ]] || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
cleanup() {
    stop_pid "$server_pid"
    stop_pid "$upstream_pid"
    rm -rf "$work"
}
trap cleanup EXIT

"$cli" keygen --out "$work/keys" >/dev/null
export APP_SECRET_FOR_LOAD="bench app secret $RANDOM$RANDOM$RANDOM"

# Each server runs under `timeout`: it stops by itself even if this script dies.
IFS=, read -r -a levels <<<"$connections"
limit=$(python3 -c "print(int(${#levels[@]} * ($seconds + $warmup) + 120))")

start_rust() { exec "$target_dir/release/endpoint"; }
start_node() { exec node "$root/bindings/node/examples/endpoint.mjs"; }
start_worker() { exec node "$root/bindings/node/examples/worker/serve.mjs"; }
start_python() { exec "$py" "$root/bindings/python/examples/endpoint.py"; }
start_meta-node() { exec node "$root/benches/endpoints/peers/meta-style-node.mjs"; }
start_pywa() { exec "$py" "$root/benches/endpoints/peers/pywa_fastapi.py"; }
start_gateway() { exec "$cli" gateway --listen 127.0.0.1:0 --upstream "$GATEWAY_UPSTREAM"; }

# wait_url LOG PID: the URL after `listening on ` in LOG, within 60 s.
wait_url() {
    local log=$1 pid=$2 url=
    for _ in $(seq 600); do
        url=$(grep -o 'listening on http://[^ ]*' "$log" | head -n 1 | sed 's/^listening on //') || true
        # The gateway logs JSON: {"message":"listening","address":"HOST:PORT",…}.
        [[ -n $url ]] || url=$(grep -o '"message":"listening","address":"[^"]*"' "$log" | head -n 1 |
            sed 's/.*"address":"\([^"]*\)"/http:\/\/\1\//') || true
        [[ -n $url ]] && { echo "$url"; return 0; }
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# bench NAME ROUND: one server, every concurrency level; appends JSON lines to $out.
bench() {
    local name=$1 round=$2 log=$work/$1-$2.log url
    step "round $round: $name"
    (
        export HOST=127.0.0.1 PORT=0 PRIVATE_KEY_FILE=$work/keys/private.pem
        export APP_SECRET=$APP_SECRET_FOR_LOAD
        "start_$name"
    ) >"$log" 2>&1 &
    server_pid=$!
    if ! url=$(wait_url "$log" "$server_pid"); then
        tail -n 20 "$log" >&2
        echo "$name did not start; skipped this round" >&2
        printf '{"label":"%s","round":%s,"skipped":"did not start"}\n' "$name" "$round" >>"$out"
        stop_pid "$server_pid"; server_pid=
        return 0
    fi
    local before
    before=$(loadavg)
    if ! timeout --kill-after=5 "$limit" "$load" "$url" --public-key "$work/keys/public.pem" \
        --app-secret-env APP_SECRET_FOR_LOAD --connections "$connections" \
        --seconds "$seconds" --warmup "$warmup" --label "$name" --round "$round" >"$work/line"; then
        echo "$name: the load generator reported errors (see the lines below)" >&2
        tail -n 5 "$log" >&2
    fi
    # The load average (1, 5, 15 min) before and after: how busy the machine was besides us.
    sed "s/}\$/,\"loadavg_before\":\"$before\",\"loadavg_after\":\"$(loadavg)\"}/" "$work/line" | tee -a "$out" >&2
    stop_pid "$server_pid"; server_pid=
}

if [[ " ${servers[*]} " == *" gateway "* ]]; then
    timeout --kill-after=5 $((limit * rounds * ${#servers[@]})) \
        node "$root/benches/endpoints/upstream.mjs" >"$work/upstream.log" 2>&1 &
    upstream_pid=$!
    GATEWAY_UPSTREAM=$(wait_url "$work/upstream.log" "$upstream_pid") || {
        cat "$work/upstream.log" >&2
        exit 1
    }
    export GATEWAY_UPSTREAM
fi

mkdir -p "$results"
out=$results/endpoints.jsonl
: >"$out"
printf '{"meta":true,"date":"%s","nproc":%s,"loadavg":"%s","note":"%s","seconds":%s,"warmup":%s,"rounds":%s,"cpu":"%s","node":"%s","python":"%s"}\n' \
    "$(date -u +%FT%TZ)" "$(nproc)" "$(loadavg)" "$note" "$seconds" "$warmup" "$rounds" \
    "$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')" "$(node --version)" \
    "$("$py" -c 'import sys; print(sys.version.split()[0])')" >>"$out"
# The busiest other processes when we start: the report says what else was running.
ps -eo pcpu=,comm= --sort=-pcpu | head -n 8 | awk '{printf "{\"meta\":\"ps\",\"pcpu\":%s,\"comm\":\"%s\"}\n", $1, $2}' >>"$out"

for ((round = 1; round <= rounds; round++)); do
    # Alternate the order each round so no server always runs right after the same one.
    order=("${servers[@]}")
    if ((round % 2 == 0)); then
        order=()
        for ((i = ${#servers[@]} - 1; i >= 0; i--)); do order+=("${servers[i]}"); done
    fi
    for name in "${order[@]}"; do bench "$name" "$round"; done
done

step "report"
python3 "$root/benches/endpoints/report.py" "$out" "$results/endpoints.md" "$results/endpoints.svg"
echo "wrote $results/endpoints.md" >&2
