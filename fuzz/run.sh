#!/usr/bin/env bash
# Runs every fuzz target for SECONDS seconds each (default 20: a smoke run).
#   fuzz/run.sh            smoke run, as CI does
#   fuzz/run.sh 1800       a campaign: half an hour per target
# Needs the nightly toolchain and cargo-fuzz (installed here if missing). New crashes are
# left in fuzz/artifacts/<target>/: minimise them (cargo fuzz tmin) and move them to
# fuzz/regressions/<target>/, which `cargo test -p wa-flows-crypto` replays.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-20}
if ! rustup toolchain list | grep -q nightly; then
    echo "no nightly toolchain: skipping the fuzz run" >&2
    exit 0
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
python3 seed-corpus.py
targets=$(cargo +nightly fuzz list)
cargo +nightly fuzz build -O
for target in $targets; do
    mkdir -p "corpus/$target"
    echo "== $target (${seconds}s)"
    cargo +nightly fuzz run -O "$target" "corpus/$target" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 2>&1 \
        | grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+==|SUMMARY|Done)' || true
    if [ -n "$(ls -A "artifacts/$target" 2>/dev/null)" ]; then
        echo "fuzz target $target found a failing input: see fuzz/artifacts/$target" >&2
        exit 1
    fi
done
